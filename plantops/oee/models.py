from __future__ import annotations

from django.conf import settings
from django.db import models

from plantops.assets import states
from plantops.assets.models import Asset, Product


class StateEvent(models.Model):
    """A machine state change as the machine reported it (`…/state` on MQTT)."""

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="state_events")
    ts = models.DateTimeField()
    state = models.CharField(max_length=32, choices=states.CHOICES)
    reason = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["asset", "ts"]
        constraints = [models.UniqueConstraint(fields=["asset", "ts"], name="state_event_once")]

    def __str__(self) -> str:
        return f"{self.asset_id} {self.state} at {self.ts.isoformat()}"


class CountEvent(models.Model):
    """Parts made since the previous count message (`…/count` on MQTT)."""

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="count_events")
    ts = models.DateTimeField()
    good = models.PositiveIntegerField()
    scrap = models.PositiveIntegerField()
    # The asset's current product when the count was stored: which ideal cycle time applies.
    product = models.ForeignKey(
        Product, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["asset", "ts"]
        constraints = [models.UniqueConstraint(fields=["asset", "ts"], name="count_event_once")]

    def __str__(self) -> str:
        return f"{self.asset_id} +{self.good}/{self.scrap} at {self.ts.isoformat()}"


class StopCategory(models.TextChoices):
    EQUIPMENT = "equipment", "Equipment failure"
    MATERIAL = "material", "Material (starved or blocked)"
    QUALITY = "quality", "Quality"
    PEOPLE = "people", "People"
    OTHER = "other", "Other"


class StopReason(models.Model):
    """A downtime reason code, the words operators pick for a stop the machine did not explain."""

    code = models.SlugField(max_length=64, unique=True)
    label = models.CharField(max_length=100)
    category = models.CharField(max_length=16, choices=StopCategory.choices)
    active = models.BooleanField(default=True, help_text="Offered on the tablets.")

    class Meta:
        ordering = ["category", "label"]

    def __str__(self) -> str:
        return self.label


class StopReasonEntry(models.Model):
    """Who gave a stop its reason, and when: the machine's own reason stays on the event."""

    event = models.OneToOneField(StateEvent, on_delete=models.CASCADE, related_name="entry")
    reason = models.ForeignKey(StopReason, on_delete=models.PROTECT, related_name="+")
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    entered_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.reason} for {self.event}"


class ScrapEntry(models.Model):
    """Parts an operator found to be scrap among those the machine counted good."""

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="scrap_entries")
    ts = models.DateTimeField(help_text="When the parts were made (the count they belong to).")
    quantity = models.PositiveIntegerField()
    reason = models.CharField(max_length=100, blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    entered_at = models.DateTimeField()

    class Meta:
        ordering = ["asset", "ts"]
        verbose_name_plural = "scrap entries"

    def __str__(self) -> str:
        return f"{self.quantity} scrap on {self.asset_id} at {self.ts.isoformat()}"


class OeeHour(models.Model):
    """The OEE totals of one asset over one closed UTC hour, so long ranges read few rows.

    A snapshot of `calculation.oee_of` over the hour; deleted when a late state or count lands
    in it and made again when next read or by the beat.
    """

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="+")
    hour = models.DateTimeField()
    planned_s = models.FloatField()
    run_s = models.FloatField()
    ideal_run_s = models.FloatField()
    ideal_known = models.BooleanField()
    total_count = models.PositiveIntegerField()
    good_count = models.PositiveIntegerField()
    breakdowns = models.PositiveIntegerField(default=0, help_text="Breakdowns begun in the hour.")
    breakdowns_s = models.FloatField()
    changeover_s = models.FloatField()
    small_stops_s = models.FloatField()
    startup_rejects = models.PositiveIntegerField()
    production_rejects = models.PositiveIntegerField()
    no_data_s = models.FloatField(default=0.0, help_text="Planned time with no state known.")
    downtime_by_reason = models.JSONField(default=dict)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["asset", "hour"], name="oee_hour_once")]

    def __str__(self) -> str:
        return f"{self.asset_id} {self.hour.isoformat()}"
