"""Numeric series helpers of the remaining-life estimator (`plantops.health.rul`): smoothing,
rolling means and slopes over a unit's steps, correlation and the blend of two predictions.
Pure: numpy and scipy."""

from __future__ import annotations

import numpy as np
from scipy.signal import lfilter

__all__ = ["best_blend", "corr", "ewm", "expanding_head_mean", "rolling_mean", "rolling_slope"]


def corr(a: np.ndarray, b: np.ndarray) -> float:
    sa, sb = a.std(), b.std()
    if sa < 1e-12 or sb < 1e-12:
        return 0.0
    return float(np.mean((a - a.mean()) * (b - b.mean())) / (sa * sb))


def ewm(x: np.ndarray, halflife: float) -> np.ndarray:
    """Exponentially weighted mean of each column, normalised by the weights seen so far."""
    beta = 0.5 ** (1.0 / halflife)
    num = lfilter([1.0], [1.0, -beta], x, axis=0)
    den = lfilter([1.0], [1.0, -beta], np.ones(x.shape[0]))
    return num / den[:, None]


def rolling_mean(x: np.ndarray, window: int) -> np.ndarray:
    """Mean of each column over the last `window` steps (fewer at the start)."""
    n = x.shape[0]
    cs = np.vstack([np.zeros((1, x.shape[1])), np.cumsum(x, axis=0)])
    end = np.arange(1, n + 1)
    start = np.maximum(0, end - window)
    return (cs[end] - cs[start]) / (end - start)[:, None]


def rolling_slope(x: np.ndarray, window: int) -> np.ndarray:
    """Least-squares slope per step of each column over the last `window` steps (0 for one)."""
    n = x.shape[0]
    out = np.zeros_like(x)
    head = min(n, window)
    # The first steps: expanding windows starting at step 0 (small sums, exact).
    t = np.arange(head, dtype=np.float64)
    m = t + 1
    s_t = np.cumsum(t)
    s_tt = np.cumsum(t * t)
    s_y = np.cumsum(x[:head], axis=0)
    s_ty = np.cumsum(t[:, None] * x[:head], axis=0)
    den = m * s_tt - s_t**2
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = (m[:, None] * s_ty - s_t[:, None] * s_y) / den[:, None]
    out[:head] = np.where(den[:, None] > 0, slope, 0.0)
    if n > window:
        # Full windows: a correlation with the centred time kernel.
        k = np.arange(window, dtype=np.float64) - (window - 1) / 2
        k /= (k**2).sum()
        for j in range(x.shape[1]):
            out[window:, j] = np.correlate(x[1:, j], k, mode="valid")
    return out


def expanding_head_mean(x: np.ndarray, steps: int) -> np.ndarray:
    """Mean of each column over the first min(step + 1, `steps`) steps."""
    n = x.shape[0]
    head = min(n, max(1, steps))
    cs = np.cumsum(x[:head], axis=0) / np.arange(1, head + 1)[:, None]
    return np.vstack([cs, np.repeat(cs[-1:], n - head, axis=0)])


def best_blend(a: np.ndarray, b: np.ndarray, y: np.ndarray) -> float:
    """The weight w in [0, 1] minimising the squared error of w·a + (1−w)·b."""
    d = a - b
    denom = float(d @ d)
    if denom <= 1e-12:
        return 1.0
    return float(np.clip(((y - b) @ d) / denom, 0.0, 1.0))
