"""Writes for preventive maintenance: each schedule's meter read from the machines' own
states and counts, and the work order of a due point that has come within its lead.

The meters and the due points are pure (`meters`); this reads the events and makes the work.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Max, Sum
from django.utils import timezone

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

# Meters are read up to this long ago: state and count messages may arrive a little late.
METER_LAG = timedelta(minutes=5)


def _meter_delta(schedule: PreventiveSchedule, start: datetime, end: datetime) -> float:
    if schedule.meter == MeterKind.CALENDAR:
        return (end - start).total_seconds() / 86_400.0
    if schedule.meter == MeterKind.RUNTIME:
        before = (
            StateEvent.objects.filter(asset_id=schedule.asset_id, ts__lt=start)
            .order_by("-ts")
            .values_list("state", flat=True)
            .first()
        )
        events = StateEvent.objects.filter(
            asset_id=schedule.asset_id, ts__gte=start, ts__lt=end
        ).order_by("ts")
        seconds = meters.running_seconds(
            events.values_list("ts", "state"), start=start, end=end, state_at_start=before
        )
        return seconds / 3600.0
    made = CountEvent.objects.filter(asset_id=schedule.asset_id, ts__gte=start, ts__lt=end)
    totals = made.aggregate(good=Sum("good"), scrap=Sum("scrap"))
    return float((totals["good"] or 0) + (totals["scrap"] or 0))


@transaction.atomic
def preventive_schedule_run(*, schedule_id: int, now: datetime | None = None) -> WorkOrder | None:
    """Read a schedule's meter up to now and generate the work order of a due point within
    its lead; return it, or None. A due point gets one work order, however often this runs."""
    now = now or timezone.now()
    schedule = PreventiveSchedule.objects.select_for_update().filter(pk=schedule_id).first()
    if schedule is None or not schedule.active:
        return None
    read_to = now - METER_LAG
    since = max(schedule.meter_read_at or schedule.starts_at, schedule.starts_at)
    if read_to > since:
        schedule.meter_value += _meter_delta(schedule, since, read_to)
        schedule.meter_read_at = read_to
        schedule.save(update_fields=["meter_value", "meter_read_at"])
    generated = schedule.dues.aggregate(last=Max("point"))["last"] or 0
    point = meters.next_due_point(
        meter=schedule.meter_value,
        interval=schedule.interval,
        lead=schedule.lead,
        generated=generated,
    )
    if point is None:
        return None
    unit = {"calendar": "days", "runtime": "running hours", "cycles": "cycles"}[schedule.meter]
    due_meter = point * schedule.interval
    work_order = workorder_create(
        asset=schedule.asset,
        kind=WorkOrderKind.PREVENTIVE,
        title=schedule.title,
        user=None,
        priority=schedule.priority,
        description=(
            f"Due at {due_meter:,.0f} {unit} (now {schedule.meter_value:,.1f}), "
            f"every {schedule.interval:,.0f} {unit}."
        ),
        due_at=_due_moment(schedule, due_meter, now),
        estimated_minutes=schedule.estimated_minutes,
        checklist=schedule.checklist.splitlines(),
        evidence={"schedule_id": schedule.pk, "due_point": point, "due_meter": due_meter},
    )
    PreventiveDue.objects.create(
        schedule=schedule, point=point, due_meter=due_meter, work_order=work_order
    )
    return work_order


def _due_moment(schedule: PreventiveSchedule, due_meter: float, now: datetime) -> datetime:
    """When the due point will be reached: exact for calendar days, else at the rate the
    meter has run since the schedule started."""
    if schedule.meter == MeterKind.CALENDAR:
        return schedule.starts_at + timedelta(days=due_meter)
    read_at = schedule.meter_read_at or now
    elapsed = (read_at - schedule.starts_at).total_seconds()
    if schedule.meter_value <= 0 or elapsed <= 0:
        return now
    rate = schedule.meter_value / elapsed
    return read_at + timedelta(seconds=max(due_meter - schedule.meter_value, 0.0) / rate)


def preventive_run_all(*, now: datetime | None = None) -> int:
    """Run every active schedule; return how many work orders were generated."""
    made = 0
    for schedule_id in PreventiveSchedule.objects.filter(active=True).values_list("pk", flat=True):
        made += preventive_schedule_run(schedule_id=schedule_id, now=now) is not None
    return made
