"""Reads for the maintenance KPIs: an asset's (`asset_kpis`) and the KPI page's, each line with
its assets and the charts' series (`maintenance_kpi_page`); the figures themselves are
`plantops.maintenance.kpis`'s pure computation."""

from __future__ import annotations

import functools
import operator
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser

from plantops.assets.models import Asset
from plantops.core.refusals import require_permission
from plantops.maintenance.kpis import WorkFacts, maintenance_kpis
from plantops.maintenance.models import WorkOrder
from plantops.maintenance.selectors import MAY_NOT_SEE, VIEW_WORK
from plantops.oee import selectors as oee_selectors
from plantops.oee.calculation import Oee

FACT_FIELDS = [
    "kind",
    "status",
    "created_at",
    "due_at",
    "started_at",
    "completed_at",
    "actual_minutes",
    "estimated_minutes",
    "outcome",
]


def asset_kpis(*, asset: Asset, start: datetime, end: datetime) -> dict[str, Any]:
    """Return an asset's maintenance KPIs over [start, end): MTBF and MTTR from its work orders,
    or from the breakdowns its states show where no failure was worked on in the period."""
    facts = [
        WorkFacts(**row)
        for row in WorkOrder.objects.filter(asset=asset, created_at__lt=end).values(*FACT_FIELDS)
    ]
    states = oee_selectors.asset_oee(asset, start, end)
    return {"asset": asset.pk} | _kpis(facts, states, start=start, end=end)


def _kpis(facts: list[WorkFacts], states: Oee, *, start: datetime, end: datetime) -> dict[str, Any]:
    """The KPIs of some work orders and the states of the assets they were done on (one asset,
    or a line's summed): running time and breakdowns are summed before dividing."""
    kpis = maintenance_kpis(facts, start=start, end=end, run_s=states.run_s)
    from_work = kpis.failures > 0
    return {
        "failures": kpis.failures if from_work else states.losses.breakdowns,
        "mtbf_s": kpis.mtbf_s if from_work else states.mtbf_s,
        "mttr_s": kpis.mttr_s if from_work else states.mttr_s,
        "reliability_from": "work_orders" if from_work else "states",
        "pm_due": kpis.pm_due,
        "pm_on_time": kpis.pm_on_time,
        "pm_compliance": kpis.pm_compliance,
        "backlog": kpis.backlog,
        "backlog_hours": kpis.backlog_hours,
        "planned": kpis.planned,
        "unplanned": kpis.unplanned,
        "planned_ratio": kpis.planned_ratio,
    }


# --- the maintenance KPI page ----------------------------------------------------------------


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600.0, 2)


def _percent(ratio: float | None) -> float | None:
    return None if ratio is None else round(100.0 * ratio, 1)


def _shown(kpis: dict[str, Any]) -> dict[str, Any]:
    """The KPIs with the page's units added: hours and percentages."""
    return kpis | {
        "mtbf_h": _hours(kpis["mtbf_s"]),
        "mttr_h": _hours(kpis["mttr_s"]),
        "pm_compliance_percent": _percent(kpis["pm_compliance"]),
        "planned_percent": _percent(kpis["planned_ratio"]),
    }


def maintenance_kpi_page(
    *, start: datetime, end: datetime, line_ids: list[int] | None
) -> dict[str, Any]:
    """Return the maintenance KPI page over [start, end): each line (those of `line_ids`; None
    or empty, every line) with its KPIs and its assets', the lines to filter by, and the
    charts' series per asset.

    An asset's figures are computed as `asset_kpis` computes them; a line's the same way over
    all its assets' work orders (read in one query for the page) and their running time and
    breakdowns summed. A few queries per line, whatever the number of assets and work orders."""
    line_choices = [
        {"id": pk, "name": name}
        for pk, name in Asset.objects.order_by("line__position", "line__name", "line_id")
        .values_list("line_id", "line__name")
        .distinct()
    ]
    found = Asset.objects.select_related("line__area__site").order_by(
        "line__position", "line__name", "line_id", "position", "name", "pk"
    )
    if line_ids:
        found = found.filter(line_id__in=line_ids)
    assets = list(found)
    by_line: dict[int, list[Asset]] = {}
    for asset in assets:
        by_line.setdefault(asset.line_id, []).append(asset)
    facts: dict[int, list[WorkFacts]] = {asset.pk: [] for asset in assets}
    for row in WorkOrder.objects.filter(asset__in=assets, created_at__lt=end).values(
        "asset_id", *FACT_FIELDS
    ):
        facts[row.pop("asset_id")].append(WorkFacts(**row))

    lines = []
    for line_assets in by_line.values():
        line = line_assets[0].line
        plan = oee_selectors.line_plan(line)
        states = oee_selectors.assets_oee(line_assets, start, end, plan=plan)
        # Every asset counts, not only those making parts (`line_assets`): a conveyor's
        # failures are the line's failures, so its running time is the line's too.
        line_states = functools.reduce(operator.add, states.values())
        line_facts = [fact for asset in line_assets for fact in facts[asset.pk]]
        lines.append(
            {
                "id": line.pk,
                "name": line.name,
                "area": line.area.name,
                "kpis": _shown(_kpis(line_facts, line_states, start=start, end=end)),
                "assets": [
                    {"id": asset.pk, "name": asset.name}
                    | _shown(_kpis(facts[asset.pk], states[asset.pk], start=start, end=end))
                    for asset in line_assets
                ],
            }
        )

    rows = [(line, asset) for line in lines for asset in line["assets"]]
    names = [asset["name"] for _, asset in rows]
    # Plotly draws bars of the same category in one place: a name two lines share gets its line.
    labels = [
        asset["name"] if names.count(asset["name"]) == 1 else f"{asset['name']} ({line['name']})"
        for line, asset in rows
    ]
    return {
        "start": start,
        "end": end,
        "line_choices": line_choices,
        "lines": lines,
        "chart": {
            "assets": labels,
            "mtbf_h": [asset["mtbf_h"] for _, asset in rows],
            "mttr_h": [asset["mttr_h"] for _, asset in rows],
            "reliability_from": [asset["reliability_from"] for _, asset in rows],
            "planned": [asset["planned"] for _, asset in rows],
            "unplanned": [asset["unplanned"] for _, asset in rows],
            "backlog": [asset["backlog"] for _, asset in rows],
            "lines": [line["name"] for line in lines],
            "line_pm_compliance": [line["kpis"]["pm_compliance_percent"] for line in lines],
            "line_planned": [line["kpis"]["planned_percent"] for line in lines],
        },
    }


def maintenance_kpi_page_for(
    *, user: AbstractBaseUser, start: datetime, end: datetime, line_ids: list[int] | None
) -> dict[str, Any]:
    """The maintenance KPI page (`maintenance_kpi_page`) for a user whose role sees work
    orders; refused to any other, on the screen and in the API alike."""
    require_permission(user, VIEW_WORK, MAY_NOT_SEE)
    return maintenance_kpi_page(start=start, end=end, line_ids=line_ids)
