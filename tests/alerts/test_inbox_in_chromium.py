"""The inbox in a real headless Chromium: an alert raised elsewhere appears without a reload."""

from __future__ import annotations

import pytest
from django.db import transaction
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from plantops.alerts.models import Alert, AlertRule
from plantops.alerts.services import alerts_evaluate_readings
from plantops.core.roles import SUPERVISORS
from plantops.telemetry.payloads import now_us
from tests.alerts.test_inbox import user_in
from tests.e2e.test_floor_in_chromium import (  # noqa: F401 - fixtures
    browser,
    log_in_on_the_way,
    web,
)
from tests.factories import make_asset

pytestmark = [pytest.mark.services, pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_new_alert_appears_in_the_open_inbox_without_reloading(browser, web):  # noqa: F811
    asset = make_asset()
    signal = asset.signals.get(slug="vibration")
    AlertRule.objects.create(
        name="Vibration high",
        kind="high",
        signal=signal,
        limit=5.0,
        priority="critical",
        message_template="{asset} vibration at {value:.1f} {unit}",
    )
    user_in(SUPERVISORS, "sam")

    log_in_on_the_way(browser, f"{web}/alerts/", "sam")
    WebDriverWait(browser, 15).until(lambda d: d.current_url.endswith("/alerts/"))
    assert "No open alerts" in browser.find_element(By.ID, "inbox-list").text
    WebDriverWait(browser, 15).until(
        lambda d: d.find_element(By.ID, "connection").get_attribute("data-state") == "live"
    )
    browser.execute_script("window.__notReloaded = true;")

    with transaction.atomic():
        alerts_evaluate_readings(readings=[(signal.pk, now_us(), 9.0)])
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
    AlertRule.objects.create(
        name="Vibration high", kind="high", signal=signal, limit=5.0, priority="low"
    )
    for value in (9.0, 1.0, 9.0):  # raised twice
        with transaction.atomic():
            alerts_evaluate_readings(readings=[(signal.pk, now_us(), value)])
    user_in(SUPERVISORS, "sam")

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
