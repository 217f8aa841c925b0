"""Writes for health monitoring: each asset's new readings judged against its own normal.

Every run takes an asset's readings since the last, turns them into per-step features and
anomaly levels (`monitor.monitor_round`, pure) and stores the steps with the detector's state
in one transaction; a level change raises or returns the asset's anomaly alerts.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import numpy as np
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from plantops.alerts.conditions import alerts_apply_conditions
from plantops.alerts.evaluation import ExternalCondition
from plantops.alerts.models import RuleSource
from plantops.assets.models import Asset, Signal
from plantops.health import late
from plantops.health.anomaly import AnomalyDetector
from plantops.health.models import AssetHealth, HealthCheckpoint, HealthStep, LateReadings
from plantops.health.monitor import (
    ARRIVAL_LAG_S,
    Round,
    monitor_round,
    reading_span,
    reading_until,
    step_boundary,
)
from plantops.health.plant_time import DAY_S, plant_s, wall
from plantops.health.predictions import predictions_redo
from plantops.health.selectors import REGIME_SIGNALS, first_reading_s, signal_readings

MAX_ROUND_S = 2 * DAY_S
MAX_ROUNDS_PER_RUN = 12


def detector_new() -> AnomalyDetector:
    """A detector configured from the settings: the learning period in plant days."""
    return AnomalyDetector(learning_s=settings.HEALTH_LEARNING_DAYS * DAY_S)


def health_update_asset(*, asset_id: int, now: datetime | None = None) -> int:
    """Judge an asset's new readings and store its whole new steps; return steps stored.

    Runs a round of `monitor.monitor_round` per `MAX_ROUND_S` of new readings up to the last
    complete step. Readings stored late, after a run had read past them, first send the run
    back to the detector's checkpoint before them (`late.rewind`): their windows, the steps
    and the predictions that read them are made again, as if they had come on time. The
    detector's state and the asset's level are saved with the steps in one transaction, so a
    round that fails leaves the previous state to be redone from. A level change raises or
    returns the asset's anomaly alerts.
    """
    now = now or timezone.now()
    asset = Asset.objects.filter(pk=asset_id).first()
    if asset is None:
        return 0
    signals = dict(Signal.objects.filter(asset=asset).values_list("pk", "slug"))
    if not set(signals.values()) - set(REGIME_SIGNALS):
        return 0
    step_s = settings.HEALTH_STEP_S
    lag_s = ARRIVAL_LAG_S * settings.PLANT_TIME_SCALE
    config = (
        AssetHealth.objects.filter(asset=asset).values_list("detector__config", flat=True).first()
    )
    reads_to = reading_until(
        AnomalyDetector(**config) if config else detector_new(),
        now_s=plant_s(now),
        step_s=step_s,
        lag_s=lag_s,
    )
    late.read_until_publish(asset_id=asset.pk, until=wall(reads_to))
    stored = 0
    with transaction.atomic():
        health, _ = AssetHealth.objects.select_for_update().get_or_create(asset=asset)
        detector = AnomalyDetector.from_dict(health.detector) if health.detector else detector_new()
        boundary = step_boundary(plant_s(now), detector=detector, step_s=step_s, lag_s=lag_s)
        # Where the last run got to: past the detector's last window when readings stopped
        # for a while (a gap judges no window, but must not be read again and again).
        cursors = [detector.processed_until_s]
        if health.processed_until is not None:
            cursors.append(plant_s(health.processed_until))
        done = max((c for c in cursors if c is not None), default=None)
        noted = LateReadings.objects.filter(asset=asset).first()
        rewound = None
        if noted is not None and done is not None:
            rewound = late.rewind(
                asset=asset,
                detector=detector,
                done_s=done,
                since=noted.since,
                step_s=step_s,
                fresh=detector_new(),
            )
        # Judging again what had been judged before costs none of the run's rounds.
        judged_before = None
        if rewound is not None:
            detector, judged_before, done = rewound.detector, done, rewound.done_s
        if noted is not None:
            LateReadings.objects.filter(asset=asset, version=noted.version).delete()
        first = first_reading_s(signals) if done is None else None
        if done is None and first is None:
            return 0
        if done is not None and boundary <= done:
            return 0
        previous_level = health.level
        latest = None
        checkpoints: list[tuple[float, dict]] = []
        rounds = 0
        while rounds < MAX_ROUNDS_PER_RUN:
            start = first if done is None else done
            until = min(boundary, (start // step_s) * step_s + MAX_ROUND_S)
            if until <= start:
                break
            span = reading_span(detector=detector, until_s=until, first_s=start)
            outcome = monitor_round(
                detector, signal_readings(signals, *span), until_s=until, step_s=step_s
            )
            stored += _store_steps(asset, outcome)
            if detector.learned:
                checkpoints.append((until, detector.to_dict()))
            # A stopped window is not judged: the level held before the stop still stands.
            judged = [a for a in outcome.assessments if a.level != "stopped"]
            if judged:
                latest = judged[-1]
            done = max(until, detector.processed_until_s or until)
            first = None
            if judged_before is None or done > judged_before:
                rounds += 1
            if until >= boundary:
                break
        health.detector = detector.to_dict()
        health.processed_until = wall(done) if done is not None else None
        if latest is not None:
            health.level = latest.level
            health.score = latest.score
            health.evidence = latest.evidence if latest.level in ("warning", "alarm") else []
            health.judged_at = wall(latest.at_s)
        health.save()
        if done is not None:
            late.checkpoints_store(asset=asset, states=checkpoints, done_s=done, now=now)
        if rewound is not None:
            predictions_redo(asset_id=asset.pk, after=rewound.kept_to)
        if health.level != previous_level or health.level in ("warning", "alarm"):
            alerts_apply_conditions(conditions=[anomaly_condition(asset, health)])
    return stored


@transaction.atomic
def health_monitoring_start(*, asset_ids: Sequence[int], at: datetime) -> None:
    """Start the assets' monitoring afresh at `at`: a new detector learns their normal from
    there, and readings before it are history no run reads. For a machine whose monitoring
    begins on a day of its own choosing (a new bearing, a plant's history written in one go),
    rather than at its first reading. An anomaly alert still open returns to normal: the new
    detector has not judged anything yet."""
    for asset in Asset.objects.filter(pk__in=list(asset_ids)).order_by("pk"):
        health, _ = AssetHealth.objects.select_for_update().get_or_create(asset=asset)
        raised = health.level in ("warning", "alarm")
        health.detector = detector_new().to_dict()
        health.processed_until = at
        health.read_until = None
        health.level, health.score, health.evidence, health.judged_at = "learning", None, [], at
        health.save()
        HealthCheckpoint.objects.filter(asset=asset).delete()
        LateReadings.objects.filter(asset=asset).delete()
        if raised:
            alerts_apply_conditions(conditions=[anomaly_condition(asset, health)])


def _store_steps(asset: Asset, outcome: Round) -> int:
    rows = outcome.steps
    if rows is None or not rows.ends_s.size:
        return 0

    def listed(values: np.ndarray) -> list[float | None]:
        return [float(v) if np.isfinite(v) else None for v in values]

    steps = [
        HealthStep(
            asset=asset,
            at=wall(float(end)),
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
