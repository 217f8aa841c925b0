"""Who is told of what, by which channel, and the record of every message sent.

- `Channel`: one way out of the plant (SMTP e-mail, a signed webhook, a Teams or Slack room, or
  any service apprise knows by URL: ntfy, SMS gateways, …). Personal channels reach a user
  (their e-mail, or their address in `Contact`); room channels post once to one place.
- `Subscription`: what one user asks for (lines or areas, minimum priority, channels, quiet
  hours). `RoutingRule`: what a team is sent, at which escalation tier; `Team`, `TeamShift`
  and `OnCall` say who of the team is reached at a moment. `EscalationPolicy`: per priority,
  how long each tier waits for an acknowledgement before the next is told.
- `Notification`: one message to one recipient by one channel, unique by its `key` (the
  alert event or flood or digest it tells of, the recipient and the channel). It is written,
  with its text, before anything is sent: the intent. `DeliveryAttempt`: each try, its
  result and the provider's answer.
- `Flood`: an alarm flood on a line (more than 10 activations in 10 minutes), during which
  a recipient gets one summary instead of a message per alert.
- `DigestSubscription`: a daily or per-shift e-mail of what is open, due and lost.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from plantops.alerts.lifecycle import Priority
from plantops.alerts.models import PRIORITY_CHOICES, Alert, AlertEvent
from plantops.assets.models import Area, Line, Shift


class ChannelKind(models.TextChoices):
    EMAIL = "email", _("E-mail (SMTP)")
    WEBHOOK = "webhook", _("Webhook (JSON, signed)")
    TEAMS = "teams", _("Microsoft Teams (incoming webhook)")
    SLACK = "slack", _("Slack (incoming webhook)")
    APPRISE = "apprise", _("Apprise URL (ntfy, SMS gateways, …)")


PERSONAL_KINDS = frozenset({ChannelKind.EMAIL})


class Channel(models.Model):
    """One way a message leaves the plant. The URL and secret are write-only in the admin."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=ChannelKind.choices)
    url = models.CharField(
        _("URL"),
        max_length=1000,
        blank=True,
        help_text=_(
            "Webhook, Teams or Slack: the incoming-webhook URL. Apprise: the service URL, "
            "e.g. ntfys://ntfy.example.com/{address} or an SMS gateway's; {address} is replaced "
            "by each user's address for this channel (then the channel is personal). "
            "Not shown again once saved."
        ),
    )
    secret = models.CharField(
        _("secret"),
        max_length=200,
        blank=True,
        help_text=_("Webhook: the key of the HMAC-SHA256 signature header. Not shown again."),
    )
    enabled = models.BooleanField(_("enabled"), default=True)
    # Health: a channel that keeps failing is shown as failing and the admins are told once.
    consecutive_failures = models.PositiveIntegerField(
        _("consecutive failures"), default=0, editable=False
    )
    failing_since = models.DateTimeField(_("failing since"), null=True, blank=True, editable=False)
    last_error = models.CharField(_("last error"), max_length=500, blank=True, editable=False)
    last_success_at = models.DateTimeField(
        _("last success at"), null=True, blank=True, editable=False
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("channel")
        verbose_name_plural = _("channels")

    def __str__(self) -> str:
        return self.name

    @property
    def personal(self) -> bool:
        """Reaches a user (their e-mail or address); otherwise it posts once to one room."""
        return self.kind in PERSONAL_KINDS or (
            self.kind == ChannelKind.APPRISE and "{address}" in self.url
        )

    def clean(self) -> None:
        super().clean()
        if self.kind != ChannelKind.EMAIL and not self.url:
            raise ValidationError({"url": gettext("This kind of channel needs its URL.")})
        webhook = self.kind in (ChannelKind.WEBHOOK, ChannelKind.TEAMS, ChannelKind.SLACK)
        if webhook and not self.url.startswith(("https://", "http://")):
            raise ValidationError(
                {"url": gettext("A webhook URL starts with https:// or http://.")}
            )
        if self.kind == ChannelKind.WEBHOOK and not self.secret:
            raise ValidationError({"secret": gettext("A webhook is signed: give it a secret.")})


class Contact(models.Model):
    """A user's address on a personal channel other than e-mail (a phone number, a topic)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="notify_contacts",
    )
    channel = models.ForeignKey(
        Channel, verbose_name=_("channel"), on_delete=models.CASCADE, related_name="contacts"
    )
    address = models.CharField(_("address"), max_length=200)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "channel"], name="one_contact_per_channel")
        ]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")

    def __str__(self) -> str:
        return f"{self.user} on {self.channel}"


class QuietHours(models.Model):
    """Abstract: a span of local time in which a person is not disturbed."""

    quiet_start = models.TimeField(
        _("quiet start"),
        null=True,
        blank=True,
        help_text=_("Quiet hours begin (the site's local time)."),
    )
    quiet_end = models.TimeField(
        _("quiet end"),
        null=True,
        blank=True,
        help_text=_("Quiet hours end; at or before the start: next day."),
    )
    quiet_allows_critical = models.BooleanField(
        _("quiet allows critical"),
        default=True,
        help_text=_("Critical alerts still come during quiet hours."),
    )

    class Meta:
        abstract = True

    def clean(self) -> None:
        super().clean()
        if (self.quiet_start is None) != (self.quiet_end is None):
            raise ValidationError(gettext("Give both ends of the quiet hours, or neither."))


class Subscription(QuietHours):
    """What one user asks to be told: alerts of their lines or areas, from a priority up."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="notify_subscriptions",
    )
    lines = models.ManyToManyField(
        Line,
        verbose_name=_("lines"),
        blank=True,
        related_name="+",
        help_text=_("Leave empty here and in areas for every line."),
    )
    areas = models.ManyToManyField(Area, verbose_name=_("areas"), blank=True, related_name="+")
    min_priority = models.CharField(
        _("min priority"), max_length=16, choices=PRIORITY_CHOICES, default=Priority.HIGH.value
    )
    channels = models.ManyToManyField(
        Channel,
        verbose_name=_("channels"),
        related_name="subscriptions",
        help_text=_("Personal channels: e-mail, phone, …"),
    )
    enabled = models.BooleanField(_("enabled"), default=True)

    class Meta:
        ordering = ["user", "pk"]
        verbose_name = _("subscription")
        verbose_name_plural = _("subscriptions")

    def __str__(self) -> str:
        return f"{self.user}: {self.min_priority} and above"


class Team(models.Model):
    """People answering alerts together (maintenance, supervisors, plant managers).

    Who of the team is reached at a moment: whoever works the alert's line's shift running
    then (`TeamShift`), otherwise whoever is on call then (`OnCall`), otherwise every member.
    """

    name = models.CharField(_("name"), max_length=100, unique=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("members"),
        blank=True,
        related_name="notify_teams",
        help_text=_("Reached when no shift or on-call period covers the moment."),
    )
    channels = models.ManyToManyField(
        Channel,
        verbose_name=_("channels"),
        blank=True,
        related_name="teams",
        help_text=_("How the team's people are reached (personal channels)."),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("team")
        verbose_name_plural = _("teams")

    def __str__(self) -> str:
        return self.name


class TeamShift(models.Model):
    """Who of a team works a line's shift."""

    team = models.ForeignKey(
        Team, verbose_name=_("team"), on_delete=models.CASCADE, related_name="shifts"
    )
    shift = models.ForeignKey(
        Shift, verbose_name=_("shift"), on_delete=models.CASCADE, related_name="+"
    )
    people = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("people"), related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["team", "shift"], name="one_rota_per_team_shift")
        ]
        verbose_name = _("team shift")
        verbose_name_plural = _("team shifts")

    def __str__(self) -> str:
        return f"{self.team} on {self.shift.line} {self.shift}"


class OnCall(models.Model):
    """One person on call for a team from one moment to another (outside the shifts)."""

    team = models.ForeignKey(
        Team, verbose_name=_("team"), on_delete=models.CASCADE, related_name="on_call"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="+"
    )
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))

    class Meta:
        ordering = ["team", "starts_at"]
        verbose_name = _("on-call period")
        verbose_name_plural = _("on-call periods")

    def __str__(self) -> str:
        return f"{self.user} for {self.team}"

    def clean(self) -> None:
        super().clean()
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError(gettext("An on-call period ends after it starts."))


class RoutingRule(models.Model):
    """Alerts of some lines, from a priority up, go to a team (and rooms) at a tier.

    Tier 1 is told when the alert is raised; tier 2 when it is still unacknowledged after the
    priority's escalation step, tier 3 after two steps, and so on (`EscalationPolicy`).
    """

    name = models.CharField(_("name"), max_length=200)
    lines = models.ManyToManyField(
        Line,
        verbose_name=_("lines"),
        blank=True,
        related_name="+",
        help_text=_("Leave empty here and in areas for every line."),
    )
    areas = models.ManyToManyField(Area, verbose_name=_("areas"), blank=True, related_name="+")
    min_priority = models.CharField(
        _("min priority"), max_length=16, choices=PRIORITY_CHOICES, default=Priority.CRITICAL.value
    )
    tier = models.PositiveSmallIntegerField(
        _("tier"),
        default=1,
        help_text=_("1: at once; 2: after one escalation step unacknowledged; …"),
    )
    team = models.ForeignKey(
        Team,
        verbose_name=_("team"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="routing_rules",
    )
    channels = models.ManyToManyField(
        Channel,
        verbose_name=_("channels"),
        blank=True,
        related_name="routing_rules",
        help_text=_(
            "Rooms to post to (webhook, Teams, Slack); the team is reached by its own channels."
        ),
    )
    enabled = models.BooleanField(_("enabled"), default=True)

    class Meta:
        ordering = ["tier", "name"]
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing rules")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        if self.tier < 1:
            raise ValidationError({"tier": gettext("Tiers count from 1.")})


class EscalationPolicy(models.Model):
    """How long each tier waits for an acknowledgement, for one priority."""

    priority = models.CharField(_("priority"), max_length=16, choices=PRIORITY_CHOICES, unique=True)
    step_minutes = models.PositiveIntegerField(
        _("step minutes"),
        help_text=_("Unacknowledged this long after a tier was told, the next tier is told."),
    )

    class Meta:
        ordering = ["step_minutes"]
        verbose_name = _("escalation policy")
        verbose_name_plural = _("escalation policies")

    def __str__(self) -> str:
        return f"{self.priority}: every {self.step_minutes} min"

    def clean(self) -> None:
        super().clean()
        if self.step_minutes < 1:
            raise ValidationError({"step_minutes": gettext("At least one minute.")})


class Flood(models.Model):
    """An alarm flood on a line: from its first activation until the rate falls back."""

    line = models.ForeignKey(
        Line, verbose_name=_("line"), on_delete=models.CASCADE, related_name="+"
    )
    started_at = models.DateTimeField(_("started at"))
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    alerts = models.PositiveIntegerField(
        _("alerts"), default=0, help_text=_("Activations during the flood.")
    )

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["line"],
                condition=models.Q(ended_at__isnull=True),
                name="one_open_flood_per_line",
            )
        ]
        verbose_name = _("flood")
        verbose_name_plural = _("floods")

    def __str__(self) -> str:
        return f"Flood on {self.line} from {timezone.localtime(self.started_at):%Y-%m-%d %H:%M %Z}"


class Escalation(models.Model):
    """An alarm's raise climbing the tiers while nobody acknowledges it."""

    event = models.OneToOneField(AlertEvent, on_delete=models.CASCADE, related_name="+")
    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="+")
    flood = models.ForeignKey(Flood, on_delete=models.SET_NULL, null=True, blank=True)
    tier = models.PositiveSmallIntegerField(default=1, help_text=_("The highest tier told so far."))
    next_at = models.DateTimeField(null=True, blank=True, db_index=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    stopped_why = models.CharField(max_length=100, blank=True)

    class Meta:
        verbose_name = _("escalation")
        verbose_name_plural = _("escalations")

    def __str__(self) -> str:
        return f"{self.alert} at tier {self.tier}"


class DispatchCursor(models.Model):
    """The last alert event already turned into notifications."""

    name = models.CharField(max_length=32, unique=True)
    last_id = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("dispatch cursor")
        verbose_name_plural = _("dispatch cursors")

    def __str__(self) -> str:
        return f"{self.name} at {self.last_id}"


class NotificationKind(models.TextChoices):
    ALERT = "alert", _("Alert")
    ESCALATION = "escalation", _("Escalation")
    FLOOD = "flood", _("Flood summary")
    DIGEST = "digest", _("Digest")
    CHANNEL_FAILING = "channel_failing", _("Channel failing (to admins)")


class NotificationStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    SENDING = "sending", _("Being sent")
    SENT = "sent", pgettext_lazy("a notification's status", "Sent")
    RETRYING = "retrying", _("Failed, will retry")
    FAILED = "failed", pgettext_lazy("a notification's status", "Failed")
    CANCELLED = "cancelled", _("Cancelled (alert answered)")


class Notification(models.Model):
    """One message to one recipient by one channel; written before it is sent."""

    key = models.CharField(
        _("key"),
        max_length=200,
        unique=True,
        help_text=_("What it tells of, to whom, by which channel: never two of one key."),
    )
    kind = models.CharField(_("kind"), max_length=16, choices=NotificationKind.choices)
    channel = models.ForeignKey(
        Channel, verbose_name=_("channel"), on_delete=models.PROTECT, related_name="notifications"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="notifications",
    )
    address = models.CharField(
        _("address"), max_length=254, blank=True, help_text=_("E-mail or address used.")
    )
    alert = models.ForeignKey(
        Alert,
        verbose_name=_("alert"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
    )
    event = models.ForeignKey(
        AlertEvent,
        verbose_name=_("event"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    flood = models.ForeignKey(
        Flood,
        verbose_name=_("flood"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
    )
    tier = models.PositiveSmallIntegerField(_("tier"), default=0)
    why = models.CharField(
        _("why"), max_length=200, blank=True, help_text=_("The rule or subscription.")
    )
    subject = models.CharField(_("subject"), max_length=300)
    body_text = models.TextField(_("body text"))
    body_html = models.TextField(_("body html"), blank=True)
    data = models.JSONField(
        _("data"), default=dict, blank=True, help_text=_("The webhook's JSON body.")
    )
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=NotificationStatus.choices,
        default=NotificationStatus.PENDING,
        db_index=True,
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    ack_used_at = models.DateTimeField(_("ack used at"), null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.address or self.channel}: {self.subject}"


# The answer recorded for a notification cancelled before it was sent (the alert was
# answered, the channel switched off): no try at the channel, so never its failure.
NOT_SENT = "not sent: "


class DeliveryAttempt(models.Model):
    """One try at sending a notification, and what the provider answered."""

    notification = models.ForeignKey(
        Notification,
        verbose_name=_("notification"),
        on_delete=models.CASCADE,
        related_name="delivery_attempts",
    )
    number = models.PositiveSmallIntegerField(_("number"))
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    ok = models.BooleanField(
        _("ok"), null=True, help_text=_("Empty: the worker stopped during the send.")
    )
    answer = models.CharField(
        _("answer"), max_length=1000, blank=True, help_text=_("The provider's answer.")
    )

    class Meta:
        ordering = ["notification", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["notification", "number"], name="one_attempt_per_number"
            )
        ]
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")

    def __str__(self) -> str:
        return f"attempt {self.number} of {self.notification_id}"


class DigestFrequency(models.TextChoices):
    DAILY = "daily", _("Daily")
    SHIFT = "shift", _("After each shift")


class DigestSubscription(models.Model):
    """A supervisor's or manager's daily (or per-shift) e-mail of the plant's state."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="notify_digests",
    )
    frequency = models.CharField(
        _("frequency"), max_length=8, choices=DigestFrequency.choices, default=DigestFrequency.DAILY
    )
    send_at = models.TimeField(
        _("send at"),
        default="06:00",
        help_text=_("Daily: when it is sent, in the site's local time."),
    )
    lines = models.ManyToManyField(
        Line,
        verbose_name=_("lines"),
        blank=True,
        related_name="+",
        help_text=_("Leave empty for every line."),
    )
    enabled = models.BooleanField(_("enabled"), default=True)

    class Meta:
        ordering = ["user"]
        verbose_name = _("digest subscription")
        verbose_name_plural = _("digest subscriptions")

    def __str__(self) -> str:
        return f"{self.get_frequency_display()} digest for {self.user}"
