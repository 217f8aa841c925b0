"""The MCP tools on maintenance: search past and open work, what fixed a failure last time,
the maintenance KPIs, and a work request made through the maintenance services (which decide
whether the caller's role may, and record who asked)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from plantops.api import selectors as plant_selectors
from plantops.api.mcp_scope import excerpt, local, percent, shown_asset, shown_line, via_mcp
from plantops.api.selectors import on_shown_lines
from plantops.assets.models import Line
from plantops.assets.scope import shown_line_ids
from plantops.core.refusals import require_permission
from plantops.health.models import FailureMode
from plantops.maintenance import selectors as maintenance_selectors
from plantops.maintenance import services as maintenance_services
from plantops.maintenance.models import (
    CodeKind,
    FailureCode,
    Outcome,
    PartUse,
    WorkOrder,
    WorkOrderKind,
)
from plantops.maintenance.selectors import kpis as kpi_selectors
from plantops.maintenance.workflow import Status

MAX_WORK_ORDERS = 50
FIXES_ON_THE_ASSET = 5
FIXES_ON_ITS_TYPE = 3
KPI_ASSETS_PER_LINE = 10
STATUS_MEANINGS = {
    Status.REQUESTED.value: "requested: waits for a supervisor to approve it",
    Status.APPROVED.value: "approved: waits to be scheduled",
}


def _codes(work: WorkOrder) -> dict[str, str | None]:
    return {
        kind: getattr(work, kind).label if getattr(work, kind) else None
        for kind in ("problem", "cause", "remedy")
    }


def _work_row(work: WorkOrder) -> dict[str, Any]:
    asset = work.asset
    zone = asset.line.area.site.timezone
    return {
        "number": f"WO-{work.pk}",
        "id": work.pk,
        "title": work.title,
        "kind": work.kind,
        "priority": work.priority,
        "status": work.status,
        "asset": {"id": asset.pk, "name": asset.name, "line": asset.line.name},
        "time_zone": zone,
        "created_at": local(work.created_at, zone),
        "due_at": local(work.due_at, zone),
        "completed_at": local(work.completed_at, zone),
        "requested_by": work.requested_by.get_username() if work.requested_by else None,
        "assignee": work.assignee.get_username() if work.assignee else None,
        "outcome": work.outcome or None,
        **_codes(work),
        "description": excerpt(work.description),
        "closing_note": excerpt(work.notes),
        "actual_minutes": work.actual_minutes,
    }


def _readable(found: QuerySet[WorkOrder]) -> QuerySet[WorkOrder]:
    return found.select_related(
        "asset__line__area__site", "requested_by", "assignee", "problem", "cause", "remedy"
    )


def search_work(
    user: Any,
    *,
    text: str = "",
    asset_id: int | None = None,
    line_id: int | None = None,
    status: str | None = None,
    limit: int = 20,
) -> dict[str, Any]:
    """Work orders the caller is shown with every word of `text` in the title, description,
    closing note or a note made during the work (the screens' search), newest first."""
    if asset_id is not None:
        shown_asset(user, asset_id)
    if line_id is not None:
        shown_line(user, line_id)
    # The selector narrows an operator to their lines' work and the requests they made.
    found = maintenance_selectors.work_orders_found(
        user=user, status=status, asset_id=asset_id, line_id=line_id, text=text
    )
    rows = [
        _work_row(w)
        for w in _readable(found).order_by("-created_at", "-pk")[: min(limit, MAX_WORK_ORDERS)]
    ]
    return {"total": found.count(), "listed": len(rows), "work_orders": rows}


def _fix_row(work: WorkOrder) -> dict[str, Any]:
    zone = work.asset.line.area.site.timezone
    return {
        "number": f"WO-{work.pk}",
        "title": work.title,
        "asset": work.asset.name,
        "completed_at": local(work.completed_at, zone),
        "time_zone": zone,
        "failure_mode": work.failure_mode.label if work.failure_mode else None,
        **_codes(work),
        "outcome": work.outcome or None,
        "closing_note": excerpt(work.notes, 500),
        "actual_minutes": work.actual_minutes,
        "technician": work.assignee.get_username() if work.assignee else None,
        "parts_used": [
            {"part": use.part.number, "name": use.part.name, "quantity": use.quantity}
            | {"unit": use.part.unit}
            for use in work.parts_used.all()
        ],
    }


def _fixes(found: QuerySet[WorkOrder]) -> QuerySet[WorkOrder]:
    return (
        _readable(found)
        .select_related("failure_mode")
        .prefetch_related(Prefetch("parts_used", queryset=PartUse.objects.select_related("part")))
        .order_by("-completed_at", "-pk")
    )


def _failure_named(failure: str) -> Q | None:
    """Work on a failure named by its problem code or failure mode (code or label); None when
    `failure` names neither, and is searched for as words."""
    named = Q(code__iexact=failure) | Q(label__iexact=failure)
    problems = list(
        FailureCode.objects.filter(named, kind=CodeKind.PROBLEM).values_list("pk", flat=True)
    )
    modes = list(FailureMode.objects.filter(named).values_list("pk", flat=True))
    if not problems and not modes:
        return None
    return Q(problem__in=problems) | Q(failure_mode__in=modes)


def what_fixed_it(user: Any, *, asset_id: int, failure: str = "") -> dict[str, Any]:
    """What was found and done the last times a failure was worked on: on the asset, and on
    other assets of its type the caller is shown. Without a failure, the asset's most frequent
    failures in done work, each with its last fix."""
    asset = shown_asset(user, asset_id)
    done = maintenance_selectors.work_orders_found(user=user, status=Status.DONE).exclude(
        outcome=Outcome.NO_FAULT_FOUND
    )
    if not failure.strip():
        frequent = maintenance_selectors.asset_maintenance(asset=asset)["frequent"]
        return {
            "asset": {"id": asset.pk, "name": asset.name, "type": asset.asset_type},
            "failure": None,
            "frequent_failures": [
                {"failure": row["label"], "times": row["times"], "last_fix": _fix_row(row["last"])}
                for row in frequent
            ],
        }
    named = _failure_named(failure.strip())
    if named is None:
        matching = maintenance_selectors.work_orders_found(
            user=user, status=Status.DONE, text=failure
        ).exclude(outcome=Outcome.NO_FAULT_FOUND)
    else:
        matching = done.filter(named)
    elsewhere = on_shown_lines(
        user,
        matching.filter(asset__asset_type=asset.asset_type).exclude(asset=asset),
        "asset__line_id",
    )
    return {
        "asset": {"id": asset.pk, "name": asset.name, "type": asset.asset_type},
        "failure": failure.strip(),
        "matched_by": "failure code or mode" if named is not None else "words",
        "on_this_asset": [
            _fix_row(w) for w in _fixes(matching.filter(asset=asset))[:FIXES_ON_THE_ASSET]
        ],
        "on_assets_of_the_same_type": [_fix_row(w) for w in _fixes(elsewhere)[:FIXES_ON_ITS_TYPE]],
    }


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 1)


def _kpis(figures: dict[str, Any]) -> dict[str, Any]:
    return {
        "failures": figures["failures"],
        "mtbf_hours": _hours(figures["mtbf_s"]),
        "mttr_hours": _hours(figures["mttr_s"]),
        "failures_counted_from": figures["reliability_from"],
        "pm_due": figures["pm_due"],
        "pm_on_time": figures["pm_on_time"],
        "pm_compliance_percent": percent(figures["pm_compliance"]),
        "backlog": figures["backlog"],
        "backlog_hours": figures["backlog_hours"],
        "planned": figures["planned"],
        "unplanned": figures["unplanned"],
        "planned_percent": percent(figures["planned_ratio"]),
    }


def maintenance_kpis(user: Any, *, line_id: int | None = None, days: int = 30) -> dict[str, Any]:
    """MTBF, MTTR, PM compliance, backlog and planned share over the last `days` days, per line
    the caller is shown (or one line), with the assets that failed most."""
    end = timezone.now()
    start = end - timedelta(days=days)
    lines = shown_line_ids(user)
    if line_id is not None:
        shown_line(user, line_id)
        line_ids: list[int] | None = [line_id]
    else:
        line_ids = None if lines is None else sorted(lines)
    if line_ids == []:
        # No line shown: an empty filter would read as every line.
        require_permission(user, maintenance_selectors.VIEW_WORK, maintenance_selectors.MAY_NOT_SEE)
        return {"days": days, "lines": []}
    page = kpi_selectors.maintenance_kpi_page_for(
        user=user, start=start, end=end, line_ids=line_ids
    )
    zones = dict(
        Line.objects.filter(pk__in=[row["id"] for row in page["lines"]]).values_list(
            "pk", "area__site__timezone"
        )
    )
    return {
        "days": days,
        "lines": [
            {
                "id": row["id"],
                "name": row["name"],
                "area": row["area"],
                "time_zone": zones[row["id"]],
                "from": local(start, zones[row["id"]]),
                "to": local(end, zones[row["id"]]),
                **_kpis(row["kpis"]),
                "assets_total": len(row["assets"]),
                "assets_failing_most": [
                    {"id": asset["id"], "name": asset["name"]} | _kpis(asset)
                    for asset in sorted(
                        row["assets"], key=lambda a: (-a["failures"], a["name"], a["id"])
                    )[:KPI_ASSETS_PER_LINE]
                ],
            }
            for row in page["lines"]
        ],
    }


def create_work_request(
    user: Any,
    *,
    asset_id: int,
    title: str,
    note: str,
    priority: str = "medium",
    problem: str | None = None,
) -> dict[str, Any]:
    """A work request on an asset as the caller, its description the caller's note headed
    "Through MCP, for <user>"; an operator's waits for approval, a supervisor's is approved.
    Any asset of the plant, as in API v1: an operator reports a problem wherever they see one."""
    found = plant_selectors.asset_to_work_on(user, asset_id)
    if found is None:
        raise ValidationError({"asset_id": f"There is no asset {asset_id}."})
    code = None
    if problem:
        code = FailureCode.objects.filter(kind=CodeKind.PROBLEM, code=problem).first()
        if code is None:
            known = FailureCode.objects.filter(kind=CodeKind.PROBLEM).order_by("code")
            raise ValidationError(
                {
                    "problem": f"There is no problem code {problem!r}; known: "
                    + ", ".join(known.values_list("code", flat=True)[:30])
                }
            )
    made = maintenance_services.workorder_create(
        asset=found,
        kind=WorkOrderKind.REQUEST,
        title=title,
        user=user,
        priority=priority,
        description=via_mcp(user, note),
        problem=code,
    )
    zone = Line.objects.filter(pk=found.line_id).values_list("area__site__timezone").get()[0]
    return {
        "number": f"WO-{made.pk}",
        "id": made.pk,
        "status": made.status,
        "status_meaning": STATUS_MEANINGS.get(made.status, made.status),
        "asset": {"id": found.pk, "name": found.name, "line": found.line.name},
        "title": made.title,
        "priority": made.priority,
        "problem": code.label if code else None,
        "requested_by": user.get_username(),
        "created_at": local(made.created_at, zone),
        "time_zone": zone,
        "description": made.description,
    }
