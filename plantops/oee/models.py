from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from plantops.assets.models import STATE_CHOICES, Asset, Product


class StateEvent(models.Model):
    """A machine state change as the machine reported it (`…/state` on MQTT)."""

    asset = models.ForeignKey(
        Asset, verbose_name=_("asset"), on_delete=models.CASCADE, related_name="state_events"
    )
    ts = models.DateTimeField(_("ts"))
    state = models.CharField(_("state"), max_length=32, choices=STATE_CHOICES)
    reason = models.CharField(_("reason"), max_length=64, blank=True)

    class Meta:
        ordering = ["asset", "ts"]
        constraints = [models.UniqueConstraint(fields=["asset", "ts"], name="state_event_once")]
        verbose_name = _("state event")
        verbose_name_plural = _("state events")

    def __str__(self) -> str:
        return f"{self.asset_id} {self.state} at {self.ts.isoformat()}"


class CountEvent(models.Model):
    """Parts made since the previous count message (`…/count` on MQTT)."""

    asset = models.ForeignKey(
        Asset, verbose_name=_("asset"), on_delete=models.CASCADE, related_name="count_events"
    )
    ts = models.DateTimeField(_("ts"))
    good = models.PositiveIntegerField(_("good"))
    scrap = models.PositiveIntegerField(_("scrap"))
    # The asset's current product when the count was stored: which ideal cycle time applies.
    product = models.ForeignKey(
        Product,
        verbose_name=_("product"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["asset", "ts"]
        constraints = [models.UniqueConstraint(fields=["asset", "ts"], name="count_event_once")]
        verbose_name = _("count event")
        verbose_name_plural = _("count events")

    def __str__(self) -> str:
        return f"{self.asset_id} +{self.good}/{self.scrap} at {self.ts.isoformat()}"


class StopCategory(models.TextChoices):
    EQUIPMENT = "equipment", _("Equipment failure")
    MATERIAL = "material", _("Material (starved or blocked)")
    QUALITY = "quality", _("Quality")
    PEOPLE = "people", _("People")
    OTHER = "other", _("Other")


class StopReason(models.Model):
    """A downtime reason code, the words operators pick for a stop the machine did not explain."""

    code = models.SlugField(_("code"), max_length=64, unique=True)
    label = models.CharField(_("label"), max_length=100)
    category = models.CharField(_("category"), max_length=16, choices=StopCategory.choices)
    active = models.BooleanField(_("active"), default=True, help_text=_("Offered on the tablets."))

    class Meta:
        ordering = ["category", "label"]
        verbose_name = _("stop reason")
        verbose_name_plural = _("stop reasons")

    def __str__(self) -> str:
        return self.label


class StopReasonEntry(models.Model):
    """Who gave a stop its reason, and when: the machine's own reason stays on the event."""

    event = models.OneToOneField(
        StateEvent, verbose_name=_("event"), on_delete=models.CASCADE, related_name="entry"
    )
    reason = models.ForeignKey(
        StopReason, verbose_name=_("reason"), on_delete=models.PROTECT, related_name="+"
    )
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("entered by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    entered_at = models.DateTimeField(_("entered at"))

    class Meta:
        verbose_name = _("stop reason entry")
        verbose_name_plural = _("stop reason entries")

    def __str__(self) -> str:
        return f"{self.reason} for {self.event}"


class ScrapEntry(models.Model):
    """Parts an operator found to be scrap among those the machine counted good."""

    asset = models.ForeignKey(
        Asset, verbose_name=_("asset"), on_delete=models.CASCADE, related_name="scrap_entries"
    )
    ts = models.DateTimeField(
        _("ts"), help_text=_("When the parts were made (the count they belong to).")
    )
    quantity = models.PositiveIntegerField(_("quantity"))
    reason = models.CharField(_("reason"), max_length=100, blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("entered by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    entered_at = models.DateTimeField(_("entered at"))

    class Meta:
        ordering = ["asset", "ts"]
        verbose_name = _("scrap entry")
        verbose_name_plural = _("scrap entries")

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
    breakdowns = models.PositiveIntegerField(
        default=0, help_text=_("Breakdowns begun in the hour.")
    )
    breakdowns_s = models.FloatField()
    changeover_s = models.FloatField()
    small_stops_s = models.FloatField()
    startup_rejects = models.PositiveIntegerField()
    production_rejects = models.PositiveIntegerField()
    no_data_s = models.FloatField(default=0.0, help_text=_("Planned time with no state known."))
    downtime_by_reason = models.JSONField(default=dict)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["asset", "hour"], name="oee_hour_once")]
        verbose_name = _("OEE hour")
        verbose_name_plural = _("OEE hours")

    def __str__(self) -> str:
        return f"{self.asset_id} {self.hour.isoformat()}"
