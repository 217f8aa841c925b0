"""The alarm KPI page's rate chart as a figure: alarms per 10 minutes for each operator position,
with the flood threshold drawn across. Pure: built from `kpis.activation_series`; its words are
in the active language (plain strings: the figure is JSON)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, tzinfo
from typing import Any

import plotly.graph_objects as go
from django.utils.translation import gettext

from plantops.core import charts

COLORS = charts.COLORS
# One colour per operator position; the palette first, then a purple and a grey that stay apart
# from it for the common colour-vision deficiencies.
SERIES = [COLORS[name] for name in ("ink", "blue", "orange", "green", "red")] + [
    "#7a3db8",
    "#5b6168",
]


def rate_figure(
    starts: Sequence[datetime],
    series: Mapping[str, Sequence[int]],
    *,
    flood_threshold: int,
    zone: tzinfo | None = None,
) -> dict[str, Any]:
    """Grouped bars per position over the buckets starting at `starts`, which are labelled in
    their own time zone (the page's, as its other times; `zone` names it on the axis): Plotly's
    dates carry none."""
    x = [start.strftime("%Y-%m-%d %H:%M") for start in starts]
    positions = list(series)
    alarms = gettext("alarms")
    empty = gettext("No alarms in this period")
    traces = [
        go.Bar(
            name=position,
            x=x,
            y=list(series[position]),
            marker={"color": SERIES[i % len(SERIES)]},
            hovertemplate=f"{position}: %{{y}} {alarms}<br>%{{x}}<extra></extra>",
        )
        for i, position in enumerate(positions)
    ]
    several = len(positions) > 1
    threshold = {
        "type": "line",
        "xref": "x",
        "yref": "y",
        "x0": x[0] if x else None,
        "x1": x[-1] if x else None,
        "y0": flood_threshold,
        "y1": flood_threshold,
        "line": {"color": COLORS["red"], "width": 2, "dash": "dash"},
    }
    return charts.figure(
        traces,
        charts.layout(
            barmode="group",
            bargap=0.1,
            margin={"l": 56, "r": 12, "t": 40 if several else 8, "b": 64},
            height=360 if several else 320,
            showlegend=several,
            legend={"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"},
            xaxis={
                **charts.AXIS,
                "type": "date",
                "nticks": 8,
                **({"title": charts.time_title(zone)} if zone is not None else {}),
            },
            yaxis={
                **charts.AXIS,
                "rangemode": "tozero",
                "title": {"text": gettext("alarms / 10 min")},
            },
            shapes=[threshold] if x else [],
            annotations=[] if positions else [charts.empty_note(empty)],
        ),
    )
