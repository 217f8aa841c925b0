"""Health features of an asset's readings, normalised by its own operating regime. Pure: numpy only.

- Window features (`window_features`, `window_feature_arrays`, `asset_windows`): mean, RMS,
  peak, crest, Pearson kurtosis and trend slope (units per hour) of each signal over windows
  whose ends are the multiples of `step_s`; the window ending at `e` holds the readings with
  `e - window_s <= t < e`, so new readings cut the same windows a replay of the history would.
- Regimes (`RegimeBands`): speed bands, and bands of mean current (the load proxy) within each;
  a window that touched standstill is `STOPPED` (-1) and never scored.
- Deviations (`RegimeBaseline`): each (signal, feature) as a robust z against its regime band,
  after a regression on speed and current; `update` rolls the baseline with normal windows.
- Health vectors (`health_matrix`, `aggregate_steps`): z-scores in a fixed order, and per-step
  rows of regime inputs ("settings") and mean deviations ("sensors") for the RUL estimator.

Times are in seconds; arrays are over windows, oldest first.

See docs/health-model.md.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "FEATURES",
    "HEALTH_FEATURES",
    "STOPPED",
    "AssetWindows",
    "RegimeBands",
    "RegimeBaseline",
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
# The band of a window that touched standstill.
STOPPED = -1
# Variance below this share of the window's peak squared is rounding, not signal.
_CONSTANT_RTOL = 1e-9
# 1.4826 · MAD estimates the standard deviation of Gaussian data.
_MAD_TO_SIGMA = 1.4826
# Scale floors: a feature that hardly moves while healthy (a quantised reading, a held
# operating point) would otherwise turn a rounding step into dozens of z.
_MIN_LOG_SCALE = 0.01
_MIN_REL_SCALE = 0.01


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


# --- operating regimes --------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class RegimeBands:
    """Speed bands, and load (current) bands within each speed band, learned from history.

    Band ids run from 0 over the speed bands, lowest first, and within each over its load
    bands, lowest first; `STOPPED` (-1) is a window at or touching standstill. Speeds and
    loads beyond the learned range fall into the outermost bands.
    """

    stop_speed: float
    speed_edges: np.ndarray
    load_edges: tuple[np.ndarray, ...]
    speed_range: tuple[float, float]

    @classmethod
    def fit(
        cls,
        speed: np.ndarray,
        load: np.ndarray | None = None,
        *,
        speed_bands: int = 4,
        load_bands: int = 3,
        min_samples: int = 30,
        stop_fraction: float = 0.1,
    ) -> RegimeBands:
        """Return bands learned from regime inputs (one row per window or reading).

        Speeds below `stop_fraction` of the 99th-percentile speed count as standstill and
        are left out of the bands. `load` may be None or NaN where unknown.
        """
        speed = np.asarray(speed, dtype=float).ravel()
        load_arr = (
            np.full(speed.size, np.nan) if load is None else np.asarray(load, dtype=float).ravel()
        )
        if load_arr.shape != speed.shape:
            raise ValueError("speed and load differ in length")
        finite = np.isfinite(speed)
        if not finite.any():
            raise ValueError("cannot learn regimes without any speed")
        top = float(np.percentile(speed[finite], 99))
        if top <= 0:
            raise ValueError("cannot learn regimes: the machine never ran in this history")
        stop_speed = stop_fraction * top
        running = finite & (speed >= stop_speed)
        s, ld = speed[running], load_arr[running]
        n_speed = int(np.clip(s.size // max(min_samples, 1), 1, speed_bands))
        speed_edges = _quantile_edges(s, n_speed)
        speed_band = np.searchsorted(speed_edges, s, side="right")
        load_edges = []
        for b in range(speed_edges.size + 1):
            known = ld[(speed_band == b) & np.isfinite(ld)]
            n_load = int(np.clip(known.size // max(min_samples, 1), 1, load_bands))
            load_edges.append(_quantile_edges(known, n_load))
        return cls(
            stop_speed=stop_speed,
            speed_edges=speed_edges,
            load_edges=tuple(load_edges),
            speed_range=(float(s.min()), float(s.max())),
        )

    @property
    def n_bands(self) -> int:
        return sum(edges.size + 1 for edges in self.load_edges)

    def band_of(
        self,
        speed: np.ndarray | float,
        load: np.ndarray | float | None = None,
        *,
        min_speed: np.ndarray | float | None = None,
    ) -> np.ndarray:
        """Return the band id of each regime input (`STOPPED` at standstill).

        `min_speed` is each window's lowest speed: a window that touched standstill is
        `STOPPED` even when its mean speed is high. An unknown (NaN) load takes the middle
        load band of its speed band.
        """
        s = np.atleast_1d(np.asarray(speed, dtype=float))
        ld = np.full(s.shape, np.nan) if load is None else np.asarray(load, dtype=float)
        ld = np.broadcast_to(ld, s.shape)
        speed_band = np.searchsorted(self.speed_edges, s, side="right")
        offsets = np.cumsum([0] + [e.size + 1 for e in self.load_edges])
        band = np.empty(s.shape, dtype=np.int64)
        for b, edges in enumerate(self.load_edges):
            here = speed_band == b
            load_band = np.searchsorted(edges, ld[here], side="right")
            load_band[np.isnan(ld[here])] = edges.size // 2
            band[here] = offsets[b] + load_band
        stopped = ~(s >= self.stop_speed)  # NaN speed is no evidence of running
        if min_speed is not None:
            stopped |= np.broadcast_to(np.asarray(min_speed, dtype=float), s.shape) < (
                self.stop_speed
            )
        band[stopped] = STOPPED
        return band

    def describe(self, band: int) -> str:
        """Return a band in words: `speed 990–1150, load band 2 of 3`, or `stopped`."""
        if band == STOPPED:
            return "stopped"
        for b, edges in enumerate(self.load_edges):
            if band <= edges.size:
                low = self.speed_edges[b - 1] if b > 0 else self.speed_range[0]
                high = self.speed_edges[b] if b < self.speed_edges.size else self.speed_range[1]
                return f"speed {low:.4g}–{high:.4g}, load band {band + 1} of {edges.size + 1}"
            band -= edges.size + 1
        raise ValueError(f"no band {band}")

    def to_dict(self) -> dict[str, Any]:
        """Return the bands as a JSON-ready dict (`from_dict` reads it back)."""
        return {
            "stop_speed": self.stop_speed,
            "speed_edges": self.speed_edges.tolist(),
            "load_edges": [edges.tolist() for edges in self.load_edges],
            "speed_range": list(self.speed_range),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RegimeBands:
        """Return the bands `to_dict` described."""
        return cls(
            stop_speed=float(data["stop_speed"]),
            speed_edges=np.asarray(data["speed_edges"], dtype=float),
            load_edges=tuple(np.asarray(e, dtype=float) for e in data["load_edges"]),
            speed_range=(float(data["speed_range"][0]), float(data["speed_range"][1])),
        )


def _quantile_edges(values: np.ndarray, n: int) -> np.ndarray:
    """Inner edges splitting `values` into `n` equal-count bands; ties merge bands."""
    if n <= 1 or values.size == 0:
        return np.empty(0)
    edges = np.unique(np.quantile(values, np.arange(1, n) / n))
    # An edge at the minimum would leave an empty band below it.
    return edges[edges > values.min()]


# --- baseline and deviations --------------------------------------------------------------------


@dataclass(eq=False)
class _FeatureBaseline:
    """One (signal, feature): its regression on the regime and its per-band residual stats."""

    log: bool
    coef: np.ndarray  # intercept, log-speed and log-load terms
    centre: np.ndarray  # per band
    scale: np.ndarray  # per band
    learned_scale: np.ndarray  # per band, the bounds for the rolling scale

    def transform(self, values: np.ndarray) -> np.ndarray:
        if not self.log:
            return values
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(np.where(values > 0, values, np.nan))

    def residual(self, values: np.ndarray, design: np.ndarray) -> np.ndarray:
        return self.transform(values) - design @ self.coef

    def expected(self, band: np.ndarray, design: np.ndarray) -> np.ndarray:
        """The baseline value in the feature's own units (NaN for STOPPED windows)."""
        centre = np.where(band >= 0, self.centre[np.maximum(band, 0)], np.nan)
        fitted = design @ self.coef + centre
        return np.exp(fitted) if self.log else fitted

    def to_dict(self) -> dict[str, Any]:
        return {
            "log": self.log,
            "coef": self.coef.tolist(),
            "centre": self.centre.tolist(),
            "scale": self.scale.tolist(),
            "learned_scale": self.learned_scale.tolist(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> _FeatureBaseline:
        return cls(
            log=bool(data["log"]),
            coef=np.asarray(data["coef"], dtype=float),
            centre=np.asarray(data["centre"], dtype=float),
            scale=np.asarray(data["scale"], dtype=float),
            learned_scale=np.asarray(data["learned_scale"], dtype=float),
        )


class RegimeBaseline:
    """Per (signal, feature, band) robust centre and scale of regime-regressed features.

    See docs/health-model.md for the regression, the robust statistics and the rolling
    update. `features` arguments are `{signal: {feature: array over windows}}` as in
    `AssetWindows.features`; `band`, `speed` and `load` are arrays over the same windows.
    """

    def __init__(
        self,
        models: dict[str, dict[str, _FeatureBaseline]],
        *,
        n_bands: int,
        speed_ref: float,
        load_ref: float,
    ) -> None:
        self.models = models
        self.n_bands = n_bands
        self.speed_ref = speed_ref
        self.load_ref = load_ref

    @classmethod
    def fit(
        cls,
        features: Mapping[str, Mapping[str, np.ndarray]],
        band: np.ndarray,
        speed: np.ndarray,
        load: np.ndarray | None = None,
        *,
        n_bands: int,
        min_samples: int = 10,
    ) -> RegimeBaseline:
        """Return the baseline learned from windows judged healthy (STOPPED ones are skipped).

        A band with fewer than `min_samples` usable windows of a feature takes the centre and
        scale pooled over all bands.
        """
        band = np.asarray(band)
        running = band >= 0
        speed = np.asarray(speed, dtype=float)
        load_arr = np.full(speed.size, np.nan) if load is None else np.asarray(load, dtype=float)
        use_load = bool(np.any(np.isfinite(load_arr[running]) & (load_arr[running] > 0)))
        use_speed = bool(np.any(np.isfinite(speed[running]) & (speed[running] > 0)))
        speed_ref = float(np.nanmedian(speed[running])) if use_speed else 1.0
        load_ref = float(np.nanmedian(load_arr[running])) if use_load else 1.0
        baseline = cls({}, n_bands=n_bands, speed_ref=speed_ref, load_ref=load_ref)
        design = baseline._design(speed, load_arr)
        columns = [0] + ([1] if use_speed else []) + ([2] if use_load else [])
        for signal, by_feature in features.items():
            baseline.models[signal] = {}
            for name, raw in by_feature.items():
                values = np.asarray(raw, dtype=float)
                usable = running & np.isfinite(values) & np.isfinite(design).all(axis=1)
                if not usable.any():
                    continue
                log = bool(np.all(values[usable] > 0))
                model = _FeatureBaseline(
                    log=log,
                    coef=np.zeros(3),
                    centre=np.zeros(n_bands),
                    scale=np.ones(n_bands),
                    learned_scale=np.ones(n_bands),
                )
                y = model.transform(values)
                model.coef = _robust_lstsq(design[usable], y[usable], columns)
                resid = y - design @ model.coef
                if log:
                    floor = _MIN_LOG_SCALE
                else:
                    floor = max(_MIN_REL_SCALE * float(np.median(np.abs(values[usable]))), 1e-12)
                pooled_c, pooled_s = _median_mad(resid[usable])
                for b in range(n_bands):
                    here = usable & (band == b)
                    if here.sum() >= min_samples:
                        c, s = _median_mad(resid[here])
                    else:
                        c, s = pooled_c, pooled_s
                    model.centre[b] = c
                    model.scale[b] = max(s, floor)
                model.learned_scale = model.scale.copy()
                baseline.models[signal][name] = model
        return baseline

    def _design(self, speed: np.ndarray, load: np.ndarray) -> np.ndarray:
        """Regression inputs per window: 1, log(speed / median), log(load / median).

        Missing terms (no speed or no load signal) are 0, which with a zero coefficient
        drops them; a non-positive input gives NaN, i.e. no score for that window.
        """
        speed = np.asarray(speed, dtype=float)
        load = np.broadcast_to(np.asarray(load, dtype=float), speed.shape)
        with np.errstate(divide="ignore", invalid="ignore"):
            ls = np.log(np.where(speed > 0, speed / self.speed_ref, np.nan))
            ll = np.log(np.where(load > 0, load / self.load_ref, np.nan))
        # A term the fit did not use must not turn the whole row into NaN.
        ll = np.where(np.isnan(ll), 0.0, ll)
        return np.column_stack([np.ones(speed.size), ls, ll])

    def zscores(
        self,
        features: Mapping[str, Mapping[str, np.ndarray]],
        band: np.ndarray,
        speed: np.ndarray,
        load: np.ndarray | None = None,
    ) -> dict[str, dict[str, np.ndarray]]:
        """Return `{signal: {feature: z}}` over the windows; NaN for STOPPED or missing."""
        band, design = self._inputs(band, speed, load)
        out: dict[str, dict[str, np.ndarray]] = {}
        for signal, by_feature in self.models.items():
            out[signal] = {}
            for name, model in by_feature.items():
                values = _feature_values(features, signal, name, band.size)
                b = np.maximum(band, 0)
                z = (model.residual(values, design) - model.centre[b]) / model.scale[b]
                out[signal][name] = np.where(band >= 0, z, np.nan)
        return out

    def expected(
        self,
        signal: str,
        feature: str,
        band: np.ndarray,
        speed: np.ndarray,
        load: np.ndarray | None = None,
    ) -> np.ndarray:
        """Return the baseline value of a feature in its own units for each window."""
        band, design = self._inputs(band, speed, load)
        return self.models[signal][feature].expected(band, design)

    def update(
        self,
        features: Mapping[str, Mapping[str, np.ndarray]],
        band: np.ndarray,
        speed: np.ndarray,
        load: np.ndarray | None = None,
        *,
        weight: float,
        max_shift: float,
    ) -> None:
        """Move each window's band towards it, in order (only pass windows judged normal).

        `weight` is the share a window gets of its band's centre and variance; `max_shift`
        caps the centre's move per window, in scales learned (not the rolling scale, so the
        cap cannot grow with it).
        """
        band, design = self._inputs(band, speed, load)
        for signal, by_feature in self.models.items():
            for name, model in by_feature.items():
                resid = model.residual(_feature_values(features, signal, name, band.size), design)
                for b, r in zip(band.tolist(), resid.tolist(), strict=True):
                    if b < 0 or not math.isfinite(r):
                        continue
                    scale, learned = model.scale[b], model.learned_scale[b]
                    d = r - model.centre[b]
                    cap = max_shift * learned
                    model.centre[b] += max(-cap, min(cap, weight * d))
                    d = min(abs(d), 3.0 * scale)
                    variance = (1.0 - weight) * scale * scale + weight * d * d
                    model.scale[b] = min(max(math.sqrt(variance), 0.5 * learned), 2.0 * learned)

    def _inputs(
        self, band: np.ndarray, speed: np.ndarray, load: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        band = np.atleast_1d(np.asarray(band, dtype=np.int64))
        speed = np.broadcast_to(np.asarray(speed, dtype=float), band.shape)
        load_arr = np.full(band.shape, np.nan) if load is None else np.asarray(load, dtype=float)
        return band, self._design(speed, load_arr)

    def to_dict(self) -> dict[str, Any]:
        """Return the baseline as a JSON-ready dict (`from_dict` reads it back)."""
        return {
            "n_bands": self.n_bands,
            "speed_ref": self.speed_ref,
            "load_ref": self.load_ref,
            "models": {
                signal: {name: model.to_dict() for name, model in by_feature.items()}
                for signal, by_feature in self.models.items()
            },
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RegimeBaseline:
        """Return the baseline `to_dict` described."""
        return cls(
            {
                signal: {name: _FeatureBaseline.from_dict(m) for name, m in by_feature.items()}
                for signal, by_feature in data["models"].items()
            },
            n_bands=int(data["n_bands"]),
            speed_ref=float(data["speed_ref"]),
            load_ref=float(data["load_ref"]),
        )


def _feature_values(
    features: Mapping[str, Mapping[str, np.ndarray]], signal: str, name: str, n: int
) -> np.ndarray:
    by_feature = features.get(signal)
    if by_feature is None or name not in by_feature:
        return np.full(n, np.nan)
    return np.asarray(by_feature[name], dtype=float)


def _median_mad(values: np.ndarray) -> tuple[float, float]:
    centre = float(np.median(values))
    return centre, _MAD_TO_SIGMA * float(np.median(np.abs(values - centre)))


def _robust_lstsq(x: np.ndarray, y: np.ndarray, columns: list[int]) -> np.ndarray:
    """Least squares on `columns` of `x`, refitted once without residuals beyond 3.5 scales."""
    coef = np.zeros(x.shape[1])
    keep = np.ones(y.size, dtype=bool)
    for _ in range(2):
        fitted, *_ = np.linalg.lstsq(x[keep][:, columns], y[keep], rcond=None)
        coef[:] = 0.0
        coef[columns] = fitted
        resid = y - x @ coef
        _, scale = _median_mad(resid)
        if scale <= 0:
            break
        keep = np.abs(resid - np.median(resid)) <= 3.5 * scale
        if keep.sum() <= len(columns):
            break
    return coef


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
