"""The inbox in a real headless Chromium: an alert raised elsewhere appears without a reload."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from plantops.alerts.models import Alert
from plantops.core.time import now_us
from tests.e2e.test_floor_in_chromium import (  # noqa: F401 - fixtures
    browser,
    log_in_on_the_way,
    web,
)
from tests.factories import judge_readings, make_asset, make_rule, make_user

pytestmark = [pytest.mark.services, pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_new_alert_appears_in_the_open_inbox_without_reloading(browser, web):  # noqa: F811
    asset = make_asset()
    signal = asset.signals.get(slug="vibration")
    make_rule(
        signal=signal,
        priority="critical",
        message_template="{asset} vibration at {value:.1f} {unit}",
    )
    make_user(role="supervisor", username="sam")

    log_in_on_the_way(browser, f"{web}/alerts/", "sam")
    WebDriverWait(browser, 15).until(lambda d: d.current_url.endswith("/alerts/"))
    assert "No open alerts" in browser.find_element(By.ID, "inbox-list").text
    WebDriverWait(browser, 15).until(
        lambda d: d.find_element(By.ID, "connection").get_attribute("data-state") == "live"
    )
    browser.execute_script("window.__notReloaded = true;")

    judge_readings((signal.pk, now_us(), 9.0))
    alert = Alert.objects.get()

    row = WebDriverWait(browser, 15).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, f'.alert-row[data-alert-id="{alert.pk}"]')
    )[0]
    assert "CRITICAL" in row.text
    assert "ACTIVE UNACK" in row.text
    assert f"{asset.name} vibration at 9.0 mm/s" in row.text
    assert browser.execute_script("return window.__notReloaded === true")
    last_id = browser.execute_script("return sessionStorage.getItem('plantops.alerts.lastEventId')")
    assert int(last_id) == alert.events.get().pk


def test_the_alarm_kpi_page_draws_its_rate_chart(browser, web):  # noqa: F811
    asset = make_asset()
    signal = asset.signals.get(slug="vibration")
    make_rule(signal=signal, priority="low")
    for value in (9.0, 1.0, 9.0):  # raised twice
        judge_readings((signal.pk, now_us(), value))
    make_user(role="supervisor", username="sam")

    log_in_on_the_way(browser, f"{web}/alerts/kpis/", "sam")

    drawn = WebDriverWait(browser, 15).until(
        lambda d: d.execute_script(
            "const el = document.getElementById('kpi-rate-chart');"
            "return el && el.data ? el.data.map((t) => [t.name, t.y.reduce((a, b) => a + b, 0)]) : null;"
        )
    )
    assert drawn == [[asset.line.name, 2]]
    assert browser.find_elements(By.CSS_SELECTOR, "#kpi-rate-chart .bars path")
    card = browser.find_element(By.CSS_SELECTOR, '[data-kpi="activations"] .kpi-value')
    assert card.text == "2"
