"""Deviations from an asset's own baseline (`RegimeBaseline`): each (signal, feature) of its
windows as a robust z against its operating-regime band, after a regression on speed and
current; `update` rolls the baseline with windows judged normal. Pure: numpy only. See
docs/health-model.md.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["RegimeBaseline"]

# 1.4826 · MAD estimates the standard deviation of Gaussian data.
_MAD_TO_SIGMA = 1.4826
# Scale floors: a feature that hardly moves while healthy (a quantised reading, a held
# operating point) would otherwise turn a rounding step into dozens of z.
_MIN_LOG_SCALE = 0.01
_MIN_REL_SCALE = 0.01


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
