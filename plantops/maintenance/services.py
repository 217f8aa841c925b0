"""Writes for maintenance: work orders through their flow, parts from stock, the outcome that
teaches the health model. Every change is recorded as a `WorkOrderEvent` with who and when;
who may make it is decided by `workflow`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from plantops.alerts.models import Alert, RuleSource
from plantops.assets.models import Asset
from plantops.assets.scope import require_line
from plantops.core.refusals import Refused, require_permission
from plantops.health.failures import failure_record
from plantops.health.models import FailureMode, FailureSource, Prediction
from plantops.health.predictions import prediction_evidence
from plantops.maintenance import photos, workflow
from plantops.maintenance.models import (
    ChecklistItem,
    CodeKind,
    FailureCode,
    Outcome,
    Part,
    PartUse,
    WorkOrder,
    WorkOrderEvent,
    WorkOrderKind,
    WorkOrderPhoto,
    WorkOrderPriority,
)
from plantops.maintenance.selectors import current_stop
from plantops.maintenance.workflow import (
    Role,
    Status,
    is_assignee,
    may_add_to,
    may_execute,
    role_of,
)
from plantops.oee.models import StateEvent

ALERT_PRIORITY = {
    "critical": WorkOrderPriority.URGENT,
    "high": WorkOrderPriority.HIGH,
    "medium": WorkOrderPriority.MEDIUM,
    "low": WorkOrderPriority.LOW,
}


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
    the downtime it ended are read together. A user must hold a role that reports or
    creates work (`user` None is the plant itself: preventive schedules)."""
    if user is not None:
        require_permission(
            user, "maintenance.add_workorder", _("Your role may not create work orders.")
        )
    if not title.strip():
        raise ValidationError({"title": _("Say in a few words what is wrong or what to do.")})
    if kind not in WorkOrderKind.values:
        raise ValidationError({"kind": _("Unknown kind %(kind)r.") % {"kind": kind}})
    if priority not in WorkOrderPriority.values:
        raise ValidationError(
            {"priority": _("Unknown priority %(priority)r.") % {"priority": priority}}
        )
    if problem is not None and problem.kind != CodeKind.PROBLEM:
        raise ValidationError({"problem": _("%(code)s is not a problem code.") % {"code": problem}})
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
        # A prediction's work is a report anyone who reports may make, on any line.
        return _alert_work_order(alert, user)
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
        evidence=prediction_evidence(prediction),
    )


@transaction.atomic
def workorder_from_alert(*, alert: Alert, user: AbstractBaseUser) -> WorkOrder:
    """One tap from an alert: a work order on its asset, prefilled with its evidence (signals,
    remaining-life interval, the alert's history). A second tap opens the same work order,
    also when two people tap at once (the alert's row is locked while one is made). An
    operator does so on her own lines only (the outcome later scores the alert's rule)."""
    require_line(user, alert.asset.line_id, what=_("this alert"))
    return _alert_work_order(alert, user)


def _alert_work_order(alert: Alert, user: AbstractBaseUser) -> WorkOrder:
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
            evidence = prediction_evidence(prediction) | evidence
    if alert.signal is not None and "signal" not in evidence:
        evidence["signal"] = {
            "name": alert.signal.name,
            "unit": alert.signal.unit,
            "value": alert.value,
            "limit": alert.rule.limit,
        }
    history = list(alert.events.order_by("-id").values_list("kind", "at", "note", "delay_s")[:20])
    evidence["alert_history"] = [
        {"kind": kind, "at": at.isoformat(), "note": note, "delay_s": delay_s}
        for kind, at, note, delay_s in history
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
    workflow.check(current, target, role_of(user), is_assignee=is_assignee(work_order, user))
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
    """Approve, start, pause, resume or cancel; raises Refused saying why not.

    Completing goes through `workorder_complete` (it needs the findings), scheduling through
    `workorder_schedule` (it needs a technician and a date)."""
    target_status = Status(target)
    if target_status in (Status.DONE, Status.SCHEDULED):
        raise Refused(
            _("Completing needs the findings and scheduling needs a technician: use those forms.")
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
    note: str = "",
) -> WorkOrder:
    """Give an approved work order its technician and date (and the labour it should take,
    if the supervisor gives it: the backlog's hours are summed from it). Who may schedule is
    checked before what was chosen, so a role that may not is told so first."""
    work_order = _locked(work_order)
    workflow.check(Status(work_order.status), Status.SCHEDULED, role_of(user))
    if not assignee.has_perm("maintenance.execute_workorder") and not assignee.is_superuser:
        raise ValidationError({"assignee": _("%(name)s is not a technician.") % {"name": assignee}})
    work_order.assignee = assignee
    work_order.due_at = due_at
    if estimated_minutes is not None:
        work_order.estimated_minutes = estimated_minutes
    work_order.save(update_fields=["assignee", "due_at", "estimated_minutes"])
    estimate = f", about {estimated_minutes} min" if estimated_minutes is not None else ""
    _record(work_order, "assigned", user, at=timezone.now(), note=f"to {assignee}{estimate}")
    return _move(work_order, Status.SCHEDULED, user, note=note)


@transaction.atomic
def workorder_note(*, work_order: WorkOrder, user: AbstractBaseUser, note: str) -> None:
    """Add a note to the work order's history (what was seen, what is waited for)."""
    if not note.strip():
        raise ValidationError({"note": _("Write the note first.")})
    work_order = _locked(work_order)
    if not may_add_to(work_order, user):
        raise Refused(_("You may not add notes to this work order."))
    _record(work_order, "note", user, at=timezone.now(), note=note.strip())


@transaction.atomic
def photo_add(
    *, work_order: WorkOrder, upload: Any, user: AbstractBaseUser, caption: str = ""
) -> WorkOrderPhoto:
    """Keep a photo from the tablet's camera with the work order: a JPEG, PNG or WebP, kept
    upright, at most `photos.MAX_SIDE` pixels on its long side and without camera metadata."""
    work_order = _locked(work_order)
    if not may_add_to(work_order, user):
        raise Refused(_("You may not add photos to this work order."))
    if upload is None:
        raise ValidationError({"photo": _("Take or choose a photo first.")})
    if upload.size > settings.PHOTO_MAX_BYTES:
        limit = settings.PHOTO_MAX_BYTES / 1024 / 1024
        raise ValidationError(
            {"photo": _("The photo is larger than %(limit)s MB.") % {"limit": f"{limit:.0f}"}}
        )
    try:
        kept = photos.prepare(upload.read())
    except photos.NotAPhoto as refused:
        raise ValidationError({"photo": _(refused.message) % refused.params}) from refused
    except photos.PhotosBusy as busy:
        raise photos.PhotosBusy(_(photos.BUSY)) from busy
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
        raise Refused(_("Only the technician doing the work ticks its checklist."))
    if work_order.status != Status.IN_PROGRESS:
        raise Refused(_("Checklist items are ticked while the work is in progress."))
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
        raise ValidationError({"quantity": _("Take at least one.")})
    work_order = _locked(work_order)
    if not may_execute(work_order, user):
        raise Refused(_("Only the technician doing the work takes parts for it."))
    if Status(work_order.status) not in (Status.IN_PROGRESS, Status.ON_HOLD):
        raise Refused(_("Parts are taken for work in progress."))
    taken = Part.objects.filter(pk=part.pk, stock__gte=quantity).update(stock=F("stock") - quantity)
    if not taken:
        left = Part.objects.filter(pk=part.pk).values_list("stock", flat=True).first() or 0
        raise ValidationError(
            {
                "quantity": _("Only %(left)s %(unit)s of %(part)s in stock; %(asked)s asked.")
                % {"left": left, "unit": part.unit, "part": part.number, "asked": quantity}
            }
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
    parts: Sequence[tuple[Part, int]] = (),
) -> WorkOrder:
    """Complete the work with its findings; the outcome teaches the health model.

    Work that came from an alert or a prediction needs an outcome: "failure found" records
    the failure (which scores the predictions before it, and confirms the alert), "fault
    found, different mode" records the failure of the mode the problem code names, "no fault
    found" refutes the alert. Every checklist item must be ticked first. `parts` (part,
    quantity) are taken from stock as `part_use` takes them, in the same transaction: a
    refused completion takes none.
    """
    work_order = _locked(work_order)
    # Whether this user may complete it at all comes before what they found.
    workflow.check(
        Status(work_order.status),
        Status.DONE,
        role_of(user),
        is_assignee=is_assignee(work_order, user),
    )
    errors: dict[str, str] = {}
    if work_order.checklist.filter(done_at__isnull=True).exists():
        errors["checklist"] = _("Tick every checklist item first (or note why in the item).")
    if outcome and outcome not in Outcome.values:
        errors["outcome"] = _("Unknown outcome %(outcome)r.") % {"outcome": outcome}
    from_detector = work_order.alert_id is not None or work_order.prediction_id is not None
    if from_detector and not outcome:
        errors["outcome"] = _("Say what was found: failure, no fault, or a different fault.")
    if outcome == Outcome.DIFFERENT_MODE and (problem is None or problem.failure_mode is None):
        errors["problem"] = _("Give the problem code of the fault that was found.")
    if (
        outcome == Outcome.FAILURE_FOUND
        and work_order.failure_mode is None
        and (problem is None or problem.failure_mode is None)
    ):
        errors["problem"] = _("Give the problem code of the failure that was found.")
    if problem is not None and problem.kind != "problem":
        errors["problem"] = _("%(code)s is not a problem code.") % {"code": problem}
    if cause is not None and cause.kind != "cause":
        errors["cause"] = _("%(code)s is not a cause code.") % {"code": cause}
    if remedy is not None and remedy.kind != "remedy":
        errors["remedy"] = _("%(code)s is not a remedy code.") % {"code": remedy}
    if errors:
        raise ValidationError(errors)
    for part, quantity in parts:
        try:
            part_use(work_order=work_order, part=part, quantity=quantity, user=user)
        except ValidationError as short:
            raise ValidationError({"parts": short.messages}) from short
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
    failure_record(
        asset=work_order.asset,
        failure_mode=mode,
        failed_at=work_order.completed_at,
        source=FailureSource.WORK_ORDER,
        note=f"WO-{work_order.pk}: {work_order.notes}"[:500],
        user=user,
    )
