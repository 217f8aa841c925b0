"""A chart page in a real headless Chromium, served by daphne as deployed: plotly.js's basic
bundle draws the server's figure, and every static file arrives compressed under a fingerprinted
name cached for a year."""

from __future__ import annotations

import json
import re

import pytest
from selenium.webdriver.support.ui import WebDriverWait

from scripts import headless
from tests.e2e import test_floor_in_chromium as e2e
from tests.factories import make_user
from tests.oee.test_screens import line_with_a_stop  # noqa: F401 - a fixture

pytestmark = [pytest.mark.services, pytest.mark.browser, pytest.mark.django_db(transaction=True)]

web = e2e.web
YEAR_S = 365 * 86400
# collectstatic's names: the file's own name with 12 hex digits of its content's MD5.
FINGERPRINTED = re.compile(r"/static/.+\.[0-9a-f]{12}\.(js|css)$")

PARETO = """
const chart = document.getElementById("oee-pareto");
if (!chart || !chart.data || !chart.querySelector(".main-svg")) return null;
return Array.from(chart.data[0].y);
"""


@pytest.fixture
def browser():
    """Chromium as the e2e tests start it, with its network events kept for the test to read."""
    if not headless.installed():
        pytest.fail("Chromium is not installed: `make test` installs chromium and chromium-driver.")
    driver = headless.chromium(capabilities={"goog:loggingPrefs": {"performance": "ALL"}})
    yield driver
    driver.quit()


def responses(browser) -> dict[str, dict[str, str]]:
    """The responses received since the last call, by URL: their headers, names in lower case."""
    received = {}
    for entry in browser.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.responseReceived":
            response = message["params"]["response"]
            received[response["url"]] = {k.lower(): v for k, v in response["headers"].items()}
    return received


def max_age(cache_control: str) -> int:
    found = re.search(r"max-age=(\d+)", cache_control)
    return int(found.group(1)) if found else 0


def test_a_chart_page_draws_with_the_basic_bundle_from_compressed_files_cached_for_a_year(
    browser,
    web,
    line_with_a_stop,  # noqa: F811
):
    asset, _ = line_with_a_stop
    e2e.log_in_with_a_session(browser, web, make_user(role="supervisor", username="sam"))
    responses(browser)  # the login page's

    page = f"{web}/lines/{asset.line_id}/oee/"
    browser.get(page)

    # The server's Pareto figure, drawn by the basic bundle: scatter, bar and pie, nothing more.
    assert WebDriverWait(browser, 20).until(lambda b: b.execute_script(PARETO)) == [
        "Not explained yet"
    ]
    traces = browser.execute_script("return Object.keys(Plotly.PlotSchema.get().traces).sort()")
    assert traces == ["bar", "pie", "scatter"]
    received = responses(browser)
    static = {url: headers for url, headers in received.items() if "/static/" in url}
    [bundle] = [url for url in static if "/static/vendor/plotly/" in url]
    assert re.search(r"/plotly-basic\.min\.[0-9a-f]{12}\.js$", bundle)
    # The page's own scripts and styles too, each under its fingerprint, compressed, and
    # cached for a year without asking again.
    assert len(static) >= 5
    for url, headers in static.items():
        assert FINGERPRINTED.search(url), url
        assert headers.get("content-encoding") in ("br", "gzip"), url
        assert "immutable" in headers["cache-control"], url
        assert max_age(headers["cache-control"]) >= YEAR_S, url
    # The page itself is gzipped, and never cached.
    assert received[page]["content-encoding"] == "gzip"
    assert max_age(received[page].get("cache-control", "")) == 0
