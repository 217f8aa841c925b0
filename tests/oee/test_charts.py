"""The line page's charts as the server composes them: the hours on the site's clock, coloured
by their band, and the Pareto in minutes, largest on top."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from plantops.oee.charts import BAND_COLORS, hourly_figure, pareto_figure

BERLIN = ZoneInfo("Europe/Berlin")


def test_each_hour_is_labelled_on_the_sites_clock_and_coloured_by_its_band():
    hours = [
        {"hour": "2026-12-04T05:00:00+00:00", "oee": 0.9},
        {"hour": "2026-12-04T06:00:00+00:00", "oee": 0.7},
        {"hour": "2026-12-04T07:00:00+00:00", "oee": 0.3},
        {"hour": "2026-12-04T08:00:00+00:00", "oee": None},
    ]

    [bar] = hourly_figure(hours, BERLIN)["data"]

    assert bar["x"] == ["06:00", "07:00", "08:00", "09:00"]
    assert bar["y"] == [90, 70, 30, 0]
    assert bar["marker"]["color"] == [
        BAND_COLORS["good"],
        BAND_COLORS["fair"],
        BAND_COLORS["poor"],
        "#d3d7dc",
    ]


def test_an_hour_above_100_percent_widens_the_scale_instead_of_being_clipped():
    figure = hourly_figure([{"hour": "2026-12-04T05:00:00+00:00", "oee": 1.12}], BERLIN)
    assert figure["layout"]["yaxis"]["range"] == [0, 112]
    assert hourly_figure([], BERLIN)["layout"]["yaxis"]["range"] == [0, 100]


def test_the_pareto_puts_the_largest_reason_on_top_in_tenths_of_minutes_halves_up():
    bars = [
        {"code": "jam", "label": "Jam", "seconds": 903},
        {"code": "", "label": "Not explained yet", "seconds": 3},
    ]

    [bar] = pareto_figure(bars)["data"]

    assert bar["orientation"] == "h"
    assert bar["y"] == ["Not explained yet", "Jam"]
    assert bar["x"] == [0.1, 15.1]
