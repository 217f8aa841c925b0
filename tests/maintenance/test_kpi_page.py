"""The maintenance KPI page: its figures per asset and per line on hand-computed cases, who may
see it, and its charts in a real Chromium."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from django.db import connection
from django.template.defaultfilters import floatformat
from django.templatetags.static import static
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from selenium.webdriver.support.ui import WebDriverWait

from plantops.assets.models import Asset, Line, Shift
from plantops.maintenance.selectors import kpis as kpi_selectors
from plantops.oee.models import StateEvent
from tests.e2e.test_floor_in_chromium import (  # noqa: F401 - fixtures
    browser,
    log_in_on_the_way,
    web,
)
from tests.factories import make_asset, make_user, past_work_order

KPIS = "/work/kpis/"
HOUR = 3600.0


def period() -> tuple:
    """Ten days that ended a day ago, on whole hours."""
    end = timezone.now().replace(minute=0, second=0, microsecond=0) - timedelta(days=1)
    return end - timedelta(days=10), end


def round_the_clock(line: Line) -> None:
    Shift.objects.create(
        line=line, name="Round the clock", start=time(0), end=time(0), weekdays="0123456"
    )


def placed(line: Line, position: int) -> Line:
    """The line at `position` on the floor: the page lists lines in floor order."""
    line.position = position
    line.save(update_fields=["position"])
    return line


def on_line(line: Line, name: str) -> Asset:
    return Asset.objects.create(line=line, slug=name.lower(), name=name, asset_type="motor")


def runs(asset: Asset, since, *stops: tuple) -> None:
    """The asset runs from `since` on, but for the `(start, minutes)` stops it is down."""
    StateEvent.objects.create(asset=asset, ts=since, state="running")
    for start, minutes in stops:
        StateEvent.objects.create(asset=asset, ts=start, state="down", reason="jam")
        StateEvent.objects.create(
            asset=asset, ts=start + timedelta(minutes=minutes), state="running"
        )


@pytest.fixture
def press_line():
    """Line 1 with a press and a feeder, both running all ten days round the clock.

    Press: two breakdowns repaired in 2 h (times) and 60 min (the technician's minutes), one
    preventive job done on time, one request still open (30 min estimated).
    Feeder: one breakdown repaired in 4 h, one preventive job due and still open (90 min).
    """
    start, end = period()
    press = make_asset(slug="press")
    line = placed(press.line, 1)
    feeder = on_line(line, "Feeder")
    round_the_clock(line)
    for asset in (press, feeder):
        runs(asset, start - timedelta(hours=1))

    def at(days: float):
        return start + timedelta(days=days)

    past_work_order(
        asset=press,
        kind="corrective",
        status="done",
        created_at=at(1),
        started_at=at(1),
        completed_at=at(1) + timedelta(hours=2),
    )
    past_work_order(
        asset=press,
        kind="corrective",
        status="done",
        created_at=at(5),
        started_at=at(5),
        completed_at=at(6),
        actual_minutes=60,
    )
    past_work_order(
        asset=press,
        kind="preventive",
        status="done",
        created_at=at(2),
        due_at=at(4),
        completed_at=at(3),
    )
    past_work_order(
        asset=press, kind="request", status="requested", created_at=at(7), estimated_minutes=30
    )
    past_work_order(
        asset=feeder,
        kind="corrective",
        status="done",
        created_at=at(3),
        started_at=at(3),
        completed_at=at(3) + timedelta(hours=4),
    )
    past_work_order(
        asset=feeder,
        kind="preventive",
        status="scheduled",
        created_at=at(1),
        due_at=at(8),
        estimated_minutes=90,
    )
    # Done before the period: neither a failure nor work created in it.
    past_work_order(
        asset=feeder,
        kind="corrective",
        status="done",
        created_at=at(-3),
        started_at=at(-3),
        completed_at=at(-2),
    )
    return {"line": line, "press": press, "feeder": feeder, "start": start, "end": end}


@pytest.fixture
def quiet_line():
    """Line 2 with no failure worked on: a mixer down 30 min on day 1, a pump 60 min on day 2."""
    start, end = period()
    mixer = make_asset(slug="mixer")
    line = placed(mixer.line, 2)
    pump = on_line(line, "Pump")
    round_the_clock(line)
    runs(mixer, start - timedelta(hours=1), (start + timedelta(days=1), 30))
    runs(pump, start - timedelta(hours=1), (start + timedelta(days=2), 60))
    return {"line": line, "mixer": mixer, "pump": pump, "start": start, "end": end}


def line_of(page: dict, line: Line) -> dict:
    [found] = [entry for entry in page["lines"] if entry["id"] == line.pk]
    return found


# --- the figures ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_gives_each_asset_its_own_figures(press_line):
    page = kpi_selectors.maintenance_kpi_page(
        start=press_line["start"], end=press_line["end"], line_ids=None
    )

    press, feeder = line_of(page, press_line["line"])["assets"]
    assert (press["name"], feeder["name"]) == (press_line["press"].name, "Feeder")
    # 240 h running each; the press failed twice, the feeder once.
    assert (press["failures"], press["mtbf_h"], press["mttr_h"]) == (2, 120.0, 1.5)
    assert (feeder["failures"], feeder["mtbf_h"], feeder["mttr_h"]) == (1, 240.0, 4.0)
    assert press["reliability_from"] == feeder["reliability_from"] == "work_orders"
    assert (press["pm_due"], press["pm_compliance_percent"]) == (1, 100.0)
    assert (feeder["pm_due"], feeder["pm_compliance_percent"]) == (1, 0.0)
    assert (press["backlog"], press["backlog_hours"]) == (1, 0.5)
    assert (feeder["backlog"], feeder["backlog_hours"]) == (1, 1.5)
    assert (press["planned"], press["unplanned"], press["planned_percent"]) == (1, 3, 25.0)
    assert (feeder["planned"], feeder["unplanned"], feeder["planned_percent"]) == (1, 1, 50.0)
    # The same as the asset's own KPIs, with the page's hours and percentages added.
    own = kpi_selectors.asset_kpis(
        asset=press_line["press"], start=press_line["start"], end=press_line["end"]
    )
    assert own.pop("asset") == press["id"]
    assert own.items() <= press.items()


@pytest.mark.django_db
def test_a_lines_figures_sum_its_assets_before_dividing(press_line):
    page = kpi_selectors.maintenance_kpi_page(
        start=press_line["start"], end=press_line["end"], line_ids=[press_line["line"].pk]
    )

    kpis = line_of(page, press_line["line"])["kpis"]
    # 480 h of running over 3 failures, not the assets' MTBFs averaged (180 h); the repairs
    # 2 h, 1 h and 4 h averaged over the three, not per asset (2.75 h).
    assert kpis["failures"] == 3
    assert kpis["mtbf_s"] == pytest.approx(480 * HOUR / 3)
    assert kpis["mttr_s"] == pytest.approx(7 * HOUR / 3)
    assert (kpis["mtbf_h"], kpis["mttr_h"]) == (160.0, 2.33)
    assert kpis["reliability_from"] == "work_orders"
    assert (kpis["pm_due"], kpis["pm_on_time"], kpis["pm_compliance_percent"]) == (2, 1, 50.0)
    assert (kpis["backlog"], kpis["backlog_hours"]) == (2, 2.0)
    assert (kpis["planned"], kpis["unplanned"], kpis["planned_percent"]) == (2, 4, 33.3)


@pytest.mark.django_db
def test_without_work_order_failures_a_line_falls_back_on_its_breakdown_states(quiet_line):
    page = kpi_selectors.maintenance_kpi_page(
        start=quiet_line["start"], end=quiet_line["end"], line_ids=None
    )

    line = line_of(page, quiet_line["line"])
    mixer, pump = line["assets"]
    assert (mixer["reliability_from"], mixer["failures"]) == ("states", 1)
    assert (mixer["mtbf_h"], mixer["mttr_h"]) == (239.5, 0.5)
    assert (pump["mtbf_h"], pump["mttr_h"]) == (239.0, 1.0)
    # 478.5 h running over the two breakdowns, which lasted 1.5 h in all.
    kpis = line["kpis"]
    assert (kpis["reliability_from"], kpis["failures"]) == ("states", 2)
    assert kpis["mtbf_s"] == pytest.approx(478.5 * HOUR / 2)
    assert kpis["mttr_s"] == pytest.approx(0.75 * HOUR)
    assert (kpis["pm_compliance"], kpis["planned_ratio"], kpis["backlog"]) == (None, None, 0)


@pytest.mark.django_db
def test_it_shows_the_chosen_lines_and_charts_their_assets(press_line, quiet_line):
    start, end = press_line["start"], press_line["end"]
    everything = kpi_selectors.maintenance_kpi_page(start=start, end=end, line_ids=None)
    quiet = kpi_selectors.maintenance_kpi_page(
        start=start, end=end, line_ids=[quiet_line["line"].pk]
    )

    assert [line["id"] for line in everything["lines"]] == [
        press_line["line"].pk,
        quiet_line["line"].pk,
    ]
    assert [line["id"] for line in quiet["lines"]] == [quiet_line["line"].pk]
    # The filter offers every line, whichever are shown.
    assert quiet["line_choices"] == everything["line_choices"]
    assert [c["id"] for c in quiet["line_choices"]] == [line["id"] for line in everything["lines"]]
    assert everything["chart"] == {
        "assets": [press_line["press"].name, "Feeder", quiet_line["mixer"].name, "Pump"],
        "mtbf_h": [120.0, 240.0, 239.5, 239.0],
        "mttr_h": [1.5, 4.0, 0.5, 1.0],
        "reliability_from": ["work_orders", "work_orders", "states", "states"],
        "planned": [1, 1, 0, 0],
        "unplanned": [3, 1, 0, 0],
        "backlog": [1, 1, 0, 0],
        # The lines: the same figures as their tiles (compliance 1 of 2, planned 2 of 6).
        "lines": [press_line["line"].name, quiet_line["line"].name],
        "line_pm_compliance": [50.0, None],
        "line_planned": [33.3, None],
    }


@pytest.mark.django_db
def test_two_lines_assets_of_one_name_are_told_apart_in_the_charts(press_line):
    other = placed(make_asset().line, 3)
    on_line(other, "Feeder")

    page = kpi_selectors.maintenance_kpi_page(
        start=press_line["start"], end=press_line["end"], line_ids=None
    )

    assert page["chart"]["assets"] == [
        press_line["press"].name,
        f"Feeder ({press_line['line'].name})",
        other.assets.exclude(name="Feeder").get().name,
        f"Feeder ({other.name})",
    ]


@pytest.mark.django_db
def test_its_queries_do_not_grow_with_the_work_orders(press_line):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            kpi_selectors.maintenance_kpi_page(
                start=press_line["start"], end=press_line["end"], line_ids=None
            )
        return len(captured)

    queries()  # the first read stores the hourly OEE snapshots
    before = queries()
    for day in range(10):
        past_work_order(
            asset=press_line["press"],
            kind="corrective",
            status="done",
            created_at=press_line["start"] + timedelta(days=day),
            completed_at=press_line["start"] + timedelta(days=day, hours=1),
        )

    assert queries() == before


# --- the page ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_needs_a_login_and_the_work_order_permission(client):
    response = client.get(KPIS)
    assert response.status_code == 302
    assert "/login/" in response["Location"]
    client.force_login(make_user(username="visitor"))
    assert client.get(KPIS).status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["operator", "technician", "supervisor"])
def test_every_role_sees_it(client, role):
    client.force_login(make_user(role=role, username="pat"))
    assert client.get(KPIS).status_code == 200


@pytest.mark.django_db
def test_it_shows_the_tiles_tables_and_where_mtbf_comes_from(client, press_line, quiet_line):
    client.force_login(make_user(role="technician", username="tom"))

    response = client.get(KPIS, {"line": [press_line["line"].pk, quiet_line["line"].pk]})

    assert response.status_code == 200
    text = response.text
    # Thirty days to now: the feeder's breakdown before the ten days (24 h to repair) counts
    # too, and the machines' running time runs on to now.
    kpis = line_of(response.context, press_line["line"])["kpis"]
    assert (kpis["failures"], kpis["mttr_h"]) == (4, (2 + 1 + 4 + 24) / 4)
    assert f'<b class="kpi-value">{floatformat(kpis["mtbf_h"], 1)} h</b>' in text
    assert '<b class="kpi-value">7.8 h</b>' in text
    assert '<b class="kpi-value">50 %</b>' in text
    assert "1 of 2 done on time" in text
    assert "open work orders, 2.0 h estimated" in text
    # The feeder's earlier breakdown was also unplanned work: 2 planned of 7.
    assert '<b class="kpi-value">29 %</b>' in text
    assert "2 planned, 5 unplanned" in text
    assert "MTBF and MTTR come from the 4 failures worked on as work orders" in text
    assert "come from the breakdowns the machines reported in their states" in text
    assert f'<tr data-asset="{press_line["feeder"].pk}" data-source="work_orders">' in text
    assert 'id="mkpi-chart-data"' in text
    assert static("vendor/plotly/plotly-basic.min.js") in text
    assert static("plantops/maintenance-kpis.js") in text


@pytest.mark.django_db
def test_the_period_and_line_buttons_narrow_it(client, press_line, quiet_line):
    client.force_login(make_user(role="supervisor", username="sam"))

    week = client.get(KPIS, {"range": "7d", "line": quiet_line["line"].pk})

    assert week.context["end"] - week.context["start"] == timedelta(days=7)
    assert [line["id"] for line in week.context["lines"]] == [quiet_line["line"].pk]
    assert 'aria-current="true">7 days<' in week.text
    buttons = {button["label"]: button for button in week.context["line_buttons"]}
    assert buttons[quiet_line["line"].name]["on"] is True
    assert buttons[press_line["line"].name]["on"] is False
    # Pressing the other line adds it; pressing the chosen one lets it go again.
    assert f"line={press_line['line'].pk}" in buttons[press_line["line"].name]["url"]
    assert f"line={quiet_line['line'].pk}" not in buttons[quiet_line["line"].name]["url"]
    assert "range=7d" in buttons[press_line["line"].name]["url"]


@pytest.mark.django_db
@pytest.mark.parametrize("wanted", ["1y", "", "30"])
def test_an_unknown_period_falls_back_to_thirty_days(client, wanted):
    client.force_login(make_user(role="supervisor", username="sam"))

    response = client.get(KPIS, {"range": wanted})

    assert response.status_code == 200
    assert response.context["range_label"] == "30 days"
    assert response.context["end"] - response.context["start"] == timedelta(days=30)
    assert 'aria-current="true">30 days<' in response.text


# --- in Chromium ---------------------------------------------------------------------------


@pytest.mark.services
@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_maintenance_kpi_page_draws_its_charts(browser, web):  # noqa: F811
    now = timezone.now()
    press = make_asset(slug="press")
    round_the_clock(press.line)
    runs(press, now - timedelta(days=10))
    # One breakdown repaired in 90 min, one preventive job done, one request still open.
    past_work_order(
        asset=press,
        kind="corrective",
        status="done",
        created_at=now - timedelta(days=2),
        completed_at=now,
        actual_minutes=90,
    )
    past_work_order(
        asset=press,
        kind="preventive",
        status="done",
        created_at=now - timedelta(days=3),
        due_at=now,
        completed_at=now - timedelta(days=1),
    )
    past_work_order(
        asset=press, kind="request", status="requested", created_at=now - timedelta(days=1)
    )
    make_user(role="supervisor", username="sam")

    log_in_on_the_way(browser, f"{web}{KPIS}", "sam")

    def drawn(chart_id: str):
        return browser.execute_script(
            "const el = document.getElementById(arguments[0]);"
            "return el && el.data ? el.data.map((t) => [t.name, t.x, t.y]) : null;",
            chart_id,
        )

    reliability = WebDriverWait(browser, 15).until(lambda d: drawn("mkpi-reliability-chart"))
    planned = WebDriverWait(browser, 15).until(lambda d: drawn("mkpi-planned-chart"))
    [(mtbf_name, x, [mtbf]), (mttr_name, _, [mttr])] = reliability
    assert (mtbf_name, mttr_name, x) == ("MTBF (h)", "MTTR (h)", [press.name])
    # Ten days running (and the seconds the page took to load) over one failure.
    assert mtbf == pytest.approx(240.0, abs=0.1)
    assert mttr == 1.5
    assert planned == [
        ["Planned", [press.name], [1]],
        ["Unplanned", [press.name], [2]],
        ["Open backlog", [press.name], [1]],
    ]
    lines = WebDriverWait(browser, 15).until(lambda d: drawn("mkpi-lines-chart"))
    assert lines == [
        ["PM compliance (%)", [press.line.name], [100.0]],
        ["Planned work (%)", [press.line.name], [33.3]],
    ]
    for chart in ("mkpi-lines-chart", "mkpi-reliability-chart", "mkpi-planned-chart"):
        assert browser.find_elements("css selector", f"#{chart} .bars path")
