"""The line's OEE charts as figures: each hour's OEE coloured by its band, and down time by reason,
largest at the top. Pure: built from the screen's own payload (`screens.line_screen`), its words
in the active language (plain strings: a figure is JSON)."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import plotly.graph_objects as go
from django.utils.translation import gettext

from plantops.core import charts

COLORS = charts.COLORS
# The bands' colours as on the tiles, but a darker amber: the tiles' is too light for a bar on white.
BAND_COLORS = {"good": COLORS["green"], "fair": "#b7791f", "poor": COLORS["red"]}


def band(ratio: float | None) -> str:
    """The usual reading of OEE on a shop floor: 85 % is world class, under 60 % needs attention."""
    if ratio is None:
        return "none"
    return "good" if ratio >= 0.85 else "fair" if ratio >= 0.6 else "poor"


def _layout(**extra: Any) -> dict[str, Any]:
    base = {"margin": {"l": 56, "r": 16, "t": 8, "b": 64}, "font": {**charts.FONT, "size": 16}}
    return charts.layout(**(base | extra))


def hourly_figure(hours: list[dict[str, Any]], tz: ZoneInfo) -> dict[str, Any]:
    """Each hour's OEE in percent, labelled with its start on the site's clock."""
    percents = [0 if hour["oee"] is None else round(hour["oee"] * 100) for hour in hours]
    labels = charts.hour_labels([datetime.fromisoformat(hour["hour"]) for hour in hours], tz)
    bar = go.Bar(
        x=labels,
        y=percents,
        marker={"color": [BAND_COLORS.get(band(hour["oee"]), COLORS["grid"]) for hour in hours]},
        hovertemplate="%{x}: %{y}%<extra></extra>",
    )
    # OEE above 100 % means an ideal cycle time set too slow: show it, not clip it.
    top = max([100, *percents])
    return charts.figure(
        [bar],
        _layout(
            yaxis={"range": [0, top], "ticksuffix": "%", "gridcolor": COLORS["grid"]},
            xaxis={"type": "category", "title": charts.time_title(tz)},
        ),
    )


def pareto_figure(bars: list[dict[str, Any]]) -> dict[str, Any]:
    """Down time per reason in minutes (to 0.1, halves rounded up), the largest bar on top."""
    shown = list(reversed(bars))
    bar = go.Bar(
        orientation="h",
        y=[b["label"] for b in shown],
        x=[math.floor(b["seconds"] / 6 + 0.5) / 10 for b in shown],
        marker={"color": COLORS["blue"]},
        hovertemplate="%{y}: "
        + gettext("%(minutes)s min") % {"minutes": "%{x}"}
        + "<extra></extra>",
    )
    return charts.figure(
        [bar],
        _layout(
            margin={"l": 200, "r": 16, "t": 8, "b": 48},
            xaxis={"ticksuffix": " min", "gridcolor": COLORS["grid"], "rangemode": "tozero"},
        ),
    )
