"""A tablet (headless Chromium) with its sound on while a gateway's backlog arrives: what was
over before anyone could act stays silent, what still holds sounds once, live alerts as ever."""

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

S = 1_000_000
# Old enough to read "delayed 3 h 5 min" whatever the test's own pace.
BACKLOG_AGE = (3 * 3600 + 5 * 60 + 30) * S

# Counts the beeps: every beep starts one oscillator. The page makes its AudioContext when the
# sound button is pressed, so replacing the class before that is enough.
COUNT_BEEPS = """
window.__beeps = 0;
window.AudioContext = class {
  constructor() { this.state = "running"; this.currentTime = 0; this.destination = {}; }
  resume() {}
  createOscillator() {
    return {
      type: "", frequency: { value: 0 },
      connect: (next) => next, start: () => { window.__beeps += 1; }, stop() {},
    };
  }
  createGain() {
    return {
      gain: { setValueAtTime() {}, exponentialRampToValueAtTime() {} },
      connect: (next) => next,
    };
  }
};
"""


def beeps(browser) -> int:  # noqa: F811
    return browser.execute_script("return window.__beeps;")


def row_text(browser, alert: Alert) -> str:  # noqa: F811
    rows = browser.find_elements(By.CSS_SELECTOR, f'.panel-alert[data-alert-id="{alert.pk}"]')
    return rows[0].text if rows else ""


def test_a_tablet_sounds_only_for_backlog_alarms_that_still_hold(browser, web):  # noqa: F811
    asset = make_asset(signals=("came-and-went", "still-holds", "live"))
    signals = {signal.slug: signal for signal in asset.signals.all()}
    for slug, signal in signals.items():
        make_rule(signal=signal, name=f"{slug} high", priority="critical", deadband=1.0)
    olga = make_user(role="operator", username="olga")
    asset.line.operators.add(olga)

    log_in_on_the_way(browser, f"{web}/", "olga")
    WebDriverWait(browser, 20).until(
        lambda d: d.find_element(By.ID, "connection").get_attribute("data-state") == "live"
    )
    browser.execute_script(COUNT_BEEPS)
    browser.find_element(By.ID, "alert-sound").click()
    assert beeps(browser) == 1  # the button's own test beep

    # Three hours of backlog: one alarm came and went, one still holds at its last reading.
    start = now_us() - BACKLOG_AGE
    came_and_went = signals["came-and-went"].pk
    judge_readings(*[(came_and_went, start + i * S, v) for i, v in enumerate([1.0, 7.0, 2.0])])
    still_holds = signals["still-holds"].pk
    judge_readings(*[(still_holds, start + i * S, v) for i, v in enumerate([1.0, 7.0, 8.0])])
    went, holds = (Alert.objects.get(signal_id=pk) for pk in (came_and_went, still_holds))
    WebDriverWait(browser, 15).until(lambda d: "delayed 3 h" in row_text(d, went))
    WebDriverWait(browser, 15).until(lambda d: "delayed 3 h" in row_text(d, holds))
    assert "RETURNED UNACK" in row_text(browser, went)
    assert "ACTIVE UNACK" in row_text(browser, holds)
    assert beeps(browser) == 1

    # The gateway is live again and the second alarm still holds: now it sounds, once.
    judge_readings((still_holds, now_us(), 8.5))
    WebDriverWait(browser, 15).until(lambda d: beeps(d) == 2)
    judge_readings((still_holds, now_us(), 8.6))

    # A live alarm sounds as it always did (and shows that nothing else was pending).
    judge_readings((signals["live"].pk, now_us(), 9.0))
    live = Alert.objects.get(signal_id=signals["live"].pk)
    WebDriverWait(browser, 15).until(lambda d: "ACTIVE UNACK" in row_text(d, live))
    assert beeps(browser) == 3
    assert "delayed" not in row_text(browser, live)
