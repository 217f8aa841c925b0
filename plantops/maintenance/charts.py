"""The maintenance KPI page's charts as figures: PM compliance and the planned share per line,
MTBF and MTTR per asset, and planned against unplanned work per asset with the open backlog.
Pure: built from the page's series (`selectors.kpis.maintenance_kpi_page`'s "chart"), its words in
the active language."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
from django.utils.translation import gettext, pgettext

from plantops.core import charts

COLORS = charts.COLORS
# Orange is repair and unplanned work on both charts, and unplanned bars are also hatched, so
# the charts read without telling colours apart.
INK, BLUE, ORANGE, PAPER = COLORS["ink"], COLORS["blue"], COLORS["orange"], COLORS["paper"]
# Asset names and axis titles of any length: the margins grow to fit them, nothing is cut off.
AXIS = {**charts.AXIS, "automargin": True}


def _base(series: dict[str, Any], **extra: Any) -> dict[str, Any]:
    empty = [] if series["assets"] else [charts.empty_note(gettext("No assets to show"))]
    return (
        charts.layout(
            bargap=0.25,
            margin={"l": 64, "r": 64, "t": 40, "b": 64},
            height=360,
            showlegend=True,
            legend={"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"},
            xaxis={**AXIS, "type": "category"},
            annotations=empty,
        )
        | extra
    )


def lines_figure(series: dict[str, Any]) -> dict[str, Any]:
    """PM compliance and the planned share of work per line, in percent."""
    lines = series["lines"]
    return charts.figure(
        [
            go.Bar(
                name=gettext("PM compliance (%)"),
                x=lines,
                y=series["line_pm_compliance"],
                marker={"color": INK},
                hovertemplate=f"%{{x}}: {gettext('PM compliance')} %{{y:.0f}} %<extra></extra>",
            ),
            go.Bar(
                name=gettext("Planned work (%)"),
                x=lines,
                y=series["line_planned"],
                marker={"color": BLUE},
                hovertemplate=f"%{{x}}: {gettext('planned work')} %{{y:.0f}} %<extra></extra>",
            ),
        ],
        _base(
            series,
            barmode="group",
            annotations=[] if lines else [charts.empty_note(gettext("No assets to show"))],
            yaxis={**AXIS, "range": [0, 100], "ticksuffix": " %", "dtick": 25},
        ),
    )


def reliability_figure(series: dict[str, Any]) -> dict[str, Any]:
    """MTBF and MTTR in hours per asset. MTBF runs to hundreds of hours and MTTR to a few: each
    gets its own scale, side by side."""
    assets = series["assets"]
    source = [
        gettext("from work orders") if origin == "work_orders" else gettext("from breakdown states")
        for origin in series["reliability_from"]
    ]
    return charts.figure(
        [
            go.Bar(
                name="MTBF (h)",
                x=assets,
                y=series["mtbf_h"],
                yaxis="y",
                offsetgroup="mtbf",
                marker={"color": INK},
                customdata=source,
                hovertemplate="%{x}: MTBF %{y:.1f} h, %{customdata}<extra></extra>",
            ),
            go.Bar(
                name="MTTR (h)",
                x=assets,
                y=series["mttr_h"],
                yaxis="y2",
                offsetgroup="mttr",
                marker={"color": ORANGE},
                customdata=source,
                hovertemplate="%{x}: MTTR %{y:.1f} h, %{customdata}<extra></extra>",
            ),
        ],
        _base(
            series,
            barmode="group",
            yaxis={**AXIS, "rangemode": "tozero", "title": {"text": "MTBF (h)"}},
            # Its own round steps, not the left scale's gridlines carried over (0.313, 0.625, …).
            yaxis2={
                **AXIS,
                "tickmode": "auto",
                "rangemode": "tozero",
                "overlaying": "y",
                "side": "right",
                "showgrid": False,
                "title": {"text": "MTTR (h)"},
            },
        ),
    )


def planned_figure(series: dict[str, Any]) -> dict[str, Any]:
    """Planned and unplanned work orders per asset, stacked, with the open backlog as diamonds."""
    assets = series["assets"]
    most_work = max(
        [
            0,
            *(
                max(p + u, b)
                for p, u, b in zip(
                    series["planned"], series["unplanned"], series["backlog"], strict=True
                )
            ),
        ]
    )
    return charts.figure(
        [
            go.Bar(
                name=pgettext("planned work orders", "Planned"),
                x=assets,
                y=series["planned"],
                marker={"color": BLUE},
                hovertemplate=f"%{{x}}: %{{y}} {pgettext('work orders', 'planned')}<extra></extra>",
            ),
            go.Bar(
                name=pgettext("unplanned work orders", "Unplanned"),
                x=assets,
                y=series["unplanned"],
                marker={
                    "color": ORANGE,
                    "pattern": {
                        "shape": "/",
                        "fillmode": "overlay",
                        "fgcolor": INK,
                        "size": 10,
                        "solidity": 0.2,
                    },
                },
                hovertemplate=f"%{{x}}: %{{y}} {pgettext('work orders', 'unplanned')}<extra></extra>",
            ),
            go.Scatter(
                mode="markers",
                name=gettext("Open backlog"),
                x=assets,
                y=series["backlog"],
                marker={
                    "symbol": "diamond",
                    "size": 16,
                    "color": PAPER,
                    "line": {"color": INK, "width": 3},
                },
                hovertemplate=f"%{{x}}: %{{y}} {pgettext('work orders', 'open')}<extra></extra>",
            ),
        ],
        _base(
            series,
            barmode="stack",
            # Whole work orders: one tick each while they are few, else Plotly's own steps.
            yaxis={
                **AXIS,
                "rangemode": "tozero",
                **({"dtick": 1} if most_work <= 10 else {}),
                "title": {"text": gettext("work orders")},
            },
        ),
    )


def kpi_figures(series: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The page's three charts, by the id of the element each is drawn in."""
    return {
        "mkpi-lines-chart": lines_figure(series),
        "mkpi-reliability-chart": reliability_figure(series),
        "mkpi-planned-chart": planned_figure(series),
    }
