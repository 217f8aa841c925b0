"""A gateway's backlog of states and counts, delivered late in one burst after their hours were
snapshotted, ends in the hour snapshots, shifts and losses of the same events delivered live."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from plantops.assets.models import Asset, Shift, ShiftBreak
from plantops.core.time import datetime_to_us
from plantops.oee import selectors, snapshots
from plantops.oee.models import OeeHour
from plantops.pipeline.services import batch_store
from plantops.telemetry.batches import Batch
from tests.factories import make_asset

pytestmark = pytest.mark.django_db

MONDAY = datetime(2026, 11, 23, tzinfo=UTC)
END = MONDAY + timedelta(days=1)
# The press's gateway is cut off from 11:30 to 15:45, and sends its backlog at 16:00.
CUT_OFF = (MONDAY.replace(hour=11, minute=30), MONDAY.replace(hour=15, minute=45))
BACK = MONDAY.replace(hour=16)
EVERY = timedelta(minutes=10)


def at(hour: int, minute: int = 0, second: int = 0) -> datetime:
    return MONDAY.replace(hour=hour, minute=minute, second=second)


def press() -> Asset:
    asset = make_asset(signals=())
    asset.ideal_cycle_time_s = 20.0
    asset.save()
    early = Shift.objects.create(line=asset.line, name="Early", start=time(6), end=time(14))
    ShiftBreak.objects.create(shift=early, start=time(10), end=time(10, 30))
    Shift.objects.create(line=asset.line, name="Late", start=time(14), end=time(22))
    return asset


STATES = [
    (at(6), "running", ""),
    (at(7, 10), "down", ""),  # a small stop
    (at(7, 11, 30), "running", ""),
    (at(8, 50), "down", "jam"),  # a breakdown across 09:00
    (at(9, 20), "running", ""),
    (at(9, 59), "down", ""),  # three minutes: a breakdown that begins before 10:00
    (at(10, 2), "running", ""),
    (at(11, 25), "down", ""),  # begins live, ends in the backlog
    (at(11, 50), "running", ""),
    (at(12, 40), "changeover", "product B"),
    (at(13, 5), "running", ""),
    (at(13, 59, 30), "down", ""),  # across the shift change
    (at(14, 1), "running", ""),
    (at(15), "idle", "starved"),
    (at(15, 1), "running", ""),
    (at(15, 44), "down", ""),  # the last state of the backlog, ended live
    (at(15, 52), "running", ""),
    (at(17, 30), "planned_stop", "cleaning"),
    (at(18), "running", ""),
    (at(21, 58), "idle", "end of shift"),
]


def counts() -> list[tuple[datetime, int, int]]:
    """Parts every five minutes; scrap now and then, some of it just after a restart."""
    made = []
    moment = at(6, 5)
    while moment < at(22):
        made.append((moment, 14, 1 if moment.minute in (5, 25) else 0))
        moment += timedelta(minutes=5)
    return made


def batches(asset: Asset, chosen) -> list[tuple[datetime, Batch]]:
    """What the asset sent, in batches of `EVERY`, each with the moment it is stored."""
    states, made = chosen
    out = []
    start = MONDAY
    while start < END:
        stop = start + EVERY
        out.append(
            (
                stop,
                Batch.of(
                    states=[
                        (asset.pk, datetime_to_us(ts), s, r)
                        for ts, s, r in states
                        if start <= ts < stop
                    ],
                    counts=[
                        (asset.pk, datetime_to_us(ts), g, b)
                        for ts, g, b in made
                        if start <= ts < stop
                    ],
                ),
            )
        )
        start = stop
    return out


def cut_off(moment: datetime) -> bool:
    return CUT_OFF[0] <= moment < CUT_OFF[1]


def the_day(asset: Asset, *, late: bool) -> Batch | None:
    """Deliver the day, storing each batch when it is sent and snapshotting the closed hours as
    the beat does; with `late`, the cut-off part arrives in one burst at BACK. Return the burst."""
    states, made = STATES, counts()
    live = (
        [s for s in states if not (late and cut_off(s[0]))],
        [c for c in made if not (late and cut_off(c[0]))],
    )
    burst = Batch.of(
        states=[(asset.pk, datetime_to_us(ts), s, r) for ts, s, r in states if cut_off(ts)],
        counts=[(asset.pk, datetime_to_us(ts), g, b) for ts, g, b in made if cut_off(ts)],
    )
    for moment, batch in batches(asset, live):
        if late and moment == BACK:
            batch_store(batch=burst)
        batch_store(batch=batch)
        snapshots.hours_make_recent(now=moment)
    return burst if late else None


def hours(asset: Asset) -> list[dict]:
    snapshots.hours_make_recent(now=END)
    return list(
        OeeHour.objects.filter(asset=asset)
        .order_by("hour")
        .values(*(f.name for f in OeeHour._meta.fields if f.name not in ("id", "asset")))
    )


def shifts(asset: Asset) -> list[dict]:
    return [
        selectors.asset_oee(asset, start, stop, now=END).loss_figures()
        | {"downtime": selectors.asset_oee(asset, start, stop, now=END).downtime_by_reason}
        for start, stop in ((at(6), at(14)), (at(14), at(22)), (MONDAY, END))
    ]


def test_a_backlog_after_its_hours_were_snapshotted_ends_in_the_snapshots_of_live_delivery():
    on_time, cut = press(), press()
    the_day(on_time, late=False)
    burst = the_day(cut, late=True)

    assert burst is not None
    assert (len(burst.states), len(burst.counts)) == (8, 51)
    assert hours(cut) == hours(on_time)
    assert shifts(cut) == shifts(on_time)


def test_the_same_backlog_delivered_twice_changes_nothing():
    on_time, cut = press(), press()
    the_day(on_time, late=False)
    burst = the_day(cut, late=True)
    before = hours(cut)

    batch_store(batch=Batch.from_message(burst.to_message()))

    assert hours(cut) == before == hours(on_time)
    assert shifts(cut) == shifts(on_time)


def test_a_stop_is_judged_by_its_whole_length_once_its_end_arrives_after_its_hour_closed():
    # Live, on time: 09:59 down, its hour snapshotted at 10:00, running again at 10:02.
    asset = press()
    for moment, batch in batches(asset, (STATES[:7], [])):
        batch_store(batch=batch)
        snapshots.hours_make_recent(now=moment)
        if moment > at(10, 10):
            break
    nine = OeeHour.objects.get(asset=asset, hour=at(9))
    assert (nine.breakdowns, nine.breakdowns_s, nine.small_stops_s) == (1, 1260.0, 0.0)
