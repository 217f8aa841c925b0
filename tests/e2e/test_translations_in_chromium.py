"""A page's scripts speak the page's language, in a real headless Chromium: the words they
build (a chart with nothing to draw, a signal with no readings) come from Django's JavaScript
catalog, in German once German is chosen with the top bar's switcher."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.e2e import test_floor_in_chromium as e2e
from tests.factories import make_asset, make_user

pytestmark = [pytest.mark.services, pytest.mark.browser, pytest.mark.django_db(transaction=True)]

browser = e2e.browser
web = e2e.web

SHOWN = """
const chart = document.querySelector("[data-chart] .chart-empty");
const time = document.querySelector('[data-role="reading-time"]');
return {
  lang: document.documentElement.lang,
  chart: chart ? chart.textContent : null,
  time: time ? time.textContent : null,
};
"""


def test_a_script_built_message_shows_in_german_after_switching(browser, web):
    asset = make_asset(signals=("vibration",))
    e2e.log_in_with_a_session(browser, web, make_user(role="supervisor", username="sam"))
    browser.get(f"{web}/assets/{asset.pk}/")
    wait = WebDriverWait(browser, 20)
    english = wait.until(lambda b: (s := b.execute_script(SHOWN))["chart"] and s)
    assert english == {
        "lang": "en",
        "chart": "No readings in the last hour",
        "time": "No readings yet",
    }

    # The clock in the top bar opens My settings, whose language buttons lead back here.
    browser.find_element(By.CSS_SELECTOR, ".topbar-clock").click()
    wait.until(lambda b: "/me/" in b.current_url)
    browser.find_element(By.CSS_SELECTOR, '.lang-switch button[value="de"]').click()

    german = wait.until(
        lambda b: (s := b.execute_script(SHOWN))["lang"] == "de" and s["chart"] and s
    )
    assert german["chart"] == "Keine Messwerte in der letzten Stunde"
    assert german["time"] == "Noch keine Messwerte"
    assert browser.current_url == f"{web}/assets/{asset.pk}/"


DATE_TICKS = """
const element = document.createElement("div");
element.style.width = "640px";
element.style.height = "320px";
document.querySelector("main").append(element);
const charts = window.PlantOpsCharts;
const data = [{ x: ["2026-11-20", "2026-12-10"], y: [1, 2], type: "scatter" }];
return charts
  .plot(element, data, charts.layout({ xaxis: { type: "date" } }))
  .then(() => Array.from(element.querySelectorAll(".xtick text"), (tick) => tick.textContent));
"""


def test_a_time_axis_names_its_months_in_the_page_s_language(browser, web):
    asset = make_asset(signals=("vibration",))
    e2e.log_in_with_a_session(browser, web, make_user(role="supervisor", username="sam"))
    browser.add_cookie({"name": "django_language", "value": "de", "path": "/"})
    browser.get(f"{web}/assets/{asset.pk}/")
    WebDriverWait(browser, 20).until(
        lambda b: (
            b.execute_script("return !!window.PlantOpsCharts && document.documentElement.lang")
            == "de"
        )
    )

    ticks = browser.execute_script(DATE_TICKS)

    assert any(tick.startswith("Dez") for tick in ticks), ticks
    assert not any("Dec" in tick for tick in ticks), ticks
