"""Charts over a change from summer time, in a real headless Chromium: the shift report's hours
(composed by the server) and the health chart's predictions (placed by the browser on the
page's clock, each by its own offset), both naming the zone on their time axis."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from selenium.webdriver.support.ui import WebDriverWait

from plantops.core import services
from plantops.health.models import FailureMode, HealthModel
from tests.e2e import test_floor_in_chromium as e2e
from tests.factories import make_asset, make_prediction, make_user
from tests.oee.test_shift_report_over_dst import HOURS, night_over_dst, report_url

pytestmark = [pytest.mark.services, pytest.mark.browser, pytest.mark.django_db(transaction=True)]

browser = e2e.browser
web = e2e.web

DRAWN = """
const el = document.getElementById(arguments[0]);
if (!el || !el.data || !el._fullLayout) return null;
return {
  x: Array.from(el.data[0].x),
  bars: el.querySelectorAll(".bars .point").length,
  title: (el.querySelector(".xtitle") || {}).textContent || null,
};
"""

ZONE = ZoneInfo("America/Chicago")


def next_change(zone: ZoneInfo, now: datetime) -> datetime:
    """The first hour (UTC) after `zone`'s next change of offset after `now` (within a year).

    The health chart shows every prediction from 60 days back with no upper bound, so
    predictions around the coming change are drawn whatever the day the test runs on."""
    hour = now.replace(minute=0, second=0, microsecond=0)
    for _ in range(366 * 24):
        after = hour + timedelta(hours=1)
        if hour.astimezone(zone).utcoffset() != after.astimezone(zone).utcoffset():
            return after
        hour = after
    raise AssertionError(f"{zone.key} has no change of offset within a year")


def test_the_shift_reports_hours_over_the_change_are_nine_bars_on_the_wall_clock(browser, web):
    line = night_over_dst()
    e2e.log_in_with_a_session(browser, web, make_user(role="supervisor", username="sam"))
    browser.get(f"{web}{report_url(line)}")
    drawn = WebDriverWait(browser, 15).until(
        lambda d: (lambda c: c if c and c["bars"] else None)(
            d.execute_script(DRAWN, "report-hourly")
        )
    )
    assert drawn["x"] == HOURS
    # Each hour its own bar: the repeated 02:00 is not stacked into one.
    assert drawn["bars"] == 9
    assert drawn["title"] == "Time in Europe/Berlin"
    assert browser.execute_script("return document.body.dataset.timeZone") == "Europe/Berlin"


def test_the_health_chart_places_each_prediction_by_its_own_offset(browser, web):
    now = timezone.now()
    zone = ZONE
    first_after = next_change(zone, now)
    asset = make_asset(slug="motor", signals=())
    mode, _ = FailureMode.objects.get_or_create(
        code="bearing", defaults={"label": "Bearing degradation"}
    )
    model = HealthModel.objects.create(
        asset_type=asset.asset_type,
        failure_mode=mode,
        version=1,
        algorithm="x",
        step_s=3600,
        cap_steps=720,
        estimator=b"",
        fitted_at=now,
    )
    # Hourly predictions from three hours before the change to two after it.
    made = [first_after + timedelta(hours=h) for h in range(-3, 3)]
    for moment in made:
        make_prediction(asset=asset, model=model, made_at=moment)
    tom = make_user(role="technician", username="tom")
    services.preferences_set(user=tom, time_zone=zone.key)

    e2e.log_in_with_a_session(browser, web, tom)
    browser.get(f"{web}/assets/{asset.pk}/")
    drawn = WebDriverWait(browser, 15).until(lambda d: d.execute_script(DRAWN, "health-chart"))
    # Plotly draws numbers as UTC dates: each is the wall clock of `zone` at its prediction.
    wall = [moment.astimezone(zone).replace(tzinfo=UTC) for moment in made]
    assert drawn["x"] == [int(moment.timestamp() * 1000) for moment in wall]
    assert drawn["title"] == f"Time in {zone.key}"
    offsets = {moment.astimezone(zone).utcoffset() for moment in made}
    assert len(offsets) == 2  # the hours span the change
