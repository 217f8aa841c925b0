"""Health features of an asset's readings, and the vectors and steps made of their deviations.
Pure: numpy only.

- Window features (`window_features`, `window_feature_arrays`, `asset_windows`): mean, RMS,
  peak, crest, Pearson kurtosis and trend slope (units per hour) of each signal over windows
  whose ends are the multiples of `step_s`; the window ending at `e` holds the readings with
  `e - window_s <= t < e`, so new readings cut the same windows a replay of the history would.
- The operating regimes they are judged in are `plantops.health.regimes`, and the deviations
  from the asset's own baseline per regime (the z-scores below) `plantops.health.baseline`.
- Health vectors (`health_matrix`, `aggregate_steps`): z-scores in a fixed order, and per-step
  rows of regime inputs ("settings") and mean deviations ("sensors") for the RUL estimator.

Times are in seconds; arrays are over windows, oldest first.

See docs/health-model.md.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "FEATURES",
    "HEALTH_FEATURES",
    "AssetWindows",
    "StepRows",
    "WindowFeatures",
    "aggregate_steps",
    "asset_windows",
    "health_matrix",
    "health_vector",
    "health_vector_names",
    "sliding_windows",
    "window_feature_arrays",
    "window_features",
]

HOUR_S = 3600.0
# Every feature of a window, in the order of the arrays `window_feature_arrays` returns.
FEATURES = ("count", "mean", "rms", "peak", "crest", "kurtosis", "slope_per_h")
# The features that describe a machine's health; a window's reading count is only bookkeeping.
HEALTH_FEATURES = ("mean", "rms", "peak", "crest", "kurtosis", "slope_per_h")
# Variance below this share of the window's peak squared is rounding, not signal.
_CONSTANT_RTOL = 1e-9


# --- window features ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WindowFeatures:
    """Summary of one signal over one window of readings.

    `peak` is the largest |value|; `crest` is peak / RMS (1 for a constant window, and for
    an all-zero one); `kurtosis` is Pearson's (3 for Gaussian noise, 1.5 for a sine; 3 for a
    constant window, which shows no impulses); `slope_per_h` is the least-squares trend in
    units per hour (0 when all readings share one timestamp).
    """

    count: int
    mean: float
    rms: float
    peak: float
    crest: float
    kurtosis: float
    slope_per_h: float

    def to_dict(self) -> dict[str, float | int]:
        """Return the features as a JSON-ready dict."""
        return {name: getattr(self, name) for name in FEATURES}


def window_features(times_s: np.ndarray, values: np.ndarray) -> WindowFeatures:
    """Return the features of one window of readings (`times_s` in seconds, any order)."""
    t, v = _as_series(times_s, values)
    if t.size == 0:
        raise ValueError("cannot compute features of an empty window: it has no readings")
    arrays = _segment_features(t, v, np.array([0]), np.array([t.size]))
    return _features_at(arrays, 0)


def window_feature_arrays(
    times_s: np.ndarray,
    values: np.ndarray,
    *,
    window_s: float,
    step_s: float,
    after_s: float | None = None,
    until_s: float | None = None,
    min_count: int = 2,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Return the ends of the grid windows and each feature as an array over those windows.

    Window ends are the multiples of `step_s` that are greater than `after_s` (default: the
    first end whose window starts at or after the first reading) and at most `until_s`
    (default: the last reading). Windows with fewer than `min_count` readings (a gap in the
    data) are left out.
    """
    if window_s <= 0 or step_s <= 0:
        raise ValueError("window_s and step_s must be positive")
    t, v = _as_series(times_s, values)
    ends = _grid_ends(t, window_s=window_s, step_s=step_s, after_s=after_s, until_s=until_s)
    lo = np.searchsorted(t, ends - window_s, side="left")
    hi = np.searchsorted(t, ends, side="left")
    keep = (hi - lo) >= max(min_count, 1)
    ends, lo, hi = ends[keep], lo[keep], hi[keep]
    return ends, _segment_features(t, v, lo, hi)


def sliding_windows(
    times_s: np.ndarray,
    values: np.ndarray,
    *,
    window_s: float,
    step_s: float,
    after_s: float | None = None,
    until_s: float | None = None,
    min_count: int = 2,
) -> Iterator[tuple[float, WindowFeatures]]:
    """Yield `(window_end_s, WindowFeatures)` for each grid window (see `window_feature_arrays`)."""
    ends, arrays = window_feature_arrays(
        times_s,
        values,
        window_s=window_s,
        step_s=step_s,
        after_s=after_s,
        until_s=until_s,
        min_count=min_count,
    )
    for k, end in enumerate(ends):
        yield float(end), _features_at(arrays, k)


def _as_series(times_s: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(times_s, dtype=float).ravel()
    v = np.asarray(values, dtype=float).ravel()
    if t.shape != v.shape:
        raise ValueError(f"times and values differ in length ({t.size} and {v.size})")
    finite = np.isfinite(t) & np.isfinite(v)
    if not finite.all():
        t, v = t[finite], v[finite]
    if t.size > 1 and np.any(np.diff(t) < 0):
        order = np.argsort(t, kind="stable")
        t, v = t[order], v[order]
    return t, v


def _grid_ends(
    t: np.ndarray, *, window_s: float, step_s: float, after_s: float | None, until_s: float | None
) -> np.ndarray:
    if until_s is None:
        if t.size == 0:
            return np.empty(0)
        until_s = float(t[-1])
    if after_s is None:
        if t.size == 0:
            return np.empty(0)
        first = math.ceil((float(t[0]) + window_s) / step_s)
    else:
        first = math.floor(after_s / step_s) + 1
    last = math.floor(until_s / step_s)
    if last < first:
        return np.empty(0)
    return np.arange(first, last + 1, dtype=float) * step_s


def _segment_features(
    t: np.ndarray, v: np.ndarray, lo: np.ndarray, hi: np.ndarray
) -> dict[str, np.ndarray]:
    """Features of the readings `[lo[k], hi[k])` for every k; every segment is non-empty."""
    counts = (hi - lo).astype(np.int64)
    n = counts.size
    if n == 0:
        return {
            name: np.empty(0, dtype=np.int64 if name == "count" else float) for name in FEATURES
        }
    # Gather every window's readings end to end: overlapping windows repeat readings, which
    # keeps the cost at (window / step) times the readings and lets every moment be centred
    # on its own window's mean (raw power sums of x⁴ would cancel catastrophically).
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    index = np.arange(counts.sum()) + np.repeat(lo - starts, counts)
    segment = np.repeat(np.arange(n), counts)
    x, tt = v[index], t[index]

    def per_window_sum(a: np.ndarray) -> np.ndarray:
        return np.add.reduceat(a, starts)

    mean = per_window_sum(x) / counts
    d = x - mean[segment]
    d2 = d * d
    m2 = per_window_sum(d2) / counts
    m4 = per_window_sum(d2 * d2) / counts
    rms = np.sqrt(per_window_sum(x * x) / counts)
    peak = np.maximum.reduceat(np.abs(x), starts)
    constant = m2 <= (_CONSTANT_RTOL * peak) ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        crest = np.where(rms > 0, peak / rms, 1.0)
        kurtosis = np.where(constant, 3.0, m4 / (m2 * m2))
        tc = tt - (per_window_sum(tt) / counts)[segment]
        sxx = per_window_sum(tc * tc)
        sxy = per_window_sum(tc * d)
        slope = np.where(sxx > 0, sxy / sxx, 0.0) * HOUR_S
    return {
        "count": counts,
        "mean": mean,
        "rms": rms,
        "peak": peak,
        "crest": crest,
        "kurtosis": kurtosis,
        "slope_per_h": slope,
    }


def _features_at(arrays: Mapping[str, np.ndarray], k: int) -> WindowFeatures:
    return WindowFeatures(
        count=int(arrays["count"][k]),
        **{name: float(arrays[name][k]) for name in FEATURES if name != "count"},
    )


# --- an asset's windows ---------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class AssetWindows:
    """An asset's grid windows, oldest first: their ends, regime inputs and features.

    `speed` and `load` are the window means of the regime signals (`load` is the mean
    current, see the module docstring) and `speed_min` the lowest speed reading in the window
    and the settling time around it (see `asset_windows`); any of them
    is NaN where the window has no reading of that signal. `features[signal][feature]` is an
    array over the windows, NaN where the signal had too few readings in that window.
    """

    ends_s: np.ndarray
    speed: np.ndarray
    speed_min: np.ndarray
    load: np.ndarray
    features: dict[str, dict[str, np.ndarray]]

    def __len__(self) -> int:
        return int(self.ends_s.size)

    def take(self, index: np.ndarray | slice) -> AssetWindows:
        """Return the windows selected by `index` (a slice, boolean mask or positions)."""
        return AssetWindows(
            ends_s=self.ends_s[index],
            speed=self.speed[index],
            speed_min=self.speed_min[index],
            load=self.load[index],
            features={
                signal: {name: a[index] for name, a in by_feature.items()}
                for signal, by_feature in self.features.items()
            },
        )

    @classmethod
    def concatenate(cls, parts: Sequence[AssetWindows]) -> AssetWindows:
        """Return the windows of all `parts` in order (they must share their signals)."""
        if not parts:
            return cls(np.empty(0), np.empty(0), np.empty(0), np.empty(0), {})
        first = parts[0]
        return cls(
            ends_s=np.concatenate([p.ends_s for p in parts]),
            speed=np.concatenate([p.speed for p in parts]),
            speed_min=np.concatenate([p.speed_min for p in parts]),
            load=np.concatenate([p.load for p in parts]),
            features={
                signal: {
                    name: np.concatenate([p.features[signal][name] for p in parts])
                    for name in by_feature
                }
                for signal, by_feature in first.features.items()
            },
        )


def asset_windows(
    readings: Mapping[str, tuple[np.ndarray, np.ndarray]],
    *,
    window_s: float,
    step_s: float,
    after_s: float | None = None,
    until_s: float | None = None,
    speed_signal: str = "speed",
    load_signal: str | None = "current",
    min_count: int = 2,
    settle_s: float = 60.0,
) -> AssetWindows:
    """Return the grid windows of an asset's readings, `{signal: (times_s, values)}`.

    A window is kept when any signal has at least `min_count` readings in it. The regime
    signals are summarised as regime inputs; the other signals get features. `speed_min`
    also looks `settle_s` before and after the window: a window that opens on the run-up
    after a stop, or closes on the coast-down into one, holds a few readings at part speed,
    which look like impulses to crest and kurtosis. So with a speed signal the last window
    ends `settle_s` before `until_s` (default: the last reading).
    """
    if speed_signal in readings and settle_s > 0:
        if until_s is None:
            speed_times = np.asarray(readings[speed_signal][0], dtype=float)
            until_s = float(np.nanmax(speed_times)) if speed_times.size else None
        if until_s is not None:
            until_s -= settle_s
    per_signal: dict[str, tuple[np.ndarray, dict[str, np.ndarray]]] = {}
    for signal, (times, values) in readings.items():
        per_signal[signal] = window_feature_arrays(
            times,
            values,
            window_s=window_s,
            step_s=step_s,
            after_s=after_s,
            until_s=until_s,
            min_count=min_count,
        )
    nonempty = [ends for ends, _ in per_signal.values() if ends.size]
    ends_s = np.unique(np.concatenate(nonempty)) if nonempty else np.empty(0)

    def aligned(signal: str, feature: str) -> np.ndarray:
        out = np.full(ends_s.size, np.nan)
        if signal in per_signal:
            ends, arrays = per_signal[signal]
            out[np.searchsorted(ends_s, ends)] = arrays[feature]
        return out

    speed_min = np.full(ends_s.size, np.nan)
    if speed_signal in readings:
        # The lowest reading of each window, for stop detection; not a feature of its own.
        t, v = _as_series(*readings[speed_signal])
        lo = np.searchsorted(t, ends_s - window_s - settle_s, side="left")
        hi = np.searchsorted(t, ends_s + settle_s, side="left")
        has = hi > lo
        if has.any():
            stacked = np.append(v, np.inf)
            pairs = np.stack([lo[has], hi[has]], axis=1).ravel()
            speed_min[has] = np.minimum.reduceat(stacked, pairs)[::2]
    regime = {speed_signal, load_signal}
    features = {
        signal: {name: aligned(signal, name) for name in HEALTH_FEATURES}
        for signal in readings
        if signal not in regime
    }
    return AssetWindows(
        ends_s=ends_s,
        speed=aligned(speed_signal, "mean"),
        speed_min=speed_min,
        load=aligned(load_signal, "mean") if load_signal else np.full(ends_s.size, np.nan),
        features=features,
    )


# --- health vectors and steps -------------------------------------------------------------------


def health_vector_names(
    signals: Sequence[str], features: Sequence[str] = HEALTH_FEATURES
) -> list[str]:
    """Return the names of a health vector's entries: `vibration.rms`, … signal-major."""
    return [f"{signal}.{feature}" for signal in signals for feature in features]


def health_vector(
    zscores: Mapping[str, Mapping[str, float]],
    signals: Sequence[str],
    features: Sequence[str] = HEALTH_FEATURES,
) -> np.ndarray:
    """Return one window's regime-normalised deviations in `health_vector_names` order (NaN
    where a signal or feature is missing)."""
    return np.array(
        [float(zscores.get(s, {}).get(f, math.nan)) for s in signals for f in features], dtype=float
    )


def health_matrix(
    zscores: Mapping[str, Mapping[str, np.ndarray]],
    signals: Sequence[str],
    features: Sequence[str] = HEALTH_FEATURES,
) -> np.ndarray:
    """Return the health vectors of many windows as rows, shape (windows, signals × features)."""
    columns = [zscores.get(s, {}).get(f) for s in signals for f in features]
    n = next((np.asarray(c).size for c in columns if c is not None), 0)
    return np.column_stack(
        [np.full(n, np.nan) if c is None else np.asarray(c, dtype=float) for c in columns]
    ).reshape(n, len(columns))


@dataclass(frozen=True, eq=False)
class StepRows:
    """Per-step rows for the remaining-life estimator, oldest first.

    `settings` (steps × regime inputs) and `sensors` (steps × health entries) are the means
    over the step's scored windows; `windows` counts them, `score` is the largest window
    score of the step (NaN without scores). Steps with no scored window are left out.
    """

    ends_s: np.ndarray
    settings: np.ndarray
    sensors: np.ndarray
    windows: np.ndarray
    score: np.ndarray


def aggregate_steps(
    ends_s: np.ndarray,
    health: np.ndarray,
    regime: np.ndarray,
    *,
    step_s: float,
    scores: np.ndarray | None = None,
) -> StepRows:
    """Return per-step means of windows' health vectors and regime inputs.

    Windows are grouped by the step whose end (a multiple of `step_s`) is the first at or
    after the window's end. A window counts when its health row has any finite entry (a
    STOPPED window has none); a NaN entry is left out of its column's mean.
    """
    ends_s = np.asarray(ends_s, dtype=float)
    health = np.asarray(health, dtype=float).reshape(ends_s.size, -1)
    regime = np.asarray(regime, dtype=float).reshape(ends_s.size, -1)
    scored = np.isfinite(health).any(axis=1)
    ends_s, health, regime = ends_s[scored], health[scored], regime[scored]
    window_scores = (
        np.full(ends_s.size, np.nan) if scores is None else np.asarray(scores, float)[scored]
    )
    step_ends, group = np.unique(np.ceil(ends_s / step_s) * step_s, return_inverse=True)

    def group_mean(a: np.ndarray) -> np.ndarray:
        finite = np.isfinite(a)
        sums = np.zeros((step_ends.size, a.shape[1]))
        counts = np.zeros((step_ends.size, a.shape[1]))
        np.add.at(sums, group, np.where(finite, a, 0.0))
        np.add.at(counts, group, finite)
        with np.errstate(invalid="ignore", divide="ignore"):
            return sums / counts

    step_score = np.full(step_ends.size, -np.inf)
    np.fmax.at(step_score, group, window_scores)
    return StepRows(
        ends_s=step_ends,
        settings=group_mean(regime),
        sensors=group_mean(health),
        windows=np.bincount(group, minlength=step_ends.size),
        score=np.where(np.isfinite(step_score), step_score, np.nan),
    )
