"""Work orders, the failure taxonomy they are coded with, and the parts they use.

The status flow is `workflow.py` (pure); every change of a work order goes through
`services.py`, which records it as a `WorkOrderEvent` with who and when.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from plantops.alerts.models import Alert
from plantops.assets.models import Asset
from plantops.health.models import FailureMode, Prediction
from plantops.maintenance.workflow import Status
from plantops.oee.models import StateEvent


class CodeKind(models.TextChoices):
    PROBLEM = "problem", _("Problem (what was seen)")
    CAUSE = "cause", _("Cause (why it happened)")
    REMEDY = "remedy", _("Remedy (what was done)")


class FailureCode(models.Model):
    """One code of the failure taxonomy, in the style of ISO 14224: failure mode (problem),
    failure cause and maintenance activity (remedy)."""

    kind = models.CharField(_("kind"), max_length=16, choices=CodeKind.choices)
    code = models.SlugField(_("code"), max_length=32)
    label = models.CharField(_("label"), max_length=200)
    failure_mode = models.ForeignKey(
        FailureMode,
        verbose_name=_("failure mode"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Problem codes: the failure mode the health model predicts, if any."),
    )

    class Meta:
        ordering = ["kind", "label"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "code"], name="failure_code_unique_per_kind")
        ]
        verbose_name = _("failure code")
        verbose_name_plural = _("failure codes")

    def __str__(self) -> str:
        return f"{self.code} {self.label}"


class Part(models.Model):
    """A spare part kept in stores; work orders take from its stock, never below zero."""

    number = models.SlugField(_("number"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    unit = models.CharField(_("unit"), max_length=16, default="pcs")
    stock = models.PositiveIntegerField(_("stock"), default=0)
    reorder_at = models.PositiveIntegerField(
        _("reorder at"), default=0, help_text=_("Reorder at or below this.")
    )
    location = models.CharField(_("location"), max_length=100, blank=True)

    class Meta:
        ordering = ["number"]
        constraints = [
            models.CheckConstraint(condition=models.Q(stock__gte=0), name="part_stock_not_negative")
        ]
        verbose_name = _("part")
        verbose_name_plural = _("parts")

    def __str__(self) -> str:
        return f"{self.number} {self.name}"


class WorkOrderKind(models.TextChoices):
    CORRECTIVE = "corrective", pgettext_lazy("work order kind", "Corrective")
    PREVENTIVE = "preventive", pgettext_lazy("work order kind", "Preventive")
    PREDICTIVE = "predictive", pgettext_lazy("work order kind", "Predictive")
    REQUEST = "request", pgettext_lazy("work order kind", "Request")


class WorkOrderPriority(models.TextChoices):
    URGENT = "urgent", pgettext_lazy("work order priority", "Urgent")
    HIGH = "high", pgettext_lazy("work order priority", "High")
    MEDIUM = "medium", pgettext_lazy("work order priority", "Medium")
    LOW = "low", pgettext_lazy("work order priority", "Low")


class Outcome(models.TextChoices):
    """What the technician found, which scores the alert and the prediction behind the work."""

    FAILURE_FOUND = "failure_found", _("Failure found")
    NO_FAULT_FOUND = "no_fault_found", _("No fault found")
    DIFFERENT_MODE = "different_mode", _("Fault found, different mode")


# A status as the screens show it, in lower case ("in progress"); the work list shouts it.
STATUS_LABELS = {
    Status.REQUESTED: pgettext_lazy("work order status", "requested"),
    Status.APPROVED: pgettext_lazy("work order status", "approved"),
    Status.SCHEDULED: pgettext_lazy("work order status", "scheduled"),
    Status.IN_PROGRESS: pgettext_lazy("work order status", "in progress"),
    Status.ON_HOLD: pgettext_lazy("work order status", "on hold"),
    Status.DONE: pgettext_lazy("work order status", "done"),
    Status.CANCELLED: pgettext_lazy("work order status", "cancelled"),
}


class WorkOrder(models.Model):
    kind = models.CharField(_("kind"), max_length=16, choices=WorkOrderKind.choices)
    priority = models.CharField(
        _("priority"),
        max_length=16,
        choices=WorkOrderPriority.choices,
        default=WorkOrderPriority.MEDIUM,
    )
    status = models.CharField(
        _("status"), max_length=16, choices=[(s.value, STATUS_LABELS[s]) for s in Status]
    )
    asset = models.ForeignKey(
        Asset, verbose_name=_("asset"), on_delete=models.PROTECT, related_name="work_orders"
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_work_orders",
    )
    due_at = models.DateTimeField(_("due at"), null=True, blank=True)
    estimated_minutes = models.PositiveIntegerField(_("estimated minutes"), null=True, blank=True)
    actual_minutes = models.PositiveIntegerField(_("actual minutes"), null=True, blank=True)
    problem = models.ForeignKey(
        FailureCode,
        verbose_name=_("problem"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    cause = models.ForeignKey(
        FailureCode,
        verbose_name=_("cause"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    remedy = models.ForeignKey(
        FailureCode,
        verbose_name=_("remedy"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices, blank=True)
    notes = models.TextField(_("notes"), blank=True, help_text=_("The technician's closing note."))
    # Where the work came from: the evidence is copied, so it stays as it was seen.
    alert = models.ForeignKey(
        Alert,
        verbose_name=_("alert"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="work_orders",
    )
    prediction = models.ForeignKey(
        Prediction,
        verbose_name=_("prediction"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="work_orders",
    )
    failure_mode = models.ForeignKey(
        FailureMode,
        verbose_name=_("failure mode"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The failure mode the work is about (predicted, or found)."),
    )
    evidence = models.JSONField(_("evidence"), default=dict, blank=True)
    downtime = models.ForeignKey(
        StateEvent,
        verbose_name=_("downtime"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="work_orders",
        help_text=_("The stop of the asset this work is about: the state event it began with."),
    )
    created_at = models.DateTimeField(_("created at"))
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "due_at"], name="work_order_status_due"),
            models.Index(fields=["asset", "created_at"], name="work_order_asset_created"),
        ]
        permissions = [
            ("execute_workorder", "Start, pause and complete assigned work orders"),
            ("supervise_workorder", "Approve, schedule, assign and cancel work orders"),
        ]
        verbose_name = _("work order")
        verbose_name_plural = _("work orders")

    def __str__(self) -> str:
        return f"WO-{self.pk} {self.title}"


class ChecklistItem(models.Model):
    work_order = models.ForeignKey(
        WorkOrder, verbose_name=_("work order"), on_delete=models.CASCADE, related_name="checklist"
    )
    position = models.PositiveIntegerField(_("position"), default=0)
    text = models.CharField(_("text"), max_length=300)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("done by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["work_order", "position"]
        verbose_name = _("checklist item")
        verbose_name_plural = _("checklist items")

    def __str__(self) -> str:
        return self.text


def photo_path(photo: WorkOrderPhoto, filename: str) -> str:
    """Photos are filed by work order; the name is the upload's own, made safe by storage."""
    return f"work-orders/{photo.work_order_id}/{filename}"


class WorkOrderPhoto(models.Model):
    """A photo taken on the tablet: of the fault as found, or of the work as left."""

    work_order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="photos")
    image = models.FileField(upload_to=photo_path)
    content_type = models.CharField(max_length=32)
    caption = models.CharField(max_length=200, blank=True)
    taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    taken_at = models.DateTimeField()

    class Meta:
        ordering = ["work_order", "taken_at", "pk"]
        verbose_name = _("work order photo")
        verbose_name_plural = _("work order photos")

    def __str__(self) -> str:
        return f"WO-{self.work_order_id} photo {self.pk}"


class PartUse(models.Model):
    work_order = models.ForeignKey(
        WorkOrder, verbose_name=_("work order"), on_delete=models.CASCADE, related_name="parts_used"
    )
    part = models.ForeignKey(
        Part, verbose_name=_("part"), on_delete=models.PROTECT, related_name="uses"
    )
    quantity = models.PositiveIntegerField(_("quantity"), validators=[MinValueValidator(1)])
    used_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("used by"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    used_at = models.DateTimeField(_("used at"))

    class Meta:
        verbose_name = _("part use")
        verbose_name_plural = _("part uses")

    def __str__(self) -> str:
        return f"{self.quantity} × {self.part.number}"


class WorkOrderEvent(models.Model):
    """Everything that happened to a work order: who, when, what."""

    work_order = models.ForeignKey(
        WorkOrder, verbose_name=_("work order"), on_delete=models.CASCADE, related_name="events"
    )
    at = models.DateTimeField(_("at"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    kind = models.CharField(_("kind"), max_length=32)
    from_status = models.CharField(_("from status"), max_length=16, blank=True)
    to_status = models.CharField(_("to status"), max_length=16, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)

    class Meta:
        ordering = ["work_order", "at", "pk"]
        verbose_name = _("work order event")
        verbose_name_plural = _("work order events")

    def __str__(self) -> str:
        return f"WO-{self.work_order_id} {self.kind} at {self.at.isoformat()}"


class MeterKind(models.TextChoices):
    CALENDAR = "calendar", _("Calendar days")
    RUNTIME = "runtime", _("Running hours")
    CYCLES = "cycles", _("Parts made (cycles)")


class PreventiveSchedule(models.Model):
    """Work that falls due every so many days, running hours or cycles of an asset.

    Running hours and cycles are read from the asset's own state and count messages since
    `starts_at`; a work order is generated `lead` ahead of each due point, once per point.
    """

    asset = models.ForeignKey(
        Asset, verbose_name=_("asset"), on_delete=models.CASCADE, related_name="pm_schedules"
    )
    title = models.CharField(_("title"), max_length=200)
    meter = models.CharField(_("meter"), max_length=16, choices=MeterKind.choices)
    interval = models.FloatField(
        _("interval"),
        validators=[MinValueValidator(0.001)],
        help_text=_("Days, running hours or cycles."),
    )
    lead = models.FloatField(
        _("lead"),
        default=0.0,
        help_text=_("Generate the work order this far ahead, in the same unit."),
    )
    checklist = models.TextField(_("checklist"), blank=True, help_text=_("One item per line."))
    estimated_minutes = models.PositiveIntegerField(_("estimated minutes"), null=True, blank=True)
    priority = models.CharField(
        _("priority"),
        max_length=16,
        choices=WorkOrderPriority.choices,
        default=WorkOrderPriority.MEDIUM,
    )
    starts_at = models.DateTimeField(_("starts at"), help_text=_("The meter counts from here."))
    active = models.BooleanField(_("active"), default=True)
    # Where the meter stood when last read, so that a run reads only the events since.
    meter_value = models.FloatField(_("meter value"), default=0.0)
    meter_read_at = models.DateTimeField(_("meter read at"), null=True, blank=True)
    # The earliest state or count stored after the meter had been read past it (a gateway's
    # backlog): the next run counts the meter again from before it.
    recount_from = models.DateTimeField(_("recount from"), null=True, blank=True)

    class Meta:
        ordering = ["asset", "title"]
        verbose_name = _("preventive schedule")
        verbose_name_plural = _("preventive schedules")

    def __str__(self) -> str:
        return f"{self.title} every {self.interval:g} {self.get_meter_display().lower()}"


class PreventiveDue(models.Model):
    """A due point of a schedule that has been given its work order: never twice."""

    schedule = models.ForeignKey(PreventiveSchedule, on_delete=models.CASCADE, related_name="dues")
    point = models.PositiveIntegerField()
    due_meter = models.FloatField()
    work_order = models.OneToOneField(WorkOrder, on_delete=models.CASCADE, related_name="pm_due")
    # When the meter came within the lead of the point, by the events' own times, and what it
    # had counted before that moment: where a recount may start. Empty once a late event
    # before it has made them wrong.
    counted_to = models.DateTimeField(null=True, blank=True)
    counted = models.FloatField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["schedule", "point"], name="pm_due_point_once")
        ]
        verbose_name = _("preventive due")
        verbose_name_plural = _("preventive dues")

    def __str__(self) -> str:
        return f"{self.schedule} #{self.point}"
