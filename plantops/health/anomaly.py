"""Regime-aware anomaly detection on an asset's windows of readings. Pure: numpy only.

`AnomalyDetector` learns an asset's own baseline per operating regime for `learning_s` (and
until it has `min_learning_windows` running windows), then judges each new window:
`update(readings, until_s=...)` takes `{signal: (times_s, values)}` and returns one
`Assessment` per new complete window, oldest first. Its level is `learning`, `normal`,
`warning` (score >= `warning_z`), `alarm` (score >= `alarm_z`) or `stopped` (the window
touched standstill: not judged). The score is the window's largest upward robust z over the
scored (signal, feature) pairs; a level is raised after `raise_after` windows in a row and
steps down one level after `clear_after` quiet ones. Windows ending at or before
`processed_until_s` are skipped, and the same readings give the same judgements however they
are split into calls. All durations are in the asset's seconds. The whole state round-trips
through `to_dict` / `from_dict` (JSON-ready, NaN as null).

See docs/health-model.md.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from plantops.health.baseline import RegimeBaseline
from plantops.health.features import (
    HEALTH_FEATURES,
    AssetWindows,
    StepRows,
    aggregate_steps,
    asset_windows,
    health_matrix,
    health_vector_names,
)
from plantops.health.regimes import STOPPED, RegimeBands

__all__ = ["LEVELS", "AnomalyDetector", "Assessment"]

DAY_S = 86_400.0
LEARNING = "learning"
NORMAL = "normal"
WARNING = "warning"
ALARM = "alarm"
STOPPED_LEVEL = "stopped"
LEVELS = (LEARNING, NORMAL, WARNING, ALARM, STOPPED_LEVEL)
# What a bearing (or a looseness, an unbalance) changes first: energy and impulsiveness.
DEFAULT_SCORED_FEATURES = ("rms", "peak", "crest", "kurtosis")
_STATE_VERSION = 1


@dataclass(frozen=True, slots=True)
class Assessment:
    """The judgement of one window ending at `at_s`.

    `score` is the window's largest upward z (None while learning or stopped), `band` its
    regime band (None while learning, `regimes.STOPPED` when stopped) and `evidence` the
    deviations behind a raised level, largest first.
    """

    at_s: float
    level: str
    score: float | None
    band: int | None
    evidence: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Return the assessment as a JSON-ready dict."""
        return {
            "at_s": self.at_s,
            "level": self.level,
            "score": self.score,
            "band": self.band,
            "evidence": self.evidence,
        }


class AnomalyDetector:
    """Learns an asset's regime baseline, then judges its windows (see the module docstring).

    `scored_features` names the features scored for every non-regime signal, or maps a signal
    to its own list. All durations are in the asset's (simulated or real) seconds.
    """

    def __init__(
        self,
        *,
        learning_s: float = 14 * DAY_S,
        window_s: float = 600.0,
        step_s: float = 600.0,
        speed_signal: str | None = "speed",
        load_signal: str | None = "current",
        scored_features: Sequence[str] | Mapping[str, Sequence[str]] = DEFAULT_SCORED_FEATURES,
        warning_z: float = 5.0,
        alarm_z: float = 8.0,
        raise_after: int = 3,
        clear_after: int = 6,
        hysteresis_z: float = 1.0,
        update_below_z: float = 2.0,
        forget_s: float = 30 * DAY_S,
        max_shift_per_day: float = 0.25,
        evidence_z: float = 3.0,
        max_evidence: int = 8,
        speed_bands: int = 4,
        load_bands: int = 3,
        min_band_windows: int = 30,
        min_learning_windows: int = 200,
        min_count: int = 2,
        settle_s: float = 60.0,
    ) -> None:
        if not 0 < warning_z < alarm_z:
            raise ValueError("thresholds must satisfy 0 < warning_z < alarm_z")
        if raise_after < 1 or clear_after < 1:
            raise ValueError("raise_after and clear_after must be at least 1")
        self.config: dict[str, Any] = {
            "learning_s": float(learning_s),
            "window_s": float(window_s),
            "step_s": float(step_s),
            "speed_signal": speed_signal,
            "load_signal": load_signal,
            "scored_features": (
                {k: list(v) for k, v in scored_features.items()}
                if isinstance(scored_features, Mapping)
                else list(scored_features)
            ),
            "warning_z": float(warning_z),
            "alarm_z": float(alarm_z),
            "raise_after": int(raise_after),
            "clear_after": int(clear_after),
            "hysteresis_z": float(hysteresis_z),
            "update_below_z": float(update_below_z),
            "forget_s": float(forget_s),
            "max_shift_per_day": float(max_shift_per_day),
            "evidence_z": float(evidence_z),
            "max_evidence": int(max_evidence),
            "speed_bands": int(speed_bands),
            "load_bands": int(load_bands),
            "min_band_windows": int(min_band_windows),
            "min_learning_windows": int(min_learning_windows),
            "min_count": int(min_count),
            "settle_s": float(settle_s),
        }
        self.started_s: float | None = None
        self.processed_until_s: float | None = None
        self.learning: AssetWindows | None = None
        self.bands: RegimeBands | None = None
        self.baseline: RegimeBaseline | None = None
        self.level = LEARNING
        self.above_warning = 0
        self.above_alarm = 0
        self.calm = 0
        self.pending: AssetWindows | None = None
        self.pending_day: int | None = None

    # --- reading windows ------------------------------------------------------------------------

    @property
    def learned(self) -> bool:
        return self.baseline is not None

    def windows(
        self,
        readings: Mapping[str, tuple[np.ndarray, np.ndarray]],
        *,
        until_s: float | None = None,
    ) -> AssetWindows:
        """Return the complete windows of `readings` that end after `processed_until_s`.

        `readings` is `{signal: (times_s, values)}` and must hold every reading from
        `processed_until_s - window_s` on; `until_s` is the moment up to which all readings
        have arrived (default: the last reading).
        """
        c = self.config
        return asset_windows(
            readings,
            window_s=c["window_s"],
            step_s=c["step_s"],
            after_s=self.processed_until_s,
            until_s=until_s,
            speed_signal=c["speed_signal"] or "",
            load_signal=c["load_signal"],
            min_count=c["min_count"],
            settle_s=c["settle_s"],
        )

    def update(
        self,
        readings: Mapping[str, tuple[np.ndarray, np.ndarray]],
        *,
        until_s: float | None = None,
    ) -> list[Assessment]:
        """Judge the new complete windows of `readings` (see `windows`), oldest first."""
        return self.assess_many(self.windows(readings, until_s=until_s))

    def learning_rewound(self, until_s: float) -> AnomalyDetector | None:
        """Return the detector as it was once it had judged the windows ending up to `until_s`,
        where its state alone tells: while it learns, it has only kept every window it judged.
        None once it has learned, or for a moment before its first window."""
        if self.learned or self.learning is None or not len(self.learning):
            return None
        kept = self.learning.ends_s <= until_s
        if not kept.any():
            return None
        earlier = AnomalyDetector.from_dict(self.to_dict())
        earlier.learning = self.learning.take(kept)
        earlier.processed_until_s = float(earlier.learning.ends_s[-1])
        return earlier

    # --- judging ----------------------------------------------------------------------------

    def assess_many(self, windows: AssetWindows) -> list[Assessment]:
        """Judge windows in order and return their assessments; windows already processed
        (ending at or before `processed_until_s`) are skipped."""
        windows = self._with_regime(windows)
        if self.processed_until_s is not None:
            windows = windows.take(windows.ends_s > self.processed_until_s)
        out: list[Assessment] = []
        i, n = 0, len(windows)
        while i < n:
            if not self.learned:
                i = self._learn(windows, i, out)
                continue
            day = math.floor(windows.ends_s[i] / DAY_S)
            j = int(np.searchsorted(windows.ends_s, (day + 1) * DAY_S, side="left"))
            if self.pending_day is not None and day != self.pending_day:
                self._apply_pending()
            self._judge(windows.take(slice(i, j)), day, out)
            i = j
        return out

    def _with_regime(self, windows: AssetWindows) -> AssetWindows:
        if self.config["speed_signal"]:
            return windows
        # Without a speed signal every window with data is one running regime.
        ones = np.ones(len(windows))
        return AssetWindows(windows.ends_s, ones, ones, windows.load, windows.features)

    def _learn(self, windows: AssetWindows, i: int, out: list[Assessment]) -> int:
        """Buffer learning windows from `i`; fit when learning is over. Return the next index."""
        c = self.config
        if self.started_s is None:
            self.started_s = float(windows.ends_s[i] - c["window_s"])
        learning_until = self.started_s + c["learning_s"]
        if windows.ends_s[i] <= learning_until or not self._enough_to_learn():
            # Past learning_s, still too little running: one window at a time until enough.
            j = (
                int(np.searchsorted(windows.ends_s, learning_until, side="right"))
                if windows.ends_s[i] <= learning_until
                else i + 1
            )
            part = windows.take(slice(i, j))
            self.learning = (
                part if self.learning is None else AssetWindows.concatenate([self.learning, part])
            )
            out.extend(Assessment(float(at), LEARNING, None, None) for at in part.ends_s)
            self.processed_until_s = float(part.ends_s[-1])
            return j
        self._fit()
        return i

    def _running_mask(self, w: AssetWindows) -> np.ndarray:
        speed = w.speed[np.isfinite(w.speed)]
        if speed.size == 0:
            return np.zeros(len(w), dtype=bool)
        stop = 0.1 * float(np.percentile(speed, 99))
        with np.errstate(invalid="ignore"):
            return (w.speed_min >= stop) & (w.speed > 0)

    def _enough_to_learn(self) -> bool:
        if self.learning is None:
            return False
        return int(self._running_mask(self.learning).sum()) >= self.config["min_learning_windows"]

    def _fit(self) -> None:
        c = self.config
        w = self.learning
        assert w is not None
        running = w.take(self._running_mask(w))
        self.bands = RegimeBands.fit(
            running.speed,
            running.load,
            speed_bands=c["speed_bands"],
            load_bands=c["load_bands"],
            min_samples=c["min_band_windows"],
        )
        band = self.bands.band_of(w.speed, w.load, min_speed=w.speed_min)
        self.baseline = RegimeBaseline.fit(
            w.features, band, w.speed, w.load, n_bands=self.bands.n_bands
        )
        self.learning = None
        self.level = NORMAL

    def _scored(self, signal: str) -> Sequence[str]:
        scored = self.config["scored_features"]
        if isinstance(scored, Mapping):
            return scored.get(signal, ())
        return scored

    def zscores(self, windows: AssetWindows) -> dict[str, dict[str, np.ndarray]]:
        """Return `{signal: {feature: z}}` of every learned feature over the windows (NaN
        where stopped); empty before learning is over."""
        if self.bands is None or self.baseline is None:
            return {}
        windows = self._with_regime(windows)
        band = self.bands.band_of(windows.speed, windows.load, min_speed=windows.speed_min)
        return self.baseline.zscores(windows.features, band, windows.speed, windows.load)

    def _judge(self, w: AssetWindows, day: int, out: list[Assessment]) -> None:
        assert self.bands is not None
        assert self.baseline is not None
        c = self.config
        band = self.bands.band_of(w.speed, w.load, min_speed=w.speed_min)
        z = self.baseline.zscores(w.features, band, w.speed, w.load)
        pairs = [(s, f) for s in z for f in self._scored(s) if f in z[s]]
        # Without a scored feature every window is unjudged, like a stopped one.
        zs = np.column_stack([z[s][f] for s, f in pairs]) if pairs else np.full((len(w), 1), np.nan)
        judged = np.isfinite(zs).any(axis=1) & (band != STOPPED)
        with np.errstate(invalid="ignore"):
            score = np.where(judged, np.nanmax(np.where(np.isfinite(zs), zs, -np.inf), axis=1), 0)
            calm = judged & (
                np.nanmax(np.abs(np.nan_to_num(zs, nan=0.0)), axis=1) < (c["update_below_z"])
            )
        healthy = np.zeros(len(w), dtype=bool)
        for k in range(len(w)):
            at = float(w.ends_s[k])
            if not judged[k]:
                out.append(Assessment(at, STOPPED_LEVEL, None, STOPPED))
                continue
            level = self._step_level(float(score[k]))
            healthy[k] = level == NORMAL and calm[k]
            evidence = self._evidence(w, k, band, z, pairs) if level in (WARNING, ALARM) else []
            out.append(Assessment(at, level, float(score[k]), int(band[k]), evidence))
        self.processed_until_s = float(w.ends_s[-1])
        if healthy.any():
            part = w.take(healthy)
            self.pending = (
                part if self.pending is None else AssetWindows.concatenate([self.pending, part])
            )
        self.pending_day = day

    def _step_level(self, score: float) -> str:
        """Advance the persistence counters by one judged window; return the level held."""
        c = self.config
        self.above_warning = self.above_warning + 1 if score >= c["warning_z"] else 0
        self.above_alarm = self.above_alarm + 1 if score >= c["alarm_z"] else 0
        if self.above_alarm >= c["raise_after"] and self.level != ALARM:
            self.level, self.calm = ALARM, 0
        elif self.above_warning >= c["raise_after"] and self.level == NORMAL:
            self.level, self.calm = WARNING, 0
        elif self.level in (WARNING, ALARM):
            threshold = c["alarm_z"] if self.level == ALARM else c["warning_z"]
            self.calm = self.calm + 1 if score < threshold - c["hysteresis_z"] else 0
            if self.calm >= c["clear_after"]:
                self.level, self.calm = (WARNING if self.level == ALARM else NORMAL), 0
        return self.level

    def _evidence(
        self,
        w: AssetWindows,
        k: int,
        band: np.ndarray,
        z: Mapping[str, Mapping[str, np.ndarray]],
        pairs: list[tuple[str, str]],
    ) -> list[dict[str, Any]]:
        assert self.baseline is not None
        c = self.config
        ranked = sorted(
            ((float(z[s][f][k]), s, f) for s, f in pairs if math.isfinite(z[s][f][k])),
            reverse=True,
        )
        chosen = [r for r in ranked if r[0] >= c["evidence_z"]][: c["max_evidence"]] or ranked[:1]
        b, speed, load = band[k : k + 1], w.speed[k : k + 1], w.load[k : k + 1]
        return [
            {
                "signal": s,
                "feature": f,
                "value": float(w.features[s][f][k]),
                "baseline": float(self.baseline.expected(s, f, b, speed, load)[0]),
                "z": zk,
            }
            for zk, s, f in chosen
        ]

    def _apply_pending(self) -> None:
        assert self.bands is not None
        assert self.baseline is not None
        c = self.config
        if self.pending is not None and len(self.pending):
            p = self.pending
            band = self.bands.band_of(p.speed, p.load, min_speed=p.speed_min)
            self.baseline.update(
                p.features,
                band,
                p.speed,
                p.load,
                weight=c["step_s"] / c["forget_s"],
                max_shift=c["max_shift_per_day"] * c["step_s"] / DAY_S,
            )
        self.pending, self.pending_day = None, None

    # --- health vectors for the remaining-life estimator -----------------------------------------

    def health_steps(
        self,
        windows: AssetWindows,
        assessments: Sequence[Assessment] | None = None,
        *,
        step_s: float = 3600.0,
        signals: Sequence[str] | None = None,
        features: Sequence[str] = HEALTH_FEATURES,
    ) -> tuple[list[str], StepRows]:
        """Return the health-vector names and per-step rows of the windows.

        Settings are the mean speed and load (current) of a step's running windows, sensors
        the mean z of each `features.health_vector_names` entry (signals default to the
        learned ones, sorted). `assessments` of the same windows give each step's score.
        """
        z = self.zscores(windows)
        names_signals = sorted(z) if signals is None else list(signals)
        matrix = health_matrix(z, names_signals, features)
        scores = None
        if assessments is not None:
            by_end = {a.at_s: a.score for a in assessments}
            scores = np.array(
                [
                    np.nan if by_end.get(float(e)) is None else by_end[float(e)]
                    for e in windows.ends_s
                ]
            )
        regime = np.column_stack([windows.speed, windows.load])
        rows = aggregate_steps(windows.ends_s, matrix, regime, step_s=step_s, scores=scores)
        return health_vector_names(names_signals, features), rows

    # --- persistence ----------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Return the detector's whole state as a JSON-ready dict (NaN written as null)."""
        return {
            "version": _STATE_VERSION,
            "config": self.config,
            "started_s": self.started_s,
            "processed_until_s": self.processed_until_s,
            "learning": _windows_to_dict(self.learning),
            "bands": self.bands.to_dict() if self.bands else None,
            "baseline": self.baseline.to_dict() if self.baseline else None,
            "level": self.level,
            "above_warning": self.above_warning,
            "above_alarm": self.above_alarm,
            "calm": self.calm,
            "pending": _windows_to_dict(self.pending),
            "pending_day": self.pending_day,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AnomalyDetector:
        """Return the detector `to_dict` described."""
        if data.get("version") != _STATE_VERSION:
            raise ValueError(f"unknown detector state version {data.get('version')!r}")
        detector = cls(**data["config"])
        detector.started_s = data["started_s"]
        detector.processed_until_s = data["processed_until_s"]
        detector.learning = _windows_from_dict(data["learning"])
        detector.bands = RegimeBands.from_dict(data["bands"]) if data["bands"] else None
        detector.baseline = RegimeBaseline.from_dict(data["baseline"]) if data["baseline"] else None
        detector.level = data["level"]
        detector.above_warning = int(data["above_warning"])
        detector.above_alarm = int(data["above_alarm"])
        detector.calm = int(data["calm"])
        detector.pending = _windows_from_dict(data["pending"])
        detector.pending_day = data["pending_day"]
        return detector


def _floats(a: np.ndarray) -> list[float | None]:
    # PostgreSQL's jsonb, like strict JSON, has no NaN.
    return [None if not math.isfinite(x) else x for x in np.asarray(a, dtype=float).tolist()]


def _array(values: Sequence[float | None]) -> np.ndarray:
    return np.array([np.nan if x is None else x for x in values], dtype=float)


def _windows_to_dict(w: AssetWindows | None) -> dict[str, Any] | None:
    if w is None:
        return None
    return {
        "ends_s": _floats(w.ends_s),
        "speed": _floats(w.speed),
        "speed_min": _floats(w.speed_min),
        "load": _floats(w.load),
        "features": {
            signal: {name: _floats(a) for name, a in by_feature.items()}
            for signal, by_feature in w.features.items()
        },
    }


def _windows_from_dict(data: Mapping[str, Any] | None) -> AssetWindows | None:
    if data is None:
        return None
    return AssetWindows(
        ends_s=_array(data["ends_s"]),
        speed=_array(data["speed"]),
        speed_min=_array(data["speed_min"]),
        load=_array(data["load"]),
        features={
            signal: {name: _array(a) for name, a in by_feature.items()}
            for signal, by_feature in data["features"].items()
        },
    )
