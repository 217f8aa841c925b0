"""Writes for training: runs to failure imported from elsewhere, and fitting the remaining-life
estimator of an asset type and failure mode on its whole fleet.

The fleet is every imported run to failure of that type and mode, and every run of our own
assets of the type that ended in a recorded failure of the mode. Each fit is a new model
version; the newest is the one in use.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from plantops.health import fit_words
from plantops.health.models import (
    FailureEvent,
    FailureMode,
    HealthModel,
    HealthStep,
    RunToFailureHistory,
)
from plantops.health.plant_time import DAY_S
from plantops.health.selectors import run_steps

if TYPE_CHECKING:
    # Imported where used: scikit-learn costs the ingest and web processes memory for nothing.
    from plantops.health.rul import FitStep, UnitHistory


class FitProgress(Protocol):
    """Told as each stage of a fit starts: the stage's code, what it is doing in words (English,
    `fit_words`), the share of the fit done, and for a stage told in parts which of how many."""

    def __call__(
        self, stage: str, text: str, done: float, *, part: int = 0, parts: int = 0
    ) -> None: ...


class FitRefused(ValueError):
    """Nothing, or nothing consistent, to learn from. `str()` says why in English; `code` and
    `params` word it again in a viewer's language (`fit_words.ERRORS`)."""

    def __init__(self, code: str, **params: Any) -> None:
        self.code = code
        self.params = params
        super().__init__(fit_words.error_text(code, params, translate=fit_words.as_written))


# Below this many steps since the last failure or repair, a machine is too new to predict,
# and a run this short teaches nothing.
MIN_PREDICTION_STEPS = 6
# Remaining life is learned up to this many plant days: a machine further from failure than
# that is simply "healthy", which is also what its features can tell.
DEFAULT_CAP_DAYS = 30.0
# A machine's history starts wherever monitoring started (a new bearing, or the day PlantOps
# was installed on an old machine), so how many steps it has run says little of its wear.
# And a plant sees a prediction at every step: its intervals are calibrated per step.
PLANT_ESTIMATOR_OPTIONS = {"use_step_count": False, "calibrate_per": "step"}
# The shares of a fit's work before and after the estimator's own: reading the fleet's runs
# (one query per recorded failure), and storing the new version.
LOADING_SHARE = 0.10
SAVING_SHARE = 0.05


def _array_bytes(values: np.ndarray) -> bytes:
    return np.ascontiguousarray(values, dtype="<f8").tobytes()


def _array_from(data: bytes, n_steps: int) -> np.ndarray:
    values = np.frombuffer(bytes(data), dtype="<f8")
    return values.reshape(n_steps, -1) if n_steps else values.reshape(0, 0)


def history_import(
    *,
    asset_type: str,
    failure_mode: FailureMode,
    name: str,
    step_s: float,
    settings_values: np.ndarray,
    sensor_values: np.ndarray,
    settings_columns: Sequence[str],
    sensor_columns: Sequence[str],
) -> RunToFailureHistory:
    """Store (or replace) one imported run to failure; its last step is the failure."""
    if settings_values.shape[0] != sensor_values.shape[0] or sensor_values.shape[0] == 0:
        raise ValueError(f"{name}: settings and sensors need the same, non-zero number of steps")
    if sensor_values.shape[1] != len(sensor_columns):
        raise ValueError(
            f"{name}: {sensor_values.shape[1]} sensor columns, {len(sensor_columns)} names"
        )
    if not np.isfinite(sensor_values).all() or not np.isfinite(settings_values).all():
        raise ValueError(f"{name}: the history holds NaN or infinite values")
    history, _ = RunToFailureHistory.objects.update_or_create(
        asset_type=asset_type,
        failure_mode=failure_mode,
        name=name,
        defaults={
            "step_s": step_s,
            "n_steps": sensor_values.shape[0],
            "settings_columns": list(settings_columns),
            "sensor_columns": list(sensor_columns),
            "settings_data": _array_bytes(settings_values),
            "sensors_data": _array_bytes(sensor_values),
        },
    )
    return history


def _history_unit(history: RunToFailureHistory) -> UnitHistory:
    from plantops.health.rul import UnitHistory

    return UnitHistory(
        unit_id=f"history-{history.pk}",
        settings=_array_from(history.settings_data, history.n_steps),
        sensors=_array_from(history.sensors_data, history.n_steps),
        failed=True,
    )


def steps_unit(unit_id: str, steps: Sequence[HealthStep], *, failed: bool) -> UnitHistory:
    from plantops.health.rul import UnitHistory

    return UnitHistory(
        unit_id=unit_id,
        # A deviation the step could not measure (JSON null) counts as at the baseline.
        settings=np.nan_to_num(np.array([s.settings_values for s in steps], dtype=float)),
        sensors=np.nan_to_num(np.array([s.sensor_values for s in steps], dtype=float)),
        failed=failed,
    )


def _asset_runs(
    *,
    asset_type: str,
    failure_mode: FailureMode,
    sensor_columns: Sequence[str],
    progress: FitProgress,
) -> list[UnitHistory]:
    """The runs to failure of our own assets of a type: steps from one failure to the next."""
    units = []
    failures = list(
        FailureEvent.objects.filter(
            asset__asset_type=asset_type, failure_mode=failure_mode, repaired_before_failure=False
        ).order_by("asset_id", "failed_at")
    )
    for n, failure in enumerate(failures):
        part = {"part": n + 1, "parts": len(failures)}
        progress(
            "loading",
            fit_words.stage_text("loading", **part, translate=fit_words.as_written),
            LOADING_SHARE * (0.5 + 0.5 * n / len(failures)),
            **part,
        )
        steps = run_steps(failure.asset_id, sensor_columns, ended_at=failure.failed_at)
        if len(steps) >= MIN_PREDICTION_STEPS:
            units.append(steps_unit(f"asset-{failure.asset_id}-{failure.pk}", steps, failed=True))
    return units


def _estimator_progress(progress: FitProgress) -> Callable[[FitStep], None]:
    """The estimator's stages, in the plant's words and as shares of the whole fit."""

    def told(step: FitStep) -> None:
        part = {"part": step.part, "parts": step.parts} if step.parts > 1 else {}
        detail = fit_words.stage_text(step.stage, **part, translate=fit_words.as_written)
        share = 1.0 - LOADING_SHARE - SAVING_SHARE
        progress(step.stage, detail or step.stage, LOADING_SHARE + share * step.done, **part)

    return told


def _stage(stage: str) -> str:
    return fit_words.stage_text(stage, translate=fit_words.as_written) or stage


def _no_progress(stage: str, text: str, done: float, *, part: int = 0, parts: int = 0) -> None:
    return None


def health_model_fit(
    *,
    asset_type: str,
    failure_mode: FailureMode,
    cap_days: float = DEFAULT_CAP_DAYS,
    estimator_options: dict | None = None,
    now: datetime | None = None,
    progress: FitProgress | None = None,
) -> HealthModel:
    """Fit a new version of the remaining-life estimator for a type and mode from its fleet.

    The fleet is every imported run to failure of that type and mode, and every run of our
    own assets of the type that ended in a recorded failure of the mode. Raises FitRefused (a
    ValueError), saying what is missing, when there is nothing to learn from. `progress` is told as each
    stage starts (`FitProgress`). Only the new version is written in a transaction: a fit
    takes minutes, and what it reports on the way must be seen while it runs.
    """
    progress = progress or _no_progress
    step_s = settings.HEALTH_STEP_S
    progress("loading", _stage("loading"), 0.0)
    histories = list(
        RunToFailureHistory.objects.filter(asset_type=asset_type, failure_mode=failure_mode)
    )
    other_steps = sorted({h.step_s for h in histories if h.step_s != step_s})
    if other_steps:
        raise FitRefused("step_mismatch", steps=str(other_steps), step_s=step_s)
    columns = {tuple(h.sensor_columns) for h in histories}
    if len(columns) > 1:
        raise FitRefused("columns_disagree")
    sensor_columns = list(next(iter(columns))) if columns else _asset_columns(asset_type)
    units = [_history_unit(h) for h in histories]
    units += _asset_runs(
        asset_type=asset_type,
        failure_mode=failure_mode,
        sensor_columns=sensor_columns,
        progress=progress,
    )
    if not units:
        raise FitRefused("no_runs", asset_type=asset_type, failure_mode=failure_mode.code)
    if len(units) == 1:
        raise FitRefused("one_run", asset_type=asset_type, failure_mode=failure_mode.code)
    from plantops.health.rul import RulEstimator

    cap_steps = cap_days * DAY_S / step_s
    options = PLANT_ESTIMATOR_OPTIONS | (estimator_options or {})
    estimator = RulEstimator(cap=cap_steps, **options).fit(
        units, progress=_estimator_progress(progress)
    )
    progress("saving", _stage("saving"), 1.0 - SAVING_SHARE)
    summary = _json_ready(dict(estimator.fit_summary))
    summary |= {"imported_runs": len(histories), "own_runs": len(units) - len(histories)}
    with transaction.atomic():
        # Two fits of one mode ending together number their versions one after the other.
        list(FailureMode.objects.select_for_update().filter(pk=failure_mode.pk).values("pk"))
        latest = HealthModel.objects.filter(asset_type=asset_type, failure_mode=failure_mode)
        version = (latest.aggregate(v=Max("version"))["v"] or 0) + 1
        latest.update(active=False)
        return HealthModel.objects.create(
            asset_type=asset_type,
            failure_mode=failure_mode,
            version=version,
            algorithm=RulEstimator.VERSION_FORMAT,
            step_s=step_s,
            cap_steps=cap_steps,
            sensor_columns=sensor_columns,
            estimator=estimator.to_bytes(),
            summary=summary,
            fitted_at=now or timezone.now(),
            active=True,
        )


def _json_ready(value):
    """The value with NaN and infinities as None: JSON (and PostgreSQL's jsonb) has neither."""
    if isinstance(value, dict):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_ready(v) for v in value]
    if isinstance(value, float | np.floating):
        return float(value) if np.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


def _asset_columns(asset_type: str) -> list[str]:
    step = (
        HealthStep.objects.filter(asset__asset_type=asset_type)
        .order_by("-at")
        .values_list("sensor_columns", flat=True)
        .first()
    )
    return list(step or [])
