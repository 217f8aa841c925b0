"""A gateway's backlog through the real batch store: the alert history comes out as it would
have live, apart from its delivery, even across a planned stop the backlog itself reports."""

from __future__ import annotations

import pytest
from django.utils import timezone

from plantops.alerts.models import Alert, AlertEvent, RuleState
from plantops.core.time import datetime_to_us
from plantops.oee.models import StateEvent
from plantops.pipeline.services import batch_store
from plantops.telemetry.batches import Batch
from plantops.telemetry.models import LatestReading, Reading
from tests.factories import make_asset, make_batch, make_rule

pytestmark = pytest.mark.django_db

S = 1_000_000
HISTORY = (
    "alert__rule__name",
    "kind",
    "at",
    "state",
    "priority",
    "message",
    "line_id",
    "activated",
    "note",
    "user_id",
)
ALERT_FIELDS = (
    "rule_id",
    "asset_id",
    "signal_id",
    "priority",
    "message",
    "value",
    "state",
    "occurrences",
    "first_at",
    "last_at",
    "returned_at",
    "acknowledged_at",
    "suppressed",
)


def five_minutes(asset, signal, start_us: int):
    """Readings once a second with three excursions above 5.0, the second during a planned
    stop the machine reports; the last one still holds at the end."""
    values = [2.0 + (i % 5) * 0.4 for i in range(300)]
    for first, last, level in ((40, 60, 7.0), (110, 130, 8.0), (250, 300, 6.5)):
        values[first:last] = [level] * (last - first)
    readings = [(signal.pk, start_us + i * S, v) for i, v in enumerate(values)]
    states = [
        (asset.pk, start_us, "running", ""),
        (asset.pk, start_us + 100 * S, "planned_stop", "break"),
        (asset.pk, start_us + 160 * S, "running", ""),
    ]
    return readings, states


def within(rows, lo_us: int, hi_us: int):
    return [row for row in rows if lo_us <= row[1] < hi_us]


def history() -> list[tuple]:
    return list(AlertEvent.objects.order_by("id").values_list(*HISTORY))


def forget_everything(asset, signal) -> None:
    """The database as before the first delivery."""
    Alert.objects.all().delete()
    RuleState.objects.all().delete()
    StateEvent.objects.filter(asset=asset).delete()
    Reading.objects.filter(signal=signal).delete()
    LatestReading.objects.filter(signal=signal).delete()
    type(asset).objects.filter(pk=asset.pk).update(state="", state_reason="", state_since=None)


def test_a_backlog_gives_the_alert_history_of_live_delivery_apart_from_its_delivery(settings):
    asset = make_asset()
    signal = asset.signals.get(slug="vibration")
    make_rule(signal=signal, deadband=1.0, message_template="{asset} at {value:.1f} {unit}")
    start = datetime_to_us(timezone.now()) - 20 * 60 * S
    readings, states = five_minutes(asset, signal, start)

    # Live: five seconds at a time, each batch as it came in (judged within the hour).
    settings.ALERT_LATE_AFTER_S = 3600
    for lo in range(start, start + 300 * S, 5 * S):
        batch_store(
            batch=make_batch(
                readings=within(readings, lo, lo + 5 * S),
                states=[s for s in states if lo <= s[1] < lo + 5 * S],
            )
        )
    live = (history(), list(Alert.objects.values(*ALERT_FIELDS)))
    live_delivery = set(AlertEvent.objects.values_list("delivery", flat=True))

    # The same five minutes as one backlog, twenty minutes late, on a fresh database.
    forget_everything(asset, signal)
    settings.ALERT_LATE_AFTER_S = 60
    backlog = make_batch(readings=readings, states=states)
    batch_store(batch=backlog)

    assert (history(), list(Alert.objects.values(*ALERT_FIELDS))) == live
    assert [kind for _, kind, *_ in live[0]] == [
        "raised",
        "returned",
        "suppressed",  # the planned stop begins, at its own time
        "raised",
        "returned",
        "unsuppressed",  # running again
        "raised",
    ]
    assert live_delivery == {"live"}
    assert set(AlertEvent.objects.values_list("delivery", flat=True)) == {"late"}
    assert all(delay > 15 * 60 for delay in AlertEvent.objects.values_list("delay_s", flat=True))

    # The backlog sent again: nothing is recorded twice.
    recorded = list(AlertEvent.objects.order_by("id").values_list("id", flat=True))
    batch_store(batch=Batch.from_message(backlog.to_message()))
    assert list(AlertEvent.objects.order_by("id").values_list("id", flat=True)) == recorded
