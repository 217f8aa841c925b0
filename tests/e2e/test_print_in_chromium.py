"""Printing in a real headless Chromium: the shift report and the work-order sheet each come out
as one A4 page, the KPI pages on as many as they need; on paper nothing reaches past the
printable width, charts are drawn again to fit it, and no button or live chrome is left."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageDraw
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from plantops.assets.models import Asset
from plantops.maintenance import services as maintenance
from plantops.maintenance.models import Part
from plantops.oee import services as oee_services
from plantops.oee.models import CountEvent, StateEvent
from tests import printing
from tests.alerts.test_kpis_page import plant  # noqa: F401 - a fixture
from tests.e2e import test_floor_in_chromium as e2e
from tests.factories import make_user, make_work_order
from tests.maintenance.test_kpi_page import press_line, quiet_line  # noqa: F401 - fixtures
from tests.maintenance.test_tablet_in_chromium import taxonomy  # noqa: F401 - a fixture
from tests.oee.test_shift_report import worked_shift  # noqa: F401 - a fixture

pytestmark = [pytest.mark.services, pytest.mark.browser, pytest.mark.django_db(transaction=True)]

browser = e2e.browser
web = e2e.web

# What paper has no use for: it must be gone from the printed page.
CHROME = (
    ".topbar, #connection, .offline-banner, .btn, [data-action=print], form:not(:has(.check-item))"
)
SHOWN = """
return [...document.querySelectorAll(arguments[0])]
  .filter((el) => el.getClientRects().length && getComputedStyle(el).visibility !== "hidden")
  .map((el) => el.outerHTML.slice(0, 80));
"""


def shown(browser, selector: str) -> list[str]:
    return browser.execute_script(SHOWN, selector)


def check_the_print_button(browser) -> None:
    """A large Print button on the screen that prints the page (window.print, stubbed here:
    headless Chromium has no print dialog)."""
    button = browser.find_element(By.CSS_SELECTOR, "[data-action=print]")
    assert button.is_displayed()
    assert min(button.size["height"], button.size["width"]) >= 56  # a gloved finger's target
    browser.execute_script("window.print = () => { window.printed = (window.printed || 0) + 1; }")
    button.click()
    WebDriverWait(browser, 10).until(lambda d: d.execute_script("return window.printed") == 1)


def check_paper(browser, *charts: str) -> dict:
    """On paper: no chrome, nothing past the printable width, and each chart drawn again within
    it as bars in an SVG, when printing begins in the screen's window; back on the screen, the
    charts as they were. Returns each chart as drawn on paper, and under "pages" how many
    pages the layout fills at the least."""
    on_screen = {chart: printing.chart_drawn(browser, chart) for chart in charts}
    with printing.print_media(browser):
        assert shown(browser, CHROME) == []
        for chart in charts:
            # Wider on the screen than the paper: the print styles, not a resized window,
            # make it fit.
            assert on_screen[chart]["width"] > printing.PRINTABLE_WIDTH_PX, chart
            WebDriverWait(browser, 10).until(
                lambda d, chart=chart: (
                    printing.chart_drawn(d, chart)["width"] <= printing.PRINTABLE_WIDTH_PX
                )
            )
        with printing.paper_viewport(browser):
            assert printing.cut_on_paper(browser) == []
            on_paper = {chart: printing.chart_drawn(browser, chart) for chart in charts}
            on_paper["pages"] = printing.pages_at_least(browser)
    for chart in charts:
        assert on_paper[chart]["bars"] > 0, chart
        assert on_paper[chart]["svgRight"] <= printing.PRINTABLE_WIDTH_PX, chart
        WebDriverWait(browser, 10).until(
            lambda d, chart=chart: (
                printing.chart_drawn(d, chart)["width"] == on_screen[chart]["width"]
            )
        )
    return on_paper


def check_pdf(pdf: bytes, *, exactly: int | None = None, at_least: int = 1) -> None:
    """The PDF has A4 pages, as many as asked (a long page continues on more)."""
    pages = printing.page_count(pdf)
    assert len(printing.page_sizes(pdf)) == pages
    assert all(printing.is_a4(size) for size in printing.page_sizes(pdf))
    if exactly is not None:
        assert pages == exactly
    assert pages >= at_least


def test_a_shift_report_prints_on_one_a4_page_with_its_chart_and_nothing_cut(
    browser,
    web,
    worked_shift,  # noqa: F811
):
    shift = worked_shift
    # A busy line: four machines; the press's four long stops and fifteen short ones, the
    # trimmer's jams; more scrap found through the shift than the report lists.
    for minute in range(0, 45, 3):
        StateEvent.objects.create(asset=shift.press, ts=shift.at(12, minute), state="down")
        StateEvent.objects.create(asset=shift.press, ts=shift.at(12, minute + 1), state="running")
    for position, name in ((3, "Trimmer"), (4, "Packer")):
        machine = Asset.objects.create(
            line=shift.line, slug=name.lower(), name=name, position=position, ideal_cycle_time_s=6
        )
        StateEvent.objects.create(asset=machine, ts=shift.at(5, 50), state="running")
        for hour in range(6, 14):
            CountEvent.objects.create(asset=machine, ts=shift.at(hour, 30), good=500, scrap=7)
    trimmer = Asset.objects.get(line=shift.line, slug="trimmer")
    for hour, reason in ((8, "blade_change"), (10, "jam")):
        StateEvent.objects.create(asset=trimmer, ts=shift.at(hour), state="down", reason=reason)
        StateEvent.objects.create(asset=trimmer, ts=shift.at(hour, 12), state="running")
    for hour in range(6, 12):
        oee_services.scrap_record(
            asset=shift.feeder, ts=shift.at(hour, 30), quantity=hour, reason="short shot", user=None
        )
    e2e.log_in_with_a_session(browser, web, make_user(role="supervisor", username="sam"))
    browser.get(f"{web}{shift.url}")
    WebDriverWait(browser, 20).until(lambda d: printing.chart_drawn(d, "#report-hourly"))
    rows = browser.find_elements(By.CSS_SELECTOR, "#report-stops tbody tr")
    assert len(rows) == 10
    assert len(browser.find_elements(By.CSS_SELECTOR, "#report-scrap tbody tr")) == 4
    assert "times in Europe/Berlin" in browser.find_element(By.CSS_SELECTOR, ".report-when").text

    check_the_print_button(browser)
    on_paper = check_paper(browser, "#report-hourly")["#report-hourly"]
    assert on_paper["bars"] == 8
    assert on_paper["height"] == 160  # print.js's height for the report's chart

    check_pdf(printing.pdf_of(browser), exactly=1)


@pytest.fixture
def media_root(processes, settings, tmp_path):
    """Where both this test and the web process keep photos. Asked for before `web`."""
    path = tmp_path / "media"
    settings.MEDIA_ROOT = path
    processes.env["MEDIA_ROOT"] = str(path)
    return path


def a_photo(colour: tuple[int, int, int]) -> SimpleUploadedFile:
    """A 640 x 480 JPEG, as a tablet's camera sends it (smaller)."""
    out = io.BytesIO()
    image = Image.new("RGB", (640, 480), colour)
    ImageDraw.Draw(image).rectangle((160, 120, 480, 360), fill=(20, 20, 20))
    image.save(out, format="JPEG", quality=80)
    return SimpleUploadedFile("photo.jpg", out.getvalue(), "image/jpeg")


@pytest.mark.usefixtures("taxonomy")
def test_a_work_order_sheet_prints_on_one_a4_page_with_signature_lines(media_root, browser, web):
    sam = make_user(role="supervisor", username="sam")
    tom = make_user(role="technician", username="tom")
    tom.first_name, tom.last_name = "Tom", "Becker"
    tom.save()
    work = make_work_order(
        by=sam,
        kind="predictive",
        title="Bearing degradation on the main drive motor",
        description="Vibration on the drive-end bearing has risen for two weeks; the model "
        "predicts a bearing failure within days.",
        priority="high",
        checklist=CHECKLIST,
        assignee=tom,
        started=True,
        evidence={
            "rul_low_days": 3,
            "rul_days": 5,
            "rul_high_days": 8,
            "confidence": 0.9,
            "health_index": 0.31,
            "failure_mode": "Bearing wear",
            "signal": {"name": "Vibration", "unit": "mm/s", "value": 9.2, "limit": 7.1},
        },
    )
    for item in work.checklist.all()[:4]:
        maintenance.checklist_tick(item=item, user=tom)
    for number, name, quantity in (
        ("6205-2rs", "Deep-groove ball bearing 6205-2RS", 2),
        ("grease-ep2", "Lithium grease EP2, 400 g", 1),
        ("seal-25x47", "Shaft seal 25 x 47 x 7", 2),
    ):
        part = Part.objects.create(number=number, name=name, stock=10)
        maintenance.part_use(work_order=work, part=part, quantity=quantity, user=tom)
    for colour, caption in (((150, 90, 40), "Drive-end bearing, cage worn"), ((90, 90, 160), "")):
        maintenance.photo_add(work_order=work, upload=a_photo(colour), user=tom, caption=caption)
    maintenance.workorder_note(
        work_order=work, user=tom, note="Grease dark and gritty on the drive end; seal cracked."
    )
    maintenance.workorder_note(work_order=work, user=sam, note="Spare motor on hold in stores.")

    # Tom prints his own sheet: his checklist is a row of buttons on the screen, kept on paper.
    e2e.log_in_with_a_session(browser, web, tom)
    browser.get(f"{web}/work/{work.pk}/")
    WebDriverWait(browser, 20).until(
        lambda d: d.execute_script("return document.readyState") == "complete"
    )
    check_the_print_button(browser)
    with printing.print_media(browser):
        # Everything the technician takes to the machine is on the sheet.
        main = browser.find_element(By.TAG_NAME, "main").text
        for text in (*CHECKLIST, "6205-2rs", "seal cracked", "Remaining life 3–8 days"):
            assert text in main
        assert len(shown(browser, ".checklist .check-item")) == len(CHECKLIST)
        assert len(shown(browser, ".wo-photos img")) == 2
        signatures = browser.find_element(By.CSS_SELECTOR, ".wo-signatures")
        assert signatures.is_displayed()
        assert [
            row.text.split()[0] for row in signatures.find_elements(By.CSS_SELECTOR, "tbody tr")
        ] == [
            "Technician",
            "Supervisor",
        ]
        assert "Tom Becker" in signatures.text
        assert "Name Date Signature" in signatures.text
    # Not on the screen: a signature line is for paper.
    assert not browser.find_element(By.CSS_SELECTOR, ".wo-signatures").is_displayed()
    check_paper(browser)
    # The photos came through the server, decoded.
    assert browser.execute_script(
        "return [...document.querySelectorAll('.wo-photos img')].every((i) => i.naturalWidth > 0)"
    )

    check_pdf(printing.pdf_of(browser), exactly=1)


CHECKLIST = [
    "Lock out and tag out the motor",
    "Measure the vibration on both bearings",
    "Open the drive-end bearing cover",
    "Replace the bearing and the seal",
    "Regrease to spec (12 g)",
    "Test run for 10 minutes and measure again",
]


@pytest.mark.usefixtures("press_line", "quiet_line")
def test_the_maintenance_kpi_page_prints_with_nothing_cut(browser, web):
    e2e.log_in_with_a_session(browser, web, make_user(role="supervisor", username="sam"))
    browser.get(f"{web}/work/kpis/")
    charts = ("#mkpi-lines-chart", "#mkpi-reliability-chart", "#mkpi-planned-chart")
    WebDriverWait(browser, 20).until(
        lambda d: all((printing.chart_drawn(d, chart) or {}).get("bars") for chart in charts)
    )
    assert len(browser.find_elements(By.CSS_SELECTOR, ".mkpi-assets tbody tr")) >= 4
    check_the_print_button(browser)
    pages = check_paper(browser, *charts)["pages"]
    check_pdf(printing.pdf_of(browser), at_least=pages)


GRADE_WORD = """
const label = document.querySelector(`[data-kpi="${arguments[0]}"] .kpi-label`);
return getComputedStyle(label, "::after").content;
"""


@pytest.mark.usefixtures("plant")
def test_the_alarm_kpi_page_prints_with_nothing_cut(browser, web):
    e2e.log_in_with_a_session(browser, web, make_user(role="supervisor", username="sam"))
    browser.get(f"{web}/alerts/kpis/")
    WebDriverWait(browser, 20).until(
        lambda d: (printing.chart_drawn(d, "#kpi-rate-chart") or {}).get("bars")
    )
    assert browser.find_elements(By.CSS_SELECTOR, "#kpi-bad-actors tbody tr")
    check_the_print_button(browser)
    pages = check_paper(browser, "#kpi-rate-chart")["pages"]
    with printing.print_media(browser):
        # The grades, a colour on the screen, are words on paper.
        assert browser.execute_script(GRADE_WORD, "peak") == '" · off target"'
        assert browser.execute_script(GRADE_WORD, "activations") == '" · on target"'
    check_pdf(printing.pdf_of(browser), at_least=pages)

    # In the page's language.
    browser.add_cookie({"name": "django_language", "value": "de", "path": "/"})
    browser.get(f"{web}/alerts/kpis/")
    WebDriverWait(browser, 20).until(lambda d: d.execute_script(GRADE_WORD, "peak") is not None)
    with printing.print_media(browser):
        assert browser.execute_script(GRADE_WORD, "peak") == '" · außerhalb des Ziels"'
        assert browser.execute_script(GRADE_WORD, "activations") == '" · im Ziel"'
