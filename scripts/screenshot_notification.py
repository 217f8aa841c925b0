"""Render a notification e-mail as a phone shows it, for the README: docs/notification-email.png.

    .venv/bin/python scripts/screenshot_notification.py [--out docs/notification-email.png]

The e-mail is `templates/notify/alert_email.html` with the context `notify.messages.alert_text`
gives it, filled with a plausible critical alert of the demo plant, under a mail app's header
(sender, recipient, subject). No database is needed: the template is rendered by a bare Django
template engine. The page is photographed by headless Chromium (/usr/bin/chromium, which
`scripts/services.sh chromium` installs) at a phone's width and twice its pixel density, and
the PNG is reduced to a 64-colour palette to keep it small.
"""

from __future__ import annotations

import argparse
import base64
import html
import io
import re
import tempfile
from pathlib import Path

import django
import headless  # scripts/ is the script's directory
from django.conf import settings
from django.template.loader import render_to_string
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
PHONE_WIDTH = 390  # CSS pixels: a common phone's portrait width
PIXEL_RATIO = 2
COLOURS = 64

SITE_URL = "https://plantops.riverside.example"
TITLE = "Press 2: hydraulic pressure 212 bar, above 200 bar"
LINE = "Press line 1"
# What `alert_text` puts in the template's context, for one critical alert.
CONTEXT = {
    "title": TITLE,
    "priority": "critical",
    "escalated": False,
    "tier": 1,
    "asset": "Press 2 (250 t)",
    "line": LINE,
    "area": "Press shop",
    "site": "Riverside Works",
    "rule": "Press: hydraulic pressure high",
    "raised_at": "2026-12-03 14:05 CET",
    "value": 212.0,
    "link": f"{SITE_URL}/alerts/1842/",
    "ack_url": f"{SITE_URL}/notifications/ack/ImV2ZW50OjkxMzM:1xZ0Ab:Qm9vaw/",
}
SUBJECT = f"[CRITICAL] {TITLE} — {LINE}"  # as `alert_text` writes it
SENDER = "PlantOps <plantops@riverside.example>"
RECIPIENT = "technician@riverside.example"

# A phone mail app's header above the message, so the picture shows the subject too.
MAIL_APP_HEADER = """
<div style="font-family:Arial,Helvetica,sans-serif;background:#fff;padding:14px 16px 12px;
            border-bottom:1px solid #ddd;color:#111;">
  <div style="font-size:19px;font-weight:bold;line-height:1.3;margin-bottom:8px;">{subject}</div>
  <div style="font-size:14px;color:#333;"><strong>{sender}</strong></div>
  <div style="font-size:13px;color:#666;">to {recipient} · 14:05</div>
</div>
"""


def render_email() -> str:
    """The e-mail's HTML, with the mail app's header put at the top of its body."""
    settings.configure(
        TEMPLATES=[
            {
                "BACKEND": "django.template.backends.django.DjangoTemplates",
                "DIRS": [ROOT / "templates"],
            }
        ],
        USE_I18N=False,
    )
    django.setup()
    page = render_to_string("notify/alert_email.html", CONTEXT)
    header = MAIL_APP_HEADER.format(
        subject=html.escape(SUBJECT), sender=html.escape(SENDER), recipient=html.escape(RECIPIENT)
    )
    return re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + header, page, count=1)


def screenshot(page: Path) -> bytes:
    """A PNG of the whole page at the phone's width, photographed by headless Chromium."""
    driver = headless.chromium("--hide-scrollbars")
    try:
        metrics = {"width": PHONE_WIDTH, "deviceScaleFactor": PIXEL_RATIO, "mobile": True}
        # A short viewport first, so the page's height is its content's, not the viewport's.
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {**metrics, "height": 100})
        driver.get(page.as_uri())
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {**metrics, "height": height})
        shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png"})
    finally:
        driver.quit()
    return base64.b64decode(shot["data"])


def reduced(png: bytes, colours: int = COLOURS) -> bytes:
    """The same picture in a palette of a few colours: flat colours and text lose nothing."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    out = io.BytesIO()
    image.quantize(colors=colours, method=Image.Quantize.MEDIANCUT).save(
        out, format="PNG", optimize=True
    )
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "notification-email.png")
    args = parser.parse_args()
    if not headless.installed():
        raise SystemExit("Chromium is not installed: run scripts/services.sh chromium")
    with tempfile.TemporaryDirectory() as folder:
        page = Path(folder) / "notification.html"
        page.write_text(render_email(), encoding="utf-8")
        png = reduced(screenshot(page))
    args.out.write_bytes(png)
    width, height = Image.open(io.BytesIO(png)).size
    print(f"{args.out}: {width}×{height} px, {len(png) // 1024} kB")


if __name__ == "__main__":
    main()
