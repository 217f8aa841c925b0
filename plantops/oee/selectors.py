"""Reads for OEE: an asset's or a line's OEE over any period, fast over months.

A period is cut into its closed whole UTC hours, read from `OeeHour` snapshots (made here on
first read and by the beat), and the partial hours at its edges and the open current hour,
computed from the state and count events. Both go through `calculation.oee_of`, so a figure
is the same whichever way it was reached.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.utils import timezone

from plantops.assets.models import Asset, Holiday, Line, Shift
from plantops.oee import calculation, calendar
from plantops.oee.calculation import Count, Oee, Params, Span
from plantops.oee.models import CountEvent, OeeHour, ScrapEntry, StateEvent, StopReasonEntry
from plantops.telemetry.payloads import datetime_to_us, us_to_datetime

HOUR_US = 3_600 * 1_000_000


@dataclass(frozen=True)
class Plan:
    """What a line's OEE needs besides events: its shifts, holidays, time zone and settings."""

    patterns: tuple[calendar.ShiftPattern, ...]
    holidays: frozenset
    tz: ZoneInfo
    small_stop_s: float
    startup_s: float

    def windows(self, start_us: int, end_us: int) -> list[tuple[int, int]]:
        shifts = calendar.planned_shifts(
            self.patterns, tz=self.tz, start_us=start_us, end_us=end_us, holidays=self.holidays
        )
        return calendar.planned_windows(shifts, start_us, end_us)

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


# --- events ---------------------------------------------------------------------------------


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


def asset_events(asset_id: int, start_us: int, end_us: int, now_us: int) -> AssetEvents:
    """States and counts for [start_us, end_us), with the state in force at the start and the
    first change after the end, so every stop keeps its whole length."""
    start, end = us_to_datetime(start_us), us_to_datetime(end_us)
    events = StateEvent.objects.filter(asset_id=asset_id)
    before = events.filter(ts__lt=start).order_by("-ts").values_list("ts").first()
    after = events.filter(ts__gte=end).order_by("ts").values_list("ts").first()
    lower = before[0] if before else start
    upper = after[0] if after else end
    rows = (
        events.filter(ts__gte=lower, ts__lte=upper)
        .order_by("ts")
        .values_list("pk", "ts", "state", "reason")
    )
    entered = dict(
        StopReasonEntry.objects.filter(
            event__asset_id=asset_id, event__ts__gte=lower, event__ts__lte=upper
        ).values_list("event_id", "reason__code")
    )
    changes = [
        (datetime_to_us(ts), state, entered.get(pk) or reason) for pk, ts, state, reason in rows
    ]
    # Without a later change, the last state lasts to the end of the period (never past now).
    horizon = datetime_to_us(upper) if after else min(end_us, now_us)
    spans = calculation.spans_from_events(changes, start_us=start_us, end_us=horizon)
    counts = [
        Count(datetime_to_us(ts), good, scrap)
        for ts, good, scrap in CountEvent.objects.filter(
            asset_id=asset_id, ts__gte=start, ts__lt=end
        )
        .order_by("ts")
        .values_list("ts", "good", "scrap")
    ]
    # Scrap an operator found among good parts moves them from good to scrap.
    counts += [
        Count(datetime_to_us(ts), -quantity, quantity)
        for ts, quantity in ScrapEntry.objects.filter(
            asset_id=asset_id, ts__gte=start, ts__lt=end
        ).values_list("ts", "quantity")
    ]
    counts.sort(key=lambda c: c.ts_us)
    return AssetEvents(
        spans=spans,
        span_starts=[s.start_us for s in spans],
        counts=counts,
        count_times=[c.ts_us for c in counts],
    )


def _raw(asset: Asset, plan: Plan, events: AssetEvents, start_us: int, end_us: int) -> Oee:
    return calculation.oee_of(
        spans=events.spans_in(start_us, end_us),
        counts=events.counts_in(start_us, end_us),
        planned=plan.windows(start_us, end_us),
        params=Params(
            ideal_cycle_s=asset.ideal_cycle_time_s,
            small_stop_s=plan.small_stop_s,
            startup_s=plan.startup_s,
        ),
    )


# --- snapshots ------------------------------------------------------------------------------

_TOTALS = ("planned_s", "run_s", "ideal_run_s", "total_count", "good_count")
_LOSSES = ("breakdowns_s", "changeover_s", "small_stops_s", "startup_rejects", "production_rejects")


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


def _hours(asset: Asset, plan: Plan, start_us: int, end_us: int, now_us: int) -> list[Oee]:
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
        events = asset_events(asset.pk, missing[0], missing[-1] + HOUR_US, now_us)
        for hour in missing:
            made[hour] = _raw(asset, plan, events, hour, hour + HOUR_US)
        try:
            with transaction.atomic():
                OeeHour.objects.bulk_create(
                    [_to_snapshot(asset.pk, hour, made[hour]) for hour in missing],
                    ignore_conflicts=True,
                )
        except IntegrityError:  # pragma: no cover - the asset was deleted meanwhile
            pass
    return [made[hour] if hour in made else _from_snapshot(stored[hour]) for hour in wanted]


def asset_oee(
    asset: Asset,
    start: datetime,
    end: datetime,
    *,
    plan: Plan | None = None,
    now: datetime | None = None,
) -> Oee:
    """The OEE of one asset over [start, end)."""
    plan = plan or line_plan(asset.line)
    now_us = datetime_to_us(now or timezone.now())
    # What has not happened yet is neither planned time nor loss: a shift's OEE so far.
    start_us, end_us = datetime_to_us(start), min(datetime_to_us(end), now_us)
    if end_us <= start_us:
        return Oee()
    first_hour = -(-start_us // HOUR_US) * HOUR_US
    # Only closed hours are kept: the current one still changes as time passes.
    last_hour = end_us // HOUR_US * HOUR_US
    if last_hour - first_hour < HOUR_US:
        events = asset_events(asset.pk, start_us, end_us, now_us)
        return _raw(asset, plan, events, start_us, end_us)
    parts = _hours(asset, plan, first_hour, last_hour, now_us)
    for edge_start, edge_end in ((start_us, first_hour), (last_hour, end_us)):
        if edge_end > edge_start:
            events = asset_events(asset.pk, edge_start, edge_end, now_us)
            parts.append(_raw(asset, plan, events, edge_start, edge_end))
    return calculation.combine(parts)


def line_assets(line: Line) -> list[Asset]:
    return list(Asset.objects.filter(line=line).select_related("line").order_by("position", "name"))


def line_oee(
    line: Line, start: datetime, end: datetime, *, now: datetime | None = None
) -> tuple[Oee, dict[int, Oee]]:
    """The OEE of a line over [start, end), and of each of its assets; see `calculation.combine`
    for how the line's figure comes from its assets'."""
    plan = line_plan(line)
    per_asset = {
        asset.pk: asset_oee(asset, start, end, plan=plan, now=now) for asset in line_assets(line)
    }
    return calculation.combine(per_asset.values()), per_asset


def oee_payload(oee: Oee) -> dict:
    """The JSON form of an OEE result, as the API serves it."""
    return {
        "availability": oee.availability,
        "performance": oee.performance,
        "quality": oee.quality,
        "oee": oee.oee,
        "planned_s": round(oee.planned_s, 3),
        "run_s": round(oee.run_s, 3),
        "total_count": oee.total_count,
        "good_count": oee.good_count,
        "losses": oee.loss_figures(),
        "downtime_by_reason": {k: round(v, 3) for k, v in oee.downtime_by_reason.items()},
        "status": "ok" if oee.has_plan else "no_plan",
    }
