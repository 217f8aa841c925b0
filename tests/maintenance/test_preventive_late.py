"""Preventive meters from late data: a gateway's backlog is counted at its own times, and the
work orders it brings due are those, and at the due times, of the same events on time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from plantops.core.time import datetime_to_us
from plantops.maintenance import preventive
from plantops.maintenance.meters import count_reached, due_moment, running_reached
from plantops.maintenance.models import PreventiveSchedule, WorkOrder
from plantops.pipeline.services import batch_store
from plantops.telemetry.batches import Batch
from tests.factories import make_asset

T0 = datetime(2026, 11, 2, tzinfo=UTC)
EVERY = timedelta(minutes=20)
END = T0 + timedelta(hours=64)
# The gateway is cut off from 04:00 on the second day (the press idle since the evening) to
# 10:00 on the third, and sends its backlog at 12:00.
CUT_OFF = (T0 + timedelta(hours=28), T0 + timedelta(hours=58))
BACK = T0 + timedelta(hours=60)


def hours(n: float) -> datetime:
    return T0 + timedelta(hours=n)


# --- the meters, pure --------------------------------------------------------------------------


def test_the_moment_a_running_meter_reaches_its_mark_skips_the_time_stopped():
    events = [(hours(1), "down"), (hours(2), "running"), (hours(5), "idle")]
    reached = running_reached
    assert reached(events, start=T0, end=hours(6), state_at_start="running", seconds=0) == T0
    assert reached(events, start=T0, end=hours(6), state_at_start="running", seconds=5400) == (
        hours(2.5)
    )
    assert reached(events, start=T0, end=hours(6), state_at_start="running", seconds=4 * 3600) == (
        hours(5)
    )
    assert (
        reached(events, start=T0, end=hours(6), state_at_start="running", seconds=4 * 3601) is None
    )
    assert reached([], start=T0, end=hours(6), state_at_start="running", seconds=3600) == hours(1)


def test_a_cycle_meter_reaches_its_mark_with_the_count_that_takes_it_there():
    counts = [(hours(1), 400), (hours(2), 450), (hours(3), 200)]
    assert count_reached(counts, parts=850) == (hours(2), 400, 850)
    assert count_reached(counts, parts=900) == (hours(3), 850, 1050)
    assert count_reached(counts, parts=1051) is None


def test_the_due_moment_follows_the_rate_the_meter_has_run_at():
    # 8 running hours in the first 9: the 10th comes 2 / (8/9) = 2¼ hours later.
    assert due_moment(reached_at=hours(9), meter=8, due_meter=10, started_at=T0) == hours(11.25)
    assert due_moment(reached_at=hours(9), meter=10.5, due_meter=10, started_at=T0) == hours(9)
    assert due_moment(reached_at=T0, meter=0, due_meter=10, started_at=T0) == T0


# --- a backlog through the pipeline ------------------------------------------------------------

STATES = [
    (hours(0), "idle"),
    (hours(6), "running"),
    (hours(10), "down"),
    (hours(10.5), "running"),
    (hours(14), "idle"),
    (hours(30), "running"),  # the second day: in the backlog
    (hours(34), "down"),
    (hours(34.25), "running"),
    (hours(38), "idle"),
    (hours(54), "running"),  # 18 running hours at 56¾, 20 at 58¾
    (hours(62), "idle"),
]


def counts() -> list[tuple[datetime, int, int]]:
    """Every ten minutes of running, twelve parts, and on the half hour a scrap."""
    made = []
    for k in range(1, int((END - T0) / timedelta(minutes=10))):
        moment = T0 + k * timedelta(minutes=10)
        if [state for ts, state in STATES if ts < moment][-1] == "running":
            made.append((moment, 12, 1 if moment.minute == 30 else 0))
    return made


def press():
    asset = make_asset(signals=())
    runtime = PreventiveSchedule.objects.create(
        asset=asset,
        title="Regrease the main bearing",
        meter="runtime",
        interval=20,
        lead=2,
        starts_at=T0,
        checklist="Clean the nipple\nTwo shots of grease",
    )
    cycles = PreventiveSchedule.objects.create(
        asset=asset, title="Change the die", meter="cycles", interval=1000, lead=100, starts_at=T0
    )
    return asset, [runtime, cycles]


def cut_off(moment: datetime) -> bool:
    return CUT_OFF[0] <= moment < CUT_OFF[1]


def rows(asset, states, made):
    return {
        "states": [(asset.pk, datetime_to_us(ts), state, "") for ts, state in states],
        "counts": [(asset.pk, datetime_to_us(ts), good, scrap) for ts, good, scrap in made],
    }


def run_the_days(*, late: bool):
    """Send the events in batches as they happen (with `late`, the cut-off part in one burst at
    BACK) and run the schedules as the beat does; return the asset, its schedules and the
    burst."""
    asset, schedules = press()
    burst = Batch.of(
        **rows(asset, [s for s in STATES if cut_off(s[0])], [c for c in counts() if cut_off(c[0])])
    )
    moment = T0
    while moment < END:
        if late and moment == BACK:
            batch_store(batch=burst)
        sent = [
            (ts, what)
            for ts, what in [(s[0], s) for s in STATES] + [(c[0], c) for c in counts()]
            if moment <= ts < moment + EVERY and not (late and cut_off(ts))
        ]
        batch_store(
            batch=Batch.of(
                **rows(
                    asset,
                    [what for _, what in sent if len(what) == 2],
                    [what for _, what in sent if len(what) == 3],
                )
            )
        )
        moment += EVERY
        for schedule in schedules:
            preventive.preventive_schedule_run(schedule_id=schedule.pk, now=moment)
    return asset, schedules, burst


def work(asset) -> list[tuple]:
    return [
        (
            w.title,
            w.kind,
            w.status,
            w.priority,
            w.description,
            w.due_at,
            {k: v for k, v in w.evidence.items() if k != "schedule_id"},
            [item.text for item in w.checklist.all()],
        )
        for w in WorkOrder.objects.filter(asset=asset).order_by("title")
    ]


def meters(schedules) -> list[tuple]:
    fresh = [PreventiveSchedule.objects.get(pk=s.pk) for s in schedules]
    return [(round(s.meter_value, 9), s.meter_read_at, s.recount_from) for s in fresh]


@pytest.mark.django_db
def test_a_backlog_that_crosses_due_points_makes_their_work_orders_as_live_data_would():
    on_time, on_time_schedules, _ = run_the_days(late=False)
    cut, cut_schedules, burst = run_the_days(late=True)

    assert (len(burst.states), len(burst.counts)) == (5, 70)
    assert work(cut) == work(on_time)
    die, grease = work(cut)
    # 18 running hours at 56¾ h, reached in the backlog: 2 more at 18 / 56¾ an hour.
    assert grease[5] == hours(56.75 + 2 * 56.75 / 18)
    assert die[5] == datetime(2026, 11, 3, 14, 53, 20, tzinfo=UTC)  # 900 parts in the backlog
    assert meters(cut_schedules) == meters(on_time_schedules)


@pytest.mark.django_db
def test_the_same_backlog_delivered_twice_makes_nothing_twice():
    on_time, on_time_schedules, _ = run_the_days(late=False)
    cut, schedules, burst = run_the_days(late=True)
    before = work(cut)

    batch_store(batch=Batch.from_message(burst.to_message()))
    for schedule in schedules:
        assert preventive.preventive_schedule_run(schedule_id=schedule.pk, now=END) is None

    assert work(cut) == before == work(on_time)
    assert meters(schedules) == meters(on_time_schedules)
