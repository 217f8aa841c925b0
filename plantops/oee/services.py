"""Writes for OEE: the machines' state and count events, operators closing the gaps (a
stop's reason, scrap found), and the pushes that keep the OEE screens current."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone, translation
from django.utils.translation import gettext, ngettext

from plantops.assets.models import Asset, Line
from plantops.assets.scope import may_act_on
from plantops.assets.states import UNEXPLAINED_STOPS, MachineState
from plantops.core import realtime
from plantops.core.refusals import Refused, require_permission
from plantops.core.time import datetime_to_us, us_to_datetime
from plantops.oee import screens, snapshots
from plantops.oee.events import line_plan
from plantops.oee.models import (
    CountEvent,
    ScrapEntry,
    StateEvent,
    StopReason,
    StopReasonEntry,
)
from plantops.telemetry.payloads import CountReport, StateReport


def machine_events_record(
    *, states: Sequence[StateReport], counts: Sequence[CountReport], push: bool = True
) -> None:
    """Store the machines' state changes and part counts, idempotently (unique per asset and
    time), forget the hour snapshots they make stale, and have the lines' screens pushed
    (unless not `push`: a past written in bulk).

    Call inside the batch's transaction. A count is booked to the product its machine makes
    now: counts arrive within seconds of being made."""
    if not states and not counts:
        return
    touched = {row.asset_id for row in states} | {row.asset_id for row in counts}
    facts = {
        pk: (line_id, product_id)
        for pk, line_id, product_id in Asset.objects.filter(pk__in=touched).values_list(
            "pk", "line_id", "current_product_id"
        )
    }
    if states:
        StateEvent.objects.bulk_create(
            [
                StateEvent(asset_id=a, ts=us_to_datetime(t), state=s, reason=r)
                for a, t, s, r in states
            ],
            ignore_conflicts=True,
        )
    if counts:
        CountEvent.objects.bulk_create(
            [
                CountEvent(
                    asset_id=a,
                    ts=us_to_datetime(t),
                    good=g,
                    scrap=b,
                    product_id=facts.get(a, (None, None))[1],
                )
                for a, t, g, b in counts
            ],
            ignore_conflicts=True,
        )
    # Late states and counts change hours whose snapshots were already made.
    snapshots.hours_forget(
        states=[(row.asset_id, row.ts_us, row.state) for row in states],
        counts=[(row.asset_id, row.ts_us) for row in counts],
    )
    line_ids = {line_id for line_id, _ in facts.values()}
    if push:
        transaction.on_commit(lambda: oee_push_soon(line_ids=line_ids))


@transaction.atomic
def stop_reason_assign(
    *, event: StateEvent, reason: StopReason, user: AbstractBaseUser | None
) -> StopReasonEntry:
    """Give a stop its reason; refused for anything but a stop (no reason on running time).
    The line's screens are pushed after commit. `user` None: the plant itself (an import)."""
    if user is not None:
        require_permission(
            user, "oee.add_stopreasonentry", gettext("Your role may not explain stops.")
        )
        if not may_act_on(user, event.asset.line_id):
            raise Refused(
                gettext("You may act only on your own lines: this stop is on %(line)s.")
                % {"line": event.asset.line.name}
            )
    if event.state not in UNEXPLAINED_STOPS:
        raise ValidationError(
            gettext("Only a stop gets a reason; the machine reported “%(state)s” here.")
            % {"state": gettext(MachineState(event.state).label)}
        )
    if not reason.active:
        raise ValidationError(
            gettext("The reason “%(reason)s” is no longer in use.") % {"reason": reason.label}
        )
    entry, _ = StopReasonEntry.objects.update_or_create(
        event=event,
        defaults={"reason": reason, "entered_by": user, "entered_at": timezone.now()},
    )
    snapshots.hours_forget_from(asset_id=event.asset_id, moment=event.ts)
    line_id = event.asset.line_id
    transaction.on_commit(lambda: oee_push_soon(line_ids=[line_id]))
    return entry


def _count_period(asset: Asset, ts: datetime) -> tuple[datetime, datetime]:
    """The shift that `ts` falls in (or its hour, outside any shift): what scrap is checked by."""
    plan = line_plan(asset.line)
    ts_us = datetime_to_us(ts)
    for shift in plan.shifts(ts_us - 86_400_000_000, ts_us + 1):
        if shift.start_us <= ts_us < shift.end_us:
            return us_to_datetime(shift.start_us), us_to_datetime(shift.end_us)
    hour = ts.replace(minute=0, second=0, microsecond=0)
    return hour, hour + timedelta(hours=1)


@transaction.atomic
def scrap_record(
    *, asset: Asset, ts: datetime, quantity: int, reason: str, user: AbstractBaseUser | None
) -> ScrapEntry:
    """Record parts found to be scrap among the good ones the machine counted.

    Refused above what the machine counted good in the same shift, less scrap already
    recorded there: an operator cannot scrap parts that were never made. `user` None: the
    plant itself (an import).
    """
    if user is not None:
        require_permission(user, "oee.add_scrapentry", gettext("Your role may not record scrap."))
        if not may_act_on(user, asset.line_id):
            raise Refused(
                gettext("You may act only on your own lines: %(asset)s is on %(line)s.")
                % {"asset": asset.name, "line": asset.line.name}
            )
    if quantity < 1:
        raise ValidationError(gettext("Give how many parts are scrap (at least 1)."))
    if ts > timezone.now():
        raise ValidationError(gettext("Scrap cannot be recorded for parts not made yet."))
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
        numbers = {"asset": asset.name, "good": good, "already": already}
        numbers["left"] = max(0, good - already)
        if already:
            refusal = ngettext(
                "%(asset)s counted %(good)s good part in this shift and %(already)s are already "
                "recorded as scrap: at most %(left)s can be scrapped.",
                "%(asset)s counted %(good)s good parts in this shift and %(already)s are already "
                "recorded as scrap: at most %(left)s can be scrapped.",
                good,
            )
        else:
            refusal = ngettext(
                "%(asset)s counted %(good)s good part in this shift: at most %(left)s can be "
                "scrapped.",
                "%(asset)s counted %(good)s good parts in this shift: at most %(left)s can be "
                "scrapped.",
                good,
            )
        raise ValidationError(refusal % numbers)
    entry = ScrapEntry.objects.create(
        asset=asset,
        ts=ts,
        quantity=quantity,
        reason=reason.strip()[:100],
        entered_by=user,
        entered_at=timezone.now(),
    )
    snapshots.hour_forget(asset_id=asset.pk, moment=ts)
    line_id = asset.line_id
    transaction.on_commit(lambda: oee_push_soon(line_ids=[line_id]))
    return entry


def oee_push_soon(*, line_ids: Iterable[int]) -> None:
    """Have the lines' OEE screens, and the floor's OEE board, updated within
    OEE_PUSH_EVERY_S, each at most once per interval.

    Each line's screen, and the board, which shows every line, is a `realtime.push_soon` of
    its own. A hint only: screens also refresh when they reconnect.
    """
    from plantops.oee.tasks import push_board, push_line_screen

    line_ids = set(line_ids)
    if not line_ids:
        return
    every_s = settings.OEE_PUSH_EVERY_S
    for pk in sorted(line_ids):
        realtime.push_soon(
            claim=f"oee-line-{pk}", every_s=every_s, task=push_line_screen, args=[pk]
        )
    realtime.push_soon(claim="oee-board", every_s=every_s, task=push_board)


def oee_push_line(*, line_id: int) -> None:
    """Send the line's OEE screen to the browsers showing it, with the language its words are
    in: each socket puts them in its viewer's (`screens.for_viewer`)."""
    line = Line.objects.select_related("area__site").filter(pk=line_id).first()
    if line is not None:
        screen = screens.line_screen(line)
        message = {"type": "oee.screen", "screen": screen, "language": translation.get_language()}
        realtime.send_now([(realtime.line_oee_group(line.pk), message)])


def oee_push_board() -> None:
    """Send the floor's OEE board to the browsers showing it."""
    realtime.send_now(
        [(realtime.OEE_BOARD_GROUP, {"type": "oee.board", "lines": screens.floor_board()})]
    )
