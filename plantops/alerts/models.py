"""Alert rules, alerts (one per rule and asset) and the event log every screen replays.

The lifecycle itself lives in `lifecycle.py` (pure); an `Alert` row stores one
`lifecycle.AlertStatus` and `Alert.status()` / `Alert.apply()` convert between the two.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from plantops.alerts.delivery import Delivery
from plantops.alerts.evaluation import RuleKind, RuleSpec
from plantops.alerts.lifecycle import AlarmState, AlertStatus, EventKind, Priority
from plantops.assets.models import Asset, AssetType, Signal

SIGNAL_KINDS = frozenset({RuleKind.HIGH, RuleKind.LOW, RuleKind.RATE, RuleKind.NO_DATA})

# The words a form or the admin shows for a priority and an alarm state; the codes are stored.
PRIORITY_LABELS = {
    Priority.CRITICAL: pgettext_lazy("alert priority", "Critical"),
    Priority.HIGH: pgettext_lazy("alert priority", "High"),
    Priority.MEDIUM: pgettext_lazy("alert priority", "Medium"),
    Priority.LOW: pgettext_lazy("alert priority", "Low"),
}
PRIORITY_CHOICES = [(p.value, PRIORITY_LABELS[p]) for p in Priority]
ALARM_STATE_CHOICES = [
    (AlarmState.NORMAL.value, pgettext_lazy("alert state", "Normal")),
    (AlarmState.ACTIVE_UNACK.value, pgettext_lazy("alert state", "Active, unacknowledged")),
    (AlarmState.ACTIVE_ACK.value, pgettext_lazy("alert state", "Active, acknowledged")),
    (AlarmState.RTN_UNACK.value, pgettext_lazy("alert state", "Returned, unacknowledged")),
]


class RuleSource(models.TextChoices):
    """Where a rule's condition comes from: readings, or a detector through `AlertSource`."""

    HIGH = RuleKind.HIGH.value, _("High limit")
    LOW = RuleKind.LOW.value, _("Low limit")
    RATE = RuleKind.RATE.value, _("Rate of change")
    NO_DATA = RuleKind.NO_DATA.value, _("No data")
    ANOMALY = "anomaly", _("Anomaly (health model)")
    PREDICTION = "prediction", _("Failure prediction")


class AlertRule(models.Model):
    """A condition worth an operator's attention, on one signal or on every asset of a type."""

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16, choices=RuleSource.choices)
    signal = models.ForeignKey(
        Signal,
        verbose_name=_("signal"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="alert_rules",
        help_text=_("The one signal this rule watches; or leave blank and give a type and slug."),
    )
    asset_type = models.CharField(
        _("asset type"),
        max_length=32,
        choices=AssetType.choices,
        blank=True,
        help_text=_("Apply to every asset of this type (with the signal slug below)."),
    )
    signal_slug = models.SlugField(
        _("signal slug"),
        max_length=64,
        blank=True,
        help_text=_("With an asset type: the signal to watch on each."),
    )
    limit = models.FloatField(
        _("limit"), default=0.0, help_text=_("High/low: the limit. Rate: units per second.")
    )
    deadband = models.FloatField(
        _("deadband"),
        default=0.0,
        help_text=_("Absolute, in the signal's units: how far back to return."),
    )
    on_delay_s = models.FloatField(
        _("on delay s"), default=0.0, help_text=_("The condition must hold this long.")
    )
    off_delay_s = models.FloatField(
        _("off delay s"), default=0.0, help_text=_("Normal must hold this long.")
    )
    window_s = models.FloatField(
        _("window s"), default=0.0, help_text=_("Rate of change: the window.")
    )
    timeout_s = models.FloatField(
        _("timeout s"), default=0.0, help_text=_("No data: seconds of silence.")
    )
    priority = models.CharField(_("priority"), max_length=16, choices=PRIORITY_CHOICES)
    message_template = models.CharField(
        _("message template"),
        max_length=300,
        blank=True,
        help_text=_(
            "e.g. “{asset} {signal} at {value:.1f} {unit}, above {limit}”. Names: asset, "
            "signal, value, unit, limit, rule, line."
        ),
    )
    realarm_after_s = models.PositiveIntegerField(
        _("realarm after s"),
        null=True,
        blank=True,
        help_text=_("Sound again if still unacknowledged after this long."),
    )
    max_shelve_s = models.PositiveIntegerField(
        _("max shelve s"),
        default=8 * 3600,
        help_text=_("The longest a supervisor may shelve this rule's alerts."),
    )
    anomaly_level = models.CharField(
        _("anomaly level"),
        max_length=16,
        choices=[("warning", _("Warning")), ("alarm", _("Alarm"))],
        default="alarm",
        help_text=_("Anomaly: the detector's level from which this rule raises."),
    )
    horizon_days = models.FloatField(
        _("horizon days"),
        default=30.0,
        help_text=_(
            "Failure prediction: raise when the whole interval ends within this many days."
        ),
    )
    enabled = models.BooleanField(_("enabled"), default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(signal__isnull=True)
                | (models.Q(asset_type="") & models.Q(signal_slug="")),
                name="alert_rule_one_scope",
            ),
        ]
        verbose_name = _("alert rule")
        verbose_name_plural = _("alert rules")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        if self.kind not in SIGNAL_KINDS and self.signal_id is not None:
            raise ValidationError(
                gettext(
                    "Anomaly and prediction rules apply to assets: give an asset type, or none "
                    "for every asset."
                )
            )
        if self.kind in SIGNAL_KINDS:
            if self.signal_id is None and not (self.asset_type and self.signal_slug):
                raise ValidationError(
                    gettext("Choose a signal, or an asset type together with a signal slug.")
                )
            if errors := self._condition_errors():
                raise ValidationError(errors)
            try:
                self.spec()
            except ValueError as error:
                raise ValidationError(str(error)) from None
        if self.signal_id is not None and (self.asset_type or self.signal_slug):
            raise ValidationError(
                gettext("A rule on one signal takes no asset type or signal slug.")
            )

    def _condition_errors(self) -> dict[str, str]:
        """What `RuleSpec` would refuse in the condition's numbers, each under its field and
        in the reader's words (`spec()` still guards the rest)."""
        errors = {}
        for name in ("deadband", "on_delay_s", "off_delay_s"):
            if getattr(self, name) < 0:
                errors[name] = gettext("Must not be negative.")
        if self.kind == RuleKind.RATE:
            if self.window_s <= 0:
                errors["window_s"] = gettext("A rate-of-change rule needs a window above 0 s.")
            if self.limit <= 0:
                errors["limit"] = gettext(
                    "A rate-of-change rule needs a limit above 0 (units per second)."
                )
        if self.kind == RuleKind.NO_DATA and self.timeout_s <= 0:
            errors["timeout_s"] = gettext("A no-data rule needs a timeout above 0 s.")
        return errors

    def spec(self) -> RuleSpec:
        return RuleSpec(
            kind=RuleKind(self.kind),
            limit=self.limit,
            deadband=self.deadband,
            on_delay_s=self.on_delay_s,
            off_delay_s=self.off_delay_s,
            window_s=self.window_s,
            timeout_s=self.timeout_s,
        )


class RuleState(models.Model):
    """What the evaluator remembers of one (rule, signal) between batches."""

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="+")
    signal = models.ForeignKey(Signal, on_delete=models.CASCADE, related_name="+")
    state = models.JSONField(default=dict)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["rule", "signal"], name="rule_state_once_per_signal")
        ]
        verbose_name = _("rule state")
        verbose_name_plural = _("rule states")

    def __str__(self) -> str:
        return f"{self.rule_id} on signal {self.signal_id}"


class Alert(models.Model):
    """One alarm: a rule on an asset. Open while active or unacknowledged; never duplicated."""

    rule = models.ForeignKey(
        AlertRule, verbose_name=_("rule"), on_delete=models.CASCADE, related_name="alerts"
    )
    asset = models.ForeignKey(
        Asset, verbose_name=_("asset"), on_delete=models.CASCADE, related_name="alerts"
    )
    signal = models.ForeignKey(
        Signal,
        verbose_name=_("signal"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    priority = models.CharField(_("priority"), max_length=16, choices=PRIORITY_CHOICES)
    message = models.CharField(_("message"), max_length=500, blank=True)
    value = models.FloatField(_("value"), null=True, blank=True)
    # What a detector gave as its reasons (signals and their deviations, the RUL interval).
    evidence = models.JSONField(_("evidence"), default=dict, blank=True)
    # lifecycle.AlertStatus, field by field
    state = models.CharField(
        _("state"),
        max_length=16,
        choices=ALARM_STATE_CHOICES,
        default=AlarmState.NORMAL.value,
    )
    occurrences = models.PositiveIntegerField(_("occurrences"), default=0)
    first_at = models.DateTimeField(_("first at"), null=True, blank=True)
    last_at = models.DateTimeField(_("last at"), null=True, blank=True)
    returned_at = models.DateTimeField(_("returned at"), null=True, blank=True)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    last_annunciated_at = models.DateTimeField(_("last annunciated at"), null=True, blank=True)
    shelved_at = models.DateTimeField(_("shelved at"), null=True, blank=True)
    shelved_until = models.DateTimeField(_("shelved until"), null=True, blank=True, db_index=True)
    shelved_by = models.CharField(_("shelved by"), max_length=150, blank=True)
    shelve_reason = models.CharField(_("shelve reason"), max_length=300, blank=True)
    suppressed = models.BooleanField(_("suppressed"), default=False)
    suppressed_at = models.DateTimeField(_("suppressed at"), null=True, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_alerts",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["rule", "asset"], name="one_alert_per_rule_and_asset")
        ]
        indexes = [models.Index(fields=["state"], name="alert_state")]
        permissions = [
            ("supervise_alerts", "Shelve alerts beyond the operator limit and assign them"),
        ]
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")

    def __str__(self) -> str:
        return f"{self.rule} on {self.asset}"

    def status(self) -> AlertStatus:
        return AlertStatus(
            state=AlarmState(self.state),
            occurrences=self.occurrences,
            first_at=self.first_at,
            last_at=self.last_at,
            returned_at=self.returned_at,
            acknowledged_at=self.acknowledged_at,
            last_annunciated_at=self.last_annunciated_at,
            shelved_at=self.shelved_at,
            shelved_until=self.shelved_until,
            shelved_by=self.shelved_by or None,
            shelve_reason=self.shelve_reason or None,
            suppressed=self.suppressed,
            suppressed_at=self.suppressed_at,
        )

    def apply(self, status: AlertStatus) -> None:
        self.state = status.state.value
        for name in STATUS_FIELDS - {"state", "shelved_by", "shelve_reason"}:
            setattr(self, name, getattr(status, name))
        self.shelved_by = status.shelved_by or ""
        self.shelve_reason = status.shelve_reason or ""


STATUS_FIELDS = frozenset(AlertStatus.__dataclass_fields__)


# The lifecycle's events, plus the two that change no state.
EVENT_KINDS = [(k.value, k.value) for k in EventKind] + [
    ("assigned", "assigned"),
    ("commented", "commented"),
]


class AlertEvent(models.Model):
    """Everything that happened to an alert, in one increasing sequence.

    The id is the order screens replay: a tablet that reconnects asks for the events after
    the last id it saw. Events are written under a transaction-level lock, so ids become
    visible in increasing order, and each records the id of the event before it (`prev_id`)
    so a client can tell when a live message was lost and fetch what is missing.
    """

    id = models.BigAutoField(primary_key=True)
    prev_id = models.BigIntegerField(_("prev id"), default=0)
    alert = models.ForeignKey(
        Alert, verbose_name=_("alert"), on_delete=models.CASCADE, related_name="events"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=EVENT_KINDS)
    at = models.DateTimeField(_("at"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    note = models.CharField(_("note"), max_length=500, blank=True)
    # The alert as it stood after this event, so a replay needs no join.
    state = models.CharField(_("state"), max_length=16, choices=ALARM_STATE_CHOICES)
    priority = models.CharField(_("priority"), max_length=16, choices=PRIORITY_CHOICES)
    message = models.CharField(_("message"), max_length=500, blank=True)
    line_id = models.IntegerField(_("line id"), db_index=True)
    activated = models.BooleanField(
        _("activated"),
        default=False,
        help_text=_("An activation for the alarm KPIs (inactive → active)."),
    )
    # Live, or judged from readings that arrived late (`delivery.py`): everything else in the
    # row is the same either way, so the history reads as if the data had arrived on time.
    delivery = models.CharField(
        _("delivery"),
        max_length=8,
        choices=[(d.value, d.value) for d in Delivery],
        default=Delivery.LIVE.value,
    )
    delay_s = models.FloatField(
        _("delay s"),
        null=True,
        blank=True,
        help_text=_("Late: how long after its reading the event was judged, in seconds."),
    )

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["at"], name="alert_event_at")]
        verbose_name = _("alert event")
        verbose_name_plural = _("alert events")

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind} {self.alert_id}"
