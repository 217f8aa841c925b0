"""Writes for failures: a machine failed (or was repaired before it could), and how the
predictions made before it fared.

A failure ends the asset's run to failure (what training learns from), scores the remaining-life
predictions of its run, and returns the prediction alert to normal. Failures come from the
machines themselves (a `down` state with a `<mode>_failure` reason), from a technician's
closing note on a work order, or from the admin.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from plantops.alerts.conditions import alerts_apply_conditions
from plantops.alerts.evaluation import ExternalCondition
from plantops.alerts.models import RuleSource
from plantops.assets.models import Asset
from plantops.assets.states import MachineState
from plantops.health.models import FailureEvent, FailureMode, FailureSource, Prediction
from plantops.health.plant_time import plant_days_between
from plantops.health.selectors import failure_before


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
        alerts_apply_conditions(
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
        if state == MachineState.DOWN and reason.endswith(FAILURE_REASON_SUFFIX)
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


def predictions_score(*, failure: FailureEvent) -> int:
    """Score the asset's predictions of this mode made since its previous failure; return how many.

    The actual remaining life is the plant time from each prediction to the failure; a
    prediction is inside when its interval holds it, and its error is predicted minus actual
    (positive: the model thought it had longer). A repair before failure scores nothing: when
    the failure would have come is unknown.
    """
    if failure.repaired_before_failure:
        return 0
    previous = failure_before(failure.asset_id, failure.failed_at)
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
