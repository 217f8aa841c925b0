"""Writes for preventive maintenance: each schedule's meter read from the machines' own
states and counts, and the work order of a due point that has come within its lead.

The meters and the due points are pure (`meters`); this reads the events and makes the work.
A meter counts every event by its own time, whenever it arrives: one stored after the meter
was read past it (a gateway's backlog) has the meter counted again from the last moment no
late event changed, so late data ends in the meter and the work orders of data on time.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import NamedTuple

from django.db import transaction
from django.db.models import F, Max, Sum, Value
from django.db.models.functions import Coalesce, Least
from django.utils import timezone

from plantops.core.stripes import Data, stripe_take, stripes_share
from plantops.core.time import us_to_datetime
from plantops.maintenance import meters
from plantops.maintenance.models import (
    MeterKind,
    PreventiveDue,
    PreventiveSchedule,
    WorkOrder,
    WorkOrderKind,
)
from plantops.maintenance.services import workorder_create
from plantops.oee.models import CountEvent, StateEvent

# Meters are read up to this long ago: a state or count a little late is counted at once, not
# by a recount.
METER_LAG = timedelta(minutes=5)

UNITS = {MeterKind.CALENDAR: "days", MeterKind.RUNTIME: "running hours", MeterKind.CYCLES: "cycles"}


def preventive_events_arrived(
    *, states: Iterable[tuple[int, int, str, str]], counts: Iterable[tuple[int, int, int, int]]
) -> int:
    """Have the schedules whose meter was read past a state or count just stored counted
    again from it at their next run; return how many. Call inside the batch's transaction,
    once the events are stored. Running hours are read from states, cycles from counts."""
    earliest: dict[tuple[int, str], int] = {}
    for rows, meter in ((states, MeterKind.RUNTIME), (counts, MeterKind.CYCLES)):
        for asset_id, ts_us, *_ in rows:
            key = (asset_id, meter)
            earliest[key] = min(ts_us, earliest.get(key, ts_us))
    if not earliest:
        return 0
    assets = {asset_id for asset_id, _ in earliest}
    # From here to the commit no schedule of these assets is read: a run either sees these
    # events or has its reading point seen below.
    stripes_share(data=Data.MACHINE_EVENTS, asset_ids=assets)
    late: dict[int, datetime] = {}
    for pk, asset_id, meter, read_at in PreventiveSchedule.objects.filter(
        asset_id__in=assets, meter__in=[MeterKind.RUNTIME, MeterKind.CYCLES]
    ).values_list("pk", "asset_id", "meter", "meter_read_at"):
        ts_us = earliest.get((asset_id, meter))
        if ts_us is not None and read_at is not None and us_to_datetime(ts_us) < read_at:
            late[pk] = us_to_datetime(ts_us)
    for pk, moment in sorted(late.items()):
        PreventiveSchedule.objects.filter(pk=pk).update(
            recount_from=Least(Coalesce(F("recount_from"), Value(moment)), Value(moment))
        )
    return len(late)


def _state_before(schedule: PreventiveSchedule, moment: datetime) -> str | None:
    return (
        StateEvent.objects.filter(asset_id=schedule.asset_id, ts__lt=moment)
        .order_by("-ts")
        .values_list("state", flat=True)
        .first()
    )


def _states(schedule: PreventiveSchedule, start: datetime, end: datetime):
    return (
        StateEvent.objects.filter(asset_id=schedule.asset_id, ts__gte=start, ts__lt=end)
        .order_by("ts")
        .values_list("ts", "state")
        .iterator(chunk_size=10_000)
    )


def _meter_delta(schedule: PreventiveSchedule, start: datetime, end: datetime) -> float:
    if schedule.meter == MeterKind.CALENDAR:
        return (end - start).total_seconds() / 86_400.0
    if schedule.meter == MeterKind.RUNTIME:
        seconds = meters.running_seconds(
            _states(schedule, start, end),
            start=start,
            end=end,
            state_at_start=_state_before(schedule, start),
        )
        return seconds / 3600.0
    made = CountEvent.objects.filter(asset_id=schedule.asset_id, ts__gte=start, ts__lt=end)
    totals = made.aggregate(good=Sum("good"), scrap=Sum("scrap"))
    return float((totals["good"] or 0) + (totals["scrap"] or 0))


def _recount(schedule: PreventiveSchedule) -> None:
    """Put the meter back to the last point known before the earliest late event: a due
    point's, or the schedule's start. Due points after it lose theirs (their moment moved)."""
    late, schedule.recount_from = schedule.recount_from, None
    if late is None or schedule.meter_read_at is None or late >= schedule.meter_read_at:
        return
    schedule.dues.filter(counted_to__gt=late).update(counted_to=None, counted=None)
    known = (
        schedule.dues.filter(counted_to__isnull=False, counted_to__gte=schedule.starts_at)
        .order_by("-counted_to")
        .values_list("counted_to", "counted")
        .first()
    )
    schedule.meter_read_at, schedule.meter_value = known or (None, 0.0)


class Reached(NamedTuple):
    """When a meter reached a value: the moment, what it had counted before it, and with it
    (more than before only when a count of parts at that moment took it there)."""

    moment: datetime
    before: float
    after: float


def _reached(schedule: PreventiveSchedule, target: float, end: datetime) -> Reached:
    """When the meter reached `target`, by the events' own times (`end` and the meter read
    there, should it not have by `end`), counted from the last point known before it."""
    if schedule.meter == MeterKind.CALENDAR:
        return Reached(schedule.starts_at + timedelta(days=target), target, target)
    since, counted = (
        schedule.dues.filter(
            counted_to__isnull=False, counted_to__gte=schedule.starts_at, counted__lte=target
        )
        .order_by("-counted_to")
        .values_list("counted_to", "counted")
        .first()
    ) or (schedule.starts_at, 0.0)
    not_by_end = Reached(end, schedule.meter_value, schedule.meter_value)
    if schedule.meter == MeterKind.RUNTIME:
        moment = meters.running_reached(
            _states(schedule, since, end),
            start=since,
            end=end,
            state_at_start=_state_before(schedule, since),
            seconds=(target - counted) * 3600.0,
        )
        return not_by_end if moment is None else Reached(moment, target, target)
    found = meters.count_reached(
        (
            (ts, good + scrap)
            for ts, good, scrap in CountEvent.objects.filter(
                asset_id=schedule.asset_id, ts__gte=since, ts__lt=end
            )
            .order_by("ts")
            .values_list("ts", "good", "scrap")
            .iterator(chunk_size=10_000)
        ),
        parts=target - counted,
    )
    if found is None:
        return not_by_end
    moment, before, after = found
    return Reached(moment, counted + before, counted + after)


@transaction.atomic
def preventive_schedule_run(*, schedule_id: int, now: datetime | None = None) -> WorkOrder | None:
    """Read a schedule's meter up to now and generate the work order of a due point within
    its lead; return it, or None. A due point gets one work order, however often this runs
    and whenever its events arrive; its due time comes from the events' own times."""
    now = now or timezone.now()
    asset_id = (
        PreventiveSchedule.objects.filter(pk=schedule_id).values_list("asset_id", flat=True).first()
    )
    if asset_id is None:
        return None
    # Batches of the asset's states and counts in flight commit before the meter is read.
    stripe_take(data=Data.MACHINE_EVENTS, asset_id=asset_id)
    schedule = PreventiveSchedule.objects.select_for_update().filter(pk=schedule_id).first()
    if schedule is None or not schedule.active:
        return None
    _recount(schedule)
    read_to = now - METER_LAG
    since = max(schedule.meter_read_at or schedule.starts_at, schedule.starts_at)
    if read_to > since:
        schedule.meter_value += _meter_delta(schedule, since, read_to)
        schedule.meter_read_at = read_to
    schedule.save(update_fields=["meter_value", "meter_read_at", "recount_from"])
    generated = schedule.dues.aggregate(last=Max("point"))["last"] or 0
    point = meters.next_due_point(
        meter=schedule.meter_value,
        interval=schedule.interval,
        lead=schedule.lead,
        generated=generated,
    )
    if point is None:
        return None
    unit = UNITS[MeterKind(schedule.meter)]
    due_meter = point * schedule.interval
    # When the point came within the lead, by the events' own times, and the due time a run
    # just then would have foreseen: the same whenever the events arrived.
    within = _reached(
        schedule, max(due_meter - schedule.lead, 0.0), schedule.meter_read_at or read_to
    )
    if schedule.meter == MeterKind.CALENDAR:
        due_at = schedule.starts_at + timedelta(days=due_meter)
    else:
        due_at = meters.due_moment(
            reached_at=within.moment,
            meter=within.after,
            due_meter=due_meter,
            started_at=schedule.starts_at,
        )
    work_order = workorder_create(
        asset=schedule.asset,
        kind=WorkOrderKind.PREVENTIVE,
        title=schedule.title,
        user=None,
        priority=schedule.priority,
        description=f"Due at {due_meter:,.0f} {unit}, every {schedule.interval:,.0f} {unit}.",
        due_at=due_at,
        estimated_minutes=schedule.estimated_minutes,
        checklist=schedule.checklist.splitlines(),
        evidence={"schedule_id": schedule.pk, "due_point": point, "due_meter": due_meter},
    )
    PreventiveDue.objects.create(
        schedule=schedule,
        point=point,
        due_meter=due_meter,
        work_order=work_order,
        counted_to=within.moment,
        counted=within.before,
    )
    return work_order


# A backlog that brings many due points at once gets their work orders over several runs.
MAX_PER_RUN = 20


def preventive_run_all(*, now: datetime | None = None) -> int:
    """Run every active schedule until each has the work orders of every due point it has
    reached (at most `MAX_PER_RUN` each); return how many were generated."""
    made = 0
    for schedule_id in PreventiveSchedule.objects.filter(active=True).values_list("pk", flat=True):
        for _ in range(MAX_PER_RUN):
            if preventive_schedule_run(schedule_id=schedule_id, now=now) is None:
                break
            made += 1
    return made
