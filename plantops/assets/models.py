"""The plant as ISA-95 sees it: Site → Area → Line → Asset → Signal.

Every slug is unique within its parent, so the MQTT topic
`plantops/<site>/<area>/<line>/<asset>/…` names exactly one asset.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models


class Site(models.Model):
    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    timezone = models.CharField(
        max_length=64, default="UTC", help_text="IANA name, e.g. Europe/Berlin; used for shifts."
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValidationError({"timezone": f"Unknown time zone {self.timezone!r}."}) from None


class Area(models.Model):
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="areas")
    slug = models.SlugField(max_length=64)
    name = models.CharField(max_length=200)

    class Meta:
        ordering = ["site__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["site", "slug"], name="area_slug_unique_in_site")
        ]

    def __str__(self) -> str:
        return f"{self.site} / {self.name}"


class Line(models.Model):
    area = models.ForeignKey(Area, on_delete=models.CASCADE, related_name="lines")
    slug = models.SlugField(max_length=64)
    name = models.CharField(max_length=200)
    position = models.PositiveIntegerField(default=0, help_text="Order on the floor view.")
    operators = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="operated_lines",
        help_text="The operator position: whose tablets show this line's alerts.",
    )

    class Meta:
        ordering = ["position", "name"]
        constraints = [
            models.UniqueConstraint(fields=["area", "slug"], name="line_slug_unique_in_area")
        ]

    def __str__(self) -> str:
        return self.name


class AssetType(models.TextChoices):
    MOTOR = "motor", "Motor"
    CONVEYOR = "conveyor", "Conveyor"
    PRESS = "press", "Press"
    PUMP = "pump", "Pump"
    FAN = "fan", "Fan"
    COMPRESSOR = "compressor", "Compressor"
    PACKER = "packer", "Packer"
    ROBOT = "robot", "Robot"
    OTHER = "other", "Other"


class MachineState(models.TextChoices):
    """The v1 wire contract's machine states."""

    RUNNING = "running", "Running"
    IDLE = "idle", "Idle"
    DOWN = "down", "Down"
    PLANNED_STOP = "planned_stop", "Planned stop"
    CHANGEOVER = "changeover", "Changeover"


class Asset(models.Model):
    line = models.ForeignKey(Line, on_delete=models.CASCADE, related_name="assets")
    slug = models.SlugField(max_length=64)
    name = models.CharField(max_length=200)
    asset_type = models.CharField(max_length=32, choices=AssetType.choices)
    position = models.PositiveIntegerField(default=0, help_text="Order within the line.")
    ideal_cycle_time_s = models.FloatField(
        null=True,
        blank=True,
        validators=[MinValueValidator(0.001)],
        help_text="Seconds per part at rated speed; blank for assets that make no parts.",
    )
    # The latest machine state reported over MQTT, kept here so the floor view needs no scan.
    state = models.CharField(max_length=32, choices=MachineState.choices, blank=True)
    state_reason = models.CharField(max_length=64, blank=True)
    state_since = models.DateTimeField(null=True, blank=True)
    # Set while maintenance has the asset: its alerts are suppressed, as in a planned stop.
    out_of_service_since = models.DateTimeField(null=True, blank=True)
    out_of_service_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["line__position", "position", "name"]
        constraints = [
            models.UniqueConstraint(fields=["line", "slug"], name="asset_slug_unique_in_line")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.line})"

    @property
    def topic_path(self) -> str:
        line = self.line
        return f"{line.area.site.slug}/{line.area.slug}/{line.slug}/{self.slug}"

    def clean(self) -> None:
        super().clean()
        if self.out_of_service_reason and self.out_of_service_since is None:
            raise ValidationError(
                {"out_of_service_since": "Give the time the asset went out of service."}
            )


class Signal(models.Model):
    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="signals")
    slug = models.SlugField(max_length=64)
    name = models.CharField(max_length=200)
    unit = models.CharField(max_length=32, help_text="e.g. mm/s, °C, A, rpm.")
    expected_min = models.FloatField(null=True, blank=True)
    expected_max = models.FloatField(null=True, blank=True)
    sampling_interval_s = models.FloatField(
        default=1.0,
        validators=[MinValueValidator(0.001)],
        help_text="Nominal seconds between readings; used to tell when data has stopped.",
    )

    class Meta:
        ordering = ["asset", "slug"]
        constraints = [
            models.UniqueConstraint(fields=["asset", "slug"], name="signal_slug_unique_in_asset"),
            models.CheckConstraint(
                condition=models.Q(expected_min__isnull=True)
                | models.Q(expected_max__isnull=True)
                | models.Q(expected_min__lt=models.F("expected_max")),
                name="signal_expected_range_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.asset.name} · {self.name}"

    def clean(self) -> None:
        if not (self.unit or "").strip():
            raise ValidationError({"unit": "Every signal needs a unit (e.g. mm/s, °C, A)."})
        if (
            self.expected_min is not None
            and self.expected_max is not None
            and self.expected_min >= self.expected_max
        ):
            raise ValidationError({"expected_max": "Expected max must be above expected min."})
