"""Reads for maintenance: work orders for the API, maintenance KPIs, and how often each alert
rule's alerts were confirmed on the machine."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Count, Q

from plantops.alerts.models import AlertRule
from plantops.assets.models import Asset
from plantops.maintenance.kpis import WorkFacts, maintenance_kpis
from plantops.maintenance.models import Outcome, WorkOrder
from plantops.oee import selectors as oee_selectors

CONFIRMED = (Outcome.FAILURE_FOUND, Outcome.DIFFERENT_MODE)


MAX_LISTED = 500


def work_order_json(work_order: WorkOrder) -> dict[str, Any]:
    """The JSON shape of a work order for the API."""
    return {
        "id": work_order.pk,
        "number": f"WO-{work_order.pk}",
        "asset": work_order.asset.topic_path,
        "kind": work_order.kind,
        "priority": work_order.priority,
        "status": work_order.status,
        "title": work_order.title,
        "description": work_order.description,
        "assignee": work_order.assignee.get_username() if work_order.assignee else None,
        "due_at": work_order.due_at.isoformat() if work_order.due_at else None,
        "created_at": work_order.created_at.isoformat(),
        "completed_at": work_order.completed_at.isoformat() if work_order.completed_at else None,
        "outcome": work_order.outcome or None,
        "alert_id": work_order.alert_id,
        "prediction_id": work_order.prediction_id,
        "checklist": [
            {"text": item.text, "done": item.done_at is not None}
            for item in work_order.checklist.all()
        ],
    }


def work_orders(*, asset: Asset | None = None, status: str | None = None) -> list[dict[str, Any]]:
    """Return the newest work orders (at most MAX_LISTED), of one asset and status if given."""
    found = WorkOrder.objects.select_related(
        "asset__line__area__site", "assignee"
    ).prefetch_related("checklist")
    if asset is not None:
        found = found.filter(asset=asset)
    if status is not None:
        found = found.filter(status=status)
    return [work_order_json(w) for w in found.order_by("-created_at", "-pk")[:MAX_LISTED]]


def rule_precision(*, rule_ids: list[int] | None = None) -> dict[int, dict[str, Any]]:
    """Return per rule: work orders closed from its alerts with an outcome, how many found a
    fault, and the precision (found / judged; None before any is judged)."""
    rules = (
        AlertRule.objects.all() if rule_ids is None else AlertRule.objects.filter(pk__in=rule_ids)
    )
    rows = rules.annotate(
        judged=Count(
            "alerts__work_orders",
            filter=~Q(alerts__work_orders__outcome=""),
            distinct=True,
        ),
        confirmed=Count(
            "alerts__work_orders",
            filter=Q(alerts__work_orders__outcome__in=CONFIRMED),
            distinct=True,
        ),
    ).values_list("pk", "judged", "confirmed")
    return {
        pk: {
            "judged": judged,
            "confirmed": confirmed,
            "precision": confirmed / judged if judged else None,
        }
        for pk, judged, confirmed in rows
    }


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
        for row in WorkOrder.objects.filter(asset=asset).values(*FACT_FIELDS)
        if row["created_at"] < end
    ]
    oee = oee_selectors.asset_oee(asset, start, end)
    kpis = maintenance_kpis(facts, start=start, end=end, run_s=oee.run_s)
    from_work = kpis.failures > 0
    return {
        "asset": asset.pk,
        "failures": kpis.failures if from_work else oee.losses.breakdowns,
        "mtbf_s": kpis.mtbf_s if from_work else oee.mtbf_s,
        "mttr_s": kpis.mttr_s if from_work else oee.mttr_s,
        "reliability_from": "work_orders" if from_work else "states",
        "pm_due": kpis.pm_due,
        "pm_compliance": kpis.pm_compliance,
        "backlog": kpis.backlog,
        "backlog_hours": kpis.backlog_hours,
        "planned": kpis.planned,
        "unplanned": kpis.unplanned,
        "planned_ratio": kpis.planned_ratio,
    }
