"""A supervisor fits a model from the model-health page in a real headless Chromium: daphne
serves the page and its socket, a real Celery worker fits a small fleet, and the page shows
the stage and percent moving, then the result, without a reload. A tablet that loses its
network mid-fit catches up when it is back.

Every state the fit's panel shows is recorded in the page (a MutationObserver), so a stage
shown for a moment between two polls of the test still counts.
"""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from plantops.health import fit_runs
from plantops.health.models import FitRun, FitStatus
from tests.e2e.test_floor_in_chromium import (  # noqa: F401 - fixtures
    browser,
    log_in_with_a_session,
    web,
)
from tests.factories import make_user
from tests.health.test_fit_runs import bearing, import_fleet
from tests.tcp_proxy import CuttableProxy

pytestmark = [pytest.mark.services, pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PANEL = '[data-role="fit"][data-asset-type="motor"][data-failure-mode="bearing"]'

# Keep every state of the panel: (percent text, stage text, status text).
RECORD_PANEL = """
const panel = document.querySelector(arguments[0]);
const text = (role) => panel.querySelector(`[data-role="${role}"]`).textContent.trim();
window.__fitSeen = [];
window.__notReloaded = true;
new MutationObserver(() => {
  const state = [text("fit-percent"), text("fit-stage"), text("fit-status")];
  const last = window.__fitSeen[window.__fitSeen.length - 1];
  if (!last || last.join("|") !== state.join("|")) window.__fitSeen.push(state);
}).observe(panel, { subtree: true, childList: true, characterData: true, attributes: true });
"""


def part(browser, role: str):  # noqa: F811
    return browser.find_element(By.CSS_SELECTOR, f'{PANEL} [data-role="{role}"]')


def connection_state(browser) -> str:  # noqa: F811
    return browser.find_element(By.ID, "connection").get_attribute("data-state")


def open_the_page(browser, site: str) -> None:  # noqa: F811
    log_in_with_a_session(browser, site, make_user(role="supervisor", username="sam"))
    browser.get(f"{site}/health/models/")
    WebDriverWait(browser, 20).until(lambda d: connection_state(d) == "live")
    assert part(browser, "fit-status").text == "No fit started from this page yet"
    browser.execute_script(RECORD_PANEL, PANEL)


def test_a_supervisor_clicks_fit_and_watches_it_run_to_the_new_version(
    browser,  # noqa: F811
    web,  # noqa: F811
    processes,
):
    import_fleet()
    processes.worker()
    open_the_page(browser, web)

    part(browser, "fit-button").click()
    WebDriverWait(browser, 120).until(
        lambda d: part(d, "fit-outcome").text.startswith("Version 1 is now in use.")
    )

    seen = browser.execute_script("return window.__fitSeen")
    percents = [int(p.removesuffix(" %")) for p, _, _ in seen if p]
    assert percents == sorted(percents), seen
    assert len({p for p in percents if 0 < p < 100}) >= 3, seen
    stages = [stage for _, stage, _ in seen]
    assert "Testing on runs it has not seen (round 1 of 3)" in stages, seen
    assert "Fitting the model on every run" in stages, seen
    assert part(browser, "fit-status").text == "Fitted"
    header = browser.execute_script(
        "return document.querySelector(arguments[0]).closest('section')"
        ".querySelector('.line-area').textContent",
        PANEL,
    )
    assert header == "motor/bearing/v1, in use, fitted just now"
    assert re.fullmatch(r"Started by sam · took \d+ s", part(browser, "fit-meta").text)
    assert not part(browser, "fit-progress").is_displayed()
    button = part(browser, "fit-button")
    assert (button.text, button.is_enabled()) == ("Fit again", True)
    assert browser.execute_script("return window.__notReloaded === true")
    assert FitRun.objects.get().status == FitStatus.SUCCEEDED


def test_a_tablet_offline_while_the_fit_ends_shows_the_result_once_back(
    browser,  # noqa: F811
    web,  # noqa: F811
    processes,
):
    import_fleet()
    processes.worker()
    proxy = CuttableProxy("127.0.0.1", int(web.rsplit(":", 1)[1]))
    try:
        open_the_page(browser, f"http://127.0.0.1:{proxy.port}")
        part(browser, "fit-button").click()
        # The first stage the worker reports, as recorded by the page: a poll of the panel
        # could miss it, and the cut must come while the fit still has its rounds to run.
        WebDriverWait(browser, 120, poll_frequency=0.05).until(
            lambda d: any(
                stage.startswith("Testing on runs it has not seen")
                for _, stage, _ in d.execute_script("return window.__fitSeen")
            )
        )

        proxy.cut()
        WebDriverWait(browser, 20).until(lambda d: connection_state(d) == "offline")
        WebDriverWait(browser, 120, poll_frequency=0.1).until(
            lambda d: FitRun.objects.get().status != FitStatus.RUNNING
        )
        assert part(browser, "fit-status").text == "Fitting"  # what it last heard

        proxy.restore()
        browser.find_element(By.CSS_SELECTOR, '#offline-banner [data-action="reconnect"]').click()
        WebDriverWait(browser, 20).until(
            lambda d: part(d, "fit-outcome").text.startswith("Version 1 is now in use.")
        )
        assert part(browser, "fit-status").text == "Fitted"
        assert connection_state(browser) == "live"
        assert browser.execute_script("return window.__notReloaded === true")
    finally:
        proxy.close()


def test_a_german_tablet_reads_the_fit_and_starts_one_in_german(browser, web):  # noqa: F811
    import_fleet(units=1)  # one run to failure: a fit refuses it, and says why
    sam = make_user(role="supervisor", username="sam")
    failed = fit_runs.fit_run_create(asset_type="motor", failure_mode=bearing(), user=sam)
    fit_runs.fit_run_execute(run_id=failed.pk)
    log_in_with_a_session(browser, web, sam)
    browser.add_cookie({"name": settings.LANGUAGE_COOKIE_NAME, "value": "de"})
    browser.get(f"{web}/health/models/")
    WebDriverWait(browser, 20).until(lambda d: connection_state(d) == "live")

    assert part(browser, "fit-status").text == "Fehlgeschlagen"
    assert part(browser, "fit-outcome").text.startswith(
        "Nur ein Lauf bis zum Ausfall vom Typ motor"
    )
    assert re.fullmatch(r"Gestartet von sam · dauerte \d+ s", part(browser, "fit-meta").text)

    part(browser, "fit-button").click()  # no worker: it waits
    WebDriverWait(browser, 20).until(
        lambda d: part(d, "fit-status").text == "Wartet auf einen Worker"
    )
    assert re.fullmatch(r"Gestartet von sam · wartet seit \d+ s", part(browser, "fit-meta").text)
    button = part(browser, "fit-button")
    assert (button.text, button.is_enabled()) == ("Wird angepasst…", False)
    assert part(browser, "fit-stage").text == "Wartet auf einen Worker"
