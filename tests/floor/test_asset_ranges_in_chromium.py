"""The asset page's chart ranges in a real headless Chromium: a trend band, then back to Live."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from plantops.core.time import now_us
from plantops.pipeline.services import batch_store
from plantops.telemetry.models import MinuteRollup, Reading
from tests.e2e import test_floor_in_chromium as e2e
from tests.factories import make_asset, make_batch, make_user

pytestmark = [pytest.mark.services, pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The Chromium and daphne fixtures of the floor's end-to-end test, shared rather than copied.
browser = e2e.browser
web = e2e.web

TRACES = """
const chart = document.querySelector(`[data-chart="${arguments[0]}"]`);
if (!chart || !chart.data) return null;
return {
  traces: chart.data.map((trace) => ({ name: trace.name || null, fill: trace.fill || null, y: Array.from(trace.y) })),
  limits: chart.layout.shapes.map((shape) => shape.y0),
  notes: chart.layout.annotations.map((note) => note.text),
};
"""


def chart_words(browser, slug: str) -> str | None:
    """What a chart with nothing to draw says instead, or None if it draws."""
    return browser.execute_script(
        "const words = document.querySelector(`[data-chart='${arguments[0]}'] .chart-empty`);"
        "return words ? words.textContent : null;",
        slug,
    )


def chart(browser, slug: str) -> dict | None:
    return browser.execute_script(TRACES, slug)


def has_band(drawn: dict | None) -> bool:
    return bool(drawn) and any(trace["fill"] == "toself" for trace in drawn["traces"])


def test_an_operator_sees_the_last_24_h_as_a_band_and_goes_back_to_live(browser, web):
    asset = make_asset(signals=("vibration", "temperature"))
    vibration = asset.signals.get(slug="vibration")
    now = timezone.now()
    minute = now.replace(second=0, microsecond=0)
    # Five minutes of rollups an hour and a half ago, nine minutes of silence, one more minute.
    rollups = [(minute - timedelta(minutes=90 - i), 1.0 + i, 3.0 + i, 2) for i in range(5)]
    rollups.append((minute - timedelta(minutes=80), 4.0, 6.0, 2))
    MinuteRollup.objects.bulk_create(
        MinuteRollup(
            signal=vibration,
            minute=at,
            value_min=low,
            value_max=high,
            value_sum=(low + high) / 2 * count,
            value_count=count,
        )
        for at, low, high, count in rollups
    )
    Reading.objects.bulk_create(
        Reading(signal=vibration, ts=now - timedelta(seconds=s), value=v)
        for s, v in ((30, 2.0), (20, 2.5), (10, 3.0))
    )

    e2e.log_in_with_a_session(browser, web, make_user(role="operator", username="erin"))
    browser.get(f"{web}/assets/{asset.pk}/")
    wait = WebDriverWait(browser, 15)
    wait.until(
        lambda d: (chart(d, "vibration") or {}).get("traces", [{}])[0].get("y") == [2.0, 2.5, 3.0]
    )
    assert not has_band(chart(browser, "vibration"))
    wait.until(lambda d: d.find_element(By.ID, "connection").get_attribute("data-state") == "live")

    browser.find_element(By.CSS_SELECTOR, '[data-range="24h"]').click()
    wait.until(lambda d: has_band(chart(d, "vibration")))

    def shows_the_day() -> None:
        drawn = chart(browser, "vibration")
        by_name = {trace["name"]: trace for trace in drawn["traces"]}
        # One filled polygon per stretch without a gap: along the maxima, back along the minima.
        assert by_name["min–max"]["fill"] == "toself"
        assert by_name["min–max"]["y"] == [
            *(3.0, 4.0, 5.0, 6.0, 7.0),  # the maxima forward
            *(5.0, 4.0, 3.0, 2.0, 1.0),  # the minima back
            None,  # the gap
            *(6.0, 4.0),  # the bucket after it
        ]
        assert by_name["mean"]["y"] == [2.0, 3.0, 4.0, 5.0, 6.0, None, 5.0]
        assert drawn["limits"] == [7.1, 0.0]
        assert chart_words(browser, "temperature") == "No readings in the last 24 h"
        pressed = browser.find_element(By.CSS_SELECTOR, '[data-range][aria-pressed="true"]')
        assert pressed.get_attribute("data-range") == "24h"

    shows_the_day()
    # The range is in the address: a reload (a tablet waking up) comes back to the same view.
    assert browser.current_url.endswith(f"/assets/{asset.pk}/?range=24h")
    browser.refresh()
    wait.until(lambda d: has_band(chart(d, "vibration")))
    shows_the_day()
    wait.until(lambda d: d.find_element(By.ID, "connection").get_attribute("data-state") == "live")

    # A live reading updates the big value but is not drawn onto the 24-hour trend.
    batch_store(batch=make_batch(readings=[(vibration.pk, now_us(), 5.04)]))
    value = browser.find_element(By.CSS_SELECTOR, '[data-signal="vibration"][data-role="value"]')
    wait.until(lambda d: value.text.strip() == "5.0")
    shows_the_day()

    # Back to Live: the raw hour again, with the reading that came in under the trend.
    browser.find_element(By.CSS_SELECTOR, '[data-range="live"]').click()
    # (A null may break the line before 5.04: more than 15 s can pass between the readings.)
    wait.until(
        lambda d: (
            [y for y in chart(d, "vibration")["traces"][0]["y"] if y is not None]
            == [2.0, 2.5, 3.0, 5.04]
        )
    )
    assert not has_band(chart(browser, "vibration"))
    assert browser.current_url.endswith(f"/assets/{asset.pk}/")
