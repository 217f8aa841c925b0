"""The line's OEE page in a real headless Chromium: OEE shown, a stop explained, Pareto moved."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone, translation
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from plantops.oee import services
from plantops.oee.models import StateEvent
from tests.e2e import test_floor_in_chromium as e2e
from tests.factories import make_user
from tests.oee.test_screens import line_with_a_stop  # noqa: F401 - a fixture

pytestmark = [pytest.mark.services, pytest.mark.browser, pytest.mark.django_db(transaction=True)]

browser = e2e.browser
web = e2e.web

PARETO = """
const chart = document.getElementById("oee-pareto");
if (!chart || !chart.data) return null;
return { labels: Array.from(chart.data[0].y), minutes: Array.from(chart.data[0].x) };
"""


def test_an_operator_explains_a_stop_on_the_line_page_and_the_pareto_shows_it(
    browser,
    web,
    line_with_a_stop,  # noqa: F811
):
    asset, stop = line_with_a_stop
    e2e.log_in_with_a_session(
        browser, web, make_user(role="operator", username="olga", lines=[asset.line])
    )
    browser.get(f"{web}/lines/{asset.line_id}/oee/")
    wait = WebDriverWait(browser, 20)

    value = browser.find_element(By.CSS_SELECTOR, '[data-role="oee-value"]')
    assert value.text.endswith("%")
    wait.until(lambda b: b.execute_script(PARETO))
    assert browser.execute_script(PARETO)["labels"] == ["Not explained yet"]
    # Live: the socket's snapshot has arrived, and it left the stop where it was.
    wait.until(lambda b: b.find_element(By.ID, "connection").get_attribute("data-state") == "live")

    browser.find_element(By.CSS_SELECTOR, f'[data-stop-id="{stop.pk}"] summary').click()
    jam = browser.find_element(By.CSS_SELECTOR, f'[data-stop-id="{stop.pk}"] button[value="jam"]')
    assert jam.size["height"] >= 56  # a gloved finger's target
    jam.click()

    wait.until(lambda b: (b.execute_script(PARETO) or {}).get("labels") == ["Jam"])
    assert browser.execute_script(PARETO)["minutes"] == [15.0]
    assert "stop explained as “Jam”" in browser.find_element(By.CSS_SELECTOR, ".messages").text
    assert browser.find_element(By.CSS_SELECTOR, '[data-role="stop-count"]').text == "0"


def test_the_line_page_speaks_german_in_its_scripts_and_its_pushes(
    browser,
    web,
    line_with_a_stop,  # noqa: F811
):
    asset, stop = line_with_a_stop
    e2e.log_in_with_a_session(
        browser, web, make_user(role="operator", username="greta", lines=[asset.line])
    )
    browser.add_cookie({"name": settings.LANGUAGE_COOKIE_NAME, "value": "de"})
    browser.get(f"{web}/lines/{asset.line_id}/oee/")
    wait = WebDriverWait(browser, 20)
    wait.until(lambda b: b.find_element(By.ID, "connection").get_attribute("data-state") == "live")
    wait.until(lambda b: b.execute_script(PARETO))
    assert browser.execute_script(PARETO)["labels"] == ["Noch nicht begründet"]
    # The stop as the script writes it: the server's "900 s" becomes "15 min".
    summary = browser.find_element(By.CSS_SELECTOR, f'[data-stop-id="{stop.pk}"] summary').text
    assert "· Störung · " in summary
    assert summary.endswith(" · 15 min")

    # A machine stops again; the screen pushed to every viewer, in English, reaches this one
    # in German: a new stop, still going.
    StateEvent.objects.create(asset=asset, ts=timezone.now() - timedelta(seconds=30), state="down")
    with translation.override("en"):
        services.oee_push_line(line_id=asset.line_id)
    count = (By.CSS_SELECTOR, '[data-role="stop-count"]')
    wait.until(lambda b: b.find_element(*count).text == "2")
    newest = browser.find_element(By.CSS_SELECTOR, "[data-stop-id] summary").text
    assert "· Störung · " in newest
    assert newest.endswith(", noch gestoppt")
    assert browser.execute_script(PARETO)["labels"] == ["Noch nicht begründet"]
