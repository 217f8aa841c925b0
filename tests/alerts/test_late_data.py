"""Alert rules on late data, on the real database: a gateway's backlog judged hours after its
readings gives the same alert history as live data, says it came late, and pages nobody for
what has already returned to normal."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from plantops.alerts import kpis, lifecycle
from plantops.alerts.conditions import HELD_KEY, alerts_evaluate_readings
from plantops.alerts.models import Alert, AlertEvent, RuleState
from plantops.alerts.selectors import alarm_kpi_inputs, inbox_alerts, labelled
from plantops.alerts.sweep import alerts_sweep
from plantops.core.time import datetime_to_us, us_to_datetime
from plantops.maintenance.services import workorder_from_alert
from plantops.telemetry.columns import ReadingColumns
from tests.factories import logged_in, make_asset, make_rule, make_user

pytestmark = pytest.mark.django_db

S = 1_000_000
# The readings of the backlog are this old when the server judges them.
DELAY = (3 * 3600 + 10 * 60 + 30) * S

# History columns that must come out the same whether the data came live or late.
HISTORY = (
    "alert__rule__name",
    "alert__asset__name",
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


@pytest.fixture
def vibration():
    signal = make_asset().signals.get(slug="vibration")
    make_rule(
        signal=signal,
        deadband=1.0,
        priority="high",
        message_template="{asset} {signal} at {value:.1f} {unit}",
    )
    return signal


def judge(signal, values, *, start_us: int, now_us: int, step_s: float = 1.0) -> int:
    """Judge `values` of `signal` once every `step_s` from `start_us` as one batch at `now_us`."""
    rows = [(signal.pk, start_us + round(i * step_s * S), v) for i, v in enumerate(values)]
    return judge_rows(rows, now_us=now_us)


def judge_rows(rows, *, now_us: int) -> int:
    with transaction.atomic():
        return alerts_evaluate_readings(
            readings=ReadingColumns.from_rows(list(rows)), now=us_to_datetime(now_us)
        )


def history() -> list[tuple]:
    return list(AlertEvent.objects.order_by("id").values_list(*HISTORY))


def deliveries() -> list[tuple[str, str, float | None]]:
    return list(AlertEvent.objects.order_by("id").values_list("kind", "delivery", "delay_s"))


def held_at(signal) -> int | None:
    return RuleState.objects.get(signal=signal).state.get(HELD_KEY)


def test_a_backlog_that_raised_and_returned_is_recorded_at_its_own_times_and_pages_nobody(
    vibration,
):
    now = datetime_to_us(timezone.now())
    start = now - DELAY

    judge(vibration, [1.0, 2.0, 7.0, 8.0, 3.0, 2.0], start_us=start, now_us=now)

    alert = Alert.objects.get()
    assert history() == [
        (*_named(alert), "raised", us_to_datetime(start + 2 * S), "active_unack", "high",
         f"{alert.asset.name} Vibration at 7.0 mm/s", alert.asset.line_id, True, "", None),
        (*_named(alert), "returned", us_to_datetime(start + 4 * S), "rtn_unack", "high",
         f"{alert.asset.name} Vibration at 7.0 mm/s", alert.asset.line_id, False, "", None),
    ]  # fmt: skip
    assert deliveries() == [
        ("raised", "late", (DELAY - 2 * S) / S),
        ("returned", "late", (DELAY - 4 * S) / S),
    ]
    # ISA-18.2: returned unacknowledged, it waits in the inbox; but nobody was ever paged.
    assert alert.state == "rtn_unack"
    assert alert.last_annunciated_at is None
    assert held_at(vibration) is None
    assert [a.delay_label for a in labelled(inbox_alerts())] == ["3 h 10 min"]


def test_a_backlog_still_active_is_raised_at_its_own_time_and_told_once_its_data_catches_up(
    vibration,
):
    now = datetime_to_us(timezone.now())
    start = now - DELAY

    judge(vibration, [1.0, 7.0, 8.0, 9.0], start_us=start, now_us=now)

    alert = Alert.objects.get()
    assert deliveries() == [("raised", "late", (DELAY - S) / S)]
    assert alert.first_at == us_to_datetime(start + S)
    assert lifecycle.held_back(alert.status())
    assert held_at(vibration) == now

    # The gateway's first live reading: still above the limit, so the alarm holds now.
    judge(vibration, [9.5], start_us=now + S, now_us=now + 2 * S)

    alert.refresh_from_db()
    assert alert.last_annunciated_at == us_to_datetime(now + 2 * S)
    assert not lifecycle.held_back(alert.status())
    assert held_at(vibration) is None
    assert deliveries() == [("raised", "late", (DELAY - S) / S)]  # told, without a new event

    judge(vibration, [9.6], start_us=now + 3 * S, now_us=now + 4 * S)
    alert.refresh_from_db()
    assert alert.last_annunciated_at == us_to_datetime(now + 2 * S)  # told once


def test_the_inbox_and_the_tablet_panel_say_the_alert_came_from_delayed_data(vibration):
    now = datetime_to_us(timezone.now())
    judge(vibration, [1.0, 7.0], start_us=now - DELAY, now_us=now)
    supervisor = logged_in(make_user(role="supervisor"))

    inbox = supervisor.get("/alerts/?partial=1").content.decode()
    panel = supervisor.get("/alerts/panel").content.decode()

    assert "From data delayed 3 h 10 min" in inbox
    assert "From data delayed 3 h 10 min" in panel


def test_a_work_order_from_a_late_alert_keeps_the_delay_in_its_alert_history(vibration):
    now = datetime_to_us(timezone.now())
    judge(vibration, [1.0, 7.0, 2.0], start_us=now - DELAY, now_us=now)
    sam = make_user(role="supervisor")

    work = workorder_from_alert(alert=Alert.objects.get(), user=sam)
    page = logged_in(sam).get(reverse("maintenance:detail", args=[work.pk])).content.decode()

    assert "Alert history (2)" in page
    assert page.count("(from data delayed 3 h 10 min)") == 2


def test_a_live_alert_says_nothing_of_a_delay(vibration):
    now = datetime_to_us(timezone.now())
    judge(vibration, [1.0, 7.0], start_us=now - 2 * S, now_us=now)

    assert deliveries() == [("raised", "live", None)]
    assert Alert.objects.get().last_annunciated_at == us_to_datetime(now - S)
    assert "delayed" not in logged_in(make_user(role="supervisor")).get("/alerts/").content.decode()


def test_a_held_raise_released_by_its_return_in_the_next_backlog_batch_pages_nobody(vibration):
    now = datetime_to_us(timezone.now())
    start = now - DELAY
    # Ingest hands a batch on as soon as a reading crosses the limit: the raise ends one batch
    # and its return comes in the next.
    judge(vibration, [1.0, 2.0, 7.0], start_us=start, now_us=now)
    assert held_at(vibration) == now
    judge(vibration, [8.0, 3.5, 2.0], start_us=start + 3 * S, now_us=now + S // 10)

    alert = Alert.objects.get()
    assert [kind for kind, *_ in deliveries()] == ["raised", "returned"]
    assert alert.state == "rtn_unack"
    assert alert.last_annunciated_at is None
    assert held_at(vibration) is None


def test_a_held_raise_whose_data_stopped_coming_is_told_by_the_sweep(vibration):
    now = datetime_to_us(timezone.now())
    judge(vibration, [1.0, 7.0, 8.0], start_us=now - DELAY, now_us=now)

    # Within ALERT_LATE_AFTER_S (60 s) of its last batch, the backlog may still be coming.
    alerts_sweep(now=us_to_datetime(now + 30 * S))
    assert lifecycle.held_back(Alert.objects.get().status())

    alerts_sweep(now=us_to_datetime(now + 61 * S))
    alert = Alert.objects.get()
    assert alert.last_annunciated_at == us_to_datetime(now + 61 * S)
    assert [kind for kind, *_ in deliveries()] == ["raised"]

    alerts_sweep(now=us_to_datetime(now + 120 * S))
    alert.refresh_from_db()
    assert alert.last_annunciated_at == us_to_datetime(now + 61 * S)


def test_a_held_alarm_is_re_alarmed_only_after_it_was_told(vibration):
    vibration.alert_rules.update(realarm_after_s=60)
    now = datetime_to_us(timezone.now())
    judge(vibration, [1.0, 7.0, 8.0], start_us=now - DELAY, now_us=now)

    alerts_sweep(now=us_to_datetime(now + 30 * S))
    assert [kind for kind, *_ in deliveries()] == ["raised"]  # not re-alarmed: never told

    judge(vibration, [9.0], start_us=now + 40 * S, now_us=now + 40 * S)
    alerts_sweep(now=us_to_datetime(now + 70 * S))
    assert [kind for kind, *_ in deliveries()] == ["raised"]
    alerts_sweep(now=us_to_datetime(now + 101 * S))
    assert [kind for kind, *_ in deliveries()] == ["raised", "realarmed"]


def test_a_backlog_out_of_order_within_its_batch_gives_the_history_of_the_ordered_one(
    vibration,
):
    now = datetime_to_us(timezone.now())
    start = now - DELAY
    values = [1.0, 7.0, 6.0, 3.0, 2.0, 6.5, 9.0, 3.9, 1.0, 8.0, 8.0]
    rows = [(vibration.pk, start + i * S, v) for i, v in enumerate(values)]
    judge_rows(rows, now_us=now)
    ordered = (history(), deliveries())

    Alert.objects.all().delete()
    RuleState.objects.all().delete()
    random.Random(7).shuffle(rows)
    judge_rows(rows, now_us=now)

    assert (history(), deliveries()) == ordered
    assert [kind for kind, *_ in deliveries()] == ["raised", "returned"] * 2 + ["raised"]


def test_a_replayed_backlog_records_nothing_twice(vibration):
    now = datetime_to_us(timezone.now())
    start = now - DELAY
    first = [1.0, 7.0, 8.0]
    second = [3.0, 2.0, 6.0, 1.0, 1.0]
    judge(vibration, first, start_us=start, now_us=now)
    judge(vibration, second, start_us=start + 3 * S, now_us=now + S)
    recorded = (history(), deliveries())
    assert len(recorded[0]) == 4

    # Redelivered, whole or in its batches, in any order.
    assert judge(vibration, first + second, start_us=start, now_us=now + 10 * S) == 0
    assert judge(vibration, second, start_us=start + 3 * S, now_us=now + 11 * S) == 0
    assert judge(vibration, first, start_us=start, now_us=now + 12 * S) == 0
    assert (history(), deliveries()) == recorded


def test_the_same_readings_live_or_as_one_late_batch_give_the_same_history(vibration):
    """Five minutes of a vibration signal with three excursions, one of them still active:
    judged live in batches of a few seconds, then (on a fresh alert history) all at once
    three hours later. Only the delivery columns differ."""
    now = datetime_to_us(timezone.now())
    start = now - DELAY
    values = [2.0 + (i % 7) * 0.3 for i in range(300)]
    for first, last, level in ((40, 70, 7.5), (120, 125, 9.0), (250, 300, 6.2)):
        values[first:last] = [level + (i % 3) * 0.1 for i in range(last - first)]
    values[123] = 4.5  # inside the deadband: not a return
    rows = [(vibration.pk, start + i * S, v) for i, v in enumerate(values)]

    for i in range(0, len(rows), 4):  # live: each batch judged half a second after its readings
        judge_rows(rows[i : i + 4], now_us=rows[i + 3][1] + S // 2)
    live = (history(), list(Alert.objects.values(*ALERT_FIELDS)))
    assert {delivery for _, delivery, _ in deliveries()} == {"live"}

    Alert.objects.all().delete()
    RuleState.objects.all().delete()
    judge_rows(rows, now_us=now)

    assert (history(), list(Alert.objects.values(*ALERT_FIELDS))) == live
    assert [kind for kind, *_ in deliveries()] == ["raised", "returned"] * 2 + ["raised"]
    assert {delivery for _, delivery, _ in deliveries()} == {"late"}


def test_late_alarms_count_in_the_alarm_kpis_at_their_own_time(vibration):
    """A backlog judged at once holds a burst of three activations within a minute (a
    chattering alarm) and, over two hours, twelve more one per ten minutes (not a flood)."""
    now = datetime_to_us(timezone.now())
    start = now - DELAY
    burst = [1.0, 7.0, 1.0, 7.0, 1.0, 7.0, 1.0]
    spread = [1.0] * 599 + [7.0]
    judge(vibration, burst + spread * 12, start_us=start, now_us=now)

    end = us_to_datetime(now)
    begin = end - timedelta(hours=24)
    activations, spans = alarm_kpi_inputs(start=begin, end=end)
    report = kpis.alarm_kpis(activations, spans, start=begin, end=end)

    assert len(activations) == 15
    assert min(a.at for a in activations) == us_to_datetime(start + S)
    assert max(a.at for a in activations) == us_to_datetime(start + (7 + 12 * 600 - 1) * S)
    assert [c.first_burst_at for c in report.chattering] == [us_to_datetime(start + S)]
    assert all(flood.intervals == () for flood in report.floods.values())
    # On the rate chart the burst is in the ten minutes of its own time, not of the judging.
    _, series = kpis.activation_series(activations, start=begin, end=end)
    [counts] = series.values()
    assert counts[(us_to_datetime(start + S) - begin) // kpis.RATE_WINDOW] >= 3
    assert counts[-1] == 0
    assert sum(counts) == 15


def _named(alert: Alert) -> tuple[str, str]:
    return (alert.rule.name, alert.asset.name)
