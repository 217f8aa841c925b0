"""Content-Security-Policy in a real headless Chromium: every screen loads, draws its charts and
goes live with scripts from the site's own files only, and the browser reports no violation."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from plantops.core.time import now_us
from plantops.pipeline.services import batch_store
from tests.e2e import test_floor_in_chromium as e2e
from tests.factories import logged_in, make_alert, make_asset, make_batch, make_user

pytestmark = [pytest.mark.services, pytest.mark.browser, pytest.mark.django_db(transaction=True)]

browser = e2e.browser
web = e2e.web


def violations(browser) -> list[str]:
    """What the console reported since the last call: CSP refusals and uncaught errors."""
    return [
        entry["message"]
        for entry in browser.get_log("browser")
        if "Content Security Policy" in entry["message"]
        or "Refused to" in entry["message"]
        or "Uncaught" in entry["message"]
    ]


def test_the_policy_is_sent_and_forbids_inline_script_and_eval():
    policy = logged_in(make_user(role="supervisor")).get("/")["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";") if d.strip())
    assert directives["script-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in directives["script-src"]


def test_every_screen_works_under_the_policy(browser, web):
    asset = make_asset(signals=("vibration", "temperature"))
    vibration = asset.signals.get(slug="vibration")
    t = now_us()
    batch_store(
        batch=make_batch(
            readings=[(vibration.pk, t - (30 - i) * 1_000_000, 2.0 + i) for i in range(30)]
        )
    )
    make_alert(asset=asset)
    e2e.log_in_with_a_session(browser, web, make_user(role="admin", username="ada"))
    violations(browser)  # the login page's

    wait = WebDriverWait(browser, 20)
    live_pages = ["/", f"/assets/{asset.pk}/", f"/lines/{asset.line_id}/oee/", "/oee/", "/alerts/"]
    for path in live_pages:
        browser.get(f"{web}{path}")
        # Scripts ran: the page's socket is live.
        wait.until(
            lambda d: d.find_element(By.ID, "connection").get_attribute("data-state") == "live"
        )
        assert violations(browser) == [], path
    browser.get(f"{web}/assets/{asset.pk}/")
    # Plotly drew the asset's chart (its own stylesheet and all) under the policy.
    wait.until(
        lambda d: d.execute_script("return !!document.querySelector('.js-plotly-plot .main-svg')")
    )
    for path in ["/alerts/kpis/", "/work/", "/work/kpis/", "/health/models/", "/admin/"]:
        browser.get(f"{web}{path}")
        wait.until(lambda d: d.execute_script("return document.readyState") == "complete")
        assert violations(browser) == [], path
