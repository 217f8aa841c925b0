"""A page on paper, as a real Chromium prints it: its PDF on A4, and the page laid out as the
paper lays it out (print emulation, the body held to the printable width by print.css), to
find what would be cut at the page's edge."""

from __future__ import annotations

import base64
import math
import re
from collections.abc import Iterator
from contextlib import contextmanager

# A4 in inches, as Page.printToPDF takes it.
A4_INCHES = (210 / 25.4, 297 / 25.4)
# A4 less print.css's 10 mm margins: 190 mm by 277 mm, in CSS pixels (96 per inch).
PRINTABLE_WIDTH_PX = 190 / 25.4 * 96
PRINTABLE_HEIGHT_PX = 277 / 25.4 * 96


def pdf_of(browser) -> bytes:
    """The page printed to PDF by Chromium on A4 paper, without background graphics."""
    width, height = A4_INCHES
    printed = browser.execute_cdp_cmd(
        "Page.printToPDF",
        {
            "paperWidth": width,
            "paperHeight": height,
            "preferCSSPageSize": True,
            "printBackground": False,
        },
    )
    return base64.b64decode(printed["data"])


def page_count(pdf: bytes) -> int:
    """The number of pages of a PDF: its page objects, checked against its page tree's count."""
    try:
        from pypdf import PdfReader
    except ImportError:
        pass
    else:
        import io

        return len(PdfReader(io.BytesIO(pdf)).pages)
    pages = len(re.findall(rb"/Type\s*/Page(?![A-Za-z])", pdf))
    tree = re.search(rb"/Type\s*/Pages\b[^>]*?/Count\s+(\d+)", pdf) or re.search(
        rb"/Count\s+(\d+)[^>]*?/Type\s*/Pages\b", pdf
    )
    assert tree is not None, "no page tree in the PDF"
    assert int(tree.group(1)) == pages, (int(tree.group(1)), pages)
    return pages


def page_sizes(pdf: bytes) -> list[tuple[float, float]]:
    """Each page's size in points (its MediaBox), in the order they are written."""
    return [
        (float(width), float(height))
        for width, height in re.findall(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", pdf)
    ]


def is_a4(size: tuple[float, float]) -> bool:
    width, height = size
    return abs(width - 210 / 25.4 * 72) < 1 and abs(height - 297 / 25.4 * 72) < 1


_HEIGHT = "return document.documentElement.scrollHeight;"


def pages_at_least(browser) -> int:
    """How many pages the page's print layout fills at the least: call inside `print_media`
    and `paper_viewport`. Keeping rows and cards whole may take more."""
    return math.ceil(browser.execute_script(_HEIGHT) / PRINTABLE_HEIGHT_PX)


@contextmanager
def print_media(browser) -> Iterator[None]:
    """Lay the page out with its print styles until the block ends, in the same window: as
    when printing begins, the window is not resized."""
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        yield
    finally:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})


@contextmanager
def paper_viewport(browser) -> Iterator[None]:
    """Lay the page out as on one A4 page until the block ends: the printable area as the
    viewport, so that the stylesheets' width queries match as they do on paper."""
    browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {
            "width": round(PRINTABLE_WIDTH_PX),
            "height": round(PRINTABLE_HEIGHT_PX),
            "deviceScaleFactor": 1,
            "mobile": False,
        },
    )
    try:
        yield
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


# Every element drawn (a box of some size, not hidden) that reaches past the printable width or
# left of the page, and every box whose content overflows its own width where that overflow is
# clipped or scrolled. Plotly's off-screen text-measuring element is no part of the page.
_CUT = """
const limit = arguments[0];
const tester = document.getElementById("js-plotly-tester");
const name = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
  + (typeof el.className === "string" && el.className ? "." + el.className.trim().split(/\\s+/).join(".") : "");
const cut = [];
for (const el of document.body.querySelectorAll("*")) {
  if (tester && tester.contains(el)) continue;
  const style = getComputedStyle(el);
  if (style.visibility === "hidden" || !el.getClientRects().length) continue;
  const box = el.getBoundingClientRect();
  if (box.width < 0.5 || box.height < 0.5) continue;
  if (box.left < -0.5 || box.right > limit + 0.5) {
    cut.push(`${name(el)} spans ${Math.round(box.left)}..${Math.round(box.right)} px`);
  } else if (["hidden", "clip", "auto", "scroll"].includes(style.overflowX)
             && el.scrollWidth > el.clientWidth + 1 && !(el instanceof SVGElement)) {
    cut.push(`${name(el)} holds ${el.scrollWidth} px in ${el.clientWidth} px`);
  }
}
return cut;
"""


def cut_on_paper(browser) -> list[str]:
    """What would be cut on paper: call inside `print_media` and `paper_viewport`."""
    return browser.execute_script(_CUT, PRINTABLE_WIDTH_PX)


_CHART = """
const chart = document.querySelector(arguments[0]);
if (!chart || !chart._fullLayout) return null;
const svg = chart.querySelector(".main-svg");
return {
  width: chart._fullLayout.width,
  height: chart._fullLayout.height,
  svgRight: svg ? svg.getBoundingClientRect().right : null,
  bars: chart.querySelectorAll(".trace.bars .point path").length,
};
"""


def chart_drawn(browser, selector: str) -> dict | None:
    """The Plotly chart at `selector` as drawn: its size, the right edge of its SVG and the
    number of bars the SVG holds; None while it is not drawn."""
    return browser.execute_script(_CHART, selector)
