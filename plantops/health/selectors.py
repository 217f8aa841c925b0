"""Reads for machine health: an asset's health panel and the model-health page."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from django.db.models import Avg, Count, Exists, Max, OuterRef, Q, QuerySet
from django.db.models.functions import Abs, TruncMonth
from django.utils import formats, timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from plantops.alerts.lifecycle import AlarmState
from plantops.alerts.models import Alert
from plantops.assets.models import Asset, AssetType, Signal
from plantops.health import fit_words
from plantops.health.models import (
    FIT_UNDER_WAY,
    AssetHealth,
    FailureEvent,
    FailureMode,
    FitRun,
    FitStatus,
    HealthModel,
    HealthStep,
    Prediction,
    RunToFailureHistory,
)
from plantops.health.plant_time import DAY_S, plant_s, wall
from plantops.telemetry.models import Reading

HISTORY_DAYS = 60
# Shown on the asset page: active, or returned but not yet acknowledged (ISA-18.2).
OPEN_STATES = [state.value for state in AlarmState if state is not AlarmState.NORMAL]
MAX_HISTORY_POINTS = 500

LEVEL_LABELS = {
    "learning": _("Learning its normal"),
    "normal": _("Healthy"),
    "warning": _("Anomaly: warning"),
    "alarm": _("Anomaly: alarm"),
    "stopped": _("Stopped: not judged"),
}


def _thin(rows: list, limit: int) -> list:
    """Every n-th row so at most `limit` remain, always keeping the newest."""
    if len(rows) <= limit:
        return rows
    step = -(-len(rows) // limit)
    kept = rows[::-1][::step][::-1]
    return kept


def _prediction_json(prediction: Prediction) -> dict[str, Any]:
    return {
        "id": prediction.pk,
        "made_at": prediction.made_at.isoformat(),
        "failure_mode": prediction.failure_mode.label,
        "failure_mode_code": prediction.failure_mode.code,
        "rul_low_days": round(prediction.rul_low_days, 2),
        "rul_days": round(prediction.rul_days, 2),
        "rul_high_days": round(prediction.rul_high_days, 2),
        "confidence": prediction.confidence,
        "confidence_pct": round(prediction.confidence * 100),
        "span": prediction.span_text(),
        "health_index": round(prediction.health_index, 3),
        "model": prediction.model.label,
        "drivers": prediction.inputs.get("drivers", []),
        "inside_interval": prediction.inside_interval,
        "error_days": None if prediction.error_days is None else round(prediction.error_days, 2),
    }


def asset_health(*, asset_id: int, now: datetime | None = None) -> dict[str, Any]:
    """Return an asset's health panel: the detector's level and evidence, the latest prediction
    per failure mode, the prediction history (for the RUL band) and the anomaly score trend."""
    now = now or timezone.now()
    since = now - timedelta(days=HISTORY_DAYS)
    health = AssetHealth.objects.filter(asset_id=asset_id).first()
    predictions = list(
        Prediction.objects.filter(asset_id=asset_id, made_at__gte=since)
        .select_related("failure_mode", "model__failure_mode")
        .order_by("made_at")
    )
    latest: dict[str, Prediction] = {}
    for prediction in predictions:
        latest[prediction.failure_mode.code] = prediction
    steps = list(
        HealthStep.objects.filter(asset_id=asset_id, at__gte=since)
        .order_by("at")
        .values_list("at", "anomaly_score", "level")
    )
    level = health.level if health else "learning"
    alerts = (
        Alert.objects.filter(
            asset_id=asset_id, rule__kind__in=("anomaly", "prediction"), state__in=OPEN_STATES
        )
        .select_related("rule")
        .order_by("-last_at")
    )
    return {
        "alerts": [
            {
                "id": alert.pk,
                "kind": alert.rule.kind,
                "priority": alert.priority,
                "state": alert.state,
                "message": alert.message,
                "since": alert.first_at.isoformat() if alert.first_at else None,
            }
            for alert in alerts
        ],
        "level": level,
        "level_label": str(LEVEL_LABELS.get(level, level)),
        "score": None if health is None or health.score is None else round(health.score, 2),
        "evidence": health.evidence if health else [],
        "judged_at": health.judged_at.isoformat() if health and health.judged_at else None,
        "current": [_prediction_json(p) for p in latest.values()],
        "history": [_prediction_json(p) for p in _thin(predictions, MAX_HISTORY_POINTS)],
        "anomaly": [
            {"at": at.isoformat(), "score": score, "level": step_level}
            for at, score, step_level in _thin(steps, MAX_HISTORY_POINTS)
        ],
    }


def current_predictions(*, now: datetime | None = None) -> QuerySet[Prediction]:
    """Return each asset's latest prediction per failure mode made within HISTORY_DAYS: what
    the asset page shows as current (`asset_health`); of two made at one moment, the later
    stored. An older one is history, not a forecast anyone should plan by."""
    now = now or timezone.now()
    newer = Prediction.objects.filter(
        Q(made_at__gt=OuterRef("made_at")) | Q(made_at=OuterRef("made_at"), pk__gt=OuterRef("pk")),
        asset_id=OuterRef("asset_id"),
        failure_mode_id=OuterRef("failure_mode_id"),
    )
    return Prediction.objects.filter(made_at__gte=now - timedelta(days=HISTORY_DAYS)).filter(
        ~Exists(newer)
    )


def _model_group(asset_type: str, failure_mode: FailureMode) -> dict[str, Any]:
    return {
        "asset_type": str(AssetType(asset_type).label),
        "asset_type_code": asset_type,
        "failure_mode": failure_mode.label,
        "failure_mode_code": failure_mode.code,
        "models": [],
        "months": [],
        "fit": None,
    }


def model_health(*, now: datetime | None = None) -> dict[str, Any]:
    """Return per asset type and failure mode: the fitted versions, and month by month how the
    scored predictions fared (mean absolute error in days, interval coverage), so drift shows;
    its latest fit (`fit_run_json`); and a group for each pair with runs to failure to learn
    from but no version yet, so its first fit can be started."""
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for model in HealthModel.objects.select_related("failure_mode").order_by(
        "asset_type", "failure_mode__label", "-version"
    ):
        group = groups.setdefault(
            (model.asset_type, model.failure_mode.code),
            _model_group(model.asset_type, model.failure_mode),
        )
        group["models"].append(
            {
                "label": model.label,
                "version": model.version,
                "fitted_at": model.fitted_at.isoformat(),
                "active": model.active,
                "summary": model.summary,
            }
        )
    scored = (
        Prediction.objects.filter(failure__isnull=False)
        .annotate(month=TruncMonth("made_at"))
        .values("asset__asset_type", "failure_mode__code", "month")
        .annotate(
            n=Count("pk"),
            inside=Count("pk", filter=Q(inside_interval=True)),
            mean_error=Avg("error_days"),
            mean_absolute_error=Avg(Abs("error_days")),
            assets=Count("asset", distinct=True),
        )
        .order_by("month")
    )
    for row in scored:
        key = (row["asset__asset_type"], row["failure_mode__code"])
        group = groups.get(key)
        if group is None:
            continue
        month = row["month"]
        group["months"].append(
            {
                "month": month.strftime("%Y-%m"),
                "predictions": row["n"],
                "assets": row["assets"],
                "coverage": row["inside"] / row["n"],
                "mean_error_days": round(row["mean_error"], 2),
                "mean_absolute_error_days": round(row["mean_absolute_error"], 2),
            }
        )
    modes = {mode.pk: mode for mode in FailureMode.objects.all()}
    for asset_type, mode_id in _fleet_pairs():
        mode = modes[mode_id]
        groups.setdefault((asset_type, mode.code), _model_group(asset_type, mode))
    fits = latest_fit_runs(now=now)
    for run in fits:
        group = groups.get((run["asset_type"], run["failure_mode"]))
        if group is not None:
            group["fit"] = run
    ordered = sorted(groups.values(), key=lambda g: (g["asset_type"], g["failure_mode"]))
    return {"groups": ordered, "fits": fits}


def _fleet_pairs() -> set[tuple[str, int]]:
    """(asset type, failure mode id) of every fleet with a run to failure to learn from."""
    imported = RunToFailureHistory.objects.values_list("asset_type", "failure_mode_id").distinct()
    own = (
        FailureEvent.objects.filter(repaired_before_failure=False)
        .values_list("asset__asset_type", "failure_mode_id")
        .distinct()
    )
    return set(imported) | set(own)


# --- fits of the estimators, as the model-health page shows them ---------------------------


def latest_fit_runs(*, now: datetime | None = None) -> list[dict[str, Any]]:
    """Return the latest fit of each asset type and failure mode (`fit_run_json`)."""
    latest = (
        FitRun.objects.values("asset_type", "failure_mode").annotate(last=Max("pk")).values("last")
    )
    runs = FitRun.objects.filter(pk__in=latest).select_related("failure_mode", "requested_by")
    return [fit_run_json(run, now=now) for run in runs.order_by("pk")]


def fit_run_json(run: FitRun, *, now: datetime | None = None) -> dict[str, Any]:
    """Return a fit as the page shows it, its outcome in words (`fit_run_worded`, in the active
    language); `elapsed_s` is counted by the server, so a tablet whose clock is off still shows
    how long it has run. `requested_by` is empty for a fit started on the command line."""
    now = now or timezone.now()
    began = run.started_at or run.requested_at
    by = run.requested_by
    return fit_run_worded(
        {
            "id": run.pk,
            "revision": run.revision,
            "asset_type": run.asset_type,
            "failure_mode": run.failure_mode.code,
            "status": run.status,
            "under_way": run.status in FIT_UNDER_WAY,
            "stage": run.stage,
            "stage_part": run.stage_part,
            "stage_parts": run.stage_parts,
            "stage_text": run.stage_text,
            "percent": run.percent,
            "requested_by": (by.get_full_name() or by.get_username()) if by else "",
            "requested_at": run.requested_at.isoformat(),
            "started_at": run.started_at.isoformat() if run.started_at else None,
            "finished_at": run.finished_at.isoformat() if run.finished_at else None,
            "elapsed_s": round(max(0.0, ((run.finished_at or now) - began).total_seconds()), 1),
            "error_code": run.error_code,
            "error_params": run.error_params,
            "error": run.error,
            "result": run.result,
        }
    )


def fit_run_worded(run: dict[str, Any]) -> dict[str, Any]:
    """Return the fit (`fit_run_json`) with its words in the active language, made again from
    its codes: a push, worded by the worker in English, is worded for each socket's viewer. A
    stage or failure without known words keeps the English it has."""
    status = run["status"]
    stage = fit_words.stage_text(run["stage"], run.get("stage_part", 0), run.get("stage_parts", 0))
    error = fit_words.error_text(run.get("error_code", ""), run.get("error_params", {}))
    return run | {
        "status_label": str(FitStatus(status).label),
        "stage_text": stage if stage is not None else run["stage_text"],
        "error": error if error is not None else run["error"],
        "result_text": fit_result_text(run["result"]) if status == FitStatus.SUCCEEDED else "",
    }


def fit_result_text(result: dict[str, Any]) -> str:
    """“Version 3 is now in use. It learned from 7 runs to failure (6 imported, 1 of our own
    machines); on runs it had not seen, its remaining life was off by 1.4 days (RMS).”"""
    text = gettext("Version %(version)s is now in use.") % {"version": result["version"]}
    runs = result.get("n_units")
    if runs is None:
        return text
    values = {
        "runs": runs,
        "imported": result.get("imported_runs", 0),
        "own": result.get("own_runs", 0),
    }
    error_days = result.get("cv_rmse_days")
    if error_days is None:
        learned = ngettext(
            "It learned from %(runs)s run to failure (%(imported)s imported, %(own)s of our own "
            "machines).",
            "It learned from %(runs)s runs to failure (%(imported)s imported, %(own)s of our own "
            "machines).",
            runs,
        )
    else:
        values["days"] = formats.number_format(error_days, 1)
        learned = ngettext(
            "It learned from %(runs)s run to failure (%(imported)s imported, %(own)s of our own "
            "machines); on runs it had not seen, its remaining life was off by %(days)s days "
            "(RMS).",
            "It learned from %(runs)s runs to failure (%(imported)s imported, %(own)s of our own "
            "machines); on runs it had not seen, its remaining life was off by %(days)s days "
            "(RMS).",
            runs,
        )
    return f"{text} {learned % values}"


def fit_result(model: HealthModel) -> dict[str, Any]:
    """Return what a fit's run keeps of the version it made: how big and how good."""
    summary = model.summary
    rmse_steps = summary.get("cv_rmse")
    return {
        "version": model.version,
        "label": model.label,
        "n_units": summary.get("n_units"),
        "imported_runs": summary.get("imported_runs", 0),
        "own_runs": summary.get("own_runs", 0),
        "n_samples": summary.get("n_samples"),
        "cv_rmse_steps": rmse_steps,
        "cv_rmse_days": None if rmse_steps is None else round(rmse_steps * model.step_s / DAY_S, 2),
        "fit_seconds": summary.get("fit_seconds"),
    }


# --- what monitoring, training and predicting read ---------------------------------------

# Signals that set the operating regime rather than show wear; the rest are scored.
REGIME_SIGNALS = ("speed", "current")


def monitored_asset_ids() -> list[int]:
    """Assets with a signal to judge: at least one that is not a regime input."""
    return list(
        Signal.objects.exclude(slug__in=REGIME_SIGNALS)
        .values_list("asset_id", flat=True)
        .distinct()
        .order_by("asset_id")
    )


def predicted_asset_ids() -> list[int]:
    """Assets whose type has a fitted model in use."""
    types = set(HealthModel.objects.filter(active=True).values_list("asset_type", flat=True))
    return list(
        Asset.objects.filter(asset_type__in=types).order_by("pk").values_list("pk", flat=True)
    )


def failure_before(asset_id: int, moment: datetime | None) -> datetime | None:
    """When the asset last failed or was repaired before `moment` (None: ever)."""
    failures = FailureEvent.objects.filter(asset_id=asset_id)
    if moment is not None:
        failures = failures.filter(failed_at__lt=moment)
    return failures.order_by("-failed_at").values_list("failed_at", flat=True).first()


def run_steps(
    asset_id: int, sensor_columns: Sequence[str], *, ended_at: datetime | None = None
) -> list[HealthStep]:
    """The asset's steps of one run, in the given columns: since its last failure or repair
    before `ended_at` (default: the run going on now), up to `ended_at`."""
    started = failure_before(asset_id, ended_at)
    steps = HealthStep.objects.filter(asset_id=asset_id)
    if ended_at is not None:
        steps = steps.filter(at__lte=ended_at)
    if started is not None:
        steps = steps.filter(at__gt=started)
    return [s for s in steps.order_by("at") if s.sensor_columns == list(sensor_columns)]


def signal_readings(
    signals: dict[int, str], start_s: float, end_s: float
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Each signal's readings in [start_s, end_s) plant seconds: slug → (plant times, values)."""
    rows = (
        Reading.objects.filter(
            signal_id__in=list(signals), ts__gte=wall(start_s), ts__lt=wall(end_s)
        )
        .order_by("signal_id", "ts")
        .values_list("signal_id", "ts", "value")
    )
    times: dict[str, list[float]] = {slug: [] for slug in signals.values()}
    values: dict[str, list[float]] = {slug: [] for slug in signals.values()}
    for signal_id, ts, value in rows.iterator(chunk_size=20_000):
        slug = signals[signal_id]
        times[slug].append(plant_s(ts))
        values[slug].append(value)
    return {slug: (np.array(times[slug]), np.array(values[slug])) for slug in signals.values()}


def first_reading_s(signals: dict[int, str]) -> float | None:
    """When the first stored reading of these signals was taken, in plant seconds."""
    first = (
        Reading.objects.filter(signal_id__in=list(signals))
        .order_by("ts")
        .values_list("ts", flat=True)
        .first()
    )
    return None if first is None else plant_s(first)
