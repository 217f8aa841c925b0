"""API v1: work orders: list, search, create, move, complete; preventive schedules; maintenance KPIs.

The operations call the selectors and services the tablet screens call (the search, the
board's moves with their rules, the completion with its findings), so a role is told the same
"no" in the same words here as on the screen.
"""

from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Field, Query, Router, Schema
from ninja import Status as Answer
from ninja.pagination import CursorPagination, paginate
from pydantic import AwareDatetime, StringConstraints

from plantops.api import selectors as plant_selectors
from plantops.maintenance import schedules, selectors, services
from plantops.maintenance.models import (
    CodeKind,
    FailureCode,
    MeterKind,
    Outcome,
    Part,
    WorkOrder,
    WorkOrderKind,
    WorkOrderPriority,
)
from plantops.maintenance.selectors import kpis as kpi_selectors
from plantops.maintenance.workflow import Status

router = Router(tags=["work orders"])

UTC = "RFC 3339 with the offset of the caller's zone."
# PostgreSQL text cannot hold a NUL character: such input is bad input, not a database error.
NO_NUL = r"^[^\x00]*$"
Text = Annotated[str, StringConstraints(pattern=NO_NUL)]
MAX_MINUTES = 60 * 24 * 30


# --- what is returned ----------------------------------------------------------------------------


class CodeOut(Schema):
    id: int = Field(description="Filter the list by it with `code_id`.")
    kind: str = Field(description="problem, cause or remedy (ISO 14224 style).")
    code: str
    label: str


class WorkOrderOut(Schema):
    id: int
    number: str = Field(description="As the screens show it: WO-<id>.")
    kind: WorkOrderKind
    priority: WorkOrderPriority
    status: Status
    asset_id: int
    line_id: int
    title: str
    description: str
    requested_by: str | None = Field(description="Username; null for the plant's own schedules.")
    assignee: str | None = Field(description="Username of the technician it is scheduled for.")
    due_at: datetime | None = Field(description=UTC)
    created_at: datetime = Field(description=UTC)
    started_at: datetime | None = Field(description=UTC)
    completed_at: datetime | None = Field(description=UTC)
    estimated_minutes: int | None = Field(description="Labour planned, minutes.")
    actual_minutes: int | None = Field(description="Labour the technician gave, minutes.")
    outcome: Outcome | None = Field(description="What was found; null until done.")
    problem: CodeOut | None
    cause: CodeOut | None
    remedy: CodeOut | None
    alert_id: int | None
    prediction_id: int | None

    @staticmethod
    def resolve_number(work_order: WorkOrder) -> str:
        return f"WO-{work_order.pk}"

    @staticmethod
    def resolve_line_id(work_order: WorkOrder) -> int:
        return work_order.asset.line_id

    @staticmethod
    def resolve_requested_by(work_order: WorkOrder) -> str | None:
        return work_order.requested_by.get_username() if work_order.requested_by else None

    @staticmethod
    def resolve_assignee(work_order: WorkOrder) -> str | None:
        return work_order.assignee.get_username() if work_order.assignee else None

    @staticmethod
    def resolve_outcome(work_order: WorkOrder) -> str | None:
        return work_order.outcome or None


class ChecklistItemOut(Schema):
    position: int
    text: str
    done_at: datetime | None = Field(description=UTC)
    done_by: str | None

    @staticmethod
    def resolve_done_by(item: Any) -> str | None:
        return item.done_by.get_username() if item.done_by else None


class PartUsedOut(Schema):
    part: str = Field(description="The part number.")
    name: str
    quantity: int
    unit: str
    used_by: str | None
    used_at: datetime = Field(description=UTC)

    @staticmethod
    def resolve_part(use: Any) -> str:
        return use.part.number

    @staticmethod
    def resolve_name(use: Any) -> str:
        return use.part.name

    @staticmethod
    def resolve_unit(use: Any) -> str:
        return use.part.unit

    @staticmethod
    def resolve_used_by(use: Any) -> str | None:
        return use.used_by.get_username() if use.used_by else None


class EventOut(Schema):
    at: datetime = Field(description=UTC)
    user: str | None = Field(description="Username; null for the plant itself.")
    kind: str = Field(description="created, status, assigned, note, checklist, part, photo, …")
    from_status: str
    to_status: str
    note: str

    @staticmethod
    def resolve_user(event: Any) -> str | None:
        return event.user.get_username() if event.user else None


class MoveOut(Schema):
    action: str = Field(description="approve, schedule, start, pause, resume, complete, cancel.")
    to: Status


class WorkOrderDetailOut(WorkOrderOut):
    notes: str = Field(description="The technician's closing note.")
    failure_mode: str | None = Field(description="Code of the failure mode the work is about.")
    evidence: dict[str, Any] = Field(description="What the alert or prediction showed.")
    checklist: list[ChecklistItemOut]
    parts_used: list[PartUsedOut]
    history: list[EventOut] = Field(description="Everything that happened to it, oldest first.")
    moves: list[MoveOut] = Field(description="What the caller may do to it now.")

    @staticmethod
    def resolve_failure_mode(work_order: WorkOrder) -> str | None:
        return work_order.failure_mode.code if work_order.failure_mode else None

    @staticmethod
    def resolve_checklist(work_order: WorkOrder) -> list[Any]:
        return list(work_order.checklist.all())

    @staticmethod
    def resolve_parts_used(work_order: WorkOrder) -> list[Any]:
        return list(work_order.parts_used.all())

    @staticmethod
    def resolve_history(work_order: WorkOrder) -> list[Any]:
        return list(work_order.events.all())

    @staticmethod
    def resolve_moves(work_order: WorkOrder, context: dict[str, Any]) -> list[Any]:
        return selectors.moves_for(work_order=work_order, user=context["request"].user)


# --- what is sent --------------------------------------------------------------------------------


class WorkOrderIn(Schema):
    asset_id: int
    title: Text = Field(description="What is wrong or what to do, in a few words.")
    kind: WorkOrderKind = WorkOrderKind.REQUEST
    priority: WorkOrderPriority = WorkOrderPriority.MEDIUM
    description: Text = Field("", max_length=5000)
    due_at: AwareDatetime | None = Field(None, description="With its offset.")
    estimated_minutes: int | None = Field(None, ge=1, le=MAX_MINUTES)
    checklist: list[Text] = Field([], max_length=100)
    problem: Text | None = Field(None, description="A problem code, e.g. `vib`.")


class MoveIn(Schema):
    to: Literal["approved", "scheduled", "in_progress", "on_hold", "cancelled"] = Field(
        description="The status to move to; completing is `POST …/complete`."
    )
    note: Text = Field("", max_length=500, description="Kept in the history with the move.")
    assignee: Text | None = Field(None, description="Scheduling: the technician's username.")
    due_at: AwareDatetime | None = Field(None, description="Scheduling: when, with its offset.")
    estimated_minutes: int | None = Field(None, ge=1, le=MAX_MINUTES)


class PartTakenIn(Schema):
    part: Text = Field(description="The part number.")
    quantity: int = Field(ge=1, le=10_000)


class CompletionIn(Schema):
    outcome: Outcome | None = Field(
        None, description="Needed for work from an alert or a prediction."
    )
    problem: Text | None = Field(None, description="A problem code, e.g. `vib`.")
    cause: Text | None = Field(None, description="A cause code.")
    remedy: Text | None = Field(None, description="A remedy code.")
    notes: Text = Field("", max_length=5000, description="The closing note.")
    actual_minutes: int | None = Field(None, ge=0, le=MAX_MINUTES)
    parts: list[PartTakenIn] = Field([], description="Taken from stock with the completion.")


# --- parsing references --------------------------------------------------------------------------


def _codes(
    chosen: dict[CodeKind, str | None], errors: dict[str, str]
) -> dict[str, FailureCode | None]:
    """The failure codes named, by kind; an unknown one is an error of its field."""
    found: dict[str, FailureCode | None] = {}
    for kind, code in chosen.items():
        found[kind.value] = None
        if code is not None:
            found[kind.value] = FailureCode.objects.filter(kind=kind, code=code).first()
            if found[kind.value] is None:
                errors[kind.value] = f"There is no {kind.value} code {code!r}."
    return found


def _work_order(request: HttpRequest, work_order_id: int) -> WorkOrder:
    """One work order the caller may see, with its checklist, parts and history; else 404."""
    return get_object_or_404(selectors.work_order_details(user=request.user), pk=work_order_id)


def _to_change(request: HttpRequest, work_order_id: int) -> WorkOrder:
    """The work order a write is about, if the caller may see it; else 404."""
    return get_object_or_404(selectors.work_orders_found(user=request.user), pk=work_order_id)


# --- work orders ---------------------------------------------------------------------------------


@router.get("/work-orders", response=list[WorkOrderOut], summary="Work orders")
@paginate(CursorPagination, ordering=("-id",))
def list_work_orders(
    request: HttpRequest,
    status: Annotated[
        Status | Literal["open"] | None,
        Query(description="One status, or `open` for all not done or cancelled."),
    ] = None,
    kind: WorkOrderKind | None = None,
    asset_id: int | None = None,
    line_id: int | None = None,
    assignee: Annotated[
        str | None, Query(pattern=NO_NUL, description="The technician's username.")
    ] = None,
    code_id: Annotated[
        int | None, Query(description="A failure code: problem, cause or remedy.")
    ] = None,
    q: Annotated[
        str,
        Query(
            max_length=200,
            pattern=NO_NUL,
            description="Words, each found in the title, description, closing note or a note "
            "made during the work: the screens' search. Newest first.",
        ),
    ] = "",
):
    return selectors.work_orders_found(
        user=request.user,
        status=status,
        kind=kind,
        asset_id=asset_id,
        line_id=line_id,
        assignee=assignee,
        code_id=code_id,
        text=q,
    )


@router.get("/work-orders/{work_order_id}", response=WorkOrderDetailOut, summary="One work order")
def get_work_order(request: HttpRequest, work_order_id: int):
    return _work_order(request, work_order_id)


@router.post(
    "/work-orders",
    response={201: WorkOrderDetailOut},
    summary="Report or create a work order",
    description="As the caller: an operator's is a request waiting for approval, a "
    "supervisor's is approved at once.",
)
def create_work_order(request: HttpRequest, body: WorkOrderIn):
    errors: dict[str, str] = {}
    asset = plant_selectors.asset_to_work_on(request.user, body.asset_id)
    if asset is None:
        errors["asset_id"] = f"There is no asset {body.asset_id}."
    codes = _codes({CodeKind.PROBLEM: body.problem}, errors)
    if errors:
        raise ValidationError(errors)
    made = services.workorder_create(
        asset=asset,
        kind=body.kind,
        title=body.title,
        user=request.user,
        priority=body.priority,
        description=body.description,
        due_at=body.due_at,
        estimated_minutes=body.estimated_minutes,
        checklist=body.checklist,
        problem=codes["problem"],
    )
    return Answer(201, _work_order(request, made.pk))


@router.post(
    "/work-orders/{work_order_id}/move",
    response=WorkOrderDetailOut,
    summary="Move a work order on the board",
    description="Approve, schedule (with `assignee` and `due_at`), start, pause, resume or "
    "cancel, as the caller's role and the flow allow.",
)
def move_work_order(request: HttpRequest, work_order_id: int, body: MoveIn):
    work_order = _to_change(request, work_order_id)
    if body.to != Status.SCHEDULED:
        extra = [f for f in ("assignee", "due_at", "estimated_minutes") if getattr(body, f)]
        if extra:
            raise ValidationError(dict.fromkeys(extra, "Given only when scheduling."))
        services.workorder_move(
            work_order=work_order, target=body.to, user=request.user, note=body.note
        )
        return _work_order(request, work_order_id)
    errors = {f: "Scheduling needs it." for f in ("assignee", "due_at") if not getattr(body, f)}
    assignee = None
    if body.assignee:
        assignee = get_user_model().objects.filter(username=body.assignee).first()
        if assignee is None:
            errors["assignee"] = f"There is no user {body.assignee!r}."
    if errors:
        raise ValidationError(errors)
    services.workorder_schedule(
        work_order=work_order,
        assignee=assignee,
        due_at=body.due_at,
        estimated_minutes=body.estimated_minutes,
        user=request.user,
        note=body.note,
    )
    return _work_order(request, work_order_id)


@router.post(
    "/work-orders/{work_order_id}/complete",
    response=WorkOrderDetailOut,
    summary="Complete a work order with its findings",
    description="The outcome, failure codes, minutes and parts, as on the tablet; the outcome "
    "scores the alert and prediction behind the work.",
)
def complete_work_order(request: HttpRequest, work_order_id: int, body: CompletionIn):
    work_order = _to_change(request, work_order_id)
    errors: dict[str, str] = {}
    codes = _codes(
        {CodeKind.PROBLEM: body.problem, CodeKind.CAUSE: body.cause, CodeKind.REMEDY: body.remedy},
        errors,
    )
    parts = {p.number: p for p in Part.objects.filter(number__in=[t.part for t in body.parts])}
    unknown = [t.part for t in body.parts if t.part not in parts]
    if unknown:
        errors["parts"] = f"There is no part {', '.join(unknown)}."
    if errors:
        raise ValidationError(errors)
    services.workorder_complete(
        work_order=work_order,
        user=request.user,
        outcome=body.outcome or "",
        notes=body.notes,
        actual_minutes=body.actual_minutes,
        parts=[(parts[t.part], t.quantity) for t in body.parts],
        **codes,
    )
    return _work_order(request, work_order_id)


# --- preventive schedules ------------------------------------------------------------------------


class NextDueOut(Schema):
    point: int = Field(description="The due point's number: the n-th interval of the meter.")
    meter: float = Field(description="Where the meter reaches it, in the meter's unit.")
    at: datetime | None = Field(
        description=f"When: exact for calendar days, foreseen at the rate the meter has run "
        f"for running hours and cycles (null until it has run). {UTC}"
    )


class ScheduleOut(Schema):
    id: int
    asset_id: int
    title: str
    meter: MeterKind = Field(description="calendar (days), runtime (running hours), cycles.")
    interval: float = Field(description="In the meter's unit.")
    lead: float = Field(description="The work order is made this far ahead, in the same unit.")
    priority: WorkOrderPriority
    estimated_minutes: int | None
    active: bool
    starts_at: datetime = Field(description=f"The meter counts from here. {UTC}")
    meter_value: float = Field(description="Counted since `starts_at`, as read at `meter_read_at`.")
    meter_read_at: datetime | None = Field(description=UTC)
    last_work_order_id: int | None = Field(description="The work order of the last due point.")
    next_due: NextDueOut

    @staticmethod
    def resolve_next_due(schedule: Any) -> dict[str, Any]:
        return schedules.schedule_next_due(schedule)._asdict()


@router.get(
    "/maintenance/schedules",
    response=list[ScheduleOut],
    tags=["maintenance"],
    summary="Preventive schedules",
)
@paginate(CursorPagination, ordering=("id",))
def list_schedules(
    request: HttpRequest,
    asset_id: int | None = None,
    line_id: int | None = None,
    active: bool | None = None,
):
    found = schedules.preventive_schedules(user=request.user)
    if asset_id is not None:
        found = found.filter(asset_id=asset_id)
    if line_id is not None:
        found = found.filter(asset__line_id=line_id)
    if active is not None:
        found = found.filter(active=active)
    return found


# --- maintenance KPIs ----------------------------------------------------------------------------


class KpiFiguresOut(Schema):
    failures: int = Field(description="Failures in the period.")
    mtbf_s: float | None = Field(description="Mean time between failures: running s / failure.")
    mttr_s: float | None = Field(description="Mean time to repair, seconds.")
    reliability_from: Literal["work_orders", "states"] = Field(
        description="Failures counted from work orders, or (none worked on) from breakdowns."
    )
    pm_due: int = Field(description="Preventive work orders due in the period.")
    pm_on_time: int = Field(description="Of those, done by their due moment.")
    pm_compliance: float | None = Field(description="pm_on_time / pm_due, 0–1.")
    backlog: int = Field(description="Work orders open at the end.")
    backlog_hours: float = Field(description="Their estimated labour, hours.")
    planned: int = Field(description="Preventive and predictive work created in the period.")
    unplanned: int = Field(description="Corrective work and requests created in the period.")
    planned_ratio: float | None = Field(description="planned / (planned + unplanned), 0–1.")


class AssetKpisOut(KpiFiguresOut):
    id: int
    name: str


class LineKpisOut(Schema):
    id: int
    name: str
    area: str
    kpis: KpiFiguresOut
    assets: list[AssetKpisOut]


class KpisOut(Schema):
    start: datetime = Field(description=f"The period's start (`from`). {UTC}")
    end: datetime = Field(description=f"The period's end (`to`), excluded. {UTC}")
    lines: list[LineKpisOut]


# The screen offers up to 90 days; a year is as far as one request reads the states.
MAX_KPI_SPAN = timedelta(days=366)
DEFAULT_KPI_SPAN = timedelta(days=30)


@router.get(
    "/maintenance/kpis",
    response=KpisOut,
    tags=["maintenance"],
    summary="Maintenance KPIs",
    description="MTBF, MTTR, PM compliance, backlog and planned share per line and asset, as "
    "the KPI page computes them.",
)
def maintenance_kpis(
    request: HttpRequest,
    start: Annotated[
        AwareDatetime | None,
        Query(alias="from", description="With its offset; 30 days before `to` if not given."),
    ] = None,
    end: Annotated[
        AwareDatetime | None, Query(alias="to", description="With its offset; now if not given.")
    ] = None,
    line_id: Annotated[
        list[int] | None, Query(description="Repeat for several lines; every line if none.")
    ] = None,
):
    end = end or timezone.now()
    start = start or end - DEFAULT_KPI_SPAN
    if start >= end:
        raise ValidationError({"from": "`from` must be before `to`."})
    if end - start > MAX_KPI_SPAN:
        raise ValidationError({"from": "Ask for at most 366 days at a time."})
    return kpi_selectors.maintenance_kpi_page_for(
        user=request.user, start=start, end=end, line_ids=line_id or None
    )
