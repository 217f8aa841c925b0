"""Download links on the screens: the API v1 export of what the screen shows, with its filters.

Each tag renders `exports/_links.html`: rows of a label and two large buttons (CSV, XLSX)
linking to `/api/v1/exports/…`, which a logged-in session may GET. A range that means "the last
so many hours" carries `data-export-span-s`, and static/plantops/exports.js sets its times when
the button is pressed, so a screen left open all shift still downloads up to now. A screen
whose data the API would not show the user (an operator on another line's page) gets no link.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from plantops.alerts import selectors as alert_selectors
from plantops.assets.models import Asset, Line
from plantops.assets.scope import shown_line_ids

register = template.Library()

TEMPLATE = "exports/_links.html"
# The asset page's chart ranges, and the readings a download of each gives.
READING_RANGES = {
    "live": (_("Last hour, every reading"), 3600, "raw"),
    "8h": (_("Last 8 h, per minute"), 8 * 3600, "minute"),
    "24h": (_("Last 24 h, per minute"), 24 * 3600, "minute"),
    "7d": (_("Last 7 days, per minute"), 7 * 86400, "minute"),
    "30d": (_("Last 30 days, per hour"), 30 * 86400, "hour"),
}
# The work order lists of the screens, as the API's filters.
WORK_LISTS = {
    "approve": {"status": "requested"},
    "schedule": {"status": "approved"},
    "open": {"status": "open"},
    "done": {"status": "done"},
}


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _links(export: str, params: dict[str, Any]) -> list[dict[str, str]]:
    query = urlencode({k: v for k, v in params.items() if v not in (None, "", [])}, doseq=True)
    return [
        {
            "name": name,
            "href": f"{reverse(f'api-v1:export_{export}', kwargs={'fmt': fmt})}?{query}",
        }
        for fmt, name in (("csv", "CSV"), ("xlsx", "XLSX"))
    ]


def _group(label: str, export: str, params: dict[str, Any], span_s: int | None = None) -> dict:
    return {"label": label, "links": _links(export, params), "span_s": span_s}


def _shown(user: Any, line_id: int) -> bool:
    shown = shown_line_ids(user)
    return shown is None or line_id in shown


@register.inclusion_tag(TEMPLATE, takes_context=True)
def oee_export_links(context: dict, line: Line, screen: dict) -> dict:
    """The line's OEE: this shift per hour, and the last 7 days per shift."""
    if not _shown(context["request"].user, line.pk):
        return {"groups": []}
    groups = []
    shift = screen.get("shift")
    if shift:
        groups.append(
            _group(
                _("%(shift)s shift, per hour") % {"shift": shift["name"]},
                "oee",
                {"line_id": line.pk, "from": shift["start"], "to": shift["end"], "group": "hour"},
            )
        )
    now = timezone.now()
    week = {"line_id": line.pk, "from": _iso(now - timedelta(days=7)), "to": _iso(now)}
    groups.append(_group(_("Last 7 days, per shift"), "oee", week | {"group": "shift"}, 7 * 86400))
    return {"groups": groups}


@register.inclusion_tag(TEMPLATE, takes_context=True)
def alerts_export_links(context: dict) -> dict:
    """The inbox's alerts (its line, priority and state filters; open alerts when no state is
    chosen), each with its events."""
    query = context["request"].GET
    states = [s for s in query.getlist("state") if s in alert_selectors.STATE_LABELS]
    params = {
        "line_id": [v for v in query.getlist("line") if v.isdigit()],
        "priority": [p for p in query.getlist("priority") if p in alert_selectors.PRIORITIES],
        "state": states or list(alert_selectors.STATE_LABELS),
    }
    return {"groups": [_group(_("Alerts shown, with their events"), "alerts", params)]}


@register.inclusion_tag(TEMPLATE, takes_context=True)
def alarm_kpis_export_links(context: dict, report: Any) -> dict:
    """The alarm KPIs of the page's period and lines."""
    lines = [v for v in context["request"].GET.getlist("line") if v.isdigit()]
    params = {"from": _iso(report.start), "to": _iso(report.end), "line_id": lines}
    return {"groups": [_group(_("These KPIs"), "alarm_kpis", params)]}


@register.inclusion_tag(TEMPLATE, takes_context=True)
def work_orders_export_links(context: dict) -> dict:
    """The list shown (its tab, machine, code and words), without the screen's cap."""
    which = context.get("which")
    params: dict[str, Any] = dict(WORK_LISTS.get(which, {}))
    if which == "mine":
        params = {"status": "open", "assignee": context["request"].user.get_username()}
    params |= {
        "asset_id": context.get("asset_id"),
        "code_id": context.get("code_id"),
        "q": context.get("q"),
    }
    return {"groups": [_group(_("This list, every match"), "work_orders", params)]}


@register.inclusion_tag(TEMPLATE, takes_context=True)
def readings_export_links(context: dict, asset: Asset) -> dict:
    """The asset's signals over the chart's range (exports.js follows the range buttons)."""
    if not _shown(context["request"].user, asset.line_id):
        return {"groups": []}
    label, span_s, aggregation = READING_RANGES["live"]
    now = timezone.now()
    params = {
        "asset_id": asset.pk,
        "from": _iso(now - timedelta(seconds=span_s)),
        "to": _iso(now),
        "aggregation": aggregation,
    }
    group = _group(label, "readings", params, span_s)
    ranges = {
        key: {"label": label, "span_s": span_s, "aggregation": aggregation}
        for key, (label, span_s, aggregation) in READING_RANGES.items()
    }
    return {"groups": [group], "ranges": ranges}
