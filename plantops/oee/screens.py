"""What the OEE screens show, as JSON-ready payloads: a line's shift with A, P, Q, its hourly
trend, the down-time Pareto and the stops waiting for a reason; the floor's OEE board.

A line's screen carries the words its page shows (a stop's state, the Pareto's labels, the
charts' axes) in the active language, as plain strings; keys and codes stay English."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django.utils import timezone
from django.utils.translation import gettext

from plantops.assets.models import Asset, Line
from plantops.assets.states import UNEXPLAINED_STOPS, MachineState
from plantops.core.time import datetime_to_us, us_to_datetime
from plantops.oee import calendar, charts
from plantops.oee.calculation import Oee
from plantops.oee.events import Plan, line_plan
from plantops.oee.reasons import reason_labels, shown
from plantops.oee.selectors import line_oee, line_oee_detail, line_stops


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
        "no_data_s": round(oee.losses.no_data_s, 3),
        "no_data_share": None if oee.no_data_share is None else round(oee.no_data_share, 4),
        "breakdowns": oee.losses.breakdowns,
        "mtbf_s": None if oee.mtbf_s is None else round(oee.mtbf_s, 1),
        "mttr_s": None if oee.mttr_s is None else round(oee.mttr_s, 1),
        "downtime_by_reason": {k: round(v, 3) for k, v in oee.downtime_by_reason.items()},
        "status": "ok" if oee.has_plan else "no_plan",
    }


STOP_STATES = UNEXPLAINED_STOPS
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


def _state_label(state: str) -> str:
    """A machine state's word in the active language ("Störung" for "down")."""
    return gettext(MachineState(state).label)


def stops_awaiting_reason(
    line: Line, start: datetime, end: datetime, *, now: datetime
) -> list[dict]:
    """Stops begun in [start, end) that nobody has explained yet, newest first, with their
    length (so far, for a machine still stopped)."""
    stops = [
        {
            "id": stop.id,
            "asset": stop.asset,
            "state": stop.state,
            "state_label": _state_label(stop.state),
            "start": stop.start.isoformat(),
            "seconds": round(((stop.until or now) - stop.start).total_seconds()),
            "ongoing": stop.until is None,
        }
        for stop in line_stops(line, start, end)
        if stop.state in STOP_STATES and not stop.reason
    ]
    stops.sort(key=lambda stop: stop["start"], reverse=True)
    return stops[:MAX_STOPS_LISTED]


def pareto(downtime_by_reason: dict[str, float]) -> list[dict]:
    """Down time by reason, largest first, with the reasons' labels (in the active language
    for a stop with no reason)."""
    labels = reason_labels(downtime_by_reason)
    bars = [
        {"code": code, "label": shown(code, labels[code]), "seconds": round(s)}
        for code, s in downtime_by_reason.items()
        if s > 0
    ]
    return sorted(bars, key=lambda bar: bar["seconds"], reverse=True)


def _ratio(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def with_figures(screen: dict, tz: ZoneInfo) -> dict:
    """The screen with its charts composed as figures, drawn as they are by the page."""
    return screen | {
        "figures": {
            "hourly": charts.hourly_figure(screen["hourly"], tz),
            "pareto": charts.pareto_figure(screen["pareto"]),
        }
    }


def for_viewer(screen: dict, tz: ZoneInfo) -> dict:
    """A screen made once for every viewer (in the language of the process that pushed it, on
    the site's clock), in the active language and with its charts on the clock of `tz`. Pure:
    the words come from the screen's own codes."""
    return with_figures(
        screen
        | {
            "pareto": [
                bar | {"label": shown(bar["code"], bar["label"])} for bar in screen["pareto"]
            ],
            "stops": [
                stop | {"state_label": _state_label(stop["state"])} for stop in screen["stops"]
            ],
        },
        tz,
    )


def line_screen(line: Line, *, now: datetime | None = None, tz: ZoneInfo | None = None) -> dict:
    """Everything the line's OEE screen shows: the current (or last) shift's OEE with A, P, Q,
    the line's hourly trend, the down-time Pareto and the stops waiting for a reason, and the
    charts of the trend and the Pareto as figures, their hours on the clock of `tz` (the
    viewer's; the site's for a screen pushed to every viewer, `for_viewer` redraws it)."""
    now = now or timezone.now()
    tz = tz or ZoneInfo(line.area.site.timezone)
    plan = line_plan(line)
    shift = current_shift(plan, now)
    base = {"line": {"id": line.pk, "name": line.name}, "at": now.isoformat()}
    if shift is None:
        empty = {"shift": None, "oee": None, "hourly": [], "pareto": [], "stops": [], "assets": []}
        return with_figures(base | empty, tz)
    start, end = us_to_datetime(shift.start_us), us_to_datetime(shift.end_us)
    detail = line_oee_detail(line, start, end, now=now)
    names = dict(Asset.objects.filter(pk__in=detail.per_asset).values_list("pk", "name"))
    total = detail.total
    screen = base | {
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
                "no_data_share": _ratio(oee.no_data_share),
                "breakdowns": oee.losses.breakdowns,
                "mtbf_s": None if oee.mtbf_s is None else round(oee.mtbf_s),
                "mttr_s": None if oee.mttr_s is None else round(oee.mttr_s),
            }
            for pk, oee in detail.per_asset.items()
        ],
    }
    return with_figures(screen, tz)


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
                "no_data_share": _ratio(total.no_data_share),
                "status": "ok" if total.has_plan else "no_plan",
            }
        board.append(entry)
    return board
