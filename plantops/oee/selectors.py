"""Reads for OEE: an asset's or a line's OEE over any period, fast over months; and what a
shift's report lists besides the figures: the line's shifts, its stops with their reasons and
the scrap operators recorded.

A period is cut into its closed whole UTC hours, read from their snapshots (`snapshots`), and
the partial hours at its edges and the open current hour, computed from the state and count
events (`events`). Both go through `calculation.oee_of`, so a figure is the same whichever
way it was reached.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from django.utils import timezone

from plantops.assets.models import Asset, Line
from plantops.assets.states import MachineState
from plantops.core.time import datetime_to_us, us_to_datetime
from plantops.oee import calculation, snapshots
from plantops.oee.calculation import Oee
from plantops.oee.calendar import PlannedShift
from plantops.oee.events import HOUR_US, Plan, assets_events, line_plan, oee_from_events
from plantops.oee.models import ScrapEntry, StateEvent, StopReasonEntry


def _bounds(start: datetime, end: datetime, now_us: int) -> tuple[int, int, int, int] | None:
    """(start_us, first whole hour, end of the last closed whole hour, end_us), or None if the
    period has not begun. Nothing after now counts: the current shift's OEE is its OEE so far;
    and only closed hours are kept, since the current one still changes as time passes."""
    start_us, end_us = datetime_to_us(start), min(datetime_to_us(end), now_us)
    if end_us <= start_us:
        return None
    first_hour = -(-start_us // HOUR_US) * HOUR_US
    last_hour = max(first_hour, end_us // HOUR_US * HOUR_US)
    return start_us, min(first_hour, end_us), last_hour, end_us


def _edges(
    assets: list[Asset], plan: Plan, bounds: tuple[int, int, int, int], now_us: int
) -> dict[int, list[tuple[int, Oee]]]:
    """Each asset's OEE over the partial hours at the period's edges, from its events."""
    start_us, first_hour, last_hour, end_us = bounds
    pieces: dict[int, list[tuple[int, Oee]]] = {asset.pk: [] for asset in assets}
    spans = (
        [(start_us, first_hour), (last_hour, end_us)]
        if last_hour > first_hour
        else [(start_us, first_hour), (first_hour, end_us)]
    )
    for edge_start, edge_end in spans:
        if edge_end <= edge_start:
            continue
        events = assets_events([a.pk for a in assets], edge_start, edge_end, now_us)
        for asset in assets:
            pieces[asset.pk].append(
                (edge_start, oee_from_events(asset, plan, events[asset.pk], edge_start, edge_end))
            )
    return pieces


def assets_pieces(
    assets: list[Asset], start: datetime, end: datetime, *, plan: Plan, now: datetime | None = None
) -> dict[int, list[tuple[int, Oee]]]:
    """Each asset's OEE over [start, end) in pieces `(start_us, oee)`, in time order: the
    closed whole hours (from snapshots) and the partial or open hours at the edges."""
    now_us = datetime_to_us(now or timezone.now())
    bounds = _bounds(start, end, now_us)
    if bounds is None:
        return {asset.pk: [] for asset in assets}
    pieces = _edges(assets, plan, bounds, now_us)
    _, first_hour, last_hour, _ = bounds
    for asset in assets:
        if last_hour > first_hour:
            pieces[asset.pk] += snapshots.closed_hours(asset, plan, first_hour, last_hour, now_us)
        pieces[asset.pk].sort(key=lambda piece: piece[0])
    return pieces


def assets_oee(
    assets: list[Asset], start: datetime, end: datetime, *, plan: Plan, now: datetime | None = None
) -> dict[int, Oee]:
    """Each asset's OEE over [start, end): its closed hours summed by the database, its edges
    computed from events. A few queries for all the assets, whatever the period's length."""
    now_us = datetime_to_us(now or timezone.now())
    bounds = _bounds(start, end, now_us)
    if bounds is None:
        return {asset.pk: Oee() for asset in assets}
    result = {
        pk: calculation.combine(oee for _, oee in edges)
        for pk, edges in _edges(assets, plan, bounds, now_us).items()
    }
    _, first_hour, last_hour, _ = bounds
    if last_hour > first_hour:
        wanted = (last_hour - first_hour) // HOUR_US
        totals = snapshots.totals([a.pk for a in assets], first_hour, last_hour)
        for asset in assets:
            hours, summed = totals.get(asset.pk, (0, None))
            if hours < wanted:  # some hours have no snapshot yet: make them
                summed = calculation.combine(
                    oee
                    for _, oee in snapshots.closed_hours(asset, plan, first_hour, last_hour, now_us)
                )
            result[asset.pk] = result[asset.pk] + summed
    return result


def asset_oee(
    asset: Asset,
    start: datetime,
    end: datetime,
    *,
    plan: Plan | None = None,
    now: datetime | None = None,
) -> Oee:
    """The OEE of one asset over [start, end) (so far, if it reaches past now)."""
    plan = plan or line_plan(asset.line)
    return assets_oee([asset], start, end, plan=plan, now=now)[asset.pk]


def line_assets(line: Line) -> list[Asset]:
    """The assets a line's OEE is made of: those that make parts (with an ideal cycle time).

    Conveyors, pumps and fans serve the machines that make the parts; their stops show in the
    producing machines' own states. A line with no producing asset set up counts them all, so
    it still has an availability.
    """
    assets = list(
        Asset.objects.filter(line=line).select_related("line").order_by("position", "name")
    )
    producing = [asset for asset in assets if asset.ideal_cycle_time_s]
    return producing or assets


@dataclass
class LineOee:
    total: Oee
    per_asset: dict[int, Oee]
    # The line's OEE per hour (start of the hour in µs), for the trend.
    hourly: list[tuple[int, Oee]]


def line_oee_detail(
    line: Line, start: datetime, end: datetime, *, now: datetime | None = None
) -> LineOee:
    """The OEE of a line over [start, end): in all, per asset and per hour (for a shift's
    trend; long periods go through `line_oee`). See `calculation.combine` for how the line's
    figure comes from its assets'."""
    pieces = assets_pieces(line_assets(line), start, end, plan=line_plan(line), now=now)
    per_asset = {pk: calculation.combine(oee for _, oee in parts) for pk, parts in pieces.items()}
    by_hour: dict[int, list[Oee]] = {}
    for parts in pieces.values():
        for piece_start, oee in parts:
            by_hour.setdefault(piece_start - piece_start % HOUR_US, []).append(oee)
    hourly = [(hour, calculation.combine(parts)) for hour, parts in sorted(by_hour.items())]
    return LineOee(
        total=calculation.combine(per_asset.values()), per_asset=per_asset, hourly=hourly
    )


def line_oee(
    line: Line, start: datetime, end: datetime, *, now: datetime | None = None
) -> tuple[Oee, dict[int, Oee]]:
    """The OEE of a line over [start, end), and of each of its assets."""
    per_asset = assets_oee(line_assets(line), start, end, plan=line_plan(line), now=now)
    return calculation.combine(per_asset.values()), per_asset


@dataclass
class OeeBucket:
    """The OEE of one hour or one shift of a period, its bounds clipped to the period."""

    start: datetime
    end: datetime
    oee: Oee
    # For a shift: its name and the local date it belongs to (the day it starts on).
    shift: str = ""
    day: date | None = None


def oee_by_hour(
    assets: list[Asset], start: datetime, end: datetime, *, plan: Plan, now: datetime | None = None
) -> list[OeeBucket]:
    """The assets' OEE together per UTC hour of [start, end), in time order: closed hours
    from their snapshots, the edges and the open hour from events; no hour after now."""
    by_hour: dict[int, list[Oee]] = {}
    for parts in assets_pieces(assets, start, end, plan=plan, now=now).values():
        for piece_start, oee in parts:
            by_hour.setdefault(piece_start - piece_start % HOUR_US, []).append(oee)
    return [
        OeeBucket(
            start=max(us_to_datetime(hour), start),
            end=min(us_to_datetime(hour + HOUR_US), end),
            oee=calculation.combine(parts),
        )
        for hour, parts in sorted(by_hour.items())
    ]


def oee_by_shift(
    assets: list[Asset], start: datetime, end: datetime, *, plan: Plan, now: datetime | None = None
) -> list[OeeBucket]:
    """The assets' OEE together per shift that overlaps [start, end), in time order, each
    clipped to the period; shifts not begun by now are left out. Only shifts plan production
    time, so time outside them adds nothing to the period's OEE."""
    now = now or timezone.now()
    buckets = []
    for shift in plan.shifts(datetime_to_us(start), datetime_to_us(end)):
        shift_start = max(us_to_datetime(shift.start_us), start)
        shift_end = min(us_to_datetime(shift.end_us), end)
        if shift_start >= now:
            continue
        per_asset = assets_oee(assets, shift_start, shift_end, plan=plan, now=now)
        buckets.append(
            OeeBucket(
                start=shift_start,
                end=shift_end,
                oee=calculation.combine(per_asset.values()),
                shift=shift.name,
                day=shift.day,
            )
        )
    return buckets


# --- a shift as it happened ------------------------------------------------------------------


def shifts_begun(
    line: Line, *, now: datetime | None = None, days: int = 7, plan: Plan | None = None
) -> list[PlannedShift]:
    """The line's shifts begun within the last `days` days, newest first."""
    now_us = datetime_to_us(now or timezone.now())
    shifts = (plan or line_plan(line)).shifts(now_us - days * 24 * HOUR_US, now_us + 1)
    return [shift for shift in reversed(shifts) if shift.start_us <= now_us]


def shift_on(line: Line, *, day: date, name: str) -> PlannedShift | None:
    """The line's shift `name` that starts on the local date `day`, or None if its calendar
    has none that day (not a working day, a holiday, no such shift)."""
    plan = line_plan(line)
    midnight = datetime.combine(day, time(0), tzinfo=plan.tz)
    start_us = datetime_to_us(midnight)
    for shift in plan.shifts(start_us, start_us + 48 * HOUR_US):
        if shift.day == day and shift.name == name:
            return shift
    return None


@dataclass
class Stop:
    """A machine's run of one stop state: one stop however often the machine repeated the
    state. Its id is its first event's, which is where an operator's reason goes."""

    id: int
    asset_id: int
    asset: str
    state: str
    start: datetime
    # When the machine changed state next; None while it is still stopped.
    until: datetime | None
    # The operator's reason code if one was given, else the machine's own; "" for neither.
    reason: str = ""
    by_operator: bool = False
    # The username of the operator who gave the reason, "" if unknown or not an operator's.
    explained_by: str = ""


def line_stops(line: Line, start: datetime, end: datetime) -> list[Stop]:
    """The stops (every state but running) begun in [start, end) on the line's machines,
    oldest first, each with its reason and its end, which may lie after `end`."""
    events = list(
        StateEvent.objects.filter(asset__line=line, ts__gte=start, ts__lt=end)
        .order_by("asset_id", "ts")
        .values_list("pk", "asset_id", "asset__name", "ts", "state", "reason")
    )
    entries = {
        event_id: (code, username or "")
        for event_id, code, username in StopReasonEntry.objects.filter(
            event_id__in=[event[0] for event in events]
        ).values_list("event_id", "reason__code", "entered_by__username")
    }
    runs: list[Stop] = []
    for pk, asset_id, asset_name, ts, state, machine_reason in events:
        run = runs[-1] if runs and runs[-1].asset_id == asset_id else None
        if run is None or run.state != state:
            if run is not None:
                run.until = ts
            run = Stop(
                id=pk, asset_id=asset_id, asset=asset_name, state=state, start=ts, until=None
            )
            runs.append(run)
        # The first operator's reason outranks the machine's, of which the first counts.
        if pk in entries and not run.by_operator:
            run.reason, run.explained_by = entries[pk]
            run.by_operator = True
        elif machine_reason and not run.reason:
            run.reason = machine_reason
    stops = [run for run in runs if run.state != MachineState.RUNNING]
    for stop in stops:
        if stop.until is None:  # the last state of the period: when did it change after?
            stop.until = (
                StateEvent.objects.filter(asset_id=stop.asset_id, ts__gte=end)
                .exclude(state=stop.state)
                .order_by("ts")
                .values_list("ts", flat=True)
                .first()
            )
    return sorted(stops, key=lambda stop: (stop.start, stop.asset))


@dataclass
class ScrapRecord:
    """Parts an operator found to be scrap, as recorded on the OEE screen."""

    asset: str
    ts: datetime
    quantity: int
    reason: str
    entered_by: str


def line_scrap_records(line: Line, start: datetime, end: datetime) -> list[ScrapRecord]:
    """The scrap operators recorded for parts made in [start, end) on the line, oldest first."""
    return [
        ScrapRecord(asset=asset, ts=ts, quantity=quantity, reason=reason, entered_by=by or "")
        for asset, ts, quantity, reason, by in ScrapEntry.objects.filter(
            asset__line=line, ts__gte=start, ts__lt=end
        )
        .order_by("ts", "pk")
        .values_list("asset__name", "ts", "quantity", "reason", "entered_by__username")
    ]
