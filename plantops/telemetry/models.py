from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from plantops.assets.models import Area, Asset, Line, Signal
from plantops.telemetry.payloads import Reason


class Reading(models.Model):
    """One value of one signal at one instant.

    Unique per (signal, ts), so a redelivered batch stores nothing twice. The primary key's
    index serves every per-signal time range; on PostgreSQL a BRIN index on ts (a few pages for
    months of rows, since readings arrive in time order) serves retention, which cuts by time
    across all signals.

    The signal is checked once per batch by the worker, not by a foreign-key constraint per
    row: the constraint's trigger cost more than the insert itself. Deleting a signal still
    deletes its readings (Django cascades); a reading committed concurrently with that delete
    is left without a signal, invisible to every screen (all go by signal) and removed by the
    retention purge. Signal ids are never reused.
    """

    pk = models.CompositePrimaryKey("signal", "ts")
    signal = models.ForeignKey(
        Signal, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    ts = models.DateTimeField()
    value = models.FloatField()

    class Meta:
        verbose_name = _("reading")
        verbose_name_plural = _("readings")

    def __str__(self) -> str:
        return f"{self.signal_id}@{self.ts.isoformat()}={self.value}"


class LatestReading(models.Model):
    """The newest value of each signal, kept on every stored batch so screens need no scan."""

    signal = models.OneToOneField(
        Signal, on_delete=models.CASCADE, primary_key=True, related_name="latest"
    )
    ts = models.DateTimeField()
    value = models.FloatField()

    class Meta:
        verbose_name = _("latest reading")
        verbose_name_plural = _("latest readings")

    def __str__(self) -> str:
        return f"{self.signal_id}={self.value} at {self.ts.isoformat()}"


class DeadLetter(models.Model):
    """A message, or one item of a batch message, that ingest refused, with the reason."""

    batch_id = models.UUIDField(_("batch id"), editable=False)
    position = models.PositiveIntegerField(_("position"), editable=False)
    received_at = models.DateTimeField(_("received at"), db_index=True)
    topic = models.CharField(_("topic"), max_length=512)
    payload = models.TextField(
        _("payload"), help_text=_("The first 1,000 characters of what was received.")
    )
    raw = models.BinaryField(
        _("raw"),
        blank=True,
        default=b"",
        editable=False,
        help_text=_("The message to replay; empty when too large."),
    )
    reason = models.CharField(
        _("reason"), max_length=32, choices=[(r.value, r.value) for r in Reason]
    )
    detail = models.CharField(_("detail"), max_length=300)

    class Meta:
        ordering = ["-received_at", "position"]
        constraints = [
            # A redelivered batch must not record its dead letters twice.
            models.UniqueConstraint(
                fields=["batch_id", "position"], name="dead_letter_once_per_batch"
            )
        ]
        verbose_name = _("dead letter")
        verbose_name_plural = _("dead letters")

    def __str__(self) -> str:
        return f"{self.reason} on {self.topic}"


class MinuteRollup(models.Model):
    """Min, max, sum, count and last value of one signal's readings in one UTC minute.

    Kept up to date by the worker from the readings each batch actually inserted, so a
    redelivered batch adds nothing. Trends over days and months read these, not raw readings.
    The last value is the newest reading's, whenever it arrived (late data never replaces a
    newer one); it is empty for minutes rolled up before rollups kept it whose readings are gone.
    """

    pk = models.CompositePrimaryKey("signal", "minute")
    # The primary key's index leads with the signal. A second index on the signal alone cost
    # every batch its upkeep, and the planner chose it for ranges, filtering a signal's months
    # of minutes row by row instead of reading one range of the key.
    signal = models.ForeignKey(Signal, on_delete=models.CASCADE, related_name="+", db_index=False)
    minute = models.DateTimeField()
    value_min = models.FloatField()
    value_max = models.FloatField()
    value_sum = models.FloatField()
    value_count = models.PositiveIntegerField()
    last_ts = models.DateTimeField(null=True)
    value_last = models.FloatField(null=True)

    class Meta:
        verbose_name = _("minute rollup")
        verbose_name_plural = _("minute rollups")

    def __str__(self) -> str:
        return f"{self.signal_id}@{self.minute.isoformat()} n={self.value_count}"


class HourRollup(models.Model):
    """The same as `MinuteRollup` for one UTC hour, kept by the same statement.

    A month of a 1 Hz signal is 720 of these instead of 43,200 minutes: hourly reads over
    weeks and months cost a few hundred rows per signal, not a scan of the minutes.

    `minutes` holds a closed hour's minute rollups packed in one value (`minute_packs`), so a
    week of minutes is read from 168 rows per signal instead of 10,080. Any write to the
    hour empties it in the same statement, and a beat task packs it again: a packed hour is
    never older than its minutes.
    """

    pk = models.CompositePrimaryKey("signal", "hour")
    # The primary key's index leads with the signal: a second one would only slow each batch.
    signal = models.ForeignKey(Signal, on_delete=models.CASCADE, related_name="+", db_index=False)
    hour = models.DateTimeField()
    value_min = models.FloatField()
    value_max = models.FloatField()
    value_sum = models.FloatField()
    value_count = models.PositiveIntegerField()
    last_ts = models.DateTimeField(null=True)
    value_last = models.FloatField(null=True)
    minutes = models.BinaryField(null=True, editable=False)

    class Meta:
        verbose_name = _("hour rollup")
        verbose_name_plural = _("hour rollups")

    def __str__(self) -> str:
        return f"{self.signal_id}@{self.hour.isoformat()} n={self.value_count}"


class Gateway(models.Model):
    """An edge gateway's identity on the MQTT broker, and the assets it may publish for.

    The broker enforces it. Mosquitto's dynamic-security plugin holds one client per gateway
    (its user name and the only hash of its password) with a role of its own whose ACLs let
    it publish the wire contract's topics of its assets — chosen one by one, or every asset of
    its lines and areas — and nothing else: a message on any other topic is refused at the
    broker (PUBACK "not authorized") and reaches no subscriber. The ingest cannot add a check
    of its own behind that: MQTT does not tell a subscriber which client published a message.

    A gateway logs in with its user name as MQTT client id, and with no other, so it can never
    take over another client's session. PlantOps keeps neither the password nor a hash of it:
    the password is shown once when issued and handed to the broker (see `telemetry.gateways`).
    A revoked gateway is refused at its next login and its open connections are dropped.
    """

    name = models.CharField(_("name"), max_length=200, unique=True)
    username = models.SlugField(
        _("username"),
        max_length=64,
        unique=True,
        help_text=_(
            "The MQTT user name the gateway logs in with, and its client id. Fixed once "
            "the gateway exists."
        ),
    )
    assets = models.ManyToManyField(Asset, verbose_name=_("assets"), blank=True, related_name="+")
    lines = models.ManyToManyField(
        Line,
        verbose_name=_("lines"),
        blank=True,
        related_name="+",
        help_text=_("Every asset of these lines, now or later."),
    )
    areas = models.ManyToManyField(
        Area,
        verbose_name=_("areas"),
        blank=True,
        related_name="+",
        help_text=_("Every asset of these areas, now or later."),
    )
    sparkplug_nodes = models.TextField(
        _("sparkplug nodes"),
        blank=True,
        help_text=_(
            "The Sparkplug B edge nodes this gateway is, one per line as "
            "<group id>/<edge node id>: it may publish their births, data and deaths and receive "
            "their commands."
        ),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True, editable=False)
    password_set_at = models.DateTimeField(
        _("password set at"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("When the broker took the gateway's current password; empty: it has none."),
    )
    broker_synced_at = models.DateTimeField(
        _("broker synced at"),
        null=True,
        blank=True,
        editable=False,
        help_text=_(
            "When the broker last confirmed it holds this gateway as saved here; "
            "empty while a change is on its way."
        ),
    )
    broker_error = models.CharField(_("broker error"), max_length=300, blank=True, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("gateway")
        verbose_name_plural = _("gateways")

    def __str__(self) -> str:
        return self.name

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    def sparkplug_node_ids(self) -> list[tuple[str, str]]:
        """The `(group id, edge node id)` pairs of `sparkplug_nodes`."""
        return [
            tuple(line.strip().split("/", 1))
            for line in self.sparkplug_nodes.splitlines()
            if line.strip()
        ]

    def clean(self) -> None:
        super().clean()
        # A gateway logs in with its user name as client id: none may be the ingest's (it
        # would take over the ingest's session) nor look like one of PlantOps' own.
        taken = {settings.MQTT.username, settings.MQTT_CLIENT_ID}
        if settings.MQTT_ADMIN is not None:
            taken.add(settings.MQTT_ADMIN.username)
        for line in self.sparkplug_nodes.splitlines():
            parts = line.strip().split("/")
            if line.strip() and (len(parts) != 2 or not all(parts) or any(c in line for c in "+#")):
                raise ValidationError(
                    {
                        "sparkplug_nodes": gettext(
                            "“%(line)s”: write <group id>/<edge node id>, without + or #."
                        )
                        % {"line": line.strip()}
                    }
                )
        if self.username in taken or self.username.startswith("plantops-"):
            raise ValidationError(
                {
                    "username": gettext(
                        "This user name belongs to PlantOps itself (the ingest, the "
                        "broker's admin, or a name starting with plantops-)."
                    )
                }
            )


class SparkplugSource(models.Model):
    """A Sparkplug B edge node (no device) or device that has published, and its asset.

    Rows appear as sources are seen; PlantOps never creates an asset for one. Until an admin
    chooses the asset, the source's data is not stored, only its metrics listed.
    """

    group_id = models.CharField(_("group id"), max_length=200)
    edge_node_id = models.CharField(_("edge node id"), max_length=200)
    device_id = models.CharField(_("device id"), max_length=200, blank=True)
    asset = models.ForeignKey(
        Asset,
        verbose_name=_("asset"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The asset this node or device is; its mapped metrics feed it."),
    )
    online = models.BooleanField(_("online"), default=False, editable=False)
    first_seen_at = models.DateTimeField(_("first seen at"), auto_now_add=True)
    last_birth_at = models.DateTimeField(_("last birth at"), null=True, blank=True, editable=False)
    last_death_at = models.DateTimeField(_("last death at"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["group_id", "edge_node_id", "device_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["group_id", "edge_node_id", "device_id"], name="sparkplug_source_once"
            )
        ]
        verbose_name = _("Sparkplug source")
        verbose_name_plural = _("Sparkplug sources")

    def __str__(self) -> str:
        return "/".join(part for part in (self.group_id, self.edge_node_id, self.device_id) if part)


class SparkplugMetric(models.Model):
    """A metric a Sparkplug source published, as last seen, and what it feeds in PlantOps."""

    class Target(models.TextChoices):
        NONE = "", _("Not mapped")
        SIGNAL = "signal", _("Signal")
        STATE = "state", _("Machine state")
        GOOD_TOTAL = "good_total", _("Good parts (running total)")
        SCRAP_TOTAL = "scrap_total", _("Scrap parts (running total)")
        IGNORE = "ignore", _("Ignored")

    source = models.ForeignKey(
        SparkplugSource, verbose_name=_("source"), on_delete=models.CASCADE, related_name="metrics"
    )
    name = models.CharField(_("name"), max_length=255)
    datatype = models.PositiveSmallIntegerField(_("datatype"), default=0)
    alias = models.BigIntegerField(_("alias"), null=True, blank=True)
    last_value = models.CharField(_("last value"), max_length=200, blank=True)
    last_seen_at = models.DateTimeField(_("last seen at"), null=True, blank=True)
    target = models.CharField(
        _("target"), max_length=16, choices=Target.choices, blank=True, default=""
    )
    signal = models.ForeignKey(
        Signal,
        verbose_name=_("signal"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("For a signal target: one of the source's asset's signals."),
    )

    class Meta:
        ordering = ["source", "name"]
        constraints = [
            models.UniqueConstraint(fields=["source", "name"], name="sparkplug_metric_once")
        ]
        verbose_name = _("Sparkplug metric")
        verbose_name_plural = _("Sparkplug metrics")

    def __str__(self) -> str:
        return f"{self.source} {self.name}"

    def clean(self) -> None:
        super().clean()
        if self.target == self.Target.SIGNAL:
            if self.signal_id is None:
                raise ValidationError({"signal": gettext("Choose the signal this metric feeds.")})
            if self.source.asset_id is None:
                raise ValidationError({"target": gettext("Choose the source's asset first.")})
            if self.signal.asset_id != self.source.asset_id:
                raise ValidationError(
                    {
                        "signal": gettext("Choose a signal of %(asset)s, the source's asset.")
                        % {"asset": self.source.asset}
                    }
                )
        elif self.signal_id is not None:
            raise ValidationError({"signal": gettext("Only a signal target takes a signal.")})
