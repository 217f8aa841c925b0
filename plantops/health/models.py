"""Machine health: failure history, fitted estimators, per-asset health state and predictions.

The computation is pure (`features.py`, `anomaly.py`, `rul.py`); these rows are what it reads
and what it leaves behind. Remaining life is kept in plant days: in the demo, where the
simulator runs time faster, `settings.PLANT_TIME_SCALE` converts between the two.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from plantops.assets.models import Asset, AssetType


class FailureMode(models.Model):
    """How a machine fails (bearing degradation, HPC degradation …): what a prediction is of."""

    code = models.SlugField(_("code"), max_length=64, unique=True)
    label = models.CharField(
        _("label"), max_length=200, help_text=_("In the plant's words: “Bearing degradation”.")
    )

    class Meta:
        ordering = ["label"]
        verbose_name = _("failure mode")
        verbose_name_plural = _("failure modes")

    def __str__(self) -> str:
        return self.label


class FailureSource(models.TextChoices):
    MANUAL = "manual", _("Entered in the admin")
    IMPORTED = "imported", _("Imported")
    WORK_ORDER = "work_order", _("Closed work order")
    TELEMETRY = "telemetry", _("Machine reported it")


class FailureEvent(models.Model):
    """An asset failed (or was repaired before failing) at a moment, in a mode.

    Two jobs: it ends the asset's run-to-failure history that fleet fitting learns from, and
    it scores the predictions made before it. A repair ("replaced before failure") also ends a
    run, but says nothing about when the failure would have come, so it scores nothing.
    """

    asset = models.ForeignKey(
        Asset, verbose_name=_("asset"), on_delete=models.CASCADE, related_name="failure_events"
    )
    failure_mode = models.ForeignKey(
        FailureMode, verbose_name=_("failure mode"), on_delete=models.PROTECT, related_name="+"
    )
    failed_at = models.DateTimeField(_("failed at"))
    repaired_before_failure = models.BooleanField(
        _("repaired before failure"),
        default=False,
        help_text=_("Replaced or repaired before it failed: ends the run, scores no prediction."),
    )
    source = models.CharField(
        _("source"), max_length=16, choices=FailureSource.choices, default=FailureSource.MANUAL
    )
    note = models.CharField(_("note"), max_length=500, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        ordering = ["-failed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["asset", "failure_mode", "failed_at"], name="failure_once_per_moment"
            )
        ]
        verbose_name = _("failure event")
        verbose_name_plural = _("failure events")

    def __str__(self) -> str:
        return f"{self.failure_mode} on {self.asset.name} at {self.failed_at:%Y-%m-%d %H:%M}"


class RunToFailureHistory(models.Model):
    """An imported run to failure of a machine like ours: per-step inputs, the last step failed.

    From another plant, a test rig, NASA's C-MAPSS or the simulator. Stored as the estimator
    sees it: `settings` (operating regime) and `sensors` (health features), one row per step of
    `step_s` plant seconds, as float64 arrays in row order.
    """

    asset_type = models.CharField(_("asset type"), max_length=32, choices=AssetType.choices)
    failure_mode = models.ForeignKey(
        FailureMode, verbose_name=_("failure mode"), on_delete=models.PROTECT, related_name="+"
    )
    name = models.CharField(
        _("name"), max_length=200, help_text=_("Where it comes from, e.g. “sim-41 unit 3”.")
    )
    step_s = models.FloatField(_("step s"), help_text=_("Plant seconds per step."))
    n_steps = models.PositiveIntegerField(_("n steps"))
    settings_columns = models.JSONField(_("settings columns"), default=list)
    sensor_columns = models.JSONField(_("sensor columns"), default=list)
    settings_data = models.BinaryField(_("settings data"))
    sensors_data = models.BinaryField(_("sensors data"))
    imported_at = models.DateTimeField(_("imported at"), auto_now_add=True)

    class Meta:
        ordering = ["asset_type", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["asset_type", "failure_mode", "name"], name="history_name_unique"
            )
        ]
        verbose_name = _("run-to-failure history")
        verbose_name_plural = _("run-to-failure histories")

    def __str__(self) -> str:
        return f"{self.name} ({self.n_steps} steps)"


class HealthModel(models.Model):
    """A fitted remaining-life estimator for one asset type and failure mode, versioned.

    Every fit makes a new version; the newest active one predicts. `estimator` holds the bytes
    of `rul.RulEstimator.to_bytes()`, produced only by PlantOps itself.
    """

    asset_type = models.CharField(_("asset type"), max_length=32, choices=AssetType.choices)
    failure_mode = models.ForeignKey(
        FailureMode, verbose_name=_("failure mode"), on_delete=models.PROTECT, related_name="+"
    )
    version = models.PositiveIntegerField(_("version"))
    algorithm = models.CharField(_("algorithm"), max_length=64)
    step_s = models.FloatField(_("step s"), help_text=_("Plant seconds per step of its inputs."))
    cap_steps = models.FloatField(
        _("cap steps"), help_text=_("Remaining life is learned up to this many steps.")
    )
    sensor_columns = models.JSONField(_("sensor columns"), default=list)
    estimator = models.BinaryField(_("estimator"))
    summary = models.JSONField(
        _("summary"), default=dict, help_text=_("What it was fitted on and how well.")
    )
    fitted_at = models.DateTimeField(_("fitted at"))
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["asset_type", "failure_mode", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["asset_type", "failure_mode", "version"], name="health_model_version"
            )
        ]
        verbose_name = _("health model")
        verbose_name_plural = _("health models")

    def __str__(self) -> str:
        return f"{self.get_asset_type_display()} · {self.failure_mode} v{self.version}"

    @property
    def label(self) -> str:
        return f"{self.asset_type}/{self.failure_mode.code}/v{self.version}"


class FitStatus(models.TextChoices):
    QUEUED = "queued", _("Waiting for a worker")
    RUNNING = "running", _("Fitting")
    SUCCEEDED = "succeeded", _("Fitted")
    FAILED = "failed", _("Failed")


# A fit that holds its asset type and failure mode: no second one may start meanwhile.
FIT_UNDER_WAY = (FitStatus.QUEUED, FitStatus.RUNNING)


class FitRun(models.Model):
    """One fit of an asset type and failure mode, asked for on the model-health page or the
    command line: who asked, how far it has got, and how it ended (the version it made, or
    why it failed). The page reads it on load and is pushed each change."""

    asset_type = models.CharField(_("asset type"), max_length=32, choices=AssetType.choices)
    failure_mode = models.ForeignKey(
        FailureMode, verbose_name=_("failure mode"), on_delete=models.PROTECT, related_name="+"
    )
    cap_days = models.FloatField(
        _("cap days"), help_text=_("Remaining life is learned up to this many plant days.")
    )
    status = models.CharField(
        _("status"), max_length=16, choices=FitStatus.choices, default=FitStatus.QUEUED
    )
    # The stage's code, which a page words in its viewer's language (`fit_words`), with the
    # round or run it is at for a stage told in parts (0 of 0 for the others), and its English.
    stage = models.CharField(_("stage"), max_length=32, blank=True)
    stage_part = models.PositiveSmallIntegerField(_("stage part"), default=0)
    stage_parts = models.PositiveSmallIntegerField(_("stage parts"), default=0)
    stage_text = models.CharField(_("stage text"), max_length=200, blank=True)
    percent = models.PositiveSmallIntegerField(_("percent"), default=0)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty: started on the command line."),
    )
    requested_at = models.DateTimeField(_("requested at"))
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    # Touched every few seconds by the process fitting: a run whose heartbeat stops has lost
    # its worker, and is failed by the sweep rather than shown as running for ever.
    heartbeat_at = models.DateTimeField(_("heartbeat at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    # Why it failed, in English; and as a code with its params for a page to word again (none
    # for a refusal `fit_words` does not know, shown as written).
    error = models.TextField(_("error"), blank=True)
    error_code = models.CharField(_("error code"), max_length=32, blank=True)
    error_params = models.JSONField(_("error params"), default=dict, blank=True)
    model = models.ForeignKey(
        HealthModel,
        verbose_name=_("model"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    result = models.JSONField(
        _("result"),
        default=dict,
        blank=True,
        help_text=_("The version made and how well it did when tested."),
    )
    # Grows with every change: a page keeps the newest of two pushes that arrive out of order.
    revision = models.PositiveIntegerField(_("revision"), default=0)

    class Meta:
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["asset_type", "failure_mode"],
                condition=models.Q(status__in=FIT_UNDER_WAY),
                name="health_one_fit_at_a_time",
            )
        ]
        indexes = [
            models.Index(
                fields=["asset_type", "failure_mode", "-requested_at"], name="fit_run_latest"
            )
        ]
        verbose_name = _("fit run")
        verbose_name_plural = _("fit runs")

    def __str__(self) -> str:
        return f"{self.asset_type} · {self.failure_mode_id} fit {self.pk}: {self.status}"


class AssetHealth(models.Model):
    """Where an asset's health monitoring stands: the detector's state and its latest judgement."""

    asset = models.OneToOneField(
        Asset, verbose_name=_("asset"), on_delete=models.CASCADE, related_name="health"
    )
    # anomaly.AnomalyDetector.to_dict(): baseline, regime bands, persistence counters.
    detector = models.JSONField(_("detector"), default=dict)
    processed_until = models.DateTimeField(
        _("processed until"),
        null=True,
        blank=True,
        help_text=_("Readings up to here have been turned into features."),
    )
    # Set before a run reads: a reading stored later that is older than this arrived late, and
    # its windows are judged again (`LateReadings`).
    read_until = models.DateTimeField(_("read until"), null=True, blank=True)
    level = models.CharField(_("level"), max_length=16, default="learning")
    score = models.FloatField(_("score"), null=True, blank=True)
    evidence = models.JSONField(_("evidence"), default=list, blank=True)
    judged_at = models.DateTimeField(_("judged at"), null=True, blank=True)

    class Meta:
        verbose_name = _("asset health")
        verbose_name_plural = _("asset health")

    def __str__(self) -> str:
        return f"{self.asset.name}: {self.level}"


class LateReadings(models.Model):
    """Readings stored after monitoring had read past their time (a gateway's backlog): the
    asset's windows from `since` on are judged again at its next run.

    Apart from `AssetHealth`, which a run holds locked while it works: a batch notes its late
    readings without waiting for it. `version` tells the run whether more came while it ran.
    """

    asset = models.OneToOneField(
        Asset, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    since = models.DateTimeField()
    version = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name = _("late readings")
        verbose_name_plural = _("late readings")

    def __str__(self) -> str:
        return f"{self.asset_id} late since {self.since.isoformat()}"


class HealthCheckpoint(models.Model):
    """The anomaly detector's state at the end of a monitoring round: where windows that late
    readings fill are judged again from. Thinned as they age (`monitor.checkpoints_kept`)."""

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField(help_text=_("The step end the detector had judged up to."))
    detector = models.JSONField()

    class Meta:
        ordering = ["asset", "at"]
        constraints = [
            models.UniqueConstraint(fields=["asset", "at"], name="health_checkpoint_once")
        ]
        verbose_name = _("health checkpoint")
        verbose_name_plural = _("health checkpoints")

    def __str__(self) -> str:
        return f"{self.asset_id} checkpoint at {self.at.isoformat()}"


class HealthStep(models.Model):
    """One step (a plant hour by default) of an asset's health features: the estimator's input."""

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="health_steps")
    at = models.DateTimeField(help_text=_("The end of the step."))
    settings_values = models.JSONField(default=list)
    sensor_values = models.JSONField(default=list)
    sensor_columns = models.JSONField(default=list)
    anomaly_score = models.FloatField(null=True, blank=True)
    level = models.CharField(max_length=16, blank=True)

    class Meta:
        ordering = ["asset", "at"]
        constraints = [
            models.UniqueConstraint(fields=["asset", "at"], name="health_step_once_per_moment")
        ]
        verbose_name = _("health step")
        verbose_name_plural = _("health steps")

    def __str__(self) -> str:
        return f"{self.asset_id} step at {self.at.isoformat()}"


class Prediction(models.Model):
    """A remaining-life prediction for one asset and failure mode, and later how it fared."""

    asset = models.ForeignKey(
        Asset, verbose_name=_("asset"), on_delete=models.CASCADE, related_name="predictions"
    )
    failure_mode = models.ForeignKey(
        FailureMode, verbose_name=_("failure mode"), on_delete=models.PROTECT, related_name="+"
    )
    model = models.ForeignKey(
        HealthModel, verbose_name=_("model"), on_delete=models.PROTECT, related_name="predictions"
    )
    made_at = models.DateTimeField(_("made at"), db_index=True)
    rul_low_days = models.FloatField(_("RUL low days"))
    rul_days = models.FloatField(
        _("RUL days"), help_text=_("The central estimate, plant days from made_at.")
    )
    rul_high_days = models.FloatField(_("RUL high days"))
    confidence = models.FloatField(
        _("confidence"), help_text=_("Of the low–high interval, e.g. 0.9.")
    )
    health_index = models.FloatField(_("health index"), help_text=_("1 healthy … 0 at failure."))
    inputs = models.JSONField(
        _("inputs"), default=dict, help_text=_("Steps used, their span, the drivers.")
    )
    # Scored once a failure is recorded after it.
    failure = models.ForeignKey(
        FailureEvent,
        verbose_name=_("failure"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="scored",
    )
    actual_rul_days = models.FloatField(_("actual RUL days"), null=True, blank=True)
    inside_interval = models.BooleanField(_("inside interval"), null=True, blank=True)
    error_days = models.FloatField(
        _("error days"),
        null=True,
        blank=True,
        help_text=_("Predicted minus actual: positive is late, too hopeful."),
    )

    class Meta:
        ordering = ["-made_at"]
        indexes = [models.Index(fields=["asset", "made_at"], name="prediction_asset_made")]
        verbose_name = _("prediction")
        verbose_name_plural = _("predictions")

    def __str__(self) -> str:
        return f"{self.asset.name}: {self.span_text()}"

    def span_text(self) -> str:
        """Return the interval as a plant says it: “18–21 days”, or in hours when under two days."""
        return rul_span_text(self.rul_low_days, self.rul_high_days)


def rul_span_text(low_days: float, high_days: float) -> str:
    """Return “18–21 days” (or “6–30 hours” when the interval ends within two days)."""
    if high_days < 2:
        return gettext("%(low)s–%(high)s hours") % {
            "low": f"{low_days * 24:.0f}",
            "high": f"{high_days * 24:.0f}",
        }
    return gettext("%(low)s–%(high)s days") % {"low": f"{low_days:.0f}", "high": f"{high_days:.0f}"}
