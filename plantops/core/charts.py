"""The look every chart on the floor screens shares, and figures composed with plotly's Python API.

The server composes a chart whose data it holds (the OEE line page, the KPI pages) as a
plotly.graph_objects figure, checked against the schema of the plotly.js version the pages
load (plotly.js basic, scripts/vendor_plotly.py), and sends it as JSON for `Plotly.react`.
The asset page builds its live charts in the browser from the same palette, config and axes,
which reach it through `theme()` (`{% chart_theme %}`): one copy of each.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo
from typing import Any

import plotly.graph_objects as go
from django.utils import dates, translation
from django.utils.formats import get_format
from django.utils.translation import gettext
from plotly.basedatatypes import BaseTraceType

from plantops.core import clock

# floor.css's colours, so a chart's blue, green and red are the status tiles' blue, green and
# red: high contrast on white, and apart for the common colour-vision deficiencies.
COLORS = {
    "ink": "#0b0d10",
    "muted": "#454b54",
    "grid": "#d3d7dc",
    "paper": "#ffffff",
    "blue": "#1b4fd1",
    "green": "#0b7a35",
    "red": "#d0021b",
    "orange": "#ff7a00",
    # A range drawn under its own blue line: the blue, see-through.
    "band": "rgba(27, 79, 209, 0.28)",
}

# The family is the page's own (floor.css), added in the browser: Plotly would fall back to its own.
FONT = {"size": 15, "color": COLORS["ink"]}

# Nothing a gloved finger can set off by accident: no toolbar, wheel zoom, double-tap reset or tips.
CONFIG = {
    "displayModeBar": False,
    "responsive": True,
    "scrollZoom": False,
    "doubleClick": False,
    "showTips": False,
}

# Axes that stay put and read from arm's length.
AXIS = {
    "fixedrange": True,
    "gridcolor": COLORS["grid"],
    "linecolor": COLORS["ink"],
    "ticks": "outside",
    "tickcolor": COLORS["ink"],
}

# Centred where the bars or lines would be, so an empty chart says why it is empty.
EMPTY_NOTE = {
    "showarrow": False,
    "xref": "paper",
    "yref": "paper",
    "x": 0.5,
    "y": 0.5,
    "font": {"size": 18, "color": COLORS["muted"]},
}


def layout(**extra: Any) -> dict[str, Any]:
    """Return the base layout (font, white paper) with `extra` laid over it."""
    return {
        "font": dict(FONT),
        "paper_bgcolor": COLORS["paper"],
        "plot_bgcolor": COLORS["paper"],
        **extra,
    }


def empty_note(text: str) -> dict[str, Any]:
    """Return the annotation an empty chart shows in its middle."""
    return {"text": text, **EMPTY_NOTE}


def hour_labels(hours: Sequence[datetime], zone: tzinfo) -> list[str]:
    """Each hour's start on the wall clock of `zone`, "06:00"; the hour a change from summer
    time repeats is told apart by its zone's abbreviation ("02:00 CEST", "02:00 CET"), so a
    category axis does not stack the two hours in one bar."""
    local = [moment.astimezone(zone) for moment in hours]
    plain = [f"{moment:%H:%M}" for moment in local]
    return [
        f"{text} {moment.tzname()}" if plain.count(text) > 1 else text
        for text, moment in zip(plain, local, strict=True)
    ]


def time_title(zone: tzinfo) -> dict[str, Any]:
    """The title of a time axis, naming the zone its times are on ("Time in Europe/Berlin")."""
    return {
        "text": gettext("Time in %(zone)s") % {"zone": clock.zone_name(zone)},
        "font": {"size": 14, "color": COLORS["muted"]},
        "standoff": 4,
    }


def figure(data: Sequence[BaseTraceType], layout: dict[str, Any]) -> dict[str, Any]:
    """Return the figure as JSON-ready data ({"data": [...], "layout": {...}}).

    Building it through plotly.graph_objects refuses a property plotly.js does not know, so a
    misspelt attribute fails here instead of being ignored by the browser."""
    fig = go.Figure(data=list(data), layout=layout)
    # plotly.py's default template is not the pages' look: plotly.js draws with none.
    fig.layout.template = None
    return fig.to_plotly_json()


def plotly_locale() -> dict[str, Any] | None:
    """plotly.js's words for dates in the active language, as a locale module for
    `Plotly.register`: month and day names from Django's own catalogs, so a German time axis
    reads "Dez" and "Mo" like the pages around it (plotly.js's own locale bundles are not
    fetched). None in English, plotly.js's own: a locale is laid over English, and one named
    "en" would take the place of what it lacks (the AM/PM words, the date formats)."""
    language = translation.get_language() or "en"
    if language.split("-")[0] == "en":
        return None
    # Django's week starts on Monday (0), plotly's on Sunday.
    sunday_first = [(day + 6) % 7 for day in range(7)]
    return {
        "moduleType": "locale",
        "name": language,
        "dictionary": {},
        "format": {
            "days": [str(dates.WEEKDAYS[day]) for day in sunday_first],
            "shortDays": [str(dates.WEEKDAYS_ABBR[day]) for day in sunday_first],
            "months": [str(dates.MONTHS[month]) for month in range(1, 13)],
            # As Django's "M" shows them: "Dez", "Ene".
            "shortMonths": [str(dates.MONTHS_3[month]).title() for month in range(1, 13)],
            "decimal": get_format("DECIMAL_SEPARATOR"),
            "thousands": get_format("THOUSAND_SEPARATOR"),
        },
    }


def theme() -> dict[str, Any]:
    """What the browser's own charts take from here (static/plantops/charts.js)."""
    return {
        "colors": COLORS,
        "font": FONT,
        "config": CONFIG,
        "axis": AXIS,
        "empty_note": EMPTY_NOTE,
        # The browser names its time axes' zone in the page's words (charts.js, clock.js).
        "time_title": gettext("Time in %(zone)s"),
        "locale": plotly_locale(),
    }
