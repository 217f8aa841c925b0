"""Photograph the running demo for the README, as a 10-inch tablet shows it: docs/*.png.

    make demo          # in one shell; wait for "PlantOps demo: http://localhost:8000/"
    .venv/bin/python scripts/screenshot_demo.py [--base http://localhost:8000] [--out docs]

Signs in as the demo's supervisor (password from var/demo-users.txt, which `make demo`
writes) in headless Chromium (/usr/bin/chromium, which `scripts/services.sh chromium`
installs) at 1280×800 CSS pixels, and takes the floor view, the first line's OEE page, the
maintenance and alarm KPI pages and model health, with the demo's past behind them; then the
floor view and the maintenance KPIs again in German. Each page is photographed once its live socket
is open and its charts are drawn. The PNGs are reduced to a 96-colour palette to keep them
small.
"""

from __future__ import annotations

import argparse
import base64
import re
from pathlib import Path

import headless  # scripts/ is the script's directory
from screenshot_notification import reduced
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

ROOT = Path(__file__).resolve().parent.parent
CREDENTIALS = ROOT / "var" / "demo-users.txt"
TABLET = {"width": 1280, "height": 800, "deviceScaleFactor": 1, "mobile": False}
COLOURS = 96
USER = "supervisor"

# (file name, path or None for the first line's OEE page, language)
SHOTS = [
    ("floor-view.png", "/", "en"),
    ("oee-line.png", None, "en"),
    ("maintenance-kpis.png", "/work/kpis/", "en"),
    ("alarm-kpis.png", "/alerts/kpis/", "en"),
    ("model-health.png", "/health/models/", "en"),
    ("floor-view-de.png", "/", "de"),
    ("maintenance-kpis-de.png", "/work/kpis/", "de"),
]

# True once the page's charts are drawn or say in words that they have nothing to draw.
CHARTS_SETTLED = """
const charts = document.querySelectorAll('.chart, .oee-chart, .kpi-chart');
return Array.from(charts).every(
  (chart) => chart.classList.contains('js-plotly-plot') || chart.querySelector('.chart-empty')
);
"""


def password(user: str) -> str:
    if not CREDENTIALS.exists():
        raise SystemExit(f"{CREDENTIALS} is missing: start the demo first (make demo)")
    for line in CREDENTIALS.read_text().splitlines():
        name, _, secret = line.partition(" ")
        if name == user:
            return secret.strip()
    raise SystemExit(f"no {user} in {CREDENTIALS}")


def browser() -> webdriver.Chrome:
    driver = headless.chromium("--hide-scrollbars")
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", TABLET)
    return driver


def sign_in(driver: webdriver.Chrome, base: str) -> None:
    driver.get(f"{base}/login/")
    driver.find_element(By.NAME, "username").send_keys(USER)
    driver.find_element(By.NAME, "password").send_keys(password(USER))
    driver.find_element(By.CSS_SELECTOR, "form:has([name=password]) [type=submit]").click()
    WebDriverWait(driver, 20).until(lambda d: "/login/" not in d.current_url)


def first_line_page(driver: webdriver.Chrome, base: str) -> str:
    driver.get(f"{base}/oee/")
    for link in driver.find_elements(By.CSS_SELECTOR, "a[href]"):
        href = link.get_attribute("href") or ""
        if re.search(r"/lines/\d+/oee/$", href):
            return href.removeprefix(base)
    raise SystemExit("the OEE board links no line page")


def photograph(driver: webdriver.Chrome, url: str) -> bytes:
    driver.get(url)
    wait = WebDriverWait(driver, 30)
    wait.until(lambda d: d.execute_script("return document.readyState") == "complete")
    # A page with a live feed is photographed once it is live (its element is shown then).
    wait.until(
        lambda d: all(
            c.get_attribute("data-state") == "live" or not c.is_displayed()
            for c in d.find_elements(By.ID, "connection")
        )
    )
    wait.until(lambda d: d.execute_script(CHARTS_SETTLED))
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png"})
    return base64.b64decode(shot["data"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="http://localhost:8000")
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    args = parser.parse_args()
    if not headless.installed():
        raise SystemExit("Chromium is not installed: run scripts/services.sh chromium")
    base = args.base.rstrip("/")
    driver = browser()
    try:
        sign_in(driver, base)
        line_page = first_line_page(driver, base)
        for name, path, language in SHOTS:
            # Django's language cookie: what the language switcher sets.
            driver.add_cookie({"name": "django_language", "value": language, "path": "/"})
            print(f"{name}: {path or line_page} in {language}")
            png = reduced(photograph(driver, base + (path or line_page)), COLOURS)
            (args.out / name).write_bytes(png)
            print(f"{args.out / name}: {len(png) // 1024} kB")
    finally:
        driver.quit()


if __name__ == "__main__":
    main()
