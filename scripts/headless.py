"""A headless Chromium for the browser tests, the page benchmark and the screenshot scripts: one
binary, one driver and one set of flags, so they all run the browser the same quiet way (no
sync, no background fetches, no first-run pages) and differ only in what they add."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

# Debian's chromium and chromium-driver (scripts/services.sh chromium installs both).
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
)


def installed() -> bool:
    return CHROMIUM.exists() and CHROMEDRIVER.exists()


def chromium(*flags: str, capabilities: dict[str, Any] | None = None) -> webdriver.Chrome:
    """A headless Chromium with the shared flags and `flags` added ("--window-size=1280,800")."""
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*FLAGS, *flags):
        options.add_argument(flag)
    for name, value in (capabilities or {}).items():
        options.set_capability(name, value)
    return webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
