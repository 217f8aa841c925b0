"""Preventive work orders from live meters: generated once per due point, ahead by the lead."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command

from plantops.maintenance import preventive
from plantops.maintenance.meters import next_due_point, running_seconds
from plantops.maintenance.models import Part, PreventiveSchedule, WorkOrder
from plantops.oee.models import CountEvent, StateEvent
from tests.factories import make_asset

T0 = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)


def hours(n: float) -> datetime:
    return T0 + timedelta(hours=n)


def test_running_seconds_count_only_running_time_inside_the_span():
    events = [(hours(1), "down"), (hours(2), "running"), (hours(5), "idle")]
    assert running_seconds(events, start=T0, end=hours(6), state_at_start="running") == 4 * 3600
    assert running_seconds(events, start=T0, end=hours(6), state_at_start=None) == 3 * 3600
    assert running_seconds([], start=T0, end=hours(1), state_at_start="running") == 3600


@pytest.mark.parametrize(
    ("meter", "generated", "expected"),
    [
        (7.9, 0, None),
        (8.0, 0, 1),
        (8.0, 1, None),
        (17.9, 1, None),
        (18.0, 1, 2),
        # A first work order is for the latest point; after it, each point in turn.
        (35, 0, 3),
        (35, 1, 2),
        (35, 2, 3),
        (35, 3, None),
    ],
)
def test_a_due_point_comes_within_the_lead_once_each_in_turn_after_the_first(
    meter, generated, expected
):
    assert next_due_point(meter=meter, interval=10, lead=2, generated=generated) == expected


def publish_states(asset, changes):
    # The worker's own way of storing states: a replayed message is ignored, never doubled.
    StateEvent.objects.bulk_create(
        [StateEvent(asset=asset, ts=ts, state=state) for ts, state in changes],
        ignore_conflicts=True,
    )


@pytest.mark.django_db
def test_running_hours_from_state_telemetry_generate_one_work_order_at_the_lead_time():
    asset = make_asset()
    schedule = PreventiveSchedule.objects.create(
        asset=asset,
        title="Regrease drive-end bearing",
        meter="runtime",
        interval=10,
        lead=2,
        starts_at=T0,
        checklist="Clean the nipple\nTwo shots of grease",
    )
    states = [(T0, "running"), (hours(3), "down"), (hours(4), "running")]
    publish_states(asset, states)
    lag = preventive.METER_LAG

    assert preventive.preventive_schedule_run(schedule_id=schedule.pk, now=hours(8) + lag) is None
    work = preventive.preventive_schedule_run(schedule_id=schedule.pk, now=hours(9) + lag)
    publish_states(asset, states)  # the gateway replays its buffer
    again = [
        preventive.preventive_schedule_run(schedule_id=schedule.pk, now=hours(h) + lag)
        for h in (9, 9.5, 12)
    ]

    assert work is not None
    assert again == [None, None, None]
    assert (work.kind, work.status, work.title) == ("preventive", "approved", schedule.title)
    assert [i.text for i in work.checklist.all()] == ["Clean the nipple", "Two shots of grease"]
    assert work.evidence["due_point"] == 1
    # 8 running hours in the first 9: the 10th comes 2 / (8/9) = 2¼ hours after that.
    assert work.due_at == hours(11.25)
    schedule.refresh_from_db()
    assert schedule.meter_value == pytest.approx(11)  # 12 hours less the hour down
    assert WorkOrder.objects.filter(asset=asset).count() == 1


@pytest.mark.django_db
def test_a_cycle_schedule_counts_parts_made():
    asset = make_asset()
    schedule = PreventiveSchedule.objects.create(
        asset=asset, title="Change the die", meter="cycles", interval=1000, lead=100, starts_at=T0
    )
    CountEvent.objects.create(asset=asset, ts=hours(1), good=850, scrap=40)
    assert preventive.preventive_schedule_run(schedule_id=schedule.pk, now=hours(2)) is None
    CountEvent.objects.create(asset=asset, ts=hours(2), good=15, scrap=0)
    assert preventive.preventive_schedule_run(schedule_id=schedule.pk, now=hours(3)) is not None


@pytest.mark.django_db
def test_the_demo_plant_gets_its_stores_and_plan_once_and_calendar_work_at_once():
    call_command("seed_demo_plant", stdout=io.StringIO())
    call_command("seed_demo_plant", stdout=io.StringIO())
    assert Part.objects.count() == 6
    pumps = PreventiveSchedule.objects.filter(meter="calendar")
    assert pumps.count() == PreventiveSchedule.objects.filter(asset__asset_type="pump").count()
    assert pumps.count() > 0
    assert set(PreventiveSchedule.objects.values_list("meter", flat=True)) == {
        "calendar",
        "runtime",
        "cycles",
    }
    assert preventive.preventive_run_all() == pumps.count()  # 28 of 30 days: inside the lead
    assert preventive.preventive_run_all() == 0
    assert WorkOrder.objects.filter(kind="preventive").count() == pumps.count()
