"""A real tablet (headless Chromium) loses its network for two minutes while 50 alerts fire.

The browser reaches daphne through a proxy that can cut every connection, as a Wi-Fi drop
does. Every WebSocket message the page receives is recorded before the page's own scripts see
it, so the test checks what arrived on the wire as well as what the panel shows.
"""

from __future__ import annotations

import time

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from plantops.alerts.models import Alert, AlertEvent
from plantops.core.time import now_us
from tests.e2e.test_floor_in_chromium import (  # noqa: F401 - fixtures
    browser,
    log_in_on_the_way,
    web,
)
from tests.factories import judge_readings, make_asset, make_rule, make_user
from tests.tcp_proxy import CuttableProxy

pytestmark = [pytest.mark.services, pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ALERTS = 50
OFFLINE_S = 120.0

# Runs before the page's scripts: keep every alert event id each socket delivers, in order.
RECORD_ALERT_EVENTS = """
window.__alertEventIds = [];
const NativeWebSocket = window.WebSocket;
window.WebSocket = function (url, protocols) {
  const socket = new NativeWebSocket(url, protocols);
  socket.addEventListener("message", (event) => {
    const message = JSON.parse(event.data);
    if (message.type === "alert.event") window.__alertEventIds.push(message.event.id);
  });
  return socket;
};
window.WebSocket.prototype = NativeWebSocket.prototype;
Object.assign(window.WebSocket, {
  CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3,
});
"""


def connection_state(browser) -> str:  # noqa: F811
    return browser.find_element(By.ID, "connection").get_attribute("data-state")


def panel_ids(browser) -> list[int]:  # noqa: F811
    return [
        int(i)
        for i in browser.execute_script(
            "return [...document.querySelectorAll('#alert-panel .panel-alert')]"
            ".map((row) => row.dataset.alertId);"
        )
    ]


def test_a_tablet_offline_for_two_minutes_gets_all_50_alerts_once_and_in_order(
    browser,  # noqa: F811
    web,  # noqa: F811
):
    signals = tuple(f"bearing-{i:02d}" for i in range(ALERTS))
    asset = make_asset(signals=signals)
    by_slug = {signal.slug: signal for signal in asset.signals.all()}
    for slug in signals:
        make_rule(
            signal=by_slug[slug],
            name=f"{slug} high",
            message_template=f"{{asset}} {slug} at {{value:.1f}}",
        )
    olga = make_user(role="operator", username="olga")
    asset.line.operators.add(olga)

    proxy = CuttableProxy("127.0.0.1", int(web.rsplit(":", 1)[1]))
    tablet = f"http://127.0.0.1:{proxy.port}"
    try:
        browser.execute_cdp_cmd(
            "Page.addScriptToEvaluateOnNewDocument", {"source": RECORD_ALERT_EVENTS}
        )
        log_in_on_the_way(browser, f"{tablet}/", "olga")
        WebDriverWait(browser, 20).until(lambda d: connection_state(d) == "live")
        assert "No open alerts." in browser.find_element(By.ID, "alert-panel").text

        proxy.cut()
        WebDriverWait(browser, 20).until(lambda d: connection_state(d) == "offline")
        assert browser.find_element(By.ID, "offline-banner").is_displayed()

        # 50 alerts spread over two minutes of outage.
        started = time.monotonic()
        for i, slug in enumerate(signals):
            time.sleep(max(0.0, started + i * OFFLINE_S / ALERTS - time.monotonic()))
            judge_readings((by_slug[slug].pk, now_us(), 9.0))
        time.sleep(max(0.0, started + OFFLINE_S - time.monotonic()))
        assert panel_ids(browser) == []
        assert connection_state(browser) == "offline"

        proxy.restore()
        # The backoff is capped at 30 s; the banner's "Retry now" is not pressed.
        WebDriverWait(browser, 60).until(lambda d: len(panel_ids(d)) == ALERTS)
        # The first feed back brings the page's other feed (the tiles) back with it.
        WebDriverWait(browser, 5).until(lambda d: connection_state(d) == "live")
        assert not browser.find_element(By.ID, "offline-banner").is_displayed()

        raised = list(AlertEvent.objects.filter(kind="raised").order_by("id"))
        assert len(raised) == ALERTS
        # On the wire: each raise once, in event order, and nothing from before the page loaded.
        received = browser.execute_script("return window.__alertEventIds;")
        assert received == [event.pk for event in raised]
        # On the screen: each alert once, newest first (all are of one priority).
        newest_first = Alert.objects.order_by("-last_at", "-pk").values_list("pk", flat=True)
        assert panel_ids(browser) == list(newest_first)
        last_id = browser.execute_script(
            "return sessionStorage.getItem('plantops.alerts.lastEventId')"
        )
        assert int(last_id) == raised[-1].pk
    finally:
        proxy.close()
