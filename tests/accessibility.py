"""Accessibility checks run inside a real Chromium page: axe-core, touch-target sizes, sideways
scrolling and text sizes, each returning what it found as plain data for a failure message.

The floor's tablets are 10-inch screens used with gloves: a target under 44 × 44 CSS px is
missed, text under 14 px is not read at arm's length, and a page that scrolls sideways hides
its last column. Units (`<span class="unit">mm/s</span>`) may be smaller than the number
they follow; nothing else may.
"""

from __future__ import annotations

from dataclasses import dataclass

from axe_playwright_python.base import AXE_SCRIPT

MIN_TARGET_PX = 44
MIN_TEXT_PX = 14
# The impacts that fail a page; "moderate" and "minor" findings are left to review.
FAILING_IMPACTS = ("critical", "serious")

PORTRAIT = (800, 1280)
LANDSCAPE = (1280, 800)

# A CSS selector path for an element, short enough for a failure message and exact enough to
# find it again in the template (id, or tag with classes and its position among siblings).
_SELECTOR_JS = """
function plantopsSelector(el) {
  const parts = [];
  for (let node = el; node && node.nodeType === 1 && parts.length < 4; node = node.parentElement) {
    if (node.id) { parts.unshift('#' + CSS.escape(node.id)); break; }
    let part = node.localName;
    const classes = [...node.classList].filter(c => !c.startsWith('js-')).slice(0, 2);
    if (classes.length) part += '.' + classes.map(c => CSS.escape(c)).join('.');
    const parent = node.parentElement;
    if (parent) {
      const same = [...parent.children].filter(c => c.localName === node.localName);
      if (same.length > 1) part += ':nth-of-type(' + (same.indexOf(node) + 1) + ')';
    }
    parts.unshift(part);
  }
  return parts.join(' > ');
}
function plantopsShown(el) {
  const style = getComputedStyle(el);
  if (style.visibility === 'hidden' || style.display === 'none') return false;
  const box = el.getBoundingClientRect();
  return box.width > 0 && box.height > 0;
}
// Inside a box clipped to a pixel or less: a screen-reader-only text, not seen.
function plantopsClippedAway(el) {
  for (let node = el; node && node !== document.body; node = node.parentElement) {
    const style = getComputedStyle(node);
    const box = node.getBoundingClientRect();
    const clips = style.overflow !== 'visible' || style.clipPath !== 'none' || style.clip !== 'auto';
    if (clips && (box.width <= 2 || box.height <= 2)) return true;
  }
  return false;
}
"""

# Targets a gloved finger hits. A checkbox or radio button is hit through its label (the label
# is the target, the box inside it need not be 44 px); one without a label is measured itself.
_TARGETS_JS = (
    _SELECTOR_JS
    + """
const minimum = arguments[0];
// Folded parts (an alert's actions) hold targets too: unfold them to measure.
for (const details of document.querySelectorAll('details')) details.open = true;
const found = [];
const targets = document.querySelectorAll(
  'a[href], button, input:not([type=hidden]), select, textarea, summary, [role=button], label'
);
for (const el of targets) {
  let target = el;
  if (el.localName === 'label') {
    const control = el.control;
    if (!control || !['checkbox', 'radio'].includes(control.type)) continue;
  }
  if (el.localName === 'input' && ['checkbox', 'radio'].includes(el.type) && el.labels.length) {
    continue;  // measured through its label
  }
  if (el.localName === 'input' && ['checkbox', 'radio', 'file'].includes(el.type)
      && !plantopsShown(el)) {
    continue;  // a visually hidden control whose label is the target
  }
  if (!plantopsShown(target)) continue;
  const box = target.getBoundingClientRect();
  // Sub-pixel layout: 43.99 px is drawn as 44.
  if (Math.round(box.width) < minimum || Math.round(box.height) < minimum) {
    found.push({
      selector: plantopsSelector(target),
      width: Math.round(box.width * 10) / 10,
      height: Math.round(box.height * 10) / 10,
      text: (target.innerText || target.value || target.getAttribute('aria-label') || '')
        .trim().slice(0, 40),
    });
  }
}
return found;
"""
)

# Every visible text node (HTML and SVG) and the computed size it is drawn at; text inside an
# element of class `unit` is exempt.
_SMALL_TEXT_JS = (
    _SELECTOR_JS
    + """
const minimum = arguments[0];
const skip = new Set(['script', 'style', 'noscript', 'template', 'title', 'option', 'desc']);
const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
const small = new Map();
let total = 0;
for (let node = walker.nextNode(); node; node = walker.nextNode()) {
  const el = node.parentElement;
  if (!el || !node.textContent.trim() || skip.has(el.localName)) continue;
  if (!plantopsShown(el) && el.getClientRects().length === 0) continue;
  const style = getComputedStyle(el);
  if (style.visibility === 'hidden' || style.display === 'none') continue;
  // Text clipped to nothing (a screen-reader-only label) is not seen.
  const range = document.createRange();
  range.selectNodeContents(node);
  const box = range.getBoundingClientRect();
  if (box.width < 2 || box.height < 2 || plantopsClippedAway(el)) continue;
  total += 1;
  if (el.closest('.unit')) continue;
  const size = parseFloat(style.fontSize);
  if (size < minimum) {
    const selector = plantopsSelector(el);
    const entry = small.get(selector) || {selector, size, text: node.textContent.trim().slice(0, 30), count: 0};
    entry.count += 1;
    small.set(selector, entry);
  }
}
return {total, small: [...small.values()]};
"""
)

_SIDEWAYS_JS = (
    _SELECTOR_JS
    + """
const root = document.scrollingElement;
const width = root.clientWidth;
const wide = [];
if (root.scrollWidth > width) {
  // The outermost elements that stick out past the right edge: the ones to fix.
  for (const el of document.body.querySelectorAll('*')) {
    const box = el.getBoundingClientRect();
    if (box.right > width + 1 && plantopsShown(el)
        && !(el.parentElement && el.parentElement.getBoundingClientRect().right > width + 1)) {
      wide.push({selector: plantopsSelector(el), right: Math.round(box.right)});
    }
  }
}
return {scrollWidth: root.scrollWidth, clientWidth: width, wide: wide.slice(0, 8)};
"""
)


@dataclass(frozen=True)
class Finding:
    """One problem on one page, worded for a failure message."""

    page: str
    what: str

    def __str__(self) -> str:
        return f"{self.page}: {self.what}"


def viewport_set(driver, size: tuple[int, int]) -> None:
    """Make the page's layout viewport exactly `size` CSS px (a tablet at scale 1), whatever
    the headless window's own frame adds."""
    width, height = size
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
    )
    # A tablet's scroll bars float over the page; a desktop's would take 15 px of its width.
    driver.execute_cdp_cmd("Emulation.setScrollbarsHidden", {"hidden": True})


def axe_violations(driver, page: str) -> list[Finding]:
    """Run axe-core on the open page; return its critical and serious violations."""
    if not driver.execute_script("return typeof window.axe === 'object'"):
        driver.execute_script(AXE_SCRIPT)
    results = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']})"
        "  .then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        "    nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}))))"
        "  .catch(e => done([{id: 'axe-error', impact: 'critical', help: String(e), nodes: []}]));"
    )
    return [
        Finding(page, f"axe {v['id']} ({v['impact']}): {v['help']} at {'; '.join(v['nodes'])}")
        for v in results
        if v["impact"] in FAILING_IMPACTS
    ]


def small_targets(driver, page: str) -> list[Finding]:
    """Touch targets on the open page smaller than 44 × 44 CSS px."""
    return [
        Finding(
            page,
            f"target {t['selector']} is {t['width']}×{t['height']} px ({t['text']!r})",
        )
        for t in driver.execute_script(_TARGETS_JS, MIN_TARGET_PX)
    ]


def sideways_scroll(driver, page: str) -> list[Finding]:
    """A finding if the open page is wider than its viewport, naming what sticks out."""
    result = driver.execute_script(_SIDEWAYS_JS)
    if result["scrollWidth"] <= result["clientWidth"]:
        return []
    sticking_out = ", ".join(f"{w['selector']} (to {w['right']} px)" for w in result["wide"])
    return [
        Finding(
            page,
            f"scrolls sideways: {result['scrollWidth']} px wide in {result['clientWidth']} px; "
            f"{sticking_out}",
        )
    ]


def small_text(driver, page: str) -> tuple[list[Finding], int]:
    """Text on the open page drawn under 14 px (units excepted), and how many text runs the
    page shows in all."""
    result = driver.execute_script(_SMALL_TEXT_JS, MIN_TEXT_PX)
    return [
        Finding(page, f"text {s['selector']} is {s['size']} px ({s['text']!r}, ×{s['count']})")
        for s in result["small"]
    ], result["total"]
