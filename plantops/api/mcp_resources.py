"""The MCP resources: the plant model as the caller is shown it, and the alarm philosophy (the
priorities, what each means, and how alerts are answered), from the settings and rules the
plant runs on."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.db.models import Prefetch

from plantops.alerts.kpis import PRIORITY_TARGETS
from plantops.alerts.lifecycle import Priority
from plantops.api import selectors as plant_selectors
from plantops.api.mcp_alerts import STATE_MEANINGS
from plantops.api.mcp_scope import VIA_MCP, percent
from plantops.assets.models import Signal
from plantops.maintenance.services import ALERT_PRIORITY

# Past this many assets the model lists the lines only, past this many signals the assets
# without theirs: find_assets and latest_values read the rest.
MAX_ASSETS = 300
MAX_SIGNALS = 1500

PRIORITY_MEANINGS = {
    Priority.CRITICAL: "Danger to people, the environment or the machine, or a line about to "
    "stop: answer at once. Escalates first; still delivered in quiet hours unless a recipient "
    "chose otherwise.",
    Priority.HIGH: "A fault that stops production or damages the machine if left: answer "
    "within minutes.",
    Priority.MEDIUM: "A condition that needs action within the shift before it gets worse.",
    Priority.LOW: "Worth knowing and planning for; no immediate action.",
}


def plant_model(user: Any) -> str:
    """The sites, areas and lines the caller is shown, with their assets and signals (units,
    expected ranges), as JSON; only the lines past MAX_ASSETS assets, and the assets without
    their signals past MAX_SIGNALS signals."""
    lines = list(
        plant_selectors.lines(user)
        .select_related("area__site")
        .order_by("area__site__name", "area__name", "position", "name", "pk")
    )
    assets = plant_selectors.assets(user).order_by("position", "name", "pk")
    total = assets.count()
    with_signals = plant_selectors.signals(user).count() <= MAX_SIGNALS
    by_line: dict[int, list[dict[str, Any]]] = {line.pk: [] for line in lines}
    if total <= MAX_ASSETS:
        if with_signals:
            assets = assets.prefetch_related(
                Prefetch("signals", queryset=Signal.objects.order_by("slug"))
            )
        for asset in assets:
            row: dict[str, Any] = {"id": asset.pk, "name": asset.name, "type": asset.asset_type}
            if with_signals:
                row["signals"] = [
                    {
                        "id": s.pk,
                        "name": s.name,
                        "unit": s.unit,
                        "expected_min": s.expected_min,
                        "expected_max": s.expected_max,
                    }
                    for s in asset.signals.all()
                ]
            by_line[asset.line_id].append(row)
    sites: dict[int, dict[str, Any]] = {}
    for line in lines:
        site = line.area.site
        entry = sites.setdefault(
            site.pk,
            {"id": site.pk, "name": site.name, "time_zone": site.timezone, "areas": {}},
        )
        area = entry["areas"].setdefault(
            line.area_id, {"id": line.area_id, "name": line.area.name, "lines": []}
        )
        area["lines"].append(
            {
                "id": line.pk,
                "name": line.name,
                "oee_target_percent": percent(line.oee_target),
                "assets": by_line[line.pk] if total <= MAX_ASSETS else None,
            }
        )
    for entry in sites.values():
        entry["areas"] = list(entry["areas"].values())
    model = {
        "assets_total": total,
        "assets_listed": total <= MAX_ASSETS,
        "signals_listed": total <= MAX_ASSETS and with_signals,
        "note": "Signals' values are in their `unit`; times elsewhere are in each site's "
        "time_zone. What is not listed here, find_assets and latest_values read.",
        "sites": list(sites.values()),
    }
    return json.dumps(model, ensure_ascii=False, indent=1)


def alarm_philosophy() -> str:
    """The alarm philosophy as the plant applies it, in Markdown."""
    targets = ", ".join(f"{name} {share:g} %" for name, share in PRIORITY_TARGETS.items())
    priorities = "\n".join(
        f"| {p.value} | {PRIORITY_MEANINGS[p]} | {ALERT_PRIORITY[p.value]} |" for p in Priority
    )
    states = "\n".join(f"- `{state}`: {meaning}." for state, meaning in STATE_MEANINGS.items())
    operator_shelve_min = settings.ALERT_OPERATOR_MAX_SHELVE_S // 60
    return f"""# Alarm philosophy

PlantOps manages alarms as ISA-18.2 describes. An alarm is one rule on one asset; each time
its condition becomes active it opens an alert, which stays open until the condition has
returned to normal and someone has acknowledged it. A raise while the alert is open counts
another occurrence, not a second alert.

## Priorities, most urgent first

| priority | what it means | work order priority when work is raised from it |
|---|---|---|
{priorities}

The alarm system aims for this mix of the alarms raised: {targets} (critical counts as high,
and should be rare).

## States

{states}

## Answering an alert

- Acknowledge: "I have seen it and I am on it". It does not clear the condition. Operators
  acknowledge on their own lines; supervisors and technicians anywhere.
- Shelve: hide an alert's annunciation for a while, with a reason; operators for at most
  {operator_shelve_min} minutes, supervisors up to the rule's own limit. The condition is still
  tracked and shows again when the shelving ends.
- Suppression: an asset in a planned stop or out of service has its alerts held quiet.
- Alerts judged from readings that arrived late say so, and page nobody for a condition that
  has already cleared.
- An acknowledgement or a work request made through MCP records the user whose token was
  used, and its note begins "{VIA_MCP.format(username="<user>")}".
"""
