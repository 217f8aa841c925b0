"""The plant as ISA-95 sees it: Site → Area → Line → Asset → Signal.

Every slug is unique within its parent, so the MQTT topic
`plantops/<site>/<area>/<line>/<asset>/…` names exactly one asset.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from plantops.assets import states


class Site(models.Model):
    slug = models.SlugField(_("slug"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    timezone = models.CharField(
        _("timezone"),
        max_length=64,
        default="UTC",
        help_text=_("IANA name, e.g. Europe/Berlin; used for shifts."),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("site")
        verbose_name_plural = _("sites")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValidationError(
                {"timezone": gettext("Unknown time zone “%(zone)s”.") % {"zone": self.timezone}}
            ) from None


class Area(models.Model):
    site = models.ForeignKey(
        Site, verbose_name=_("site"), on_delete=models.CASCADE, related_name="areas"
    )
    slug = models.SlugField(_("slug"), max_length=64)
    name = models.CharField(_("name"), max_length=200)

    class Meta:
        ordering = ["site__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["site", "slug"], name="area_slug_unique_in_site")
        ]
        verbose_name = _("area")
        verbose_name_plural = _("areas")

    def __str__(self) -> str:
        return f"{self.site} / {self.name}"


class Line(models.Model):
    area = models.ForeignKey(
        Area, verbose_name=_("area"), on_delete=models.CASCADE, related_name="lines"
    )
    slug = models.SlugField(_("slug"), max_length=64)
    name = models.CharField(_("name"), max_length=200)
    position = models.PositiveIntegerField(
        _("position"), default=0, help_text=_("Order on the floor view.")
    )
    operators = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("operators"),
        blank=True,
        related_name="operated_lines",
        help_text=_("The operator position: whose tablets show this line's alerts."),
    )
    small_stop_s = models.PositiveIntegerField(
        _("small stop s"),
        default=120,
        help_text=_(
            "Stops shorter than this are small stops (idling and minor stoppages), "
            "not breakdowns, in the OEE losses."
        ),
    )
    startup_reject_window_s = models.PositiveIntegerField(
        _("startup reject window s"),
        default=600,
        help_text=_(
            "Scrap within this many seconds after a restart from a breakdown or "
            "changeover counts as start-up rejects."
        ),
    )
    oee_target = models.FloatField(
        _("OEE target"),
        default=0.85,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text=_("OEE the line aims for, 0–1"),
    )

    class Meta:
        ordering = ["position", "name"]
        constraints = [
            models.UniqueConstraint(fields=["area", "slug"], name="line_slug_unique_in_area")
        ]
        permissions = [
            (
                "act_on_every_line",
                "Can act on every line's alerts, stops and scrap (otherwise only on the lines "
                "where the user is an operator)",
            )
        ]
        verbose_name = _("line")
        verbose_name_plural = _("lines")

    def __str__(self) -> str:
        return self.name


# The machine states' words (marked in `states`), in the language of the page that shows them.
STATE_CHOICES = [(value, _(label)) for value, label in states.CHOICES]


class AssetType(models.TextChoices):
    MOTOR = "motor", _("Motor")
    CONVEYOR = "conveyor", _("Conveyor")
    PRESS = "press", _("Press")
    PUMP = "pump", _("Pump")
    FAN = "fan", _("Fan")
    COMPRESSOR = "compressor", _("Compressor")
    PACKER = "packer", _("Packer")
    ROBOT = "robot", _("Robot")
    OTHER = "other", _("Other")


class Product(models.Model):
    """A part a plant makes; a machine may run it at an ideal cycle time of its own."""

    code = models.SlugField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)

    class Meta:
        ordering = ["code"]
        verbose_name = _("product")
        verbose_name_plural = _("products")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Asset(models.Model):
    line = models.ForeignKey(
        Line, verbose_name=_("line"), on_delete=models.CASCADE, related_name="assets"
    )
    slug = models.SlugField(_("slug"), max_length=64)
    name = models.CharField(_("name"), max_length=200)
    asset_type = models.CharField(_("asset type"), max_length=32, choices=AssetType.choices)
    position = models.PositiveIntegerField(
        _("position"), default=0, help_text=_("Order within the line.")
    )
    ideal_cycle_time_s = models.FloatField(
        _("ideal cycle time s"),
        null=True,
        blank=True,
        validators=[MinValueValidator(0.001)],
        help_text=_("Seconds per part at rated speed; blank for assets that make no parts."),
    )
    current_product = models.ForeignKey(
        Product,
        verbose_name=_("current product"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_(
            "What the machine makes now: its counts take the product's ideal cycle time "
            "on this machine, where one is set."
        ),
    )
    # The latest machine state reported over MQTT, kept here so the floor view needs no scan.
    state = models.CharField(_("state"), max_length=32, choices=STATE_CHOICES, blank=True)
    state_reason = models.CharField(_("state reason"), max_length=64, blank=True)
    state_since = models.DateTimeField(_("state since"), null=True, blank=True)
    # Set while maintenance has the asset: its alerts are suppressed, as in a planned stop.
    out_of_service_since = models.DateTimeField(_("out of service since"), null=True, blank=True)
    out_of_service_reason = models.CharField(_("out of service reason"), max_length=200, blank=True)
    # Set while the gateway that speaks for the asset is known to be gone (a Sparkplug death):
    # nothing it reports now is current. Distinct from down: the machine may well be running.
    no_data_since = models.DateTimeField(_("no data since"), null=True, blank=True)
    no_data_reason = models.CharField(_("no data reason"), max_length=200, blank=True)

    class Meta:
        ordering = ["line__position", "position", "name"]
        constraints = [
            models.UniqueConstraint(fields=["line", "slug"], name="asset_slug_unique_in_line")
        ]
        verbose_name = _("asset")
        verbose_name_plural = _("assets")

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
                {"out_of_service_since": gettext("Give the time the asset went out of service.")}
            )


class ProductCycleTime(models.Model):
    """A machine's ideal cycle time for one product, in place of its own."""

    asset = models.ForeignKey(
        Asset, verbose_name=_("asset"), on_delete=models.CASCADE, related_name="product_cycle_times"
    )
    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.CASCADE, related_name="+"
    )
    ideal_cycle_time_s = models.FloatField(
        _("ideal cycle time s"), validators=[MinValueValidator(0.001)]
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["asset", "product"], name="cycle_time_once_per_product")
        ]
        verbose_name = _("product cycle time")
        verbose_name_plural = _("product cycle times")

    def __str__(self) -> str:
        return f"{self.product.code} on {self.asset.name}: {self.ideal_cycle_time_s} s"


class Signal(models.Model):
    asset = models.ForeignKey(
        Asset, verbose_name=_("asset"), on_delete=models.CASCADE, related_name="signals"
    )
    slug = models.SlugField(_("slug"), max_length=64)
    name = models.CharField(_("name"), max_length=200)
    unit = models.CharField(_("unit"), max_length=32, help_text=_("e.g. mm/s, °C, A, rpm."))
    expected_min = models.FloatField(_("expected min"), null=True, blank=True)
    expected_max = models.FloatField(_("expected max"), null=True, blank=True)
    sampling_interval_s = models.FloatField(
        _("sampling interval s"),
        default=1.0,
        validators=[MinValueValidator(0.001)],
        help_text=_("Nominal seconds between readings; used to tell when data has stopped."),
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
        verbose_name = _("signal")
        verbose_name_plural = _("signals")

    def __str__(self) -> str:
        return f"{self.asset.name} · {self.name}"

    def clean(self) -> None:
        if not (self.unit or "").strip():
            raise ValidationError(
                {"unit": gettext("Every signal needs a unit (e.g. mm/s, °C, A).")}
            )
        if (
            self.expected_min is not None
            and self.expected_max is not None
            and self.expected_min >= self.expected_max
        ):
            raise ValidationError(
                {"expected_max": gettext("Expected max must be above expected min.")}
            )


# --- the production plan: shifts, breaks, holidays ------------------------------------------

WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def validate_weekdays(value: str) -> None:
    if not value or any(c not in "0123456" for c in value) or len(set(value)) != len(value):
        raise ValidationError(
            gettext(
                "Give the days the shift starts on as digits, 0 = Monday … 6 = Sunday "
                "(01234 is Monday to Friday), each at most once."
            )
        )


class Shift(models.Model):
    """A recurring shift of a line, in the site's local time; it belongs to the day it starts."""

    line = models.ForeignKey(
        Line, verbose_name=_("line"), on_delete=models.CASCADE, related_name="shifts"
    )
    name = models.CharField(_("name"), max_length=64)
    start = models.TimeField(_("start"), help_text=_("Local time at the site."))
    end = models.TimeField(
        _("end"), help_text=_("Local time; at or before the start, the next day.")
    )
    weekdays = models.CharField(
        _("weekdays"),
        max_length=7,
        default="01234",
        validators=[validate_weekdays],
        help_text=_("Days the shift starts on: 0 = Monday … 6 = Sunday, e.g. 01234."),
    )

    class Meta:
        ordering = ["line", "start"]
        constraints = [
            models.UniqueConstraint(fields=["line", "name"], name="shift_name_unique_in_line")
        ]
        verbose_name = _("shift")
        verbose_name_plural = _("shifts")

    def __str__(self) -> str:
        days = ", ".join(WEEKDAY_NAMES[int(d)] for d in sorted(self.weekdays))
        return f"{self.name} {self.start:%H:%M}–{self.end:%H:%M} ({days})"

    @property
    def crosses_midnight(self) -> bool:
        return self.end <= self.start


class ShiftBreak(models.Model):
    """A planned stop inside a shift (lunch, a handover), in local time."""

    shift = models.ForeignKey(
        Shift, verbose_name=_("shift"), on_delete=models.CASCADE, related_name="breaks"
    )
    start = models.TimeField(_("start"))
    end = models.TimeField(_("end"))

    class Meta:
        ordering = ["shift", "start"]
        verbose_name = _("shift break")
        verbose_name_plural = _("shift breaks")

    def __str__(self) -> str:
        return f"break {self.start:%H:%M}–{self.end:%H:%M}"

    def clean(self) -> None:
        shift = getattr(self, "shift", None)
        if shift is None or self.start is None or self.end is None:
            return

        day = 24 * 60

        def offset(t) -> int:
            # Minutes from the shift's start, counting past midnight for a night shift.
            return (t.hour * 60 + t.minute - shift.start.hour * 60 - shift.start.minute) % day

        start, end = offset(self.start), offset(self.end) or day
        if not start < end <= (offset(shift.end) or day):
            raise ValidationError(
                gettext("A break must lie within its shift and end after it starts.")
            )


class Holiday(models.Model):
    """A day on which no shift of the site starts (a public holiday, a plant shutdown)."""

    site = models.ForeignKey(
        Site, verbose_name=_("site"), on_delete=models.CASCADE, related_name="holidays"
    )
    date = models.DateField(_("date"))
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        ordering = ["site", "date"]
        constraints = [
            models.UniqueConstraint(fields=["site", "date"], name="holiday_once_per_site_day")
        ]
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")

    def __str__(self) -> str:
        return f"{self.name} ({self.date.isoformat()})"
