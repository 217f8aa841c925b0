"""API v1's interactive docs draw in a real Chromium from the site's own files, under the
site's Content-Security-Policy, with nothing fetched from elsewhere."""

from __future__ import annotations

import pytest
from selenium.webdriver.support.ui import WebDriverWait

from tests.e2e import test_floor_in_chromium as e2e
from tests.e2e.test_csp_in_chromium import violations
from tests.factories import make_user

pytestmark = [pytest.mark.services, pytest.mark.browser, pytest.mark.django_db(transaction=True)]

browser = e2e.browser
web = e2e.web


def test_the_docs_draw_every_plant_operation_under_the_policy(browser, web):
    e2e.log_in_with_a_session(browser, web, make_user(role="technician", username="tia"))
    violations(browser)  # the login page's
    browser.get(f"{web}/api/v1/docs")
    wait = WebDriverWait(browser, 20)
    wait.until(
        lambda d: (
            d.execute_script("return document.querySelectorAll('.opblock-summary-path').length")
            >= 9
        )
    )
    title = browser.execute_script("return document.querySelector('.info .title').textContent")
    assert "PlantOps API" in title
    assert violations(browser) == []
    resources = browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
    )
    assert resources
    assert all(name.startswith(web) for name in resources), resources
