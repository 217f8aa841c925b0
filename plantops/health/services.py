"""Writes for machine health: failures and their scoring, fleet fitting, predictions, alerts.

Remaining life is computed in estimator steps (`HEALTH_STEP_S` plant seconds each) and stored
in plant days. Wall-clock moments (`made_at`, `failed_at`) convert to plant time through
`settings.PLANT_TIME_SCALE`, which is 1 everywhere but in the sped-up demo.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from plantops.alerts import services as alert_services
from plantops.alerts.evaluation import ExternalCondition
from plantops.alerts.models import RuleSource
from plantops.assets.demo_plant import SIGNALS_BY_TYPE
from plantops.assets.models import Asset, Signal
from plantops.health.anomaly import AnomalyDetector
from plantops.health.models import (
    AssetHealth,
    FailureEvent,
    FailureMode,
    FailureSource,
    HealthModel,
    HealthStep,
    Prediction,
    RunToFailureHistory,
    rul_span_text,
)
from plantops.health.monitor import (
    ARRIVAL_LAG_S,
    Round,
    monitor_round,
    reading_span,
    step_boundary,
)
from plantops.simulator.physics import AssetSpec, SignalSpec
from plantops.telemetry.models import Reading

if TYPE_CHECKING:
    # Imported where used: scikit-learn costs the ingest and web processes memory for nothing.
    from plantops.health.rul import RulEstimator, RulPrediction, UnitHistory

logger = logging.getLogger(__name__)

DAY_S = 86_400.0
# The interval every prediction states, and the one its alert quotes.
PREDICTION_CONFIDENCE = 0.9
# Below this many steps since the last failure or repair, a machine is too new to predict.
MIN_PREDICTION_STEPS = 6
# Remaining life is learned up to this many plant days: a machine further from failure than
# that is simply "healthy", which is also what its features can tell.
DEFAULT_CAP_DAYS = 30.0
# A machine's history starts wherever monitoring started (a new bearing, or the day PlantOps
# was installed on an old machine), so how many steps it has run says little of its wear.
# And a plant sees a prediction at every step: its intervals are calibrated per step.
PLANT_ESTIMATOR_OPTIONS = {"use_step_count": False, "calibrate_per": "step"}


def plant_days_between(start: datetime, end: datetime) -> float:
    """Return the plant days from `start` to `end` (wall-clock moments)."""
    return (end - start).total_seconds() * settings.PLANT_TIME_SCALE / DAY_S


def wall_after(start: datetime, plant_days: float) -> datetime:
    """Return the wall-clock moment `plant_days` of plant time after `start`."""
    return start + timedelta(seconds=plant_days * DAY_S / settings.PLANT_TIME_SCALE)


# --- failures and how the predictions before them fared -------------------------------------


@transaction.atomic
def failure_record(
    *,
    asset: Asset,
    failure_mode: FailureMode,
    failed_at: datetime,
    repaired_before_failure: bool = False,
    source: str = FailureSource.MANUAL,
    note: str = "",
    user: AbstractBaseUser | None = None,
) -> FailureEvent:
    """Record that an asset failed (or was repaired) and score the predictions made before it.

    Recording the same failure twice (a replayed state message, a second click) returns the
    first record and scores nothing again.
    """
    event, created = FailureEvent.objects.get_or_create(
        asset=asset,
        failure_mode=failure_mode,
        failed_at=failed_at,
        defaults={
            "repaired_before_failure": repaired_before_failure,
            "source": source,
            "note": note[:500],
            "recorded_by": user,
        },
    )
    if created:
        predictions_score(failure=event)
        # The run that was predicted has ended: its prediction alert returns to normal.
        alert_services.alerts_apply_conditions(
            conditions=[
                ExternalCondition(
                    source=RuleSource.PREDICTION.value,
                    asset_id=asset.pk,
                    key=failure_mode.code,
                    active=False,
                    at=failed_at,
                    message=f"{failure_mode.label} on {asset.name}: recorded at {failed_at:%Y-%m-%d %H:%M}.",
                )
            ]
        )
    return event


FAILURE_REASON_SUFFIX = "_failure"


def failures_from_states(*, states: Iterable[tuple[int, int, str, str]]) -> int:
    """Record the failures machines report themselves; return how many states named one.

    A `down` state whose reason is `<failure mode>_failure` (the simulator's bearing failure
    sends `bearing_failure`) is a failure of that mode at that moment. Replays record nothing
    twice.
    """
    reported = [
        (asset_id, ts_us, reason.removesuffix(FAILURE_REASON_SUFFIX))
        for asset_id, ts_us, state, reason in states
        if state == "down" and reason.endswith(FAILURE_REASON_SUFFIX)
    ]
    if not reported:
        return 0
    modes = FailureMode.objects.in_bulk({code for _, _, code in reported}, field_name="code")
    assets = Asset.objects.in_bulk({asset_id for asset_id, _, _ in reported})
    for asset_id, ts_us, code in reported:
        if code in modes and asset_id in assets:
            failure_record(
                asset=assets[asset_id],
                failure_mode=modes[code],
                failed_at=datetime.fromtimestamp(ts_us / 1e6, tz=UTC),
                source=FailureSource.TELEMETRY,
                note="reported by the machine",
            )
    return len(reported)


def _failure_before(asset_id: int, moment: datetime | None) -> datetime | None:
    """When the asset last failed or was repaired before `moment` (None: ever)."""
    failures = FailureEvent.objects.filter(asset_id=asset_id)
    if moment is not None:
        failures = failures.filter(failed_at__lt=moment)
    return failures.order_by("-failed_at").values_list("failed_at", flat=True).first()


def predictions_score(*, failure: FailureEvent) -> int:
    """Score the asset's predictions of this mode made since its previous failure; return how many.

    The actual remaining life is the plant time from each prediction to the failure; a
    prediction is inside when its interval holds it, and its error is predicted minus actual
    (positive: the model thought it had longer). A repair before failure scores nothing: when
    the failure would have come is unknown.
    """
    if failure.repaired_before_failure:
        return 0
    previous = _failure_before(failure.asset_id, failure.failed_at)
    predictions = Prediction.objects.filter(
        asset=failure.asset,
        failure_mode=failure.failure_mode,
        made_at__lt=failure.failed_at,
        failure__isnull=True,
    )
    if previous is not None:
        predictions = predictions.filter(made_at__gt=previous)
    scored = []
    for prediction in predictions:
        actual = plant_days_between(prediction.made_at, failure.failed_at)
        prediction.failure = failure
        prediction.actual_rul_days = actual
        prediction.inside_interval = prediction.rul_low_days <= actual <= prediction.rul_high_days
        prediction.error_days = prediction.rul_days - actual
        scored.append(prediction)
    Prediction.objects.bulk_update(
        scored, ["failure", "actual_rul_days", "inside_interval", "error_days"]
    )
    return len(scored)


# --- run-to-failure histories and fleet fitting ---------------------------------------------


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


def _steps_unit(unit_id: str, steps: Sequence[HealthStep], *, failed: bool) -> UnitHistory:
    from plantops.health.rul import UnitHistory

    return UnitHistory(
        unit_id=unit_id,
        # A deviation the step could not measure (JSON null) counts as at the baseline.
        settings=np.nan_to_num(np.array([s.settings_values for s in steps], dtype=float)),
        sensors=np.nan_to_num(np.array([s.sensor_values for s in steps], dtype=float)),
        failed=failed,
    )


def _asset_runs(
    *, asset_type: str, failure_mode: FailureMode, sensor_columns: Sequence[str]
) -> list[UnitHistory]:
    """The runs to failure of our own assets of a type: steps from one failure to the next."""
    units = []
    failures = FailureEvent.objects.filter(
        asset__asset_type=asset_type, failure_mode=failure_mode, repaired_before_failure=False
    ).order_by("asset_id", "failed_at")
    for failure in failures:
        steps = _run_steps(failure.asset_id, sensor_columns, ended_at=failure.failed_at)
        if len(steps) >= MIN_PREDICTION_STEPS:
            units.append(_steps_unit(f"asset-{failure.asset_id}-{failure.pk}", steps, failed=True))
    return units


def simulated_spec(asset_type: str) -> AssetSpec:
    """The signals a simulated machine of this type reports: those of one of our own assets of
    the type (their expected ranges set its scale), else the demo plant's for the type."""
    signals = list(
        Signal.objects.filter(asset__asset_type=asset_type)
        .order_by("asset_id", "slug")
        .values_list("asset_id", "slug", "expected_min", "expected_max")
    )
    if signals:
        first = signals[0][0]
        specs = [SignalSpec(slug, low, high) for a, slug, low, high in signals if a == first]
    else:
        specs = [
            SignalSpec(slug, low, high)
            for slug, _, _, low, high, _ in SIGNALS_BY_TYPE.get(
                asset_type, SIGNALS_BY_TYPE["motor"]
            )
        ]
    return AssetSpec(asset_type, tuple(specs))


def fleet_simulate_import(
    *,
    asset_type: str,
    failure_mode: FailureMode,
    seeds: Sequence[int],
    sample_s: float,
    life_days: tuple[float, float] = (10.0, 40.0),
) -> int:
    """Simulate machines of a type running to a bearing failure and import their histories.

    Each run is monitored exactly as our assets are (`fleet.failing_fleet`), with the
    detector and step the settings give; return how many runs were imported.
    """
    from plantops.health import fleet

    runs = fleet.failing_fleet(
        simulated_spec(asset_type),
        seeds=seeds,
        detector_factory=detector_new,
        step_s=settings.HEALTH_STEP_S,
        sample_s=sample_s,
        learning_days=settings.HEALTH_LEARNING_DAYS,
        life_days=life_days,
    )
    for run in runs:
        history_import(
            asset_type=asset_type,
            failure_mode=failure_mode,
            name=f"simulated {asset_type} seed {run.seed}",
            step_s=settings.HEALTH_STEP_S,
            settings_values=run.settings,
            sensor_values=run.sensors,
            settings_columns=list(REGIME_SIGNALS),
            sensor_columns=run.step_names,
        )
    return len(runs)


@transaction.atomic
def health_model_fit(
    *,
    asset_type: str,
    failure_mode: FailureMode,
    cap_days: float = DEFAULT_CAP_DAYS,
    estimator_options: dict | None = None,
    now: datetime | None = None,
) -> HealthModel:
    """Fit a new version of the remaining-life estimator for a type and mode from its fleet.

    The fleet is every imported run to failure of that type and mode, and every run of our
    own assets of the type that ended in a recorded failure of the mode. Raises ValueError,
    saying what is missing, when there is nothing to learn from.
    """
    now = now or timezone.now()
    step_s = settings.HEALTH_STEP_S
    histories = list(
        RunToFailureHistory.objects.filter(asset_type=asset_type, failure_mode=failure_mode)
    )
    other_steps = sorted({h.step_s for h in histories if h.step_s != step_s})
    if other_steps:
        raise ValueError(
            f"imported histories with steps of {other_steps} s, but HEALTH_STEP_S is {step_s} s"
        )
    columns = {tuple(h.sensor_columns) for h in histories}
    if len(columns) > 1:
        raise ValueError("imported histories disagree on their sensor columns")
    sensor_columns = list(next(iter(columns))) if columns else _asset_columns(asset_type)
    units = [_history_unit(h) for h in histories]
    units += _asset_runs(
        asset_type=asset_type, failure_mode=failure_mode, sensor_columns=sensor_columns
    )
    if not units:
        raise ValueError(
            f"no run to failure of a {asset_type} in mode {failure_mode.code} to learn from: "
            "record failures on assets or import histories"
        )
    from plantops.health.rul import RulEstimator

    cap_steps = cap_days * DAY_S / step_s
    options = PLANT_ESTIMATOR_OPTIONS | (estimator_options or {})
    estimator = RulEstimator(cap=cap_steps, **options).fit(units)
    latest = HealthModel.objects.filter(asset_type=asset_type, failure_mode=failure_mode)
    version = (latest.aggregate(v=Max("version"))["v"] or 0) + 1
    latest.update(active=False)
    summary = _json_ready(dict(estimator.fit_summary))
    summary |= {"imported_runs": len(histories), "own_runs": len(units) - len(histories)}
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
        fitted_at=now,
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


# --- health monitoring: features, anomaly levels, steps ---------------------------------------

# A round reads at most this much plant time of readings; an asset with a long backlog (a new
# deployment on months of history) catches up over several rounds.
MAX_ROUND_S = 2 * DAY_S
MAX_ROUNDS_PER_RUN = 12
# Signals that set the operating regime rather than show wear; the rest are scored.
REGIME_SIGNALS = ("speed", "current")


def detector_new() -> AnomalyDetector:
    """A detector configured from the settings: the learning period in plant days."""
    return AnomalyDetector(learning_s=settings.HEALTH_LEARNING_DAYS * DAY_S)


def monitored_asset_ids() -> list[int]:
    """Assets with a signal to judge: at least one that is not a regime input."""
    return list(
        Signal.objects.exclude(slug__in=REGIME_SIGNALS)
        .values_list("asset_id", flat=True)
        .distinct()
        .order_by("asset_id")
    )


def _plant_s(moment: datetime) -> float:
    return moment.timestamp() * settings.PLANT_TIME_SCALE


def _wall(plant_s: float) -> datetime:
    return datetime.fromtimestamp(plant_s / settings.PLANT_TIME_SCALE, tz=UTC)


def _readings(
    signals: dict[int, str], start_s: float, end_s: float
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    rows = (
        Reading.objects.filter(
            signal_id__in=list(signals), ts__gte=_wall(start_s), ts__lt=_wall(end_s)
        )
        .order_by("signal_id", "ts")
        .values_list("signal_id", "ts", "value")
    )
    times: dict[str, list[float]] = {slug: [] for slug in signals.values()}
    values: dict[str, list[float]] = {slug: [] for slug in signals.values()}
    for signal_id, ts, value in rows.iterator(chunk_size=20_000):
        slug = signals[signal_id]
        times[slug].append(_plant_s(ts))
        values[slug].append(value)
    return {slug: (np.array(times[slug]), np.array(values[slug])) for slug in signals.values()}


def _first_reading_s(signals: dict[int, str]) -> float | None:
    first = (
        Reading.objects.filter(signal_id__in=list(signals))
        .order_by("ts")
        .values_list("ts", flat=True)
        .first()
    )
    return None if first is None else _plant_s(first)


def health_update_asset(*, asset_id: int, now: datetime | None = None) -> int:
    """Judge an asset's new readings and store its whole new steps; return steps stored.

    Runs a round of `monitor.monitor_round` per `MAX_ROUND_S` of new readings up to the last
    complete step. The detector's state and the asset's level are saved with the steps in one
    transaction, so a round that fails leaves the previous state to be redone from. A level
    change raises or returns the asset's anomaly alerts.
    """
    now = now or timezone.now()
    asset = Asset.objects.filter(pk=asset_id).first()
    if asset is None:
        return 0
    signals = dict(Signal.objects.filter(asset=asset).values_list("pk", "slug"))
    if not set(signals.values()) - set(REGIME_SIGNALS):
        return 0
    stored = 0
    with transaction.atomic():
        health, _ = AssetHealth.objects.select_for_update().get_or_create(asset=asset)
        detector = AnomalyDetector.from_dict(health.detector) if health.detector else detector_new()
        step_s = settings.HEALTH_STEP_S
        boundary = step_boundary(
            _plant_s(now),
            detector=detector,
            step_s=step_s,
            lag_s=ARRIVAL_LAG_S * settings.PLANT_TIME_SCALE,
        )
        # Where the last run got to: past the detector's last window when readings stopped
        # for a while (a gap judges no window, but must not be read again and again).
        cursors = [detector.processed_until_s]
        if health.processed_until is not None:
            cursors.append(_plant_s(health.processed_until))
        done = max((c for c in cursors if c is not None), default=None)
        first = _first_reading_s(signals) if done is None else None
        if done is None and first is None:
            return 0
        if done is not None and boundary <= done:
            return 0
        previous_level = health.level
        latest = None
        for _ in range(MAX_ROUNDS_PER_RUN):
            start = first if done is None else done
            until = min(boundary, (start // step_s) * step_s + MAX_ROUND_S)
            if until <= start:
                break
            span = reading_span(detector=detector, until_s=until, first_s=start)
            outcome = monitor_round(
                detector, _readings(signals, *span), until_s=until, step_s=step_s
            )
            stored += _store_steps(asset, outcome)
            # A stopped window is not judged: the level held before the stop still stands.
            judged = [a for a in outcome.assessments if a.level != "stopped"]
            if judged:
                latest = judged[-1]
            done = max(until, detector.processed_until_s or until)
            first = None
            if until >= boundary:
                break
        health.detector = detector.to_dict()
        health.processed_until = _wall(done) if done is not None else None
        if latest is not None:
            health.level = latest.level
            health.score = latest.score
            health.evidence = latest.evidence if latest.level in ("warning", "alarm") else []
            health.judged_at = _wall(latest.at_s)
        health.save()
        if health.level != previous_level or health.level in ("warning", "alarm"):
            alert_services.alerts_apply_conditions(conditions=[anomaly_condition(asset, health)])
    return stored


def _store_steps(asset: Asset, outcome: Round) -> int:
    rows = outcome.steps
    if rows is None or not rows.ends_s.size:
        return 0

    def listed(values: np.ndarray) -> list[float | None]:
        return [float(v) if np.isfinite(v) else None for v in values]

    steps = [
        HealthStep(
            asset=asset,
            at=_wall(float(end)),
            settings_values=listed(rows.settings[i]),
            sensor_values=listed(rows.sensors[i]),
            sensor_columns=outcome.step_names,
            anomaly_score=float(rows.score[i]) if np.isfinite(rows.score[i]) else None,
            level="",
        )
        for i, end in enumerate(rows.ends_s)
    ]
    HealthStep.objects.bulk_create(steps, ignore_conflicts=True)
    return len(steps)


def anomaly_message(asset_name: str, evidence: Sequence[dict]) -> str:
    """Return “Conveyor 3: vibration RMS 12% above its normal at this speed and load (z 9)”."""
    if not evidence:
        return f"{asset_name}: back to its normal for its speed and load"
    top = evidence[0]
    value, baseline = top.get("value"), top.get("baseline")
    if value is not None and baseline:
        change = f"{abs(value / baseline - 1):.0%} {'above' if value >= baseline else 'below'}"
    else:
        change = "far from"
    return (
        f"{asset_name}: {top['signal']} {top['feature']} {change} its normal at this speed "
        f"and load (z {top['z']:.0f})"
    )


def anomaly_condition(asset: Asset, health: AssetHealth) -> ExternalCondition:
    """The detector's level of an asset as a condition for its anomaly rules."""
    raised = health.level in ("warning", "alarm")
    return ExternalCondition(
        source=RuleSource.ANOMALY.value,
        asset_id=asset.pk,
        key=health.level,
        active=raised,
        at=health.judged_at or timezone.now(),
        message=anomaly_message(asset.name, health.evidence if raised else []),
        evidence={
            "value": None if health.score is None else round(health.score, 2),
            "level": health.level,
            "signals": list(health.evidence),
        },
    )


# --- predictions ----------------------------------------------------------------------------

# Fitted estimators by model id: a model's bytes never change, and unpacking them per
# prediction would cost more than the prediction.
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


def _run_steps(
    asset_id: int, sensor_columns: Sequence[str], *, ended_at: datetime | None = None
) -> list[HealthStep]:
    """The asset's steps of one run, in the given columns: since its last failure or repair
    before `ended_at` (default: the run going on now), up to `ended_at`."""
    started = _failure_before(asset_id, ended_at)
    steps = HealthStep.objects.filter(asset_id=asset_id)
    if ended_at is not None:
        steps = steps.filter(at__lte=ended_at)
    if started is not None:
        steps = steps.filter(at__gt=started)
    return [s for s in steps.order_by("at") if s.sensor_columns == list(sensor_columns)]


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
        steps = _run_steps(asset.pk, model.sensor_columns)
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
        unit = _steps_unit(f"asset-{asset.pk}", steps, failed=False)
        result = _estimator(model).predict(unit, confidences=(PREDICTION_CONFIDENCE,))
        made.append(_store(asset, model, steps, result, now))
    alert_services.alerts_apply_conditions(
        conditions=[prediction_condition(p, asset_name=asset.name) for p in made]
    )
    return made


def _store(
    asset: Asset, model: HealthModel, steps: list[HealthStep], result: RulPrediction, now: datetime
) -> Prediction:
    per_step_days = model.step_s / DAY_S
    interval = result.interval(PREDICTION_CONFIDENCE)
    columns = model.sensor_columns
    drivers = [
        {"column": columns[index] if index < len(columns) else str(index), "weight": round(w, 4)}
        for index, w in result.drivers[:5]
    ]
    return Prediction.objects.create(
        asset=asset,
        failure_mode=model.failure_mode,
        model=model,
        made_at=now,
        rul_low_days=max(interval.low, 0.0) * per_step_days,
        rul_days=max(result.central, 0.0) * per_step_days,
        rul_high_days=max(interval.high, 0.0) * per_step_days,
        confidence=interval.confidence,
        health_index=float(np.clip(result.health_index, 0.0, 1.0)),
        inputs={
            "steps": len(steps),
            "from": steps[0].at.isoformat(),
            "to": steps[-1].at.isoformat(),
            "step_s": model.step_s,
            "drivers": drivers,
        },
    )


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
    return {
        "prediction_id": prediction.pk,
        "failure_mode": prediction.failure_mode.code,
        "rul_low_days": round(prediction.rul_low_days, 2),
        "rul_days": round(prediction.rul_days, 2),
        "rul_high_days": round(prediction.rul_high_days, 2),
        "confidence": prediction.confidence,
        "health_index": round(prediction.health_index, 3),
        "model": prediction.model.label,
        "made_at": prediction.made_at.isoformat(),
        "drivers": prediction.inputs.get("drivers", []),
    }


def predicted_asset_ids() -> list[int]:
    """Assets whose type has a fitted model in use."""
    types = set(HealthModel.objects.filter(active=True).values_list("asset_type", flat=True))
    return list(
        Asset.objects.filter(asset_type__in=types).order_by("pk").values_list("pk", flat=True)
    )
