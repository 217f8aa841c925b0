"""Reads of preventive schedules: each with the due point that gets its next work order, and
when that falls due. The writes (meters read, work orders made) are `preventive`."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import NamedTuple

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Max, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from plantops.assets.scope import shown_line_ids
from plantops.core.refusals import require_permission
from plantops.maintenance import meters
from plantops.maintenance.models import MeterKind, PreventiveDue, PreventiveSchedule
from plantops.maintenance.selectors import MAY_NOT_SEE, VIEW_WORK


class NextDue(NamedTuple):
    """The due point of a schedule that gets the next work order, where the meter reaches it,
    and when: exact for calendar days, foreseen at the rate the meter has run since its start
    for running hours and cycles (None until it has run)."""

    point: int
    meter: float
    at: datetime | None


def preventive_schedules(*, user: AbstractBaseUser) -> QuerySet[PreventiveSchedule]:
    """The preventive schedules of the lines `user` is shown (an operator their own), each
    with `generated` (its highest due point given a work order, 0 before any) and
    `last_work_order_id` (that point's work order)."""
    require_permission(user, VIEW_WORK, MAY_NOT_SEE)
    last_due = PreventiveDue.objects.filter(schedule=OuterRef("pk")).order_by("-point")
    found = PreventiveSchedule.objects.all()
    shown = shown_line_ids(user)
    if shown is not None:
        found = found.filter(asset__line_id__in=shown)
    return found.annotate(
        generated=Coalesce(Max("dues__point"), 0),
        last_work_order_id=Subquery(last_due.values("work_order_id")[:1]),
    )


def schedule_next_due(schedule: PreventiveSchedule, *, now: datetime | None = None) -> NextDue:
    """The next due point of a schedule read by `preventive_schedules`: the one its next run
    would generate, or the one after the last generated (`meters.next_due_point`). Calendar
    days are counted to `now`; running hours and cycles are as last read."""
    meter = schedule.meter_value
    if schedule.meter == MeterKind.CALENDAR:
        elapsed = (now or timezone.now()) - schedule.starts_at
        meter = max(meter, elapsed.total_seconds() / 86_400.0)
    point = (
        meters.next_due_point(
            meter=meter,
            interval=schedule.interval,
            lead=schedule.lead,
            generated=schedule.generated,
        )
        or schedule.generated + 1
    )
    due_meter = point * schedule.interval
    if schedule.meter == MeterKind.CALENDAR:
        return NextDue(point, due_meter, schedule.starts_at + timedelta(days=due_meter))
    if schedule.meter_read_at is None or meter <= 0:
        return NextDue(point, due_meter, None)
    at = meters.due_moment(
        reached_at=schedule.meter_read_at,
        meter=meter,
        due_meter=due_meter,
        started_at=schedule.starts_at,
    )
    return NextDue(point, due_meter, at)
