"""Every page in a real headless Chromium, at a 10-inch tablet's portrait (800 × 1280) and
landscape (1280 × 800), as each role that uses it: axe-core finds no critical or serious
violation, every touch target is at least 44 × 44 px, nothing scrolls sideways in portrait, and
no text but a unit is under 14 px.

The pages are tests/site_pages.py's, on its seeded plant, in one browser session. A layout two
roles share (same elements, same classes) is measured once, and landscape is visited only for
the layouts portrait found new, which keeps the walk to about a minute."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from selenium.webdriver.support.ui import WebDriverWait

from tests import accessibility as a11y
from tests import site_pages
from tests.e2e import test_floor_in_chromium as e2e

pytestmark = [pytest.mark.services, pytest.mark.browser]

browser = e2e.browser
web = e2e.web

# One page holding one of each fault the checks are there to catch, and the look-alikes they
# must let pass: a unit under 14 px, text only a screen reader gets, a checkbox inside a large
# enough label.
FAULTY_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Faults</title>
<style>body { margin: 0; font: 18px sans-serif; } button { font-size: 18px; }</style></head>
<body><main>
<h1>Faults</h1>
<a href="#a" aria-pressed="true" style="display: inline-block; padding: 20px">Pressed link</a>
<button id="tiny" type="button" style="width: 30px; height: 30px">x</button>
<label id="tick"><input type="checkbox"> Tick</label>
<label style="display: flex; min-height: 48px"><input type="checkbox"> Big tick</label>
<p id="small" style="font-size: 12px">Small print</p>
<p style="font-size: 22px">7.1 <span class="unit" style="font-size: 12px">mm/s</span></p>
<span style="position: absolute; width: 1px; height: 1px; overflow: hidden;
  clip-path: inset(50%); font-size: 10px">Only for screen readers</span>
<div id="wide" style="width: 1000px">Wide</div>
</main></body></html>"""


def open_html(browser, html: str) -> None:
    browser.get("data:text/html;charset=utf-8," + html.replace("#", "%23"))
    WebDriverWait(browser, 10).until(
        lambda d: d.execute_script("return document.readyState") == "complete"
    )


def test_the_checks_find_each_fault_and_spare_units_and_hidden_text(browser):
    a11y.viewport_set(browser, a11y.PORTRAIT)
    open_html(browser, FAULTY_PAGE)

    axe = a11y.axe_violations(browser, "faults")
    targets = a11y.small_targets(browser, "faults")
    sideways = a11y.sideways_scroll(browser, "faults")
    text, shown = a11y.small_text(browser, "faults")

    assert [f.what.split(" (")[0] for f in axe] == ["axe aria-allowed-attr"]
    assert sorted(f.what.split(" is ")[0] for f in targets) == [
        "target #tick",
        "target #tiny",
    ]
    assert "30×30 px" in next(str(f) for f in targets if "#tiny" in str(f))
    assert len(sideways) == 1
    assert "#wide" in sideways[0].what
    assert [f.what.split(" (")[0] for f in text] == ["text #small is 12 px"]
    # Nine runs of text are seen (the unit among them); the screen reader's is not.
    assert shown == 9

    a11y.viewport_set(browser, a11y.LANDSCAPE)
    assert a11y.sideways_scroll(browser, "faults") == []


# --- every page --------------------------------------------------------------------------------

# Not the site's own screens: Django's admin and the API's interactive docs are desk tools drawn
# by their packages' markup and styles (django.contrib.admin, swagger-ui), and the floor view's
# alert panel is a fragment that alerts.js swaps into the floor view, checked there.
NOT_SCREENS = ("/admin/", "/api/v1/docs", "/alerts/panel")

# Ready to be judged: loaded, its socket live where it has one, its charts drawn.
_SETTLED_JS = """
if (document.readyState !== 'complete') return false;
const live = document.querySelector('script[src*="plantops/live"]');
const connection = document.getElementById('connection');
if (live && connection && connection.dataset.state !== 'live') return false;
if (!window.Plotly) return true;
const charts = document.querySelectorAll('.chart, .oee-chart, .kpi-chart, .health-chart');
return [...charts].every(c => c.offsetParent === null || c.querySelector('.main-svg'));
"""

# What a part of the page is made of, less its words and values: two roles shown the same
# controls in the same layout need measuring once.
_SKELETON_JS = """
const root = document.querySelector(arguments[0]) || document.body;
const parts = [];
for (const el of root.querySelectorAll('*')) {
  if (el.offsetParent === null) continue;
  parts.push(el.localName + '.' + el.className + '#' + (el.getAttribute('type') || ''));
}
return parts.join('|');
"""


def open_page(browser, web: str, page: site_pages.Page, role: str) -> None:
    browser.get(f"{web}{page.url}")
    # The page itself, not a login form it sent the browser to.
    assert urlsplit(browser.current_url).path == urlsplit(page.url).path, (
        f"{page.name} as {role}: sent to {browser.current_url}"
    )
    WebDriverWait(browser, 20).until(
        lambda d: d.execute_script(_SETTLED_JS), f"{page.name} as {role}: never settled"
    )


@pytest.mark.django_db(transaction=True)
def test_every_page_passes_axe_and_suits_gloved_hands_on_a_tablet(browser, web, subtests):
    plant = site_pages.seed_site(with_data=True)
    users = site_pages.role_users(plant)
    pages = [p for p in site_pages.site_pages(plant) if not p.url.startswith(NOT_SCREENS)]
    assert len(pages) > 20
    found: dict[str, list[a11y.Finding]] = {"axe": [], "targets": [], "sideways": [], "text": []}
    layouts: set[tuple[str, str]] = set()  # (url, skeleton of the body): measured already
    audited: set[tuple[str, str]] = set()  # (url, skeleton of the main part): axe ran on it
    audited_roles: set[str] = set()  # roles whose top bar axe has seen
    measured = 0

    for role in (site_pages.ANONYMOUS, *site_pages.ROLES):
        if role == site_pages.ANONYMOUS:
            browser.delete_all_cookies()
        else:
            e2e.log_in_with_a_session(browser, web, users[role])
        # Portrait first; landscape only for the layouts portrait found new.
        new_layouts = [p for p in pages if role in p.roles]
        for size, orientation in ((a11y.PORTRAIT, "portrait"), (a11y.LANDSCAPE, "landscape")):
            a11y.viewport_set(browser, size)
            to_visit, new_layouts = new_layouts, []
            for page in to_visit:
                open_page(browser, web, page, role)
                where = f"{page.name} ({page.url}) as {role}, {orientation}"
                if size == a11y.PORTRAIT:
                    layout = (page.url, browser.execute_script(_SKELETON_JS, "body"))
                    if layout in layouts:
                        continue
                    layouts.add(layout)
                    new_layouts.append(page)
                    # axe judges markup and colours, which the orientation leaves alone (what
                    # the layout pushes off its background, the sideways check catches).
                    content = (page.url, browser.execute_script(_SKELETON_JS, "main"))
                    if content not in audited or role not in audited_roles:
                        audited.add(content)
                        audited_roles.add(role)
                        found["axe"] += a11y.axe_violations(browser, where)
                    found["sideways"] += a11y.sideways_scroll(browser, where)
                measured += 1
                small, shown = a11y.small_text(browser, where)
                assert shown > 0, f"{where}: the page shows no text"
                found["text"] += small
                # Last: it unfolds the page's folded parts to measure what they hold.
                found["targets"] += a11y.small_targets(browser, where)

    assert measured >= 2 * len(pages)  # every page, in both orientations, at least once
    for check, findings in found.items():
        with subtests.test(check):
            assert not findings, f"{len(findings)} found:\n" + "\n".join(map(str, findings))
