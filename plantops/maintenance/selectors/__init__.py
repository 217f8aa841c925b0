"""Reads for maintenance: work orders for the API and the tablet screens, an asset's maintenance
panel, and how often each alert rule's alerts were confirmed on the machine. The KPIs' reads
are `selectors.kpis`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext_lazy, pgettext_lazy

from plantops.alerts import selectors as alert_selectors
from plantops.alerts.delivery import delay_text
from plantops.alerts.models import Alert, AlertRule
from plantops.assets.models import Asset
from plantops.assets.scope import shown_line_ids
from plantops.assets.states import MachineState
from plantops.core.refusals import require_permission
from plantops.maintenance import workflow
from plantops.maintenance.models import (
    STATUS_LABELS,
    CodeKind,
    FailureCode,
    Outcome,
    Part,
    WorkOrder,
    WorkOrderEvent,
)
from plantops.maintenance.workflow import may_add_to, may_execute, role_of
from plantops.oee.models import StateEvent

CONFIRMED = (Outcome.FAILURE_FOUND, Outcome.DIFFERENT_MODE)

# Every role that watches the plant sees its work orders, schedules and KPIs (core.roles);
# the screens, the JSON API and API v1 ask the same question here.
VIEW_WORK = "maintenance.view_workorder"
MAY_NOT_SEE = gettext_lazy("Your role may not see work orders.")


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


# --- the tablet screens ------------------------------------------------------------------------

LISTS = {
    "mine": gettext_lazy("My work"),
    "approve": gettext_lazy("To approve"),
    "schedule": gettext_lazy("To schedule"),
    "open": gettext_lazy("All open"),
    "done": pgettext_lazy("the list of done work", "Done"),
}
MAX_ON_SCREEN = 100


def default_list(user: AbstractBaseUser) -> str:
    """The list a user sees first: technicians their own work, supervisors what waits for
    them, operators what is open."""
    role = role_of(user)
    if role is workflow.Role.TECHNICIAN:
        return "mine"
    if role in (workflow.Role.SUPERVISOR, workflow.Role.ADMIN):
        return "approve"
    return "open"


def work_order_list(
    *,
    user: AbstractBaseUser,
    which: str,
    asset_id: int | None = None,
    code_id: int | None = None,
    text: str = "",
) -> QuerySet[WorkOrder]:
    """The work orders of one list, narrowed by asset, failure code (problem, cause or remedy)
    and words in the title, description, closing note or the notes made during the work;
    past work is searched with `which="done"`. At most MAX_ON_SCREEN, newest first."""
    require_permission(user, VIEW_WORK, MAY_NOT_SEE)
    found = WorkOrder.objects.select_related(
        "asset__line", "assignee", "problem", "cause", "remedy"
    )
    if which == "mine":
        found = found.filter(assignee=user, status__in=workflow.OPEN).order_by(
            "due_at", "-created_at"
        )
    elif which == "approve":
        found = found.filter(status=workflow.Status.REQUESTED).order_by("created_at")
    elif which == "schedule":
        found = found.filter(status=workflow.Status.APPROVED).order_by("created_at")
    elif which == "done":
        found = found.filter(status=workflow.Status.DONE).order_by("-completed_at")
    else:
        found = found.filter(status__in=workflow.OPEN).order_by("due_at", "-created_at")
    return _searched(found, asset_id=asset_id, code_id=code_id, text=text)[:MAX_ON_SCREEN]


def _searched(
    found: QuerySet[WorkOrder], *, asset_id: int | None, code_id: int | None, text: str
) -> QuerySet[WorkOrder]:
    """The search of the screens: by asset, by failure code (problem, cause or remedy), and
    every word (the first eight) in the title, description, closing note or a note made
    during the work."""
    if asset_id is not None:
        found = found.filter(asset_id=asset_id)
    if code_id is not None:
        found = found.filter(Q(problem_id=code_id) | Q(cause_id=code_id) | Q(remedy_id=code_id))
    for word in text.split()[:8]:
        noted = WorkOrderEvent.objects.filter(kind="note", note__icontains=word)
        found = found.filter(
            Q(title__icontains=word)
            | Q(description__icontains=word)
            | Q(notes__icontains=word)
            | Q(pk__in=noted.values("work_order_id"))
        )
    return found


# `status` may also be this: every work order not yet done or cancelled.
OPEN_STATUS = "open"


def work_orders_found(
    *,
    user: AbstractBaseUser,
    status: str | None = None,
    kind: str | None = None,
    asset_id: int | None = None,
    line_id: int | None = None,
    assignee: str | None = None,
    code_id: int | None = None,
    text: str = "",
) -> QuerySet[WorkOrder]:
    """Every work order `user` is shown through the API and MCP that matches, unordered and
    uncapped (for paging): by status (or "open"), kind, asset, line, assignee's username, and
    the screens' search of codes and words. An operator is shown their own lines' work
    (plantops.assets.scope.shown_line_ids) and the requests they made elsewhere: they may
    report a problem wherever they see one, and follow it up."""
    require_permission(user, VIEW_WORK, MAY_NOT_SEE)
    found = WorkOrder.objects.select_related(
        "asset", "requested_by", "assignee", "problem", "cause", "remedy"
    )
    shown = shown_line_ids(user)
    if shown is not None:
        found = found.filter(Q(asset__line_id__in=shown) | Q(requested_by=user))
    if status == OPEN_STATUS:
        found = found.filter(status__in=workflow.OPEN)
    elif status is not None:
        found = found.filter(status=status)
    if kind is not None:
        found = found.filter(kind=kind)
    if line_id is not None:
        found = found.filter(asset__line_id=line_id)
    if assignee is not None:
        found = found.filter(assignee__username=assignee)
    return _searched(found, asset_id=asset_id, code_id=code_id, text=text)


def work_order_details(*, user: AbstractBaseUser) -> QuerySet[WorkOrder]:
    """The work orders `user` may see, each read with its checklist, the parts taken for it
    and its history (who did what, when), for one work order at a time."""
    return (
        work_orders_found(user=user)
        .select_related("failure_mode")
        .prefetch_related(
            "checklist__done_by", "parts_used__part", "parts_used__used_by", "events__user"
        )
    )


def moves_for(*, work_order: WorkOrder, user: AbstractBaseUser) -> list[workflow.Move]:
    """The moves `user` may make on the work order now, completing and scheduling included."""
    if work_order.status in workflow.FINAL:
        return []
    return workflow.moves(
        workflow.Status(work_order.status),
        role_of(user),
        is_assignee=workflow.is_assignee(work_order, user),
    )


def codes_by_kind() -> dict[str, list[FailureCode]]:
    codes: dict[str, list[FailureCode]] = {kind: [] for kind in CodeKind.values}
    for code in FailureCode.objects.select_related("failure_mode").order_by("kind", "label"):
        codes[code.kind].append(code)
    return codes


def technicians() -> list[AbstractBaseUser]:
    """Who may be given work: members of a group that executes work orders, and admins."""
    users = get_user_model().objects.filter(is_active=True)
    return list(
        users.filter(
            Q(is_superuser=True)
            | Q(groups__permissions__codename="execute_workorder")
            | Q(user_permissions__codename="execute_workorder")
        )
        .distinct()
        .order_by("username")
    )


def downtime_of(work_order: WorkOrder) -> dict[str, Any] | None:
    """The stop the work is linked to: when it began, why, and when the asset ran again
    (None while it is still down)."""
    stop = work_order.downtime
    if stop is None:
        return None
    ended = (
        StateEvent.objects.filter(asset_id=stop.asset_id, ts__gt=stop.ts)
        .exclude(state=MachineState.DOWN)
        .order_by("ts")
        .values_list("ts", flat=True)
        .first()
    )
    return {"start": stop.ts, "end": ended, "reason": stop.reason}


# What happened to a work order, as its history lists it.
EVENT_KIND_LABELS = {
    "created": pgettext_lazy("work order event", "created"),
    "reported": pgettext_lazy("work order event", "reported again"),
    "assigned": pgettext_lazy("work order event", "assigned"),
    "note": pgettext_lazy("work order event", "note"),
    "photo": pgettext_lazy("work order event", "photo"),
    "checklist": pgettext_lazy("work order event", "checklist"),
    "part": pgettext_lazy("work order event", "part"),
}


def _status_label(status: str) -> str:
    if not status:
        return str(pgettext_lazy("a work order before its first status", "new"))
    labels = {s.value: label for s, label in STATUS_LABELS.items()}
    return str(labels.get(status, status.replace("_", " ")))


def _labelled(events: QuerySet[WorkOrderEvent]) -> list[WorkOrderEvent]:
    labelled = list(events)
    for event in labelled:
        event.from_label = _status_label(event.from_status)
        event.to_label = _status_label(event.to_status)
        event.kind_label = str(EVENT_KIND_LABELS.get(event.kind, event.kind))
    return labelled


def work_order_screen(*, work_order: WorkOrder, user: AbstractBaseUser) -> dict[str, Any]:
    """Everything the work-order screen shows, and what this user may do on it."""
    require_permission(user, VIEW_WORK, MAY_NOT_SEE)
    role = role_of(user)
    moves = moves_for(work_order=work_order, user=user)
    plain_moves = [
        m for m in moves if m.to not in (workflow.Status.DONE, workflow.Status.SCHEDULED)
    ]
    can_execute = may_execute(work_order, user) and work_order.status not in workflow.FINAL
    return {
        "work_order": work_order,
        "role": role.value,
        "moves": plain_moves,
        "can_schedule": any(m.to is workflow.Status.SCHEDULED for m in moves),
        "can_complete": any(m.to is workflow.Status.DONE for m in moves),
        "can_tick": can_execute and work_order.status == workflow.Status.IN_PROGRESS,
        "can_take_parts": can_execute
        and work_order.status in (workflow.Status.IN_PROGRESS, workflow.Status.ON_HOLD),
        "can_add": may_add_to(work_order, user),
        "needs_outcome": work_order.alert_id is not None or work_order.prediction_id is not None,
        "checklist": list(work_order.checklist.select_related("done_by")),
        "parts_used": list(work_order.parts_used.select_related("part", "used_by")),
        "photos": list(work_order.photos.select_related("taken_by")),
        "events": _labelled(work_order.events.select_related("user").order_by("-at", "-pk")[:50]),
        "downtime": downtime_of(work_order),
        "parts": list(Part.objects.filter(stock__gt=0)),
        "technicians": technicians()
        if role in (workflow.Role.SUPERVISOR, workflow.Role.ADMIN)
        else [],
        "codes": codes_by_kind(),
        "outcomes": Outcome.choices,
        "evidence": work_order.evidence,
        "alert_history": [
            {
                **event,
                "at": datetime.fromisoformat(event["at"]),
                # Judged from late data: "3 h 10 min" (older work orders have no delay kept).
                "delay": delay_text(event["delay_s"]) if event.get("delay_s") is not None else "",
            }
            for event in work_order.evidence.get("alert_history", [])
        ],
    }


# How far back the asset panel looks for what fixed a failure before.
KNOWLEDGE_WORK_ORDERS = 500


def asset_maintenance(*, asset: Asset, limit: int = 5) -> dict[str, Any]:
    """The asset page's maintenance panel: open work, its most frequent failures in done work
    (by problem code, else by the failure mode found) and, for each, what fixed it last time."""
    done = WorkOrder.objects.filter(asset=asset, status=workflow.Status.DONE)
    recent = (
        done.filter(Q(problem__isnull=False) | Q(failure_mode__isnull=False))
        .exclude(outcome=Outcome.NO_FAULT_FOUND)
        .select_related("problem", "cause", "remedy", "assignee", "failure_mode")
        .order_by("-completed_at", "-pk")[:KNOWLEDGE_WORK_ORDERS]
    )
    failures: dict[str, dict[str, Any]] = {}
    for work in recent:  # newest first: the first seen of a failure is its last fix
        key, label = (
            (f"code:{work.problem.code}", work.problem.label)
            if work.problem is not None
            else (f"mode:{work.failure_mode.code}", work.failure_mode.label)
        )
        row = failures.setdefault(key, {"key": key, "label": label, "times": 0, "last": work})
        row["times"] += 1
    frequent = sorted(failures.values(), key=lambda row: (-row["times"], row["label"]))[:limit]
    alerts = (
        Alert.objects.filter(asset=asset, state__in=alert_selectors.OPEN_STATES)
        .select_related("rule")
        .order_by("-last_at")[:limit]
    )
    return {
        "alerts": list(alerts),
        "open": list(
            WorkOrder.objects.filter(asset=asset, status__in=workflow.OPEN)
            .select_related("assignee")
            .order_by("due_at", "-created_at")[:limit]
        ),
        "frequent": frequent,
        "done_count": done.count(),
    }


def prediction_outcomes() -> dict[tuple[str, str], dict[str, Any]]:
    """Per (asset type, failure mode): what technicians found when they acted on a prediction
    (or on its alert), and the share of those where the predicted failure was there."""
    rows = (
        WorkOrder.objects.filter(prediction__isnull=False, failure_mode__isnull=False)
        .exclude(outcome="")
        .values("asset__asset_type", "failure_mode__code", "outcome")
        .annotate(n=Count("pk"))
    )
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        key = (row["asset__asset_type"], row["failure_mode__code"])
        counts = found.setdefault(key, dict.fromkeys(Outcome.values, 0))
        counts[row["outcome"]] += row["n"]
    for counts in found.values():
        judged = sum(counts[value] for value in Outcome.values)
        counts["judged"] = judged
        counts["precision"] = counts[Outcome.FAILURE_FOUND] / judged if judged else None
    return found


def rules_page() -> list[dict[str, Any]]:
    """Every alert rule with how many alerts it raised and how often work on them found a
    fault: the precision a supervisor tunes rules by."""
    precision = rule_precision()
    rows = (
        AlertRule.objects.select_related("signal__asset")
        .annotate(raised=Count("alerts", distinct=True))
        .order_by("name")
    )
    return [{"rule": rule, "raised": rule.raised, **precision.get(rule.pk, {})} for rule in rows]


def current_stop(asset: Asset) -> StateEvent | None:
    """The state event that began the asset's stop, if the asset is down now: the first
    "down" after it last ran (a stop whose reason changes is still one stop)."""
    events = StateEvent.objects.filter(asset=asset)
    last = events.order_by("-ts").first()
    if last is None or last.state != MachineState.DOWN:
        return None
    up = events.exclude(state=MachineState.DOWN).order_by("-ts").values_list("ts", flat=True)
    last_up = up.first()
    began = events.filter(state=MachineState.DOWN)
    if last_up is not None:
        began = began.filter(ts__gt=last_up)
    return began.order_by("ts").first()
