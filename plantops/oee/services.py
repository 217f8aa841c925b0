"""Writes for OEE: operators closing the gaps, and keeping the hourly snapshots true."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

import redis
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from plantops.assets.models import Asset, Line
from plantops.core import realtime
from plantops.oee import selectors
from plantops.oee.models import (
    CountEvent,
    OeeHour,
    ScrapEntry,
    StateEvent,
    StopReason,
    StopReasonEntry,
)
from plantops.telemetry.payloads import datetime_to_us, us_to_datetime

logger = logging.getLogger(__name__)

STOP_STATES = selectors.STOP_STATES


def _hour_of(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def oee_hours_forget(
    *, states: Iterable[tuple[int, int]], counts: Iterable[tuple[int, int]]
) -> int:
    """Delete the snapshots that stored events `(asset_id, ts_us)` make wrong; return how many.

    A state change alters every hour from its own until the next change, which may not have
    arrived yet: all of the asset's later snapshots go. A count alters its own hour. Live
    events land in the open hour, which has no snapshot, so this usually deletes nothing.
    """
    earliest_state: dict[int, int] = {}
    for asset_id, ts_us in states:
        earliest_state[asset_id] = min(ts_us, earliest_state.get(asset_id, ts_us))
    count_hours: dict[int, set[int]] = {}
    for asset_id, ts_us in counts:
        count_hours.setdefault(asset_id, set()).add(ts_us - ts_us % selectors.HOUR_US)
    deleted = 0
    for asset_id, ts_us in earliest_state.items():
        hour = us_to_datetime(ts_us - ts_us % selectors.HOUR_US)
        deleted += OeeHour.objects.filter(asset_id=asset_id, hour__gte=hour).delete()[0]
    for asset_id, hours in count_hours.items():
        deleted += OeeHour.objects.filter(
            asset_id=asset_id, hour__in=[us_to_datetime(h) for h in hours]
        ).delete()[0]
    return deleted


def _forget_from(event: StateEvent) -> None:
    OeeHour.objects.filter(asset_id=event.asset_id, hour__gte=_hour_of(event.ts)).delete()


@transaction.atomic
def stop_reason_assign(
    *, event: StateEvent, reason: StopReason, user: AbstractBaseUser | None
) -> StopReasonEntry:
    """Give a stop its reason; refused for anything but a stop (no reason on running time)."""
    if event.state not in STOP_STATES:
        raise ValidationError(
            f"Only a stop gets a reason; the machine reported {event.get_state_display()} here."
        )
    if not reason.active:
        raise ValidationError(f"The reason {reason.label!r} is no longer in use.")
    entry, _ = StopReasonEntry.objects.update_or_create(
        event=event,
        defaults={"reason": reason, "entered_by": user, "entered_at": timezone.now()},
    )
    _forget_from(event)
    return entry


def _count_period(asset: Asset, ts: datetime) -> tuple[datetime, datetime]:
    """The shift that `ts` falls in (or its hour, outside any shift): what scrap is checked by."""
    plan = selectors.line_plan(asset.line)
    ts_us = datetime_to_us(ts)
    for shift in plan.shifts(ts_us - 86_400_000_000, ts_us + 1):
        if shift.start_us <= ts_us < shift.end_us:
            return us_to_datetime(shift.start_us), us_to_datetime(shift.end_us)
    hour = _hour_of(ts)
    return hour, hour + timedelta(hours=1)


@transaction.atomic
def scrap_record(
    *, asset: Asset, ts: datetime, quantity: int, reason: str, user: AbstractBaseUser | None
) -> ScrapEntry:
    """Record parts found to be scrap among the good ones the machine counted.

    Refused above what the machine counted good in the same shift, less scrap already
    recorded there: an operator cannot scrap parts that were never made.
    """
    if quantity < 1:
        raise ValidationError("Give how many parts are scrap (at least 1).")
    if ts > timezone.now():
        raise ValidationError("Scrap cannot be recorded for parts not made yet.")
    start, end = _count_period(asset, ts)
    # Lock the asset's row: two tablets recording at once must not both pass the check.
    Asset.objects.select_for_update().filter(pk=asset.pk).first()
    good = (
        CountEvent.objects.filter(asset=asset, ts__gte=start, ts__lt=end).aggregate(n=Sum("good"))[
            "n"
        ]
        or 0
    )
    already = (
        ScrapEntry.objects.filter(asset=asset, ts__gte=start, ts__lt=end).aggregate(
            n=Sum("quantity")
        )["n"]
        or 0
    )
    if quantity > good - already:
        raise ValidationError(
            f"{asset.name} counted {good} good parts in this shift"
            + (f" and {already} are already recorded as scrap" if already else "")
            + f": at most {max(0, good - already)} can be scrapped."
        )
    entry = ScrapEntry.objects.create(
        asset=asset,
        ts=ts,
        quantity=quantity,
        reason=reason.strip()[:100],
        entered_by=user,
        entered_at=timezone.now(),
    )
    OeeHour.objects.filter(asset=asset, hour=_hour_of(ts)).delete()
    return entry


def oee_hours_make_recent(*, hours: int = 24, now: datetime | None = None) -> int:
    """Make the missing snapshots of every asset's last `hours` closed hours; return how many
    assets were looked at. Screens then read a day or a month from snapshots alone."""
    now = now or timezone.now()
    end = _hour_of(now)
    start = end - timedelta(hours=hours)
    lines = {}
    assets = list(Asset.objects.select_related("line__area__site"))
    for asset in assets:
        plan = lines.get(asset.line_id)
        if plan is None:
            plan = lines[asset.line_id] = selectors.line_plan(asset.line)
        selectors.asset_oee(asset, start, end, plan=plan, now=now)
    return len(assets)


# --- live screens -----------------------------------------------------------------------------

_redis: redis.Redis | None = None


def _redis_client() -> redis.Redis:
    global _redis
    if _redis is None:
        _redis = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=5)
    return _redis


def oee_push_soon(*, line_ids: Iterable[int]) -> None:
    """Have the lines' OEE screens, and the floor's OEE board, updated within
    OEE_PUSH_EVERY_S, each at most once per interval.

    The first call for a line in an interval claims it in Redis and schedules the push for
    the interval's end; later calls find it claimed and add nothing, since that push will
    read everything stored by then. The board, which shows every line, is claimed the same
    way once for all of them. A hint only: screens also refresh when they reconnect.
    """
    from plantops.oee.tasks import push_board, push_line_screen

    line_ids = set(line_ids)
    if not line_ids:
        return
    every_s = settings.OEE_PUSH_EVERY_S
    prefix = settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"]
    claims = [(f"{prefix}:oee-push:{pk}", push_line_screen, [pk]) for pk in sorted(line_ids)]
    claims.append((f"{prefix}:oee-push:board", push_board, []))
    for key, task, args in claims:
        try:
            if _redis_client().set(key, 1, nx=True, px=int(every_s * 1000)):
                task.apply_async(args=args, countdown=every_s)
        except Exception:
            logger.warning("could not schedule the OEE push %s", key, exc_info=True)


def oee_push_line(*, line_id: int) -> None:
    """Send the line's OEE screen to the browsers showing it."""
    line = Line.objects.select_related("area__site").filter(pk=line_id).first()
    if line is not None:
        screen = selectors.line_screen(line)
        realtime.send_now(
            [(realtime.line_oee_group(line.pk), {"type": "oee.screen", "screen": screen})]
        )


def oee_push_board() -> None:
    """Send the floor's OEE board to the browsers showing it."""
    realtime.send_now(
        [(realtime.OEE_BOARD_GROUP, {"type": "oee.board", "lines": selectors.floor_board()})]
    )
