"""Writes for maintenance: work orders through their flow, parts from stock, the outcome that
teaches the health model. Every change is recorded as a `WorkOrderEvent` with who and when."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F, Max, Sum
from django.utils import timezone

from plantops.alerts.models import Alert, RuleSource
from plantops.assets.models import Asset, MachineState
from plantops.health import services as health_services
from plantops.health.models import FailureMode, FailureSource, Prediction
from plantops.maintenance import meters, photos, workflow
from plantops.maintenance.models import (
    ChecklistItem,
    CodeKind,
    FailureCode,
    MeterKind,
    Outcome,
    Part,
    PartUse,
    PreventiveDue,
    PreventiveSchedule,
    WorkOrder,
    WorkOrderEvent,
    WorkOrderKind,
    WorkOrderPhoto,
    WorkOrderPriority,
)
from plantops.maintenance.workflow import Role, Status, TransitionRefused
from plantops.oee.models import CountEvent, StateEvent

ALERT_PRIORITY = {
    "critical": WorkOrderPriority.URGENT,
    "high": WorkOrderPriority.HIGH,
    "medium": WorkOrderPriority.MEDIUM,
    "low": WorkOrderPriority.LOW,
}


def role_of(user: AbstractBaseUser) -> Role:
    """The user's maintenance role: the strongest their groups give them."""
    if getattr(user, "is_superuser", False):
        return Role.ADMIN
    if user.has_perm("maintenance.supervise_workorder"):
        return Role.SUPERVISOR
    if user.has_perm("maintenance.execute_workorder"):
        return Role.TECHNICIAN
    return Role.OPERATOR


def _record(
    work_order: WorkOrder,
    kind: str,
    user: AbstractBaseUser | None,
    *,
    at: datetime,
    from_status: str = "",
    to_status: str = "",
    note: str = "",
) -> None:
    WorkOrderEvent.objects.create(
        work_order=work_order,
        kind=kind,
        user=user,
        at=at,
        from_status=from_status,
        to_status=to_status,
        note=note[:500],
    )


@transaction.atomic
def workorder_create(
    *,
    asset: Asset,
    kind: str,
    title: str,
    user: AbstractBaseUser | None,
    priority: str = WorkOrderPriority.MEDIUM,
    description: str = "",
    due_at: datetime | None = None,
    estimated_minutes: int | None = None,
    checklist: Sequence[str] = (),
    alert: Alert | None = None,
    prediction: Prediction | None = None,
    failure_mode: FailureMode | None = None,
    evidence: dict[str, Any] | None = None,
    problem: FailureCode | None = None,
    downtime: StateEvent | None = None,
) -> WorkOrder:
    """Create a work order; an operator's is a request, a supervisor's or the system's is
    approved at once (no one needs to approve their own decision).

    Breakdown work raised while the asset is down is linked to that stop, so the repair and
    the downtime it ended are read together."""
    if not title.strip():
        raise ValidationError({"title": "Say in a few words what is wrong or what to do."})
    if kind not in WorkOrderKind.values:
        raise ValidationError({"kind": f"Unknown kind {kind!r}."})
    if priority not in WorkOrderPriority.values:
        raise ValidationError({"priority": f"Unknown priority {priority!r}."})
    if problem is not None and problem.kind != CodeKind.PROBLEM:
        raise ValidationError({"problem": f"{problem} is not a problem code."})
    if downtime is None and kind in (WorkOrderKind.CORRECTIVE, WorkOrderKind.REQUEST):
        downtime = current_stop(asset)
    now = timezone.now()
    role = role_of(user) if user is not None else Role.ADMIN
    status = Status.APPROVED if role in (Role.SUPERVISOR, Role.ADMIN) else Status.REQUESTED
    work_order = WorkOrder.objects.create(
        asset=asset,
        kind=kind,
        title=title.strip()[:200],
        description=description,
        priority=priority,
        status=status.value,
        requested_by=user,
        due_at=due_at,
        estimated_minutes=estimated_minutes,
        alert=alert,
        prediction=prediction,
        failure_mode=failure_mode,
        evidence=evidence or {},
        problem=problem,
        downtime=downtime,
        created_at=now,
    )
    ChecklistItem.objects.bulk_create(
        ChecklistItem(work_order=work_order, position=i, text=text[:300])
        for i, text in enumerate(t for t in checklist if t.strip())
    )
    _record(work_order, "created", user, at=now, to_status=status.value)
    return work_order


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


def problem_report(
    *, asset: Asset, problem: FailureCode | None, user: AbstractBaseUser
) -> WorkOrder:
    """An operator's report from the tablet: what is wrong with which machine, nothing more.

    A report of the same problem on the same asset that is still open is not made twice: it
    is recorded on the open one (who reported it again, when), which is returned."""
    label = problem.label if problem is not None else "Problem reported"
    with transaction.atomic():
        # One report at a time per asset: two operators tapping at once make one request.
        Asset.objects.select_for_update().filter(pk=asset.pk).first()
        same = WorkOrder.objects.filter(asset=asset, problem=problem, kind=WorkOrderKind.REQUEST)
        open_one = same.filter(status__in=workflow.OPEN).first()
        if open_one is not None:
            _record(open_one, "reported", user, at=timezone.now(), note="Reported again.")
            return open_one
        return workorder_create(
            asset=asset,
            kind=WorkOrderKind.REQUEST,
            title=f"{label} on {asset.name}",
            user=user,
            priority=WorkOrderPriority.HIGH if current_stop(asset) else WorkOrderPriority.MEDIUM,
            problem=problem,
        )


def workorder_from_prediction(*, prediction: Prediction, user: AbstractBaseUser) -> WorkOrder:
    """One tap from the asset's health panel: predictive work on the predicted failure, with
    the remaining-life interval and its drivers. Where the prediction raised an alert, the
    work order is the alert's (so that its outcome scores the rule too). Open predictive work
    on the same asset and failure mode is opened rather than doubled: predictions come hourly."""
    with transaction.atomic():
        Prediction.objects.select_for_update().filter(pk=prediction.pk).first()
        return _from_prediction(prediction, user)


def _from_prediction(prediction: Prediction, user: AbstractBaseUser) -> WorkOrder:
    alert = (
        Alert.objects.filter(
            asset=prediction.asset_id,
            rule__kind=RuleSource.PREDICTION,
            evidence__prediction_id=prediction.pk,
        )
        .order_by("-pk")
        .first()
    )
    if alert is not None:
        return workorder_from_alert(alert=alert, user=user)
    open_one = (
        WorkOrder.objects.filter(
            asset_id=prediction.asset_id,
            failure_mode=prediction.failure_mode,
            kind=WorkOrderKind.PREDICTIVE,
        )
        .filter(status__in=workflow.OPEN)
        .first()
    )
    if open_one is not None:
        return open_one
    return workorder_create(
        asset=prediction.asset,
        kind=WorkOrderKind.PREDICTIVE,
        title=(
            f"{prediction.failure_mode.label} predicted in {prediction.span_text()} "
            f"on {prediction.asset.name}"
        ),
        user=user,
        priority=WorkOrderPriority.HIGH
        if prediction.rul_low_days < 7
        else WorkOrderPriority.MEDIUM,
        due_at=prediction.made_at + timedelta(days=max(prediction.rul_low_days, 0.0)),
        prediction=prediction,
        failure_mode=prediction.failure_mode,
        evidence=health_services.prediction_evidence(prediction),
    )


@transaction.atomic
def workorder_from_alert(*, alert: Alert, user: AbstractBaseUser) -> WorkOrder:
    """One tap from an alert: a work order on its asset, prefilled with its evidence (signals,
    remaining-life interval, the alert's history). A second tap opens the same work order,
    also when two people tap at once (the alert's row is locked while one is made)."""
    Alert.objects.select_for_update().filter(pk=alert.pk).first()
    open_one = alert.work_orders.filter(status__in=workflow.OPEN).first()
    if open_one is not None:
        return open_one
    evidence = dict(alert.evidence)
    prediction = None
    failure_mode = None
    if "prediction_id" in evidence:
        prediction = (
            Prediction.objects.select_related("failure_mode", "model")
            .filter(pk=evidence["prediction_id"])
            .first()
        )
        if prediction is not None:
            failure_mode = prediction.failure_mode
            evidence = health_services.prediction_evidence(prediction) | evidence
    if alert.signal is not None and "signal" not in evidence:
        evidence["signal"] = {
            "name": alert.signal.name,
            "unit": alert.signal.unit,
            "value": alert.value,
            "limit": alert.rule.limit,
        }
    history = list(alert.events.order_by("-id").values_list("kind", "at", "note")[:20])
    evidence["alert_history"] = [
        {"kind": kind, "at": at.isoformat(), "note": note} for kind, at, note in history
    ]
    detector = alert.rule.kind in (RuleSource.ANOMALY, RuleSource.PREDICTION)
    return workorder_create(
        asset=alert.asset,
        kind=WorkOrderKind.PREDICTIVE if detector else WorkOrderKind.CORRECTIVE,
        title=alert.message or str(alert.rule),
        user=user,
        priority=ALERT_PRIORITY.get(alert.priority, WorkOrderPriority.MEDIUM),
        alert=alert,
        prediction=prediction,
        failure_mode=failure_mode,
        evidence=evidence,
    )


def _locked(work_order: WorkOrder) -> WorkOrder:
    return WorkOrder.objects.select_for_update().get(pk=work_order.pk)


def _move(
    work_order: WorkOrder, target: Status, user: AbstractBaseUser, *, note: str = ""
) -> WorkOrder:
    current = Status(work_order.status)
    workflow.check(current, target, role_of(user), is_assignee=_is_assignee(work_order, user))
    now = timezone.now()
    work_order.status = target.value
    if target is Status.IN_PROGRESS and work_order.started_at is None:
        work_order.started_at = now
    if target is Status.DONE:
        work_order.completed_at = now
    work_order.save()
    _record(
        work_order, "status", user, at=now, from_status=current.value, to_status=target, note=note
    )
    return work_order


@transaction.atomic
def workorder_move(
    *, work_order: WorkOrder, target: str, user: AbstractBaseUser, note: str = ""
) -> WorkOrder:
    """Approve, start, pause, resume or cancel; raises TransitionRefused saying why not.

    Completing goes through `workorder_complete` (it needs the findings), scheduling through
    `workorder_schedule` (it needs a technician and a date)."""
    target_status = Status(target)
    if target_status in (Status.DONE, Status.SCHEDULED):
        raise TransitionRefused(
            "Completing needs the findings and scheduling needs a technician: use those forms."
        )
    return _move(_locked(work_order), target_status, user, note=note)


@transaction.atomic
def workorder_schedule(
    *,
    work_order: WorkOrder,
    assignee: AbstractBaseUser,
    due_at: datetime,
    user: AbstractBaseUser,
    estimated_minutes: int | None = None,
) -> WorkOrder:
    """Give an approved work order its technician and date (and the labour it should take,
    if the supervisor gives it: the backlog's hours are summed from it)."""
    if not assignee.has_perm("maintenance.execute_workorder") and not assignee.is_superuser:
        raise ValidationError({"assignee": f"{assignee} is not a technician."})
    work_order = _locked(work_order)
    workflow.check(Status(work_order.status), Status.SCHEDULED, role_of(user))
    work_order.assignee = assignee
    work_order.due_at = due_at
    if estimated_minutes is not None:
        work_order.estimated_minutes = estimated_minutes
    work_order.save(update_fields=["assignee", "due_at", "estimated_minutes"])
    estimate = f", about {estimated_minutes} min" if estimated_minutes is not None else ""
    _record(work_order, "assigned", user, at=timezone.now(), note=f"to {assignee}{estimate}")
    return _move(work_order, Status.SCHEDULED, user)


def _is_assignee(work_order: WorkOrder, user: AbstractBaseUser) -> bool:
    return work_order.assignee_id is not None and work_order.assignee_id == user.pk


def may_execute(work_order: WorkOrder, user: AbstractBaseUser) -> bool:
    """Ticking the checklist and taking parts: whoever may start or complete the work."""
    role = role_of(user)
    if role is Role.OPERATOR:
        return False
    return role is not Role.TECHNICIAN or _is_assignee(work_order, user)


def may_add_to(work_order: WorkOrder, user: AbstractBaseUser) -> bool:
    """Notes and photos: the assigned technician, supervisors and admins on open work, and
    the operator who raised a request while it waits."""
    if work_order.status in workflow.FINAL:
        return False
    role = role_of(user)
    if role in (Role.SUPERVISOR, Role.ADMIN):
        return True
    if role is Role.TECHNICIAN:
        return _is_assignee(work_order, user)
    return work_order.requested_by_id == user.pk


@transaction.atomic
def workorder_note(*, work_order: WorkOrder, user: AbstractBaseUser, note: str) -> None:
    """Add a note to the work order's history (what was seen, what is waited for)."""
    if not note.strip():
        raise ValidationError({"note": "Write the note first."})
    work_order = _locked(work_order)
    if not may_add_to(work_order, user):
        raise TransitionRefused("You may not add notes to this work order.")
    _record(work_order, "note", user, at=timezone.now(), note=note.strip())


@transaction.atomic
def photo_add(
    *, work_order: WorkOrder, upload: Any, user: AbstractBaseUser, caption: str = ""
) -> WorkOrderPhoto:
    """Keep a photo from the tablet's camera with the work order: a JPEG, PNG or WebP, kept
    upright, at most `photos.MAX_SIDE` pixels on its long side and without camera metadata."""
    work_order = _locked(work_order)
    if not may_add_to(work_order, user):
        raise TransitionRefused("You may not add photos to this work order.")
    if upload is None:
        raise ValidationError({"photo": "Take or choose a photo first."})
    if upload.size > settings.PHOTO_MAX_BYTES:
        limit = settings.PHOTO_MAX_BYTES / 1024 / 1024
        raise ValidationError({"photo": f"The photo is larger than {limit:.0f} MB."})
    try:
        kept = photos.prepare(upload.read())
    except photos.NotAPhoto as refused:
        raise ValidationError({"photo": str(refused)}) from refused
    now = timezone.now()
    photo = WorkOrderPhoto(
        work_order=work_order,
        content_type=kept.content_type,
        caption=caption.strip()[:200],
        taken_by=user,
        taken_at=now,
    )
    photo.image.save(f"{now:%Y%m%dT%H%M%S}.{kept.extension}", ContentFile(kept.data), save=False)
    # The file is written before the rows: if they cannot be written, it must not stay.
    try:
        photo.save()
        _record(work_order, "photo", user, at=now, note=photo.caption)
    except BaseException:
        photo.image.delete(save=False)
        raise
    return photo


@transaction.atomic
def checklist_tick(*, item: ChecklistItem, user: AbstractBaseUser, done: bool = True) -> None:
    """Tick (or untick) a checklist item of a work order in progress."""
    work_order = _locked(item.work_order)
    if not may_execute(work_order, user):
        raise TransitionRefused("Only the technician doing the work ticks its checklist.")
    if work_order.status != Status.IN_PROGRESS:
        raise TransitionRefused("Checklist items are ticked while the work is in progress.")
    item.done_at = timezone.now() if done else None
    item.done_by = user if done else None
    item.save(update_fields=["done_at", "done_by"])
    _record(work_order, "checklist", user, at=timezone.now(), note=f"{'✓' if done else '✗'} {item}")


@transaction.atomic
def part_use(
    *, work_order: WorkOrder, part: Part, quantity: int, user: AbstractBaseUser
) -> PartUse:
    """Take parts from stores for a work order; refused, with what is left, if stock is short.

    The stock is decremented by one conditional UPDATE, so two technicians taking the last
    bearing at once cannot both get it and stock never goes below zero.
    """
    if quantity < 1:
        raise ValidationError({"quantity": "Take at least one."})
    work_order = _locked(work_order)
    if not may_execute(work_order, user):
        raise TransitionRefused("Only the technician doing the work takes parts for it.")
    if Status(work_order.status) not in (Status.IN_PROGRESS, Status.ON_HOLD):
        raise TransitionRefused("Parts are taken for work in progress.")
    taken = Part.objects.filter(pk=part.pk, stock__gte=quantity).update(stock=F("stock") - quantity)
    if not taken:
        left = Part.objects.filter(pk=part.pk).values_list("stock", flat=True).first() or 0
        raise ValidationError(
            {"quantity": f"Only {left} {part.unit} of {part.number} in stock; {quantity} asked."}
        )
    use = PartUse.objects.create(
        work_order=work_order, part=part, quantity=quantity, used_by=user, used_at=timezone.now()
    )
    _record(work_order, "part", user, at=use.used_at, note=f"{quantity} × {part}")
    return use


@transaction.atomic
def workorder_complete(
    *,
    work_order: WorkOrder,
    user: AbstractBaseUser,
    outcome: str = "",
    problem: FailureCode | None = None,
    cause: FailureCode | None = None,
    remedy: FailureCode | None = None,
    notes: str = "",
    actual_minutes: int | None = None,
) -> WorkOrder:
    """Complete the work with its findings; the outcome teaches the health model.

    Work that came from an alert or a prediction needs an outcome: "failure found" records
    the failure (which scores the predictions before it, and confirms the alert), "fault
    found, different mode" records the failure of the mode the problem code names, "no fault
    found" refutes the alert. Every checklist item must be ticked first.
    """
    work_order = _locked(work_order)
    errors: dict[str, str] = {}
    if work_order.checklist.filter(done_at__isnull=True).exists():
        errors["checklist"] = "Tick every checklist item first (or note why in the item)."
    if outcome and outcome not in Outcome.values:
        errors["outcome"] = f"Unknown outcome {outcome!r}."
    from_detector = work_order.alert_id is not None or work_order.prediction_id is not None
    if from_detector and not outcome:
        errors["outcome"] = "Say what was found: failure, no fault, or a different fault."
    if outcome == Outcome.DIFFERENT_MODE and (problem is None or problem.failure_mode is None):
        errors["problem"] = "Give the problem code of the fault that was found."
    if (
        outcome == Outcome.FAILURE_FOUND
        and work_order.failure_mode is None
        and (problem is None or problem.failure_mode is None)
    ):
        errors["problem"] = "Give the problem code of the failure that was found."
    for name, code, kind in (("problem", problem, "problem"), ("cause", cause, "cause")):
        if code is not None and code.kind != kind:
            errors[name] = f"{code} is not a {kind} code."
    if remedy is not None and remedy.kind != "remedy":
        errors["remedy"] = f"{remedy} is not a remedy code."
    if errors:
        raise ValidationError(errors)
    work_order.outcome = outcome
    work_order.problem, work_order.cause, work_order.remedy = problem, cause, remedy
    work_order.notes = notes
    work_order.actual_minutes = actual_minutes
    work_order = _move(work_order, Status.DONE, user, note=outcome)
    _teach(work_order, user)
    return work_order


def _teach(work_order: WorkOrder, user: AbstractBaseUser) -> None:
    """Turn a found failure into a failure event of the asset (closing its run to failure)."""
    mode = None
    if work_order.outcome == Outcome.FAILURE_FOUND:
        mode = work_order.failure_mode or (work_order.problem and work_order.problem.failure_mode)
    elif work_order.outcome == Outcome.DIFFERENT_MODE:
        mode = work_order.problem.failure_mode
    if mode is None:
        return
    health_services.failure_record(
        asset=work_order.asset,
        failure_mode=mode,
        failed_at=work_order.completed_at,
        source=FailureSource.WORK_ORDER,
        note=f"WO-{work_order.pk}: {work_order.notes}"[:500],
        user=user,
    )


# --- preventive maintenance from live meters ----------------------------------------------

# Meters are read up to this long ago: state and count messages may arrive a little late.
METER_LAG = timedelta(minutes=5)


def _meter_delta(schedule: PreventiveSchedule, start: datetime, end: datetime) -> float:
    if schedule.meter == MeterKind.CALENDAR:
        return (end - start).total_seconds() / 86_400.0
    if schedule.meter == MeterKind.RUNTIME:
        before = (
            StateEvent.objects.filter(asset_id=schedule.asset_id, ts__lt=start)
            .order_by("-ts")
            .values_list("state", flat=True)
            .first()
        )
        events = StateEvent.objects.filter(
            asset_id=schedule.asset_id, ts__gte=start, ts__lt=end
        ).order_by("ts")
        seconds = meters.running_seconds(
            events.values_list("ts", "state"), start=start, end=end, state_at_start=before
        )
        return seconds / 3600.0
    made = CountEvent.objects.filter(asset_id=schedule.asset_id, ts__gte=start, ts__lt=end)
    totals = made.aggregate(good=Sum("good"), scrap=Sum("scrap"))
    return float((totals["good"] or 0) + (totals["scrap"] or 0))


@transaction.atomic
def preventive_schedule_run(*, schedule_id: int, now: datetime | None = None) -> WorkOrder | None:
    """Read a schedule's meter up to now and generate the work order of a due point within
    its lead; return it, or None. A due point gets one work order, however often this runs."""
    now = now or timezone.now()
    schedule = PreventiveSchedule.objects.select_for_update().filter(pk=schedule_id).first()
    if schedule is None or not schedule.active:
        return None
    read_to = now - METER_LAG
    since = max(schedule.meter_read_at or schedule.starts_at, schedule.starts_at)
    if read_to > since:
        schedule.meter_value += _meter_delta(schedule, since, read_to)
        schedule.meter_read_at = read_to
        schedule.save(update_fields=["meter_value", "meter_read_at"])
    generated = schedule.dues.aggregate(last=Max("point"))["last"] or 0
    point = meters.next_due_point(
        meter=schedule.meter_value,
        interval=schedule.interval,
        lead=schedule.lead,
        generated=generated,
    )
    if point is None:
        return None
    unit = {"calendar": "days", "runtime": "running hours", "cycles": "cycles"}[schedule.meter]
    due_meter = point * schedule.interval
    work_order = workorder_create(
        asset=schedule.asset,
        kind=WorkOrderKind.PREVENTIVE,
        title=schedule.title,
        user=None,
        priority=schedule.priority,
        description=(
            f"Due at {due_meter:,.0f} {unit} (now {schedule.meter_value:,.1f}), "
            f"every {schedule.interval:,.0f} {unit}."
        ),
        due_at=_due_moment(schedule, due_meter, now),
        estimated_minutes=schedule.estimated_minutes,
        checklist=schedule.checklist.splitlines(),
        evidence={"schedule_id": schedule.pk, "due_point": point, "due_meter": due_meter},
    )
    PreventiveDue.objects.create(
        schedule=schedule, point=point, due_meter=due_meter, work_order=work_order
    )
    return work_order


def _due_moment(schedule: PreventiveSchedule, due_meter: float, now: datetime) -> datetime:
    """When the due point will be reached: exact for calendar days, else at the rate the
    meter has run since the schedule started."""
    if schedule.meter == MeterKind.CALENDAR:
        return schedule.starts_at + timedelta(days=due_meter)
    read_at = schedule.meter_read_at or now
    elapsed = (read_at - schedule.starts_at).total_seconds()
    if schedule.meter_value <= 0 or elapsed <= 0:
        return now
    rate = schedule.meter_value / elapsed
    return read_at + timedelta(seconds=max(due_meter - schedule.meter_value, 0.0) / rate)


def preventive_run_all(*, now: datetime | None = None) -> int:
    """Run every active schedule; return how many work orders were generated."""
    made = 0
    for schedule_id in PreventiveSchedule.objects.filter(active=True).values_list("pk", flat=True):
        made += preventive_schedule_run(schedule_id=schedule_id, now=now) is not None
    return made


# --- the demo plant's stores and preventive plan ------------------------------------------

DEMO_PARTS = [
    ("brg-6205-2rs", "Deep-groove ball bearing 6205-2RS", "pcs", 8, 2, "Stores A-03"),
    ("brg-6308-zz", "Deep-groove ball bearing 6308-ZZ", "pcs", 4, 1, "Stores A-03"),
    ("belt-spa-1250", "V-belt SPA 1250", "pcs", 6, 2, "Stores B-11"),
    ("seal-kit-hp", "Hydraulic pump shaft seal kit", "kit", 3, 1, "Stores C-02"),
    ("grease-ep2", "Grease EP2, 400 g cartridge", "pcs", 24, 6, "Lube room"),
    ("filter-hyd-10", "Hydraulic return filter 10 µm", "pcs", 5, 2, "Stores C-04"),
]

# (asset type, title, meter, interval, lead, checklist, minutes)
DEMO_SCHEDULES = [
    (
        "conveyor",
        "Lubricate drive and idler bearings",
        MeterKind.RUNTIME,
        250.0,
        25.0,
        "Lock out and tag out\nGrease drive-end and idler bearings (2 shots each)\n"
        "Check belt tracking and tension\nTest run and listen for noise",
        30,
    ),
    (
        "press",
        "Inspect die clamps and gib clearance",
        MeterKind.CYCLES,
        20_000.0,
        2_000.0,
        "Lock out and tag out\nCheck die clamp torque\nMeasure gib clearance\n"
        "Check the lube system level",
        60,
    ),
    (
        "pump",
        "Hydraulic pump: filter and seal check",
        MeterKind.CALENDAR,
        30.0,
        3.0,
        "Replace the return filter\nInspect the shaft seal for weeping\nRecord the case drain",
        45,
    ),
]


@transaction.atomic
def maintenance_demo_seed(*, now: datetime | None = None) -> tuple[int, int]:
    """Create (once) the demo's spare parts and its preventive schedules; return the counts.

    The calendar schedules started 28 days ago, so the first preventive work is generated
    as soon as the demo runs; the meter schedules count from the demo's own telemetry."""
    now = now or timezone.now()
    for number, name, unit, stock, reorder_at, location in DEMO_PARTS:
        Part.objects.get_or_create(
            number=number,
            defaults={
                "name": name,
                "unit": unit,
                "stock": stock,
                "reorder_at": reorder_at,
                "location": location,
            },
        )
    for asset_type, title, meter, interval, lead, checklist, minutes in DEMO_SCHEDULES:
        for asset in Asset.objects.filter(asset_type=asset_type):
            PreventiveSchedule.objects.get_or_create(
                asset=asset,
                title=title,
                defaults={
                    "meter": meter,
                    "interval": interval,
                    "lead": lead,
                    "checklist": checklist,
                    "estimated_minutes": minutes,
                    "starts_at": now - timedelta(days=28) if meter == MeterKind.CALENDAR else now,
                },
            )
    return Part.objects.count(), PreventiveSchedule.objects.count()
