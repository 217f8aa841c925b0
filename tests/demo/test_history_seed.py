"""The demo plant's past: a few days of it stored through the pipeline and the services, every
kind of record there and agreeing with the others, and a second run storing nothing."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db.models import Count, Max, Min, Sum
from django.db.models.functions import TruncMinute

from plantops.alerts.models import Alert, AlertEvent
from plantops.assets.models import Asset, Line
from plantops.demo import past
from plantops.demo.history import PastExists, demo_history_seed
from plantops.demo.services import demo_users_create
from plantops.health.models import AssetHealth, FailureEvent, HealthModel, Prediction
from plantops.maintenance.models import PartUse, WorkOrder
from plantops.notify.models import DispatchCursor, Notification
from plantops.oee.events import asset_events, line_plan, oee_from_events
from plantops.oee.models import CountEvent, OeeHour, StateEvent
from plantops.oee.screens import line_screen
from plantops.oee.selectors import asset_oee, line_oee
from plantops.telemetry.models import HourRollup, LatestReading, MinuteRollup, Reading

pytestmark = [pytest.mark.services, pytest.mark.django_db]

# Wednesday in the middle of the Early shift (Berlin), and the moment the Late shift begins.
MID_SHIFT = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
SHIFT_CHANGE = datetime(2026, 11, 25, 13, 0, tzinfo=UTC)


@pytest.fixture
def demo_plant(tmp_path):
    call_command("seed_demo_plant", stdout=io.StringIO())
    demo_users_create(credentials=tmp_path / "demo-users.txt")


@pytest.mark.parametrize("end", [MID_SHIFT, SHIFT_CHANGE], ids=["mid-shift", "shift-change"])
def test_a_short_past_stores_every_kind_of_record_and_they_agree(demo_plant, end):
    days = 4
    outcome = demo_history_seed(days=days, end=end, fleet_units=2, catch_up=False)
    start = end - timedelta(days=days)
    assert (outcome.start, outcome.end) == (start, end)

    readings_are_rolled_up_as_stored(start, end)
    machines_reported_states_and_counts(start)
    alerts_went_through_their_lifecycle(end)
    work_of_every_kind_was_done_with_codes_and_parts()
    predictions_were_scored_by_failures()
    oee_snapshots_cover_the_past_and_agree_with_the_events(start, end)
    the_live_plant_goes_on_from_the_end(end)

    # Idempotent: the plant has data now, so a second run stores nothing.
    before = (Reading.objects.count(), WorkOrder.objects.count(), AlertEvent.objects.count())
    with pytest.raises(PastExists):
        demo_history_seed(days=days, end=end, fleet_units=2, catch_up=False)
    out = io.StringIO()
    call_command("seed_demo_history", "--days", str(days), stdout=out)
    assert "has data already" in out.getvalue()
    assert (Reading.objects.count(), WorkOrder.objects.count(), AlertEvent.objects.count()) == (
        before
    )


def readings_are_rolled_up_as_stored(start: datetime, end: datetime) -> None:
    stored = Reading.objects.filter(ts__gte=start, ts__lte=end)
    assert stored.count() == Reading.objects.count() > 0
    by_minute = {
        (row["signal_id"], row["minute"]): row
        for row in Reading.objects.annotate(minute=TruncMinute("ts"))
        .values("signal_id", "minute")
        .annotate(n=Count("pk"), low=Min("value"), high=Max("value"), total=Sum("value"))
    }
    rollups = {(r.signal_id, r.minute): r for r in MinuteRollup.objects.all()}
    assert set(rollups) == set(by_minute)
    for key, row in by_minute.items():
        rollup = rollups[key]
        assert (rollup.value_count, rollup.value_min, rollup.value_max) == (
            row["n"],
            row["low"],
            row["high"],
        )
        assert rollup.value_sum == pytest.approx(row["total"])
    hours = HourRollup.objects.values("signal_id").annotate(n=Sum("value_count"))
    assert {row["signal_id"]: row["n"] for row in hours} == dict(
        Reading.objects.values("signal_id").annotate(n=Count("pk")).values_list("signal_id", "n")
    )
    for latest in LatestReading.objects.all():
        newest = Reading.objects.filter(signal_id=latest.signal_id).order_by("-ts").first()
        assert (latest.ts, latest.value) == (newest.ts, newest.value)
    # The sampling the past promises: a watched conveyor once a minute, the chattering alarm's
    # press at its own rate (1 s) at the end.
    press_current = Reading.objects.filter(
        signal__asset__slug=past.BAD_ACTOR["asset_slug"], signal__slug="current"
    )
    assert press_current.filter(ts__gt=end - timedelta(minutes=1)).count() == 60


def machines_reported_states_and_counts(start: datetime) -> None:
    for asset in Asset.objects.all():
        events = StateEvent.objects.filter(asset=asset).order_by("ts")
        assert events.first().ts == start  # the state it was in when the past began
        assert asset.state == events.last().state
        counted = CountEvent.objects.filter(asset=asset).exists()
        assert counted == bool(asset.ideal_cycle_time_s), asset.slug


def alerts_went_through_their_lifecycle(end: datetime) -> None:
    kinds = set(AlertEvent.objects.values_list("kind", flat=True))
    assert {"raised", "acknowledged", "returned", "closed"} <= kinds
    assert set(AlertEvent.objects.values_list("delivery", flat=True)) == {"live"}
    for alert in Alert.objects.exclude(occurrences=0):
        events = list(alert.events.order_by("at", "id").values_list("kind", "at"))
        assert events[0][0] == "raised", alert
        acknowledged = [at for kind, at in events if kind == "acknowledged"]
        raised = [at for kind, at in events if kind == "raised"]
        assert all(any(r <= a for r in raised) for a in acknowledged), alert
        if alert.acknowledged_at is not None:
            assert alert.acknowledged_at >= alert.last_at
    # Nothing is left active for days: a bearing replaced, its anomaly alert returned.
    active = Alert.objects.filter(state__in=["active_unack", "active_ack"])
    assert not active.filter(last_at__lt=end - timedelta(days=1)).exists()
    # The alarm set up badly chatters: the most activations of all.
    top = (
        AlertEvent.objects.filter(kind="raised", activated=True)
        .values_list("alert__rule__name")
        .annotate(n=Count("pk"))
        .order_by("-n")
        .first()
    )
    assert top[0] == past.BAD_ACTOR["name"]


def work_of_every_kind_was_done_with_codes_and_parts() -> None:
    done = WorkOrder.objects.filter(status="done")
    assert set(done.values_list("kind", flat=True)) == {"corrective", "preventive", "predictive"}
    for work in done.filter(kind__in=["corrective", "predictive"]):
        assert None not in (work.problem, work.cause, work.remedy)
        assert work.notes
        assert work.completed_at > work.started_at > work.created_at
        assert work.events.filter(to_status="done").exists()
    assert PartUse.objects.filter(work_order__kind="predictive").exists()
    assert PartUse.objects.filter(work_order__kind="corrective").exists()
    predictive = done.get(kind="predictive")
    assert (predictive.outcome, predictive.prediction is not None) == ("failure_found", True)
    # The bearing that ran to failure: the machine said so, and maintenance replaced it.
    failure = FailureEvent.objects.get(source="telemetry")
    repair = done.get(kind="corrective", asset=failure.asset, problem__code="noi")
    assert repair.created_at > failure.failed_at
    assert StateEvent.objects.filter(
        asset=failure.asset, ts__gt=failure.failed_at, state="running"
    ).exists()


def predictions_were_scored_by_failures() -> None:
    assert HealthModel.objects.filter(asset_type="conveyor", active=True).exists()
    scored = Prediction.objects.filter(failure__isnull=False)
    assert scored.exists()
    assert not scored.filter(inside_interval__isnull=True).exists()
    for prediction in scored.select_related("failure"):
        assert prediction.made_at < prediction.failure.failed_at
        assert prediction.actual_rul_days == pytest.approx(
            (prediction.failure.failed_at - prediction.made_at).total_seconds() / 86_400
        )


def oee_snapshots_cover_the_past_and_agree_with_the_events(start: datetime, end: datetime) -> None:
    hours = int((end - start).total_seconds() // 3600) - 1  # its whole hours
    assert OeeHour.objects.count() >= Asset.objects.count() * hours
    assert not OeeHour.objects.filter(hour__lt=start).exists()
    assert OeeHour.objects.aggregate(s=Sum("no_data_s"))["s"] == 0  # states known throughout
    press = Asset.objects.get(slug="press-1")
    day = (start + timedelta(days=1)).replace(hour=0, minute=0)
    from_snapshots = asset_oee(press, day, day + timedelta(days=1), now=end)
    plan = line_plan(press.line)
    us = int(day.timestamp() * 1e6), int((day + timedelta(days=1)).timestamp() * 1e6)
    from_events = oee_from_events(
        press, plan, asset_events(press.pk, *us, int(end.timestamp() * 1e6)), *us
    )
    assert from_snapshots.run_s == pytest.approx(from_events.run_s)
    assert from_snapshots.planned_s == pytest.approx(from_events.planned_s)
    assert from_snapshots.total_count == from_events.total_count > 0
    # The shift running at the end began before it: its time then is history, not lost.
    line = Line.objects.get(slug="press-line-1")
    assert line_screen(line, now=end)["oee"]["no_data_s"] == 0
    last_shift, _ = line_oee(line, end - timedelta(hours=8), end, now=end)
    assert last_shift.losses.no_data_s == 0
    assert last_shift.availability > 0.5


def the_live_plant_goes_on_from_the_end(end: datetime) -> None:
    assert not Notification.objects.exists()  # history pages nobody
    newest = AlertEvent.objects.aggregate(m=Max("id"))["m"]
    assert DispatchCursor.objects.get().last_id == newest
    # Monitoring starts afresh for the sped-up live plant, learning from the end.
    for health in AssetHealth.objects.all():
        assert (health.processed_until, health.level) == (end, "learning")
