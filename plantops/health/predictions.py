"""Writes for predictions: each asset's remaining life, in every failure mode its type has a
fitted model for, with an interval, a health index and the signals that drive it.

A prediction is made when the asset has new steps since the last, stored, and turned into a
level for the asset's prediction rules: the alert says when, early enough to plan the repair.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
from django.utils import timezone

from plantops.alerts.conditions import alerts_apply_conditions
from plantops.alerts.evaluation import ExternalCondition
from plantops.alerts.models import RuleSource
from plantops.assets.models import Asset
from plantops.health.models import HealthModel, HealthStep, Prediction, rul_span_text
from plantops.health.plant_time import DAY_S
from plantops.health.selectors import run_steps
from plantops.health.training import MIN_PREDICTION_STEPS, steps_unit

if TYPE_CHECKING:
    # Imported where used: scikit-learn costs the ingest and web processes memory for nothing.
    from plantops.health.rul import RulEstimator, RulPrediction

# The interval every prediction states, and the one its alert quotes.
PREDICTION_CONFIDENCE = 0.9

_estimators: dict[int, RulEstimator] = {}


def _estimator(model: HealthModel) -> RulEstimator:
    from plantops.health.rul import RulEstimator

    if model.pk not in _estimators:
        _estimators[model.pk] = RulEstimator.from_bytes(bytes(model.estimator))
    return _estimators[model.pk]


def prediction_message(
    *, asset_name: str, mode_label: str, low_days: float, high_days: float, confidence: float
) -> str:
    """Return the alert text in the plant's words: “Bearing degradation on Conveyor 3 motor. …”."""
    return (
        f"{mode_label} on {asset_name}. "
        f"Predicted failure in {rul_span_text(low_days, high_days)}. "
        f"Confidence: {confidence:.0%}."
    )


def prediction_make(*, asset_id: int, now: datetime | None = None) -> list[Prediction]:
    """Predict the asset's remaining life in every mode its type has a fitted model for.

    Returns the predictions stored (none for an asset that is gone, has no model, or has run
    too few steps since its last failure), and raises or returns its prediction alerts.
    """
    now = now or timezone.now()
    asset = Asset.objects.filter(pk=asset_id).first()
    if asset is None:
        return []
    models = HealthModel.objects.filter(asset_type=asset.asset_type, active=True).select_related(
        "failure_mode"
    )
    made = []
    for model in models:
        steps = run_steps(asset.pk, model.sensor_columns)
        if len(steps) < MIN_PREDICTION_STEPS:
            continue
        last = (
            Prediction.objects.filter(asset=asset, model=model)
            .order_by("-made_at")
            .values_list("inputs", flat=True)
            .first()
        )
        if last and last.get("to") == steps[-1].at.isoformat():
            continue  # nothing new since: a silent machine is not predicted again
        unit = steps_unit(f"asset-{asset.pk}", steps, failed=False)
        result = _estimator(model).predict(unit, confidences=(PREDICTION_CONFIDENCE,))
        made.append(_store(asset, model, steps, result, now))
    alerts_apply_conditions(
        conditions=[prediction_condition(p, asset_name=asset.name) for p in made]
    )
    return made


def _store(
    asset: Asset, model: HealthModel, steps: list[HealthStep], result: RulPrediction, now: datetime
) -> Prediction:
    return Prediction.objects.create(
        asset=asset,
        failure_mode=model.failure_mode,
        model=model,
        made_at=now,
        **_figures(model, steps, result),
    )


def _figures(model: HealthModel, steps: list[HealthStep], result: RulPrediction) -> dict[str, Any]:
    """A prediction's figures and inputs, as stored."""
    per_step_days = model.step_s / DAY_S
    interval = result.interval(PREDICTION_CONFIDENCE)
    columns = model.sensor_columns
    drivers = [
        {"column": columns[index] if index < len(columns) else str(index), "weight": round(w, 4)}
        for index, w in result.drivers[:5]
    ]
    return {
        "rul_low_days": max(interval.low, 0.0) * per_step_days,
        "rul_days": max(result.central, 0.0) * per_step_days,
        "rul_high_days": max(interval.high, 0.0) * per_step_days,
        "confidence": interval.confidence,
        "health_index": float(np.clip(result.health_index, 0.0, 1.0)),
        "inputs": {
            "steps": len(steps),
            "from": steps[0].at.isoformat(),
            "to": steps[-1].at.isoformat(),
            "step_s": model.step_s,
            "drivers": drivers,
        },
    }


def predictions_redo(*, asset_id: int, after: datetime) -> list[Prediction]:
    """Make again, from the steps as they now are, the asset's predictions that read a step
    ending after `after` (its steps from there were made again, for late readings); return
    those made again. Each keeps its moment and reads the same span of steps; a scored one is
    scored again. The alerts of the latest prediction of each mode follow it."""
    redone: list[Prediction] = []
    for prediction in (
        Prediction.objects.filter(asset_id=asset_id, made_at__gt=after)
        .select_related("model__failure_mode", "failure_mode", "asset")
        .order_by("made_at")
    ):
        to = datetime.fromisoformat(prediction.inputs.get("to", after.isoformat()))
        if to <= after:
            continue
        model = prediction.model
        steps = run_steps(asset_id, model.sensor_columns, ended_at=to)
        if len(steps) < MIN_PREDICTION_STEPS:
            continue
        unit = steps_unit(f"asset-{asset_id}", steps, failed=False)
        result = _estimator(model).predict(unit, confidences=(PREDICTION_CONFIDENCE,))
        for name, value in _figures(model, steps, result).items():
            setattr(prediction, name, value)
        if prediction.actual_rul_days is not None:
            actual = prediction.actual_rul_days
            prediction.inside_interval = (
                prediction.rul_low_days <= actual <= prediction.rul_high_days
            )
            prediction.error_days = prediction.rul_days - actual
        redone.append(prediction)
    Prediction.objects.bulk_update(
        redone,
        [
            "rul_low_days",
            "rul_days",
            "rul_high_days",
            "confidence",
            "health_index",
            "inputs",
            "inside_interval",
            "error_days",
        ],
    )
    latest = {
        model_id: Prediction.objects.filter(asset_id=asset_id, model_id=model_id)
        .order_by("-made_at")
        .values_list("pk", flat=True)
        .first()
        for model_id in {p.model_id for p in redone}
    }
    alerts_apply_conditions(
        conditions=[
            prediction_condition(p, asset_name=p.asset.name)
            for p in redone
            if latest.get(p.model_id) == p.pk
        ]
    )
    return redone


def prediction_condition(prediction: Prediction, *, asset_name: str) -> ExternalCondition:
    """The level a prediction gives its alert rules: active; each rule checks its own horizon."""
    mode = prediction.failure_mode
    return ExternalCondition(
        source=RuleSource.PREDICTION.value,
        asset_id=prediction.asset_id,
        key=mode.code,
        active=True,
        at=prediction.made_at,
        message=prediction_message(
            asset_name=asset_name,
            mode_label=mode.label,
            low_days=prediction.rul_low_days,
            high_days=prediction.rul_high_days,
            confidence=prediction.confidence,
        ),
        evidence={"value": round(prediction.rul_days, 2)} | prediction_evidence(prediction),
    )


def prediction_evidence(prediction: Prediction) -> dict[str, Any]:
    """What a prediction says, as its alert and the work on it keep it: the interval, its
    confidence, the health index, the model and the signals that drive it."""
    # The interval stays exact: alert rules judge its end against their horizon, and a
    # rounded 3.0016 days would pass a three-day rule. Pages round it as they show it.
    return {
        "prediction_id": prediction.pk,
        "failure_mode": prediction.failure_mode.code,
        "rul_low_days": prediction.rul_low_days,
        "rul_days": prediction.rul_days,
        "rul_high_days": prediction.rul_high_days,
        "confidence": prediction.confidence,
        "health_index": round(prediction.health_index, 3),
        "model": prediction.model.label,
        "made_at": prediction.made_at.isoformat(),
        "drivers": prediction.inputs.get("drivers", []),
    }
