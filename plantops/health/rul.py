"""Remaining-useful-life (RUL) estimation with calibrated intervals, from run-to-failure histories.

`RulEstimator.fit` learns from `UnitHistory` runs (per step: operating-regime settings and
health sensors; `failed=True` when the run ended in the failure). `predict` gives, at a unit's
last step, the RUL in steps within [0, `cap`], one interval per requested confidence, a health
index and the sensors that drive it. A step has no unit of its own (a plant hour or day, a
C-MAPSS cycle): `cap`, windows and half-lives all count steps. Intervals are for the capped
RUL: a high bound equal to `cap` means "cap or more".

Pure: numpy, scipy and scikit-learn (scipy and threadpoolctl come with scikit-learn), no
Django and no database. Deterministic for a given `seed`.

See docs/health-model.md.
"""

from __future__ import annotations

import math
import pickle
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.cluster import KMeans
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.linear_model import Ridge
from threadpoolctl import threadpool_limits

from plantops.health import series

# Under its old name too: estimators stored before the calibration had a module of its own
# unpickle it from here.
from plantops.health.calibration import Calibration as _Calibration
from plantops.health.unit_history import UnitHistory

__all__ = ["FitStep", "RulEstimator", "RulInterval", "RulPrediction", "UnitHistory"]


@dataclass(frozen=True)
class FitStep:
    """Where a fit is, told as each stage starts: `stage` is "regimes", "cross_validation",
    "final_fit" or "calibration"; `part` of `parts` counts the folds; `done` is the share of
    the fit's work already finished (0 to 1), weighing each model fit by the rows it learns from.
    """

    stage: str
    part: int
    parts: int
    done: float


# Finding the operating regimes and calibrating the intervals, as shares of a fit's work; the
# rest is the cross-validation folds and the final model, in proportion to their rows.
_REGIMES_SHARE = 0.05
_CALIBRATION_SHARE = 0.02


@dataclass(frozen=True)
class RulInterval:
    """A prediction interval for the (capped) RUL: low ≤ RUL ≤ high with `confidence`."""

    low: float
    high: float
    confidence: float


@dataclass(frozen=True)
class RulPrediction:
    """The RUL predicted at a unit's last step, with its intervals and what drives it.

    `central`: steps until failure (between 0 and the estimator's cap). `intervals`: one per
    requested confidence, in the order requested. `health_index`: central / cap, so 1.0 is
    "at least cap steps left" (healthy) and 0.0 is failure now. `drivers`: (sensor column
    index, deviation) pairs for the sensors the model uses, largest first; the deviation is
    how far the sensor's smoothed recent value has moved from the fleet's early-life values,
    in early-life standard deviations, signed so that positive is towards failure.
    """

    central: float
    intervals: tuple[RulInterval, ...]
    health_index: float
    drivers: tuple[tuple[int, float], ...]

    def interval(self, confidence: float) -> RulInterval:
        """The interval at `confidence`; KeyError if it was not requested."""
        for item in self.intervals:
            if math.isclose(item.confidence, confidence, abs_tol=1e-9):
                return item
        have = ", ".join(f"{i.confidence:g}" for i in self.intervals)
        raise KeyError(f"no interval at confidence {confidence:g} (have {have})")


@dataclass
class _Pipeline:
    """One fitted feature pipeline and its two regressors (fit on some set of units)."""

    regime_centers: np.ndarray  # (k, n_settings) in scaled setting units
    setting_scale: np.ndarray  # (n_settings,)
    sensor_mean: np.ndarray  # (k, n_sensors)
    sensor_std: np.ndarray  # (k, n_sensors)
    selected: np.ndarray  # indices of the sensors used
    signs: np.ndarray  # +1 where the sensor rises towards failure, -1 where it falls
    early_mean: np.ndarray  # early-life mean of the selected standardised sensors
    early_std: np.ndarray
    hi_coef: np.ndarray  # health index = z[:, selected] @ hi_coef + hi_intercept
    hi_intercept: float
    feature_mean: np.ndarray
    feature_std: np.ndarray
    gbm: HistGradientBoostingRegressor
    ridge: Ridge


class RulEstimator:
    """Predicts remaining useful life with calibrated intervals (see docs/health-model.md).

    Fit with `fit` on run-to-failure units, predict with `predict` / `predict_many` at the last
    step of a (usually still running) unit, store with `to_bytes` / `from_bytes`.
    """

    VERSION_FORMAT = "plantops-rul/hgb-ridge-mondrian/1"

    def __init__(
        self,
        *,
        cap: float = 125.0,
        seed: int = 0,
        cv_folds: int = 5,
        max_regimes: int = 8,
        regime_tol: float = 0.02,
        min_abs_corr: float = 0.2,
        halflives: Sequence[float] = (2.0, 6.0, 20.0),
        windows: Sequence[int] = (10, 30),
        slope_windows: Sequence[int] = (15, 40),
        baseline_steps: int = 20,
        gbm_iter: int = 300,
        gbm_learning_rate: float = 0.05,
        gbm_leaf_nodes: int = 15,
        gbm_min_leaf: int = 40,
        gbm_l2: float = 1.0,
        ridge_alpha: float = 10.0,
        calibration_bins: int = 5,
        short_history: int = 30,
        use_step_count: bool = True,
        calibrate_per: str = "unit",
        n_threads: int = 1,
    ) -> None:
        """Set the hyperparameters; the defaults suit C-MAPSS cycles and hourly or daily steps.

        `cap`: the RUL (in steps) beyond which a machine counts as simply healthy. `seed`: the
        folds and the models' randomness. `cv_folds`: folds of units for the out-of-fold
        residuals behind the intervals and the blend. `max_regimes`, `regime_tol`: at most that
        many operating regimes, and the share of the settings' variance they may leave
        unexplained. `min_abs_corr`: sensors less correlated with the target are dropped.
        `halflives`, `windows`, `slope_windows`, `baseline_steps`: the per-step features (in
        steps). `gbm_*`: the gradient-boosting regressor. `ridge_alpha`: the ridge model.
        `calibration_bins`: bins of predicted RUL for the intervals; `short_history`:
        predictions from fewer steps are calibrated on their own. `use_step_count`: give the
        models the number of steps observed. `calibrate_per`: "unit" weighs every unit's
        residuals alike, "step" every step. `n_threads`: threads for the models. Why each
        default: docs/health-model.md.
        """
        if not cap > 0:
            raise ValueError(f"cap must be positive, got {cap}")
        if cv_folds < 2:
            raise ValueError(f"cv_folds must be at least 2, got {cv_folds}")
        self.cap = float(cap)
        self.seed = int(seed)
        self.cv_folds = int(cv_folds)
        self.max_regimes = int(max_regimes)
        self.regime_tol = float(regime_tol)
        self.min_abs_corr = float(min_abs_corr)
        self.halflives = tuple(float(h) for h in halflives)
        self.windows = tuple(int(w) for w in windows)
        self.slope_windows = tuple(int(w) for w in slope_windows)
        self.baseline_steps = int(baseline_steps)
        self.gbm_iter = int(gbm_iter)
        self.gbm_learning_rate = float(gbm_learning_rate)
        self.gbm_leaf_nodes = int(gbm_leaf_nodes)
        self.gbm_min_leaf = int(gbm_min_leaf)
        self.gbm_l2 = float(gbm_l2)
        self.ridge_alpha = float(ridge_alpha)
        self.calibration_bins = int(calibration_bins)
        self.short_history = int(short_history)
        self.use_step_count = bool(use_step_count)
        if calibrate_per not in ("unit", "step"):
            raise ValueError(f"calibrate_per is 'unit' or 'step', got {calibrate_per!r}")
        self.calibrate_per = calibrate_per
        self.n_threads = int(n_threads)
        self.fit_summary: dict[str, Any] = {}
        self._pipeline: _Pipeline | None = None
        self._blend = 1.0  # weight of the boosted trees; the ridge model gets the rest
        self._n_settings = 0
        self._n_sensors = 0
        # Per history kind (short, long): bin edges by predicted RUL, and per bin the sorted
        # out-of-fold residuals with their normalised cumulative weights.
        self._calibration: dict[bool, _Calibration] = {}

    # ------------------------------------------------------------------ fitting

    def fit(
        self,
        units: Sequence[UnitHistory],
        progress: Callable[[FitStep], None] | None = None,
    ) -> RulEstimator:
        """This estimator, fitted on the run-to-failure units (`failed=True`) among `units`.

        Censored units (`failed=False`) are skipped and counted in `fit_summary`. Raises
        ValueError when fewer than two failed units remain or their shapes disagree.
        `progress`, if given, is called as each stage starts (`FitStep`).
        """
        with threadpool_limits(limits=self.n_threads):
            return self._fit(units, progress or (lambda step: None))

    def _fit(
        self, units: Sequence[UnitHistory], progress: Callable[[FitStep], None]
    ) -> RulEstimator:
        started = time.perf_counter()
        failed = [u for u in units if u.failed]
        if len(failed) < 2:
            raise ValueError(
                f"need at least 2 run-to-failure units (failed=True) to fit, got {len(failed)}"
            )
        self._n_settings = failed[0].settings.shape[1]
        self._n_sensors = failed[0].sensors.shape[1]
        for unit in failed:
            self._check_columns(unit)
        targets = [self._target(u.n_steps) for u in failed]

        # The regimes come from the settings alone (no target): found once, shared by the folds.
        progress(FitStep("regimes", 1, 1, 0.0))
        regimes = self._fit_regimes(np.concatenate([u.settings for u in failed]))
        rng = np.random.default_rng(self.seed)
        n_folds = min(self.cv_folds, len(failed))
        fold_of = rng.permutation(len(failed)) % n_folds
        oof_gbm = [np.empty(0)] * len(failed)
        oof_ridge = [np.empty(0)] * len(failed)
        # Every model fit costs about its rows: the folds' training rows, then all rows.
        steps_of = np.array([u.n_steps for u in failed])
        all_rows = int(steps_of.sum())
        fold_rows = [all_rows - int(steps_of[fold_of == fold].sum()) for fold in range(n_folds)]
        model_share = 1.0 - _REGIMES_SHARE - _CALIBRATION_SHARE

        def done_after(rows: int) -> float:
            return _REGIMES_SHARE + model_share * rows / (sum(fold_rows) + all_rows)

        for fold in range(n_folds):
            progress(
                FitStep("cross_validation", fold + 1, n_folds, done_after(sum(fold_rows[:fold])))
            )
            train = [u for u, f in zip(failed, fold_of, strict=True) if f != fold]
            train_y = [y for y, f in zip(targets, fold_of, strict=True) if f != fold]
            pipe = self._fit_pipeline(train, train_y, regimes)
            for i in np.flatnonzero(fold_of == fold):
                oof_gbm[i], oof_ridge[i] = self._predict_steps(pipe, failed[i])
        progress(FitStep("final_fit", 1, 1, done_after(sum(fold_rows))))
        self._pipeline = self._fit_pipeline(failed, targets, regimes)
        progress(FitStep("calibration", 1, 1, 1.0 - _CALIBRATION_SHARE))

        y_all = np.concatenate(targets)
        g_all = np.concatenate(oof_gbm)
        r_all = np.concatenate(oof_ridge)
        self._blend = series.best_blend(g_all, r_all, y_all)
        oof = np.clip(self._blend * g_all + (1 - self._blend) * r_all, 0.0, self.cap)
        per_unit = self.calibrate_per == "unit"
        weights = np.concatenate(
            [np.full(u.n_steps, 1.0 / u.n_steps if per_unit else 1.0) for u in failed]
        )
        steps = np.concatenate([np.arange(1, u.n_steps + 1) for u in failed])
        short = steps < self.short_history
        everything = _Calibration.of(oof, y_all - oof, weights, self.calibration_bins)
        self._calibration = {
            kind: _Calibration.of(
                oof[short == kind],
                (y_all - oof)[short == kind],
                weights[short == kind],
                self.calibration_bins,
            )
            if np.count_nonzero(short == kind) >= 200
            else everything
            for kind in (True, False)
        }

        pipe = self._pipeline
        err = oof - y_all
        self.fit_summary = {
            "format": self.VERSION_FORMAT,
            "n_units": len(failed),
            "n_censored_skipped": len(units) - len(failed),
            "n_samples": int(y_all.size),
            "n_settings": self._n_settings,
            "n_sensors": self._n_sensors,
            "n_regimes": int(pipe.regime_centers.shape[0]),
            "sensors_used": [int(i) for i in pipe.selected],
            "feature_names": self._feature_names(pipe),
            "cap": self.cap,
            "seed": self.seed,
            "cv_folds": n_folds,
            "blend_gbm_weight": round(self._blend, 4),
            "cv_rmse": round(float(np.sqrt(np.mean(err**2))), 4),
            "cv_rmse_gbm": round(float(np.sqrt(np.mean((g_all - y_all) ** 2))), 4),
            "cv_rmse_ridge": round(float(np.sqrt(np.mean((r_all - y_all) ** 2))), 4),
            "calibration_bins": [
                {"history": "short" if kind else "long", **row}
                for kind in (True, False)
                for row in self._calibration[kind].summary()
            ],
            "fit_seconds": round(time.perf_counter() - started, 3),
        }
        return self

    def _target(self, n_steps: int) -> np.ndarray:
        return np.minimum(np.arange(n_steps - 1, -1, -1, dtype=np.float64), self.cap)

    def _fit_pipeline(
        self,
        units: Sequence[UnitHistory],
        targets: Sequence[np.ndarray],
        regimes: tuple[np.ndarray, np.ndarray],
    ) -> _Pipeline:
        settings = np.concatenate([u.settings for u in units])
        sensors = np.concatenate([u.sensors for u in units])
        y = np.concatenate(targets)

        centers, scale = regimes
        regime = _assign(settings, centers, scale)
        k = centers.shape[0]
        mean = np.zeros((k, sensors.shape[1]))
        std = np.ones((k, sensors.shape[1]))
        varying = np.zeros(sensors.shape[1], dtype=bool)
        for r in range(k):
            rows = sensors[regime == r]
            if rows.shape[0] == 0:
                continue
            mean[r] = rows.mean(axis=0)
            s = rows.std(axis=0)
            ok = s > 1e-9 * np.maximum(1.0, np.abs(mean[r]))
            varying |= ok & (rows.shape[0] > 1)
            std[r] = np.where(ok, s, 1.0)
        z = (sensors - mean[regime]) / std[regime]

        corr = np.array([series.corr(z[:, j], y) if varying[j] else 0.0 for j in range(z.shape[1])])
        selected = np.flatnonzero(varying & (np.abs(corr) >= self.min_abs_corr))
        if selected.size == 0:
            candidates = np.flatnonzero(varying)
            if candidates.size == 0:
                raise ValueError("every sensor is constant in the training units: nothing to learn")
            selected = candidates[[int(np.argmax(np.abs(corr[candidates])))]]
        signs = np.where(corr[selected] > 0, -1.0, 1.0)  # RUL falls as failure nears

        zs = z[:, selected]
        early = y >= np.quantile(y, 0.75) if np.ptp(y) > 0 else np.ones(y.size, dtype=bool)
        early_mean = zs[early].mean(axis=0)
        early_std = np.maximum(zs[early].std(axis=0), 1e-6)

        hi = Ridge(alpha=1.0).fit(zs, y)
        pipe = _Pipeline(
            regime_centers=centers,
            setting_scale=scale,
            sensor_mean=mean,
            sensor_std=std,
            selected=selected,
            signs=signs,
            early_mean=early_mean,
            early_std=early_std,
            hi_coef=np.asarray(hi.coef_, dtype=np.float64),
            hi_intercept=float(hi.intercept_),
            feature_mean=np.empty(0),
            feature_std=np.empty(0),
            gbm=HistGradientBoostingRegressor(
                max_iter=self.gbm_iter,
                learning_rate=self.gbm_learning_rate,
                max_leaf_nodes=self.gbm_leaf_nodes,
                min_samples_leaf=self.gbm_min_leaf,
                l2_regularization=self.gbm_l2,
                early_stopping=False,
                random_state=self.seed,
            ),
            ridge=Ridge(alpha=self.ridge_alpha),
        )
        x = np.concatenate([self._features(pipe, u) for u in units])
        pipe.feature_mean = x.mean(axis=0)
        pipe.feature_std = np.where(x.std(axis=0) > 1e-12, x.std(axis=0), 1.0)
        pipe.gbm.fit(x, y)
        pipe.ridge.fit((x - pipe.feature_mean) / pipe.feature_std, y)
        return pipe

    def _fit_regimes(self, settings: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n, d = settings.shape
        if d == 0:
            return np.zeros((1, 0)), np.ones(0)
        scale = settings.std(axis=0)
        scale = np.where(scale > 1e-12, scale, 1.0)
        x = settings / scale
        total = float(((x - x.mean(axis=0)) ** 2).sum())
        if total <= 1e-12 * n or self.max_regimes < 2:
            return x.mean(axis=0, keepdims=True), scale
        rng = np.random.default_rng(self.seed)
        sample = x[rng.choice(n, size=min(n, 20_000), replace=False)]
        total_sample = float(((sample - sample.mean(axis=0)) ** 2).sum())
        most = min(self.max_regimes, sample.shape[0])

        def clusters(k: int) -> KMeans | None:
            km = KMeans(n_clusters=k, n_init=3, random_state=self.seed).fit(sample)
            return km if km.inertia_ <= self.regime_tol * total_sample else None

        # Settings that merely vary (noise, a continuous load) fail even with the most regimes:
        # one k-means fit tells, instead of one per k.
        best = clusters(most)
        if best is None:
            return x.mean(axis=0, keepdims=True), scale
        for k in range(2, most):
            km = clusters(k)
            if km is not None:
                best = km
                break
        return np.asarray(best.cluster_centers_, dtype=np.float64), scale

    # ---------------------------------------------------------------- features

    def _standardised(self, pipe: _Pipeline, unit: UnitHistory) -> np.ndarray:
        regime = _assign(unit.settings, pipe.regime_centers, pipe.setting_scale)
        z = (unit.sensors - pipe.sensor_mean[regime]) / pipe.sensor_std[regime]
        return z[:, pipe.selected]

    def _features(self, pipe: _Pipeline, unit: UnitHistory) -> np.ndarray:
        zs = self._standardised(pipe, unit)
        hi = zs @ pipe.hi_coef + pipe.hi_intercept
        signals = np.column_stack([zs, hi])
        n = signals.shape[0]
        parts = [series.ewm(signals, h) for h in self.halflives]
        parts += [series.rolling_mean(signals, w) for w in self.windows]
        parts += [series.rolling_slope(signals, w) for w in self.slope_windows]
        base = series.expanding_head_mean(signals, self.baseline_steps)
        parts.append(series.ewm(signals, self.halflives[-1] if self.halflives else 10.0) - base)
        if self.use_step_count:
            parts.append(np.arange(1, n + 1, dtype=np.float64)[:, None])
        return np.concatenate(parts, axis=1)

    def _feature_names(self, pipe: _Pipeline) -> list[str]:
        signals = [f"s{int(i)}" for i in pipe.selected] + ["hi"]
        names = [f"{s}series.ewm{h:g}" for h in self.halflives for s in signals]
        names += [f"{s}_mean{w}" for w in self.windows for s in signals]
        names += [f"{s}_slope{w}" for w in self.slope_windows for s in signals]
        names += [f"{s}_change" for s in signals]
        if self.use_step_count:
            names.append("steps_observed")
        return names

    def _predict_steps(self, pipe: _Pipeline, unit: UnitHistory) -> tuple[np.ndarray, np.ndarray]:
        x = self._features(pipe, unit)
        return pipe.gbm.predict(x), pipe.ridge.predict((x - pipe.feature_mean) / pipe.feature_std)

    # -------------------------------------------------------------- prediction

    def predict(
        self, unit: UnitHistory, *, confidences: Sequence[float] = (0.8, 0.9)
    ) -> RulPrediction:
        """The RUL predicted at the last step of `unit`, with one interval per confidence.

        Works on any history of at least one step. Raises ValueError if the estimator is not
        fitted, if the unit's columns differ from the training units', or for a confidence
        outside (0, 1).
        """
        return self.predict_many([unit], confidences=confidences)[0]

    def predict_many(
        self, units: Sequence[UnitHistory], *, confidences: Sequence[float] = (0.8, 0.9)
    ) -> list[RulPrediction]:
        """`predict` for each unit, in order (the features of all units go through the models
        in one batch)."""
        with threadpool_limits(limits=self.n_threads):
            return self._predict_many(units, confidences)

    def _predict_many(
        self, units: Sequence[UnitHistory], confidences: Sequence[float]
    ) -> list[RulPrediction]:
        pipe = self._pipeline
        if pipe is None:
            raise ValueError("the estimator is not fitted: call fit() first")
        for c in confidences:
            if not 0 < c < 1:
                raise ValueError(f"confidence must be between 0 and 1 (exclusive), got {c}")
        if not units:
            return []
        rows = []
        for unit in units:
            self._check_columns(unit)
            if unit.n_steps == 0:
                raise ValueError(f"unit {unit.unit_id!r}: the history has no steps")
            rows.append(self._features(pipe, unit)[-1])
        x = np.vstack(rows)
        gbm = pipe.gbm.predict(x)
        ridge = pipe.ridge.predict((x - pipe.feature_mean) / pipe.feature_std)
        central = np.clip(self._blend * gbm + (1 - self._blend) * ridge, 0.0, self.cap)
        out = []
        for unit, c in zip(units, central, strict=True):
            out.append(
                RulPrediction(
                    central=float(c),
                    intervals=tuple(
                        self._interval(float(c), unit.n_steps, conf) for conf in confidences
                    ),
                    health_index=float(c / self.cap),
                    drivers=self._drivers(pipe, unit),
                )
            )
        return out

    def _interval(self, central: float, n_steps: int, confidence: float) -> RulInterval:
        calibration = self._calibration[n_steps < self.short_history]
        low = central + calibration.quantile(central, (1 - confidence) / 2)
        high = central + calibration.quantile(central, (1 + confidence) / 2)
        low = min(max(low, 0.0), central)
        high = max(min(high, self.cap), central)
        return RulInterval(low=float(low), high=float(high), confidence=float(confidence))

    def _drivers(self, pipe: _Pipeline, unit: UnitHistory) -> tuple[tuple[int, float], ...]:
        zs = self._standardised(pipe, unit)
        recent = series.ewm(zs, self.halflives[-1] if self.halflives else 10.0)[-1]
        deviation = pipe.signs * (recent - pipe.early_mean) / pipe.early_std
        order = np.argsort(-deviation, kind="stable")
        return tuple((int(pipe.selected[i]), round(float(deviation[i]), 4)) for i in order)

    def _check_columns(self, unit: UnitHistory) -> None:
        if unit.settings.shape[1] != self._n_settings or unit.sensors.shape[1] != self._n_sensors:
            raise ValueError(
                f"unit {unit.unit_id!r} has {unit.settings.shape[1]} settings and "
                f"{unit.sensors.shape[1]} sensors; expected {self._n_settings} settings and "
                f"{self._n_sensors} sensors, like the training units"
            )

    # ----------------------------------------------------------- serialisation

    def to_bytes(self) -> bytes:
        """The fitted estimator as bytes, for storing as a versioned model.

        The format is a pickle (the fitted scikit-learn models cannot be stored otherwise), so
        only blobs that PlantOps itself produced may be loaded with `from_bytes`.
        """
        if self._pipeline is None:
            raise ValueError("the estimator is not fitted: call fit() first")
        state = dict(self.__dict__)
        return pickle.dumps(
            {"format": self.VERSION_FORMAT, "state": state}, protocol=pickle.HIGHEST_PROTOCOL
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> RulEstimator:
        """The estimator stored by `to_bytes`; ValueError for another format or version.

        Unpickles: load only blobs that PlantOps itself produced and stored.
        """
        try:
            # Trusted input only: the blobs are produced and stored by PlantOps itself.
            payload = pickle.loads(data)
        except Exception as exc:
            raise ValueError(f"not a stored RUL estimator: {exc}") from exc
        if not isinstance(payload, dict) or payload.get("format") != cls.VERSION_FORMAT:
            found = payload.get("format") if isinstance(payload, dict) else type(payload).__name__
            raise ValueError(
                f"stored RUL estimator has format {found!r}; this code reads {cls.VERSION_FORMAT!r}"
            )
        estimator = cls.__new__(cls)
        estimator.__dict__.update(payload["state"])
        return estimator


# ---------------------------------------------------------------------- helpers


def _assign(settings: np.ndarray, centers: np.ndarray, scale: np.ndarray) -> np.ndarray:
    if centers.shape[0] == 1 or settings.shape[1] == 0:
        return np.zeros(settings.shape[0], dtype=np.intp)
    x = settings / scale
    d = ((x[:, None, :] - centers[None, :, :]) ** 2).sum(axis=2)
    return np.argmin(d, axis=1)
