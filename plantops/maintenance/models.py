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

    kind = models.CharField(max_length=16, choices=CodeKind.choices)
    code = models.SlugField(max_length=32)
    label = models.CharField(max_length=200)
    failure_mode = models.ForeignKey(
        FailureMode,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Problem codes: the failure mode the health model predicts, if any.",
    )

    class Meta:
        ordering = ["kind", "label"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "code"], name="failure_code_unique_per_kind")
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.label}"


class Part(models.Model):
    """A spare part kept in stores; work orders take from its stock, never below zero."""

    number = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    unit = models.CharField(max_length=16, default="pcs")
    stock = models.PositiveIntegerField(default=0)
    reorder_at = models.PositiveIntegerField(default=0, help_text="Reorder at or below this.")
    location = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["number"]
        constraints = [
            models.CheckConstraint(condition=models.Q(stock__gte=0), name="part_stock_not_negative")
        ]

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
    kind = models.CharField(max_length=16, choices=WorkOrderKind.choices)
    priority = models.CharField(
        max_length=16, choices=WorkOrderPriority.choices, default=WorkOrderPriority.MEDIUM
    )
    status = models.CharField(max_length=16, choices=[(s.value, STATUS_LABELS[s]) for s in Status])
    asset = models.ForeignKey(Asset, on_delete=models.PROTECT, related_name="work_orders")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_work_orders",
    )
    due_at = models.DateTimeField(null=True, blank=True)
    estimated_minutes = models.PositiveIntegerField(null=True, blank=True)
    actual_minutes = models.PositiveIntegerField(null=True, blank=True)
    problem = models.ForeignKey(
        FailureCode, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    cause = models.ForeignKey(
        FailureCode, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    remedy = models.ForeignKey(
        FailureCode, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    outcome = models.CharField(max_length=16, choices=Outcome.choices, blank=True)
    notes = models.TextField(blank=True, help_text="The technician's closing note.")
    # Where the work came from: the evidence is copied, so it stays as it was seen.
    alert = models.ForeignKey(
        Alert, on_delete=models.SET_NULL, null=True, blank=True, related_name="work_orders"
    )
    prediction = models.ForeignKey(
        Prediction, on_delete=models.SET_NULL, null=True, blank=True, related_name="work_orders"
    )
    failure_mode = models.ForeignKey(
        FailureMode,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The failure mode the work is about (predicted, or found).",
    )
    evidence = models.JSONField(default=dict, blank=True)
    downtime = models.ForeignKey(
        StateEvent,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="work_orders",
        help_text="The stop of the asset this work is about: the state event it began with.",
    )
    created_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

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

    def __str__(self) -> str:
        return f"WO-{self.pk} {self.title}"


class ChecklistItem(models.Model):
    work_order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="checklist")
    position = models.PositiveIntegerField(default=0)
    text = models.CharField(max_length=300)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["work_order", "position"]

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

    def __str__(self) -> str:
        return f"WO-{self.work_order_id} photo {self.pk}"


class PartUse(models.Model):
    work_order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="parts_used")
    part = models.ForeignKey(Part, on_delete=models.PROTECT, related_name="uses")
    quantity = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    used_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    used_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.quantity} × {self.part.number}"


class WorkOrderEvent(models.Model):
    """Everything that happened to a work order: who, when, what."""

    work_order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    kind = models.CharField(max_length=32)
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16, blank=True)
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["work_order", "at", "pk"]

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

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="pm_schedules")
    title = models.CharField(max_length=200)
    meter = models.CharField(max_length=16, choices=MeterKind.choices)
    interval = models.FloatField(
        validators=[MinValueValidator(0.001)], help_text="Days, running hours or cycles."
    )
    lead = models.FloatField(
        default=0.0, help_text="Generate the work order this far ahead, in the same unit."
    )
    checklist = models.TextField(blank=True, help_text="One item per line.")
    estimated_minutes = models.PositiveIntegerField(null=True, blank=True)
    priority = models.CharField(
        max_length=16, choices=WorkOrderPriority.choices, default=WorkOrderPriority.MEDIUM
    )
    starts_at = models.DateTimeField(help_text="The meter counts from here.")
    active = models.BooleanField(default=True)
    # Where the meter stood when last read, so that a run reads only the events since.
    meter_value = models.FloatField(default=0.0)
    meter_read_at = models.DateTimeField(null=True, blank=True)
    # The earliest state or count stored after the meter had been read past it (a gateway's
    # backlog): the next run counts the meter again from before it.
    recount_from = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["asset", "title"]

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

    def __str__(self) -> str:
        return f"{self.schedule} #{self.point}"
