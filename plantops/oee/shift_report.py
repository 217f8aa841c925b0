"""What a shift's report shows, to print on one A4 page: the shift's OEE with A, P, Q and its
parts, OEE per hour, the six big losses and the down time by reason, its longest stops with
their reasons, and its scrap per machine with what operators recorded. Also which shifts the
line page offers reports of.

Times stay aware datetimes; the report names the site's time zone, in which they are shown.
Its words (the losses, a stop's state, who gave a reason) are in the active language.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import plotly.graph_objects as go
from django.utils import timezone
from django.utils.translation import gettext, ngettext, pgettext

from plantops.assets.models import Asset, Line
from plantops.assets.states import MachineState
from plantops.core import charts
from plantops.core.time import datetime_to_us, us_to_datetime
from plantops.oee.calculation import Oee
from plantops.oee.calendar import PlannedShift
from plantops.oee.events import line_plan
from plantops.oee.reasons import reason_labels, shown
from plantops.oee.screens import pareto
from plantops.oee.selectors import (
    Stop,
    line_oee_detail,
    line_scrap_records,
    line_stops,
    shifts_begun,
)

# What fits one A4 page beside the figures, the chart and the losses; the rest is summed up.
STOPS_ON_REPORT = 10
SCRAP_RECORDS_ON_REPORT = 5
# The report links the line page offers, newest first.
RECENT_SHIFTS = 6


def _ratio(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _minutes(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60, 1)


def _losses(oee: Oee) -> list[dict]:
    """The six big losses as rows: time losses in minutes, quality losses in parts."""
    figures = oee.loss_figures()
    stops = oee.losses.breakdowns
    return [
        {
            "label": gettext("Breakdowns"),
            "minutes": _minutes(figures["breakdowns_s"]),
            "note": ngettext("%(count)s stop", "%(count)s stops", stops) % {"count": stops},
        },
        {
            "label": gettext("Setup and changeover"),
            "minutes": _minutes(figures["setup_changeover_s"]),
        },
        {"label": gettext("Small stops"), "minutes": _minutes(figures["small_stops_s"])},
        {"label": gettext("Reduced speed"), "minutes": _minutes(figures["reduced_speed_s"])},
        {"label": gettext("Start-up rejects"), "parts": figures["startup_rejects"]},
        {"label": gettext("Production rejects"), "parts": figures["production_rejects"]},
    ]


def _hourly_figure(hourly: list[dict], tz: ZoneInfo) -> dict[str, Any]:
    """Each hour's OEE as an ink bar with its figure written above it: the page is printed,
    often without colour, so the value is read, not the bar's colour."""
    percents = [None if hour["oee"] is None else round(hour["oee"] * 100) for hour in hourly]
    heights = [percent or 0 for percent in percents]
    bar = go.Bar(
        x=charts.hour_labels([hour["hour"] for hour in hourly], tz),
        y=heights,
        text=["—" if percent is None else f"{percent}%" for percent in percents],
        textposition="outside",
        cliponaxis=False,
        marker={"color": charts.COLORS["ink"]},
        hovertemplate="%{x}: %{text}<extra></extra>",
    )
    # OEE above 100 % means an ideal cycle time set too slow: show it, not clip it; and leave
    # room above the tallest bar for its figure.
    top = max([100, *heights]) * 1.15
    # Quarter steps while the scale is about 100 %; Plotly's own steps on a taller one.
    steps = {"dtick": 25} if top <= 150 else {}
    return charts.figure(
        [bar],
        charts.layout(
            margin={"l": 52, "r": 12, "t": 8, "b": 52},
            xaxis={**charts.AXIS, "type": "category", "title": charts.time_title(tz)},
            yaxis={**charts.AXIS, "range": [0, top], "ticksuffix": "%", **steps},
        ),
    )


def _stop_row(stop: Stop, labels: dict[str, str], now: datetime) -> dict:
    return {
        "asset": stop.asset,
        "state": gettext(MachineState(stop.state).label),
        "start": stop.start,
        "until": stop.until,
        "minutes": _minutes(((stop.until or now) - stop.start).total_seconds()),
        "reason": shown(stop.reason, labels[stop.reason]),
        "given_by": (stop.explained_by or pgettext("who gave a stop its reason", "an operator"))
        if stop.by_operator
        else (pgettext("who gave a stop its reason", "the machine") if stop.reason else ""),
    }


def _stops(stops: list[Stop], now: datetime) -> dict:
    """The longest stops, in time order, and what the others add up to."""
    labels = reason_labels(stop.reason for stop in stops)
    rows = [_stop_row(stop, labels, now) for stop in stops]
    longest = sorted(range(len(rows)), key=lambda i: rows[i]["minutes"], reverse=True)
    shown = sorted(longest[:STOPS_ON_REPORT])
    others = [rows[i] for i in longest[STOPS_ON_REPORT:]]
    return {
        "count": len(rows),
        "rows": [rows[i] for i in shown],
        "others": len(others),
        "others_minutes": round(sum(row["minutes"] for row in others), 1),
    }


def shift_report(
    line: Line, shift: PlannedShift, *, now: datetime | None = None, tz: ZoneInfo | None = None
) -> dict:
    """Everything the shift's report shows (so far, for a shift still running), its times on the
    clock of `tz` (the viewer's), else the site's."""
    now = now or timezone.now()
    start, end = us_to_datetime(shift.start_us), us_to_datetime(shift.end_us)
    detail = line_oee_detail(line, start, end, now=now)
    total = detail.total
    names = dict(Asset.objects.filter(pk__in=detail.per_asset).values_list("pk", "name"))
    scrap = line_scrap_records(line, start, end)
    hourly = [
        {
            "hour": us_to_datetime(hour),
            "oee": _ratio(oee.oee),
            "availability": _ratio(oee.availability),
            "performance": _ratio(oee.performance),
            "quality": _ratio(oee.quality),
        }
        for hour, oee in detail.hourly
    ]
    tz = tz or line_plan(line).tz
    return {
        "line": {"id": line.pk, "name": line.name},
        "tz": tz.key,
        "made_at": now,
        "shift": {
            "name": shift.name,
            "day": shift.day,
            "start": start,
            "end": end,
            "running": shift.start_us <= datetime_to_us(now) < shift.end_us,
            # The calendar's production time, breaks out; the figures' is per machine.
            "planned_minutes": _minutes(shift.planned_s),
        },
        "oee": {
            "oee": _ratio(total.oee),
            "availability": _ratio(total.availability),
            "performance": _ratio(total.performance),
            "quality": _ratio(total.quality),
            "planned_minutes": _minutes(total.planned_s),
            "run_minutes": _minutes(total.run_s),
            "total_count": total.total_count,
            "good_count": total.good_count,
            "scrap_count": total.total_count - total.good_count,
        },
        "hourly": hourly,
        # Its hours labelled as the wall clock of the report's zone reads them.
        "hourly_figure": _hourly_figure(hourly, tz),
        "losses": _losses(total),
        "pareto": [
            {**bar, "minutes": _minutes(bar["seconds"])} for bar in pareto(total.downtime_by_reason)
        ],
        "stops": _stops(line_stops(line, start, end), now),
        "machines": [
            {
                "name": names.get(pk, ""),
                "oee": _ratio(oee.oee),
                "total_count": oee.total_count,
                "good_count": oee.good_count,
                "scrap_count": oee.total_count - oee.good_count,
                "quality": _ratio(oee.quality),
            }
            for pk, oee in detail.per_asset.items()
        ],
        "scrap_records": scrap[:SCRAP_RECORDS_ON_REPORT],
        "scrap_records_more": sum(r.quantity for r in scrap[SCRAP_RECORDS_ON_REPORT:]),
    }


def shift_choices(line: Line, *, now: datetime | None = None) -> dict:
    """The shifts the line page offers reports of: the last few begun, newest first, and the
    line's shift names and the site's date today, to choose any other."""
    now = now or timezone.now()
    plan = line_plan(line)
    return {
        "tz": plan.tz.key,
        "today": now.astimezone(plan.tz).date(),
        "names": [pattern.name for pattern in sorted(plan.patterns, key=lambda p: p.start)],
        "recent": [
            {
                "name": shift.name,
                "day": shift.day,
                "start": us_to_datetime(shift.start_us),
                "end": us_to_datetime(shift.end_us),
            }
            for shift in shifts_begun(line, now=now, days=3, plan=plan)[:RECENT_SHIFTS]
        ],
    }
