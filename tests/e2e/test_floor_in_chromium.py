"""End to end in a real headless Chromium: log in, open an asset, publish, watch it update."""

from __future__ import annotations

import socket
import time

import pytest
from django.conf import settings
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from scripts import headless
from tests.conftest import VENV_BIN, wait_for
from tests.factories import PASSWORD, logged_in, make_asset, make_user, topic

pytestmark = [pytest.mark.services, pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def browser():
    if not headless.installed():
        pytest.fail("Chromium is not installed: `make test` installs chromium and chromium-driver.")
    # The console, for what the page reports (Content-Security-Policy violations among it).
    driver = headless.chromium(
        "--window-size=1280,800", capabilities={"goog:loggingPrefs": {"browser": "ALL"}}
    )
    yield driver
    driver.quit()


@pytest.fixture
def web(processes):
    port = free_port()
    processes.env["ALLOWED_HOSTS"] = "127.0.0.1,localhost"
    processes.start(
        "web",
        str(VENV_BIN / "daphne"),
        "-b",
        "127.0.0.1",
        "-p",
        str(port),
        "plantops.asgi:application",
    )

    def listening() -> bool:
        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", port)) == 0

    wait_for(listening, timeout=30, what="daphne to listen")
    return f"http://127.0.0.1:{port}"


def log_in_on_the_way(browser, url: str, username: str) -> None:
    """Open `url`, which sends an anonymous browser to the login form, and sign in there."""
    browser.get(url)
    assert "/login/" in browser.current_url
    browser.find_element(By.NAME, "username").send_keys(username)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form:has([name=password]) [type=submit]").click()


def log_in_with_a_session(browser, web: str, user) -> None:
    """Give the browser a session of `user`, made by the test client: no login form."""
    cookie = logged_in(user).cookies[settings.SESSION_COOKIE_NAME].value
    browser.get(f"{web}/login/")
    browser.add_cookie({"name": settings.SESSION_COOKIE_NAME, "value": cookie})


def chart_points(browser, slug: str) -> list:
    return browser.execute_script(
        "const el = document.getElementById(arguments[0]);"
        "return el && el.data ? el.data[0].y.slice() : null;",
        f"chart-{slug}",
    )


def test_an_operator_sees_a_published_reading_arrive_without_reloading(
    browser, web, processes, publisher
):
    asset = make_asset(signals=("vibration", "temperature"))
    make_user(role="operator", username="dana")
    processes.worker()
    processes.ingest()

    log_in_on_the_way(browser, f"{web}/assets/{asset.pk}/", "dana")
    WebDriverWait(browser, 15).until(lambda d: d.current_url.endswith(f"/assets/{asset.pk}/"))
    # With no readings yet, the chart says so in words (not an empty axis).
    WebDriverWait(browser, 15).until(
        lambda d: (
            d.execute_script(
                "const words = document.querySelector('#chart-vibration .chart-empty');"
                "return words && words.textContent;"
            )
            == "No readings in the last hour"
        )
    )
    # The page marks itself live once its socket is open; publish only then.
    WebDriverWait(browser, 15).until(
        lambda d: d.find_element(By.ID, "connection").get_attribute("data-state") == "live"
    )
    page_marker = browser.execute_script(
        "window.__notReloaded = true; return window.__notReloaded;"
    )
    assert page_marker is True
    assert chart_points(browser, "vibration") is None

    value = browser.find_element(By.CSS_SELECTOR, '[data-signal="vibration"][data-role="value"]')
    deadline = time.monotonic() + 30
    published = 0
    # Ingest may still be subscribing: publish until the first reading shows, then one more.
    while value.text.strip() != "6.5":
        if time.monotonic() > deadline:
            pytest.fail(f"value never updated; ingest log:\n{processes.log('ingest')[-2000:]}")
        publisher.publish(topic(asset, "telemetry/vibration"), {"ts": time.time(), "value": 6.54})
        published += 1
        time.sleep(0.5)
    WebDriverWait(browser, 10).until(lambda d: chart_points(d, "vibration")[-1:] == [6.54])
    publisher.publish(topic(asset, "telemetry/vibration"), {"ts": time.time(), "value": 7.25})
    WebDriverWait(browser, 10).until(lambda d: chart_points(d, "vibration")[-1:] == [7.25])
    # One reading, one point (earlier 6.54s may still be arriving: their number is not known).
    assert chart_points(browser, "vibration").count(7.25) == 1
    assert value.text.strip() == "7.3"  # above the 7.1 limit: shown as out of range
    assert "out-of-range" in value.get_attribute("class")
    assert browser.execute_script("return window.__notReloaded === true")
    assert published >= 1
