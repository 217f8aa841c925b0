"""Reads of what OEE is made of: a line's plan (shifts, holidays, time zone) and its machines'
state and count events, and OEE computed straight from them (`calculation.oee_of`).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from plantops.assets.models import Asset, Holiday, Line, ProductCycleTime, Shift
from plantops.core.time import datetime_to_us, us_to_datetime
from plantops.oee import calculation, calendar
from plantops.oee.calculation import Count, Oee, Params, Span
from plantops.oee.models import CountEvent, ScrapEntry, StateEvent, StopReasonEntry

HOUR_US = 3_600 * 1_000_000


@dataclass(frozen=True)
class Plan:
    """What a line's OEE needs besides events: its shifts, holidays, time zone and settings."""

    patterns: tuple[calendar.ShiftPattern, ...]
    holidays: frozenset
    tz: ZoneInfo
    small_stop_s: float
    startup_s: float
    # The windows of periods asked before: every asset of a line asks for the same hours.
    _windows: dict[tuple[int, int], list[tuple[int, int]]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def windows(self, start_us: int, end_us: int) -> list[tuple[int, int]]:
        known = self._windows.get((start_us, end_us))
        if known is None:
            shifts = calendar.planned_shifts(
                self.patterns, tz=self.tz, start_us=start_us, end_us=end_us, holidays=self.holidays
            )
            known = self._windows[(start_us, end_us)] = calendar.planned_windows(
                shifts, start_us, end_us
            )
        return list(known)

    def shifts(self, start_us: int, end_us: int) -> list[calendar.PlannedShift]:
        return calendar.planned_shifts(
            self.patterns, tz=self.tz, start_us=start_us, end_us=end_us, holidays=self.holidays
        )


def line_plan(line: Line) -> Plan:
    site = line.area.site
    shifts = Shift.objects.filter(line=line).prefetch_related("breaks")
    patterns = tuple(
        calendar.ShiftPattern(
            name=shift.name,
            start=shift.start,
            end=shift.end,
            weekdays=frozenset(int(d) for d in shift.weekdays),
            breaks=tuple((b.start, b.end) for b in shift.breaks.all()),
        )
        for shift in shifts
    )
    holidays = frozenset(Holiday.objects.filter(site=site).values_list("date", flat=True))
    return Plan(
        patterns=patterns,
        holidays=holidays,
        tz=ZoneInfo(site.timezone),
        small_stop_s=line.small_stop_s,
        startup_s=line.startup_reject_window_s,
    )


@dataclass
class AssetEvents:
    """An asset's state spans and counts around a period, ready for `oee_of`."""

    spans: list[Span]
    span_starts: list[int]
    counts: list[Count]
    count_times: list[int]

    def spans_in(self, start_us: int, end_us: int) -> list[Span]:
        # Spans are in time order and do not overlap: the one in force at start_us, those
        # starting before end_us, and the one before them all, which tells whether the first
        # is a restart (for start-up rejects); oee_of counts only time inside the period.
        first = max(0, bisect.bisect_right(self.span_starts, start_us) - 2)
        last = bisect.bisect_left(self.span_starts, end_us)
        return self.spans[first:last]

    def counts_in(self, start_us: int, end_us: int) -> list[Count]:
        first = bisect.bisect_left(self.count_times, start_us)
        last = bisect.bisect_left(self.count_times, end_us)
        return self.counts[first:last]


# Events are read for a period plus this much on either side, for all of a line's machines in
# one query; only a stop longer than this at an edge needs a query of its own to find its end.
MARGIN_US = HOUR_US


def assets_events(
    asset_ids: list[int], start_us: int, end_us: int, now_us: int
) -> dict[int, AssetEvents]:
    """States and counts of the assets for [start_us, end_us), reaching back to the change
    that began the state in force at the start and on to the change that ends the one in force
    at the end, so every stop keeps its whole length (a machine may repeat its state every
    minute). A few queries for all the assets, and one more per stop longer than MARGIN_US."""
    if not asset_ids:
        return {}
    start, end = us_to_datetime(start_us), us_to_datetime(end_us)
    lower, upper = us_to_datetime(start_us - MARGIN_US), us_to_datetime(end_us + MARGIN_US)
    by_asset: dict[int, list[tuple]] = {pk: [] for pk in asset_ids}
    for row in (
        StateEvent.objects.filter(asset_id__in=asset_ids, ts__gte=lower, ts__lte=upper)
        .order_by("asset_id", "ts")
        .values_list("asset_id", "pk", "ts", "state", "reason")
    ):
        by_asset[row[0]].append(row[1:])
    for asset_id, rows in by_asset.items():
        by_asset[asset_id] = _reach_whole_stops(asset_id, rows, start, end)
    event_ids = [row[0] for rows in by_asset.values() for row in rows]
    entered = dict(
        StopReasonEntry.objects.filter(event_id__in=event_ids).values_list(
            "event_id", "reason__code"
        )
    )
    counts: dict[int, list[Count]] = {pk: [] for pk in asset_ids}
    cycles = {
        (asset_id, product_id): cycle_s
        for asset_id, product_id, cycle_s in ProductCycleTime.objects.filter(
            asset_id__in=asset_ids
        ).values_list("asset_id", "product_id", "ideal_cycle_time_s")
    }
    for asset_id, ts, good, scrap, product_id in CountEvent.objects.filter(
        asset_id__in=asset_ids, ts__gte=start, ts__lt=end
    ).values_list("asset_id", "ts", "good", "scrap", "product_id"):
        cycle_s = cycles.get((asset_id, product_id)) if product_id else None
        counts[asset_id].append(Count(datetime_to_us(ts), good, scrap, cycle_s))
    # Scrap an operator found among good parts moves them from good to scrap.
    for asset_id, ts, quantity in ScrapEntry.objects.filter(
        asset_id__in=asset_ids, ts__gte=start, ts__lt=end
    ).values_list("asset_id", "ts", "quantity"):
        counts[asset_id].append(Count(datetime_to_us(ts), -quantity, quantity))
    result = {}
    for asset_id, rows in by_asset.items():
        changes = [
            (datetime_to_us(ts), state, entered.get(pk) or reason) for pk, ts, state, reason in rows
        ]
        # The rows end at the change that ends the state in force at the end, if it is known;
        # without one, the last state lasts to the end of the period (never past now).
        ends_later = bool(changes) and changes[-1][0] >= end_us
        horizon = changes[-1][0] if ends_later else min(end_us, now_us)
        spans = calculation.spans_from_events(changes, start_us=start_us, end_us=horizon)
        asset_counts = sorted(counts[asset_id], key=lambda c: c.ts_us)
        result[asset_id] = AssetEvents(
            spans=spans,
            span_starts=[s.start_us for s in spans],
            counts=asset_counts,
            count_times=[c.ts_us for c in asset_counts],
        )
    return result


def _reach_whole_stops(
    asset_id: int, rows: list[tuple], start: datetime, end: datetime
) -> list[tuple]:
    """The asset's rows `(pk, ts, state, reason)` read around [start, end), completed where
    the margin was not enough, and cut after the change that ends the state in force at `end`.

    Only a `down` stop's length changes the figures (breakdown or small stop), so only for a
    stop does a run that began before the margin, or lasts past it, cost a query. A machine
    that reported nothing within the margin before `start` costs one, to learn its state.
    """
    events = StateEvent.objects.filter(asset_id=asset_id)
    fields = ("pk", "ts", "state", "reason")
    before = [row for row in rows if row[1] < start]
    at_start = before[-1] if before else None
    if at_start is None:
        at_start = events.filter(ts__lt=start).order_by("-ts").values_list(*fields).first()
        if at_start is not None:
            rows = [at_start, *rows]
    began_in_rows = any(row[2] != at_start[2] for row in before) if at_start else True
    if at_start is not None and at_start[2] == calculation.DOWN and not began_in_rows:
        change = (
            (events.filter(ts__lt=rows[0][1]).exclude(state=at_start[2]).order_by("-ts"))
            .values_list(*fields)
            .first()
        )
        first = change[1] if change else rows[0][1]
        extra = events.filter(ts__gte=first, ts__lt=rows[0][1]).order_by("ts").values_list(*fields)
        rows = [*extra, *rows]
    inside = [row for row in rows if row[1] < end]
    if not inside:
        return rows
    state = inside[-1][2]
    after = [row for row in rows if row[1] >= end]
    change = next((row for row in after if row[2] != state), None)
    if change is None and state == calculation.DOWN:
        change = (
            events.filter(ts__gte=end)
            .exclude(state=state)
            .order_by("ts")
            .values_list(*fields)
            .first()
        )
        if change is not None:
            after = list(
                events.filter(ts__gte=end, ts__lte=change[1]).order_by("ts").values_list(*fields)
            )
    if change is None:
        return inside
    return inside + [row for row in after if row[1] <= change[1]]


def asset_events(asset_id: int, start_us: int, end_us: int, now_us: int) -> AssetEvents:
    """`assets_events` for one asset."""
    return assets_events([asset_id], start_us, end_us, now_us)[asset_id]


def oee_from_events(
    asset: Asset, plan: Plan, events: AssetEvents, start_us: int, end_us: int
) -> Oee:
    """The asset's OEE over [start_us, end_us), computed from its events."""
    return calculation.oee_of(
        spans=events.spans_in(start_us, end_us),
        counts=events.counts_in(start_us, end_us),
        planned=plan.windows(start_us, end_us),
        params=Params(
            ideal_cycle_s=asset.ideal_cycle_time_s,
            small_stop_s=plan.small_stop_s,
            startup_s=plan.startup_s,
        ),
        period=(start_us, end_us),
    )
