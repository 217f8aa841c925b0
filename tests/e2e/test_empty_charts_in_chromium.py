"""Charts with nothing to draw say so in words, in a real headless Chromium: a new machine's
health and signal charts, a fresh line's OEE charts, the KPI pages of a plant with no history.
No Plotly axis is drawn for them (Plotly draws one dated 2000 to 2001 for an empty date axis);
the same charts on a plant with history are drawn, and a chart in words draws once data comes."""

from __future__ import annotations

import re

import pytest
from selenium.webdriver.support.ui import WebDriverWait

from plantops.core.time import now_us
from plantops.pipeline.services import batch_store
from tests.e2e import test_floor_in_chromium as e2e
from tests.factories import make_batch, make_user
from tests.site_pages import seed_site

pytestmark = [pytest.mark.services, pytest.mark.browser, pytest.mark.django_db(transaction=True)]

browser = e2e.browser
web = e2e.web

# What each chart element shows: its words, or whether Plotly drew axes in it.
CHARTS = """
return Array.from(document.querySelectorAll(arguments[0])).map((el) => ({
  id: el.id,
  words: (el.querySelector(".chart-empty") || {}).textContent || null,
  axes: el.querySelectorAll(".main-svg .xaxislayer-above, .main-svg .yaxislayer-above").length,
  role: el.getAttribute("role"),
}));
"""


# What a script may put on screen from a missing value.
LEAKED = re.compile(r"\b(None|null|undefined|NaN)\b")


def no_leaked_values(browser) -> list[str]:
    """Words on screen that are a program's missing value, not the plant's."""
    return LEAKED.findall(browser.execute_script("return document.body.innerText;"))


def charts_once_settled(browser, selector: str, count: int) -> list[dict]:
    """The charts matching `selector`, once each has either its words or its axes."""

    def settled(b):
        shown = b.execute_script(CHARTS, selector)
        done = len(shown) == count and all(c["words"] or c["axes"] for c in shown)
        return shown if done else False

    return WebDriverWait(browser, 20).until(settled)


def open_as_supervisor(browser, web: str, path: str) -> None:
    e2e.log_in_with_a_session(browser, web, make_user(role="supervisor"))
    browser.get(f"{web}{path}")


def test_a_new_machine_s_charts_say_there_is_nothing_yet_and_draw_when_readings_come(browser, web):
    plant = seed_site(with_data=False)
    open_as_supervisor(browser, web, f"/assets/{plant.asset.pk}/")

    health = charts_once_settled(browser, "#health-chart", 1)
    assert health == [
        {
            "id": "health-chart",
            "words": "No remaining-life predictions for this machine yet.",
            "axes": 0,
            "role": None,  # its words are read, not an image's label
        }
    ]
    signals = charts_once_settled(browser, "[data-chart]", 2)
    assert {(c["id"], c["words"], c["axes"]) for c in signals} == {
        ("chart-temperature", "No readings in the last hour", 0),
        ("chart-vibration", "No readings in the last hour", 0),
    }

    vibration = plant.asset.signals.get(slug="vibration")
    batch_store(batch=make_batch(readings=[(vibration.pk, now_us(), 3.2)]))
    drawn = WebDriverWait(browser, 20).until(
        lambda b: next(
            (c for c in b.execute_script(CHARTS, "#chart-vibration") if c["axes"]), False
        )
    )
    assert (drawn["words"], drawn["role"]) == (None, "img")
    assert no_leaked_values(browser) == []
    assert browser.execute_script(CHARTS, "#chart-temperature")[0]["axes"] == 0


def test_a_fresh_line_s_oee_charts_and_the_kpi_pages_say_why_they_are_empty(browser, web):
    plant = seed_site(with_data=False)
    open_as_supervisor(browser, web, f"/lines/{plant.line.pk}/oee/")
    assert {
        (c["id"], c["words"], c["axes"]) for c in charts_once_settled(browser, ".oee-chart", 2)
    } == {
        ("oee-trend", "No good parts this shift yet.", 0),
        ("oee-pareto", "No down time this shift.", 0),
    }
    why = browser.execute_script(
        "const p = document.querySelector('[data-role=\"oee-why\"]'); return p.hidden ? null : p.textContent;"
    )
    assert (
        why == "No OEE yet: the machines of this line have reported no state or count this shift."
    )
    assert no_leaked_values(browser) == []

    browser.get(f"{web}/work/kpis/")
    assert {(c["id"], c["axes"]) for c in charts_once_settled(browser, ".kpi-chart", 3)} == {
        ("mkpi-lines-chart", 0),
        ("mkpi-reliability-chart", 0),
        ("mkpi-planned-chart", 0),
    }
    assert "no MTBF or MTTR to show yet" in browser.page_source
    assert no_leaked_values(browser) == []

    browser.get(f"{web}/alerts/kpis/")
    [rate] = charts_once_settled(browser, ".kpi-chart", 1)
    assert (rate["words"], rate["axes"]) == ("No alarms in this period.", 0)
    assert no_leaked_values(browser) == []


def test_the_same_charts_are_drawn_for_a_plant_with_history_and_reasons_read_as_words(browser, web):
    plant = seed_site(with_data=True)
    open_as_supervisor(browser, web, f"/lines/{plant.line.pk}/oee/")
    charts = charts_once_settled(browser, ".oee-chart", 2)
    assert all(c["axes"] and not c["words"] for c in charts), charts
    labels = browser.execute_script(
        "return Array.from(document.getElementById('oee-pareto').data[0].y);"
    )
    assert sorted(labels) == ["Jam", "Minor stop", "Not explained yet"]
    assert no_leaked_values(browser) == []

    browser.get(f"{web}/assets/{plant.asset.pk}/")
    [health] = charts_once_settled(browser, "#health-chart", 1)
    assert health["axes"]
    assert not health["words"]
    assert no_leaked_values(browser) == []

    browser.get(f"{web}/work/kpis/")
    drawn = {c["id"] for c in charts_once_settled(browser, ".kpi-chart", 3) if c["axes"]}
    assert {"mkpi-reliability-chart", "mkpi-planned-chart"} <= drawn
    assert no_leaked_values(browser) == []
