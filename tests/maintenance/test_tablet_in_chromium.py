"""The maintenance tablet flows in a real headless Chromium at tablet size: an operator reports
a problem in three taps, a technician does a work order with its checklist and a photo."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.utils import timezone
from PIL import Image
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from plantops.maintenance.models import FailureCode, WorkOrder
from tests.e2e import test_floor_in_chromium as e2e
from tests.factories import make_asset, make_prediction_alert, make_user, make_work_order
from tests.maintenance.test_screens import PNG

pytestmark = [pytest.mark.services, pytest.mark.browser, pytest.mark.django_db(transaction=True)]

browser = e2e.browser
web = e2e.web


@pytest.fixture(autouse=True)
def taxonomy():
    """The seeded failure modes and codes: a transactional test before this one flushed them."""
    for module in (
        "plantops.health.migrations.0002_seed_failure_modes",
        "plantops.maintenance.migrations.0002_seed_failure_taxonomy",
    ):
        importlib.import_module(module).seed(apps, None)


@pytest.fixture
def photo_dir(processes, tmp_path):
    """Where the web process keeps photos: the test's own directory. Asked for before `web`."""
    path = tmp_path / "media"
    processes.env["MEDIA_ROOT"] = str(path)
    return path


def wait_for_status(browser, label: str) -> None:
    """Wait until the page shown (the next one, after a form was sent) has this status.

    Chromium may answer a read made while the next page replaces the document with a stale
    element or an inspector error ("Node … does not belong to the document"): read again."""
    WebDriverWait(
        browser, 15, ignored_exceptions=[StaleElementReferenceException, WebDriverException]
    ).until(lambda d: d.find_element(By.CSS_SELECTOR, "[data-role=wo-status]").text == label)


class Taps:
    """Clicks through the screen, counting them: the operator's flow has a budget of three."""

    def __init__(self, browser) -> None:
        self.browser = browser
        self.count = 0

    def tap(self, css: str) -> None:
        element = WebDriverWait(self.browser, 15).until(
            lambda d: d.find_elements(By.CSS_SELECTOR, css)
        )[0]
        size = element.size
        assert min(size["height"], size["width"]) >= 56, (css, size)  # gloved hands
        element.click()
        self.count += 1


def test_an_operator_reports_a_problem_in_three_taps(photo_dir, browser, web):
    browser.set_window_size(1280, 800)  # a 10-inch tablet, landscape
    asset = make_asset()
    make_user(role="operator", username="olga")
    e2e.log_in_on_the_way(browser, f"{web}/", "olga")
    WebDriverWait(browser, 15).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".tile"))

    taps = Taps(browser)
    taps.tap('[data-action="report"]')
    taps.tap(f'.report-choice[data-asset-id="{asset.pk}"]')
    taps.tap('.report-choice[value="vib"]')

    WebDriverWait(browser, 15).until(
        lambda d: "/work/" in d.current_url and "report" not in d.current_url
    )
    work = WorkOrder.objects.get()
    assert taps.count == 3
    assert (work.asset, work.kind, work.status, work.problem.code) == (
        asset,
        "request",
        "requested",
        "vib",
    )
    page = browser.find_element(By.TAG_NAME, "main").text
    assert f"Reported as WO-{work.pk}" in browser.page_source
    assert "REQUESTED" in page


def test_a_technician_completes_a_work_order_with_checklist_and_photo(
    photo_dir, browser, web, tmp_path
):
    browser.set_window_size(800, 1280)  # a 10-inch tablet, portrait
    asset = make_asset()
    sam = make_user(role="supervisor", username="sam")
    tom = make_user(role="technician", username="tom")
    work = make_work_order(
        by=sam,
        asset=asset,
        title="Conveyor belt slipping",
        checklist=["Lock out and tag out", "Replace the belt", "Test run for 5 minutes"],
        assignee=tom,
    )
    photo = tmp_path / "belt.png"
    photo.write_bytes(PNG)

    e2e.log_in_on_the_way(browser, f"{web}/work/", "tom")
    taps = Taps(browser)
    taps.tap(f'.wo-row[data-work-order-id="{work.pk}"]')  # "my work" is his first list
    taps.tap('[data-action="start"]')
    wait_for_status(browser, "IN PROGRESS")
    for item in work.checklist.all():
        taps.tap(f'.check-item[data-item-id="{item.pk}"][aria-pressed="false"]')
        WebDriverWait(browser, 15).until(
            lambda d, pk=item.pk: d.find_elements(
                By.CSS_SELECTOR, f'.check-item[data-item-id="{pk}"][aria-pressed="true"]'
            )
        )

    browser.find_element(By.CSS_SELECTOR, "input[type=file][name=photo]").send_keys(str(photo))
    browser.find_element(By.NAME, "caption").send_keys("Belt glazed and cracked")
    taps.tap(".wo-photo-form button[type=submit]")
    image = WebDriverWait(browser, 15).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, ".wo-photos img")
    )[0]
    # The photo came back through the server and the browser decoded it (once scrolled to:
    # thumbnails load lazily).
    browser.execute_script("arguments[0].scrollIntoView()", image)
    WebDriverWait(browser, 15).until(
        lambda d: d.execute_script("return arguments[0].naturalWidth", image) == 1
    )

    taps.tap('input[name=outcome][value="failure_found"] + span')
    for name, value in (("problem", "noi"), ("cause", "wear"), ("remedy", "replace")):
        code = FailureCode.objects.get(kind=name, code=value)
        browser.find_element(
            By.CSS_SELECTOR, f'select[name={name}] option[value="{code.pk}"]'
        ).click()
    browser.find_element(By.NAME, "actual_minutes").send_keys("40")
    browser.find_element(By.NAME, "notes").send_keys("Belt replaced, tension set to spec.")
    taps.tap('[data-action="complete"]')

    wait_for_status(browser, "DONE")
    work.refresh_from_db()
    assert (work.status, work.problem.code, work.cause.code, work.remedy.code) == (
        "done",
        "noi",
        "wear",
        "replace",
    )
    assert work.outcome == "failure_found"
    assert work.actual_minutes == 40
    assert work.notes == "Belt replaced, tension set to spec."
    assert not work.checklist.filter(done_at__isnull=True).exists()
    stored = work.photos.get()
    assert stored.caption == "Belt glazed and cracked"
    assert stored.content_type == "image/png"
    assert Image.open(photo_dir / stored.image.name).size == (1, 1)
    assert "Findings" in browser.find_element(By.TAG_NAME, "main").text
    # Nothing on the page runs off the side of a portrait tablet.
    assert browser.execute_script(
        "return document.documentElement.scrollWidth <= window.innerWidth"
    )


def test_the_loop_from_a_prediction_alert_to_the_precision_on_the_rule_and_model_pages(
    photo_dir, browser, web
):
    browser.set_window_size(1280, 800)
    asset = make_asset()
    make_user(role="supervisor", username="sam")
    tom = make_user(role="technician", username="tom")
    alert, prediction = make_prediction_alert(asset=asset)

    # The supervisor sees the prediction alert on the asset page: one tap makes the work.
    e2e.log_in_on_the_way(browser, f"{web}/assets/{asset.pk}/", "sam")
    taps = Taps(browser)
    taps.tap(f'.maint-one-tap[data-alert-id="{alert.pk}"]')
    wait_for_status(browser, "APPROVED")
    work = WorkOrder.objects.get()
    assert (work.alert, work.prediction, work.kind) == (alert, prediction, "predictive")
    # Read while the page may still be settling (a node replaced between find and read).
    WebDriverWait(
        browser, 15, ignored_exceptions=[StaleElementReferenceException, WebDriverException]
    ).until(
        lambda d: "Remaining life 3–8 days" in d.find_element(By.CSS_SELECTOR, ".wo-evidence").text
    )
    browser.find_element(By.CSS_SELECTOR, f'select[name=assignee] option[value="{tom.pk}"]').click()
    browser.execute_script(
        "document.querySelector('input[name=due_at]').value = arguments[0]",
        timezone.now().strftime("%Y-%m-%dT%H:%M"),
    )
    taps.tap(".wo-schedule button[type=submit]")
    wait_for_status(browser, "SCHEDULED")

    # The technician does it and says what he found.
    browser.delete_all_cookies()
    e2e.log_in_on_the_way(browser, f"{web}/work/{work.pk}/", "tom")
    taps.tap('[data-action="start"]')
    wait_for_status(browser, "IN PROGRESS")
    taps.tap('input[name=outcome][value="failure_found"] + span')
    vib = FailureCode.objects.get(kind="problem", code="vib")
    browser.find_element(By.CSS_SELECTOR, f'select[name=problem] option[value="{vib.pk}"]').click()
    browser.find_element(By.NAME, "notes").send_keys("Outer race spalled; bearing replaced.")
    taps.tap('[data-action="complete"]')
    wait_for_status(browser, "DONE")

    # The supervisor sees the rule and the model credited.
    browser.delete_all_cookies()
    e2e.log_in_on_the_way(browser, f"{web}/alerts/rules/", "sam")
    cell = WebDriverWait(browser, 15).until(
        lambda d: d.find_elements(
            By.CSS_SELECTOR, f'tr[data-rule-id="{alert.rule_id}"] [data-role=precision]'
        )
    )[0]
    assert cell.text == "100%"
    browser.get(f"{web}/health/models/")
    assert (
        browser.find_element(By.CSS_SELECTOR, "[data-role=outcomes] [data-role=precision]").text
        == "100%"
    )
    prediction.refresh_from_db()
    assert prediction.inside_interval is True


def test_a_closing_note_survives_a_reload_and_a_tap_while_offline_sends_nothing(
    photo_dir, browser, web
):
    browser.set_window_size(1280, 800)
    sam = make_user(role="supervisor", username="sam")
    tom = make_user(role="technician", username="tom")
    work = make_work_order(by=sam, title="Guard rattles", assignee=tom, started=True)

    e2e.log_in_on_the_way(browser, f"{web}/work/{work.pk}/", "tom")
    wait_for_status(browser, "IN PROGRESS")
    browser.find_element(By.NAME, "notes").send_keys("Two bolts missing on the guard")
    browser.refresh()
    wait_for_status(browser, "IN PROGRESS")
    kept = browser.find_element(By.NAME, "notes").get_attribute("value")
    assert kept == "Two bolts missing on the guard"

    browser.set_network_conditions(offline=True, latency=0, throughput=0)
    try:
        browser.execute_script("window.dispatchEvent(new Event('offline'))")
        Taps(browser).tap('[data-action="complete"]')
        banner = browser.find_element(By.ID, "offline-banner")
        assert banner.is_displayed()
        assert "kept on this tablet" in banner.text
        work.refresh_from_db()
        assert work.status == "in_progress"
    finally:
        browser.set_network_conditions(offline=False, latency=0, throughput=500 * 1024)
    browser.execute_script("window.dispatchEvent(new Event('online'))")
    assert not browser.find_element(By.ID, "offline-banner").is_displayed()
    Taps(browser).tap('[data-action="complete"]')
    wait_for_status(browser, "DONE")
    work.refresh_from_db()
    assert work.notes == "Two bolts missing on the guard"
    # Done: the draft is forgotten.
    draft = browser.execute_script(
        f"return sessionStorage.getItem('plantops.work.{work.pk}.draft')"
    )
    assert draft is None
