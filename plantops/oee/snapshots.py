"""OEE per closed hour, kept in `OeeHour`: the only module that writes them.

A closed hour's OEE never changes unless an event inside it (or a state change before it)
arrives late, or an operator explains a stop or records scrap: then its snapshot is forgotten
and made again from the events when next read, or by the beat. Reads of a month or more sum
snapshots in the database instead of replaying millions of events.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone

from plantops.assets.models import Asset
from plantops.core.stripes import Data, stripe_take, stripes_share
from plantops.core.time import datetime_to_us, us_to_datetime
from plantops.oee.calculation import DOWN, Oee
from plantops.oee.events import HOUR_US, Plan, asset_events, line_plan, oee_from_events
from plantops.oee.models import OeeHour, StateEvent

_TOTALS = ("planned_s", "run_s", "ideal_run_s", "total_count", "good_count")
_LOSSES = (
    "breakdowns",
    "breakdowns_s",
    "changeover_s",
    "small_stops_s",
    "startup_rejects",
    "production_rejects",
    "no_data_s",
)


def _from_snapshot(row: OeeHour) -> Oee:
    result = Oee(**{name: getattr(row, name) for name in _TOTALS}, ideal_known=row.ideal_known)
    for name in _LOSSES:
        setattr(result.losses, name, getattr(row, name))
    result.downtime_by_reason = dict(row.downtime_by_reason)
    return result


def _to_snapshot(asset_id: int, hour_us: int, oee: Oee) -> OeeHour:
    return OeeHour(
        asset_id=asset_id,
        hour=us_to_datetime(hour_us),
        ideal_known=oee.ideal_known,
        downtime_by_reason=oee.downtime_by_reason,
        **{name: getattr(oee, name) for name in _TOTALS},
        **{name: getattr(oee.losses, name) for name in _LOSSES},
    )


def closed_hours(
    asset: Asset, plan: Plan, start_us: int, end_us: int, now_us: int
) -> list[tuple[int, Oee]]:
    """The closed whole hours in [start_us, end_us), from snapshots, making the missing ones."""
    stored = {
        datetime_to_us(row.hour): row
        for row in OeeHour.objects.filter(
            asset=asset, hour__gte=us_to_datetime(start_us), hour__lt=us_to_datetime(end_us)
        )
    }
    wanted = range(start_us, end_us, HOUR_US)
    missing = [hour for hour in wanted if hour not in stored]
    made: dict[int, Oee] = {}
    if missing:
        with transaction.atomic():
            # Batches of this asset's events still in flight commit first, and those after
            # find the snapshots made here to forget: none is kept made without a late event.
            stripe_take(data=Data.MACHINE_EVENTS, asset_id=asset.pk)
            events = asset_events(asset.pk, missing[0], missing[-1] + HOUR_US, now_us)
            for hour in missing:
                made[hour] = oee_from_events(asset, plan, events, hour, hour + HOUR_US)
            try:
                with transaction.atomic():
                    OeeHour.objects.bulk_create(
                        [_to_snapshot(asset.pk, hour, made[hour]) for hour in missing],
                        ignore_conflicts=True,
                    )
            except IntegrityError:  # pragma: no cover - the asset was deleted meanwhile
                pass
    return [(hour, made[hour] if hour in made else _from_snapshot(stored[hour])) for hour in wanted]


def totals(asset_ids: list[int], start_us: int, end_us: int) -> dict[int, tuple[int, Oee]]:
    """Per asset: how many hour snapshots [start_us, end_us) has, and their sum."""
    rows = (
        OeeHour.objects.filter(
            asset_id__in=asset_ids,
            hour__gte=us_to_datetime(start_us),
            hour__lt=us_to_datetime(end_us),
        )
        .values("asset_id")
        .annotate(
            hours=models.Count("pk"),
            unknown_ideal=models.Count("pk", filter=models.Q(ideal_known=False)),
            **{name: models.Sum(name) for name in (*_TOTALS, *_LOSSES)},
        )
    )
    totals = {}
    for row in rows:
        oee = Oee(**{name: row[name] for name in _TOTALS}, ideal_known=not row["unknown_ideal"])
        for name in _LOSSES:
            setattr(oee.losses, name, row[name])
        totals[row["asset_id"]] = (row["hours"], oee)
    for asset_id, reason, seconds in _reasons_summed(asset_ids, start_us, end_us):
        if asset_id in totals:
            totals[asset_id][1].downtime_by_reason[reason] = seconds
    return totals


def _reasons_summed(
    asset_ids: list[int], start_us: int, end_us: int
) -> list[tuple[int, str, float]]:
    """Down time per asset and reason over the snapshots of [start_us, end_us)."""
    snapshots = OeeHour.objects.filter(
        asset_id__in=asset_ids, hour__gte=us_to_datetime(start_us), hour__lt=us_to_datetime(end_us)
    )
    if connection.vendor == "postgresql":
        # Summed by the database: a month of a line is thousands of small JSON objects.
        table = connection.ops.quote_name(OeeHour._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT asset_id, reason.key, sum(reason.value::float8) FROM {table},"
                " jsonb_each_text(downtime_by_reason) AS reason"
                " WHERE asset_id = ANY(%s) AND hour >= %s AND hour < %s GROUP BY 1, 2",
                [list(asset_ids), us_to_datetime(start_us), us_to_datetime(end_us)],
            )
            return cursor.fetchall()
    summed: dict[tuple[int, str], float] = {}
    for asset_id, reasons in snapshots.values_list("asset_id", "downtime_by_reason"):
        for reason, seconds in reasons.items():
            summed[(asset_id, reason)] = summed.get((asset_id, reason), 0.0) + seconds
    return [(asset_id, reason, seconds) for (asset_id, reason), seconds in summed.items()]


def _hour_of(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def hours_forget(
    *, states: Iterable[tuple[int, int, str]], counts: Iterable[tuple[int, int]]
) -> int:
    """Delete the snapshots that stored events make wrong, states `(asset_id, ts_us, state)`
    and counts `(asset_id, ts_us)`; return how many.

    A state change alters every hour from its own until the next change, which may not have
    arrived yet: all of the asset's later snapshots go. A change that ends a stop alters the
    hours before it too, back to the stop's first: a stop is judged small or not by its whole
    length, unknown while it lasted. A count alters its own hour. Live events land in the open
    hour, which has no snapshot, so this usually deletes nothing.
    """
    states, counts = list(states), list(counts)
    touched = {row[0] for row in states} | {row[0] for row in counts}
    stripes_share(data=Data.MACHINE_EVENTS, asset_ids=touched)
    # A plant's first hours, or a past being written, have no snapshots: one query spares
    # the per-asset ones.
    kept = set(
        OeeHour.objects.filter(asset_id__in=touched).values_list("asset_id", flat=True).distinct()
    )
    states = [row for row in states if row[0] in kept]
    counts = [row for row in counts if row[0] in kept]
    earliest_state: dict[int, int] = {}
    may_end_a_stop: set[int] = set()
    for asset_id, ts_us, state in states:
        earliest_state[asset_id] = min(ts_us, earliest_state.get(asset_id, ts_us))
        if state != DOWN:
            may_end_a_stop.add(asset_id)
    count_hours: dict[int, set[int]] = {}
    for asset_id, ts_us in counts:
        count_hours.setdefault(asset_id, set()).add(ts_us - ts_us % HOUR_US)
    deleted = 0
    for asset_id, ts_us in sorted(earliest_state.items()):
        moment = us_to_datetime(ts_us)
        if asset_id in may_end_a_stop:
            moment = _stop_began(asset_id, moment)
        deleted += _forget_from(asset_id, moment)
    for asset_id, hours in sorted(count_hours.items()):
        deleted += OeeHour.objects.filter(
            asset_id=asset_id, hour__in=[us_to_datetime(h) for h in hours]
        ).delete()[0]
    return deleted


def _stop_began(asset_id: int, moment: datetime) -> datetime:
    """When the stop in force just before `moment` began; `moment` itself when the machine
    was not stopped then."""
    before = StateEvent.objects.filter(asset_id=asset_id, ts__lt=moment)
    if before.order_by("-ts").values_list("state", flat=True).first() != DOWN:
        return moment
    # A machine may repeat its state: the stop began at the first `down` after another state.
    other = before.exclude(state=DOWN).order_by("-ts").values_list("ts", flat=True).first()
    stop = before.filter(ts__gt=other) if other is not None else before
    return stop.order_by("ts").values_list("ts", flat=True).first() or moment


def hours_forget_from(*, asset_id: int, moment: datetime) -> int:
    """Delete the asset's snapshots from the hour of `moment` on (a stop's reason changed, or
    a state arrived late); return how many. Call inside a transaction."""
    stripes_share(data=Data.MACHINE_EVENTS, asset_ids=[asset_id])
    return _forget_from(asset_id, moment)


def _forget_from(asset_id: int, moment: datetime) -> int:
    return OeeHour.objects.filter(asset_id=asset_id, hour__gte=_hour_of(moment)).delete()[0]


def hour_forget(*, asset_id: int, moment: datetime) -> int:
    """Delete the asset's snapshot of the hour of `moment` (scrap was recorded in it). Call
    inside a transaction."""
    stripes_share(data=Data.MACHINE_EVENTS, asset_ids=[asset_id])
    return OeeHour.objects.filter(asset_id=asset_id, hour=_hour_of(moment)).delete()[0]


def hours_make_recent(*, hours: int = 24, now: datetime | None = None) -> int:
    """Make the missing snapshots of every asset's last `hours` closed hours; return how many
    assets were looked at. Screens then read a day or a month from snapshots alone."""
    now = now or timezone.now()
    end_us = datetime_to_us(_hour_of(now))
    start_us = end_us - hours * HOUR_US
    now_us = datetime_to_us(now)
    plans: dict[int, Plan] = {}
    assets = list(Asset.objects.select_related("line__area__site"))
    for asset in assets:
        plan = plans.get(asset.line_id)
        if plan is None:
            plan = plans[asset.line_id] = line_plan(asset.line)
        closed_hours(asset, plan, start_us, end_us, now_us)
    return len(assets)
