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

from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone

from plantops.assets.models import Asset, Holiday, Line, ProductCycleTime, Shift
from plantops.oee import calculation, calendar
from plantops.oee.calculation import Count, Oee, Params, Span
from plantops.oee.models import (
    CountEvent,
    OeeHour,
    ScrapEntry,
    StateEvent,
    StopReason,
    StopReasonEntry,
)
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
        period=(start_us, end_us),
    )


# --- snapshots ------------------------------------------------------------------------------

_TOTALS = ("planned_s", "run_s", "ideal_run_s", "total_count", "good_count")
_LOSSES = (
    "breakdowns",
    "breakdowns_s",
    "changeover_s",
    "small_stops_s",
    "startup_rejects",
    "production_rejects",
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


def _hours(
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
    return [(hour, made[hour] if hour in made else _from_snapshot(stored[hour])) for hour in wanted]


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
                (edge_start, _raw(asset, plan, events[asset.pk], edge_start, edge_end))
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
            pieces[asset.pk] += _hours(asset, plan, first_hour, last_hour, now_us)
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
        totals = _snapshot_totals([a.pk for a in assets], first_hour, last_hour)
        for asset in assets:
            hours, summed = totals.get(asset.pk, (0, None))
            if hours < wanted:  # some hours have no snapshot yet: make them
                summed = calculation.combine(
                    oee for _, oee in _hours(asset, plan, first_hour, last_hour, now_us)
                )
            result[asset.pk] = result[asset.pk] + summed
    return result


def _snapshot_totals(
    asset_ids: list[int], start_us: int, end_us: int
) -> dict[int, tuple[int, Oee]]:
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
        "breakdowns": oee.losses.breakdowns,
        "mtbf_s": None if oee.mtbf_s is None else round(oee.mtbf_s, 1),
        "mttr_s": None if oee.mttr_s is None else round(oee.mttr_s, 1),
        "downtime_by_reason": {k: round(v, 3) for k, v in oee.downtime_by_reason.items()},
        "status": "ok" if oee.has_plan else "no_plan",
    }


# --- the screens ----------------------------------------------------------------------------

NOT_EXPLAINED = "Not explained yet"
STOP_STATES = ("down", "idle")
MAX_STOPS_LISTED = 30


def current_shift(plan: Plan, now: datetime) -> calendar.PlannedShift | None:
    """The shift running now, else the one that ended last within a day."""
    now_us = datetime_to_us(now)
    shifts = plan.shifts(now_us - 86_400_000_000, now_us + 1)
    running = [s for s in shifts if s.start_us <= now_us < s.end_us]
    if running:
        return running[0]
    ended = [s for s in shifts if s.end_us <= now_us]
    return ended[-1] if ended else None


def stops_awaiting_reason(
    line: Line, start: datetime, end: datetime, *, now: datetime
) -> list[dict]:
    """Stops begun in [start, end) that nobody has explained yet, newest first, with their
    length. A stop is a run of one stop state, however often the machine repeated it; its id
    is its first event's, which is where an operator's reason goes."""
    events = list(
        StateEvent.objects.filter(asset__line=line, ts__gte=start, ts__lt=end)
        .order_by("asset_id", "ts")
        .values_list("pk", "asset_id", "asset__name", "ts", "state", "reason")
    )
    explained = set(
        StopReasonEntry.objects.filter(event_id__in=[e[0] for e in events]).values_list(
            "event_id", flat=True
        )
    )
    runs: list[dict] = []
    for pk, asset_id, asset_name, ts, state, reason in events:
        run = runs[-1] if runs else None
        if run and run["asset_id"] == asset_id and run["state"] == state:
            run["explained"] |= bool(reason) or pk in explained
            continue
        if run and run["asset_id"] == asset_id:
            run["until"] = ts
        runs.append(
            {
                "id": pk,
                "asset_id": asset_id,
                "asset": asset_name,
                "state": state,
                "start": ts,
                "until": None,
                "explained": bool(reason) or pk in explained,
            }
        )
    stops = []
    for run in runs:
        if run["state"] not in STOP_STATES or run["explained"]:
            continue
        until = run["until"]
        if until is None:  # still the last state of the period: when did it change after?
            later = StateEvent.objects.filter(asset_id=run["asset_id"], ts__gte=end).exclude(
                state=run["state"]
            )
            until = later.order_by("ts").values_list("ts", flat=True).first()
        stops.append(
            {
                "id": run["id"],
                "asset": run["asset"],
                "state": run["state"],
                "start": run["start"].isoformat(),
                "seconds": round(((until or now) - run["start"]).total_seconds()),
                "ongoing": until is None,
            }
        )
    stops.sort(key=lambda stop: stop["start"], reverse=True)
    return stops[:MAX_STOPS_LISTED]


def pareto(downtime_by_reason: dict[str, float]) -> list[dict]:
    """Down time by reason, largest first, with the reasons' labels."""
    labels = dict(StopReason.objects.values_list("code", "label"))
    bars = [
        {
            "code": code,
            "label": labels.get(code, code) if code else NOT_EXPLAINED,
            "seconds": round(s),
        }
        for code, s in downtime_by_reason.items()
        if s > 0
    ]
    return sorted(bars, key=lambda bar: bar["seconds"], reverse=True)


def _ratio(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def line_screen(line: Line, *, now: datetime | None = None) -> dict:
    """Everything the line's OEE screen shows: the current (or last) shift's OEE with A, P, Q,
    the line's hourly trend, the down-time Pareto and the stops waiting for a reason."""
    now = now or timezone.now()
    plan = line_plan(line)
    shift = current_shift(plan, now)
    base = {"line": {"id": line.pk, "name": line.name}, "at": now.isoformat()}
    if shift is None:
        return base | {
            "shift": None,
            "oee": None,
            "hourly": [],
            "pareto": [],
            "stops": [],
            "assets": [],
        }
    start, end = us_to_datetime(shift.start_us), us_to_datetime(shift.end_us)
    detail = line_oee_detail(line, start, end, now=now)
    names = dict(Asset.objects.filter(pk__in=detail.per_asset).values_list("pk", "name"))
    total = detail.total
    return base | {
        "shift": {
            "name": shift.name,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "running": shift.start_us <= datetime_to_us(now) < shift.end_us,
        },
        "oee": {
            **oee_payload(total),
            **{
                k: _ratio(getattr(total, k))
                for k in ("availability", "performance", "quality", "oee")
            },
        },
        "hourly": [
            {
                "hour": us_to_datetime(hour).isoformat(),
                "oee": _ratio(oee.oee),
                "availability": _ratio(oee.availability),
            }
            for hour, oee in detail.hourly
        ],
        "pareto": pareto(total.downtime_by_reason),
        "stops": stops_awaiting_reason(line, start, end, now=now),
        "assets": [
            {
                "id": pk,
                "name": names.get(pk, ""),
                "oee": _ratio(oee.oee),
                "availability": _ratio(oee.availability),
                "breakdowns": oee.losses.breakdowns,
                "mtbf_s": None if oee.mtbf_s is None else round(oee.mtbf_s),
                "mttr_s": None if oee.mttr_s is None else round(oee.mttr_s),
            }
            for pk, oee in detail.per_asset.items()
        ],
    }


def floor_board(*, now: datetime | None = None) -> list[dict]:
    """Every line's current (or last) shift OEE, in floor order, for the floor-level board."""
    now = now or timezone.now()
    board = []
    for line in Line.objects.select_related("area__site").order_by("position", "name"):
        plan = line_plan(line)
        shift = current_shift(plan, now)
        entry = {
            "id": line.pk,
            "name": line.name,
            "area": line.area.name,
            "shift": None,
            "oee": None,
        }
        if shift is not None:
            total, _ = line_oee(
                line, us_to_datetime(shift.start_us), us_to_datetime(shift.end_us), now=now
            )
            entry |= {
                "shift": shift.name,
                "running": shift.start_us <= datetime_to_us(now) < shift.end_us,
                "oee": _ratio(total.oee),
                "availability": _ratio(total.availability),
                "performance": _ratio(total.performance),
                "quality": _ratio(total.quality),
                "status": "ok" if total.has_plan else "no_plan",
            }
        board.append(entry)
    return board
