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

    code = models.SlugField(max_length=64, unique=True)
    label = models.CharField(
        max_length=200, help_text="In the plant's words: “Bearing degradation”."
    )

    class Meta:
        ordering = ["label"]

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

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="failure_events")
    failure_mode = models.ForeignKey(FailureMode, on_delete=models.PROTECT, related_name="+")
    failed_at = models.DateTimeField()
    repaired_before_failure = models.BooleanField(
        default=False,
        help_text="Replaced or repaired before it failed: ends the run, scores no prediction.",
    )
    source = models.CharField(
        max_length=16, choices=FailureSource.choices, default=FailureSource.MANUAL
    )
    note = models.CharField(max_length=500, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-failed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["asset", "failure_mode", "failed_at"], name="failure_once_per_moment"
            )
        ]

    def __str__(self) -> str:
        return f"{self.failure_mode} on {self.asset.name} at {self.failed_at:%Y-%m-%d %H:%M}"


class RunToFailureHistory(models.Model):
    """An imported run to failure of a machine like ours: per-step inputs, the last step failed.

    From another plant, a test rig, NASA's C-MAPSS or the simulator. Stored as the estimator
    sees it: `settings` (operating regime) and `sensors` (health features), one row per step of
    `step_s` plant seconds, as float64 arrays in row order.
    """

    asset_type = models.CharField(max_length=32, choices=AssetType.choices)
    failure_mode = models.ForeignKey(FailureMode, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=200, help_text="Where it comes from, e.g. “sim-41 unit 3”.")
    step_s = models.FloatField(help_text="Plant seconds per step.")
    n_steps = models.PositiveIntegerField()
    settings_columns = models.JSONField(default=list)
    sensor_columns = models.JSONField(default=list)
    settings_data = models.BinaryField()
    sensors_data = models.BinaryField()
    imported_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["asset_type", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["asset_type", "failure_mode", "name"], name="history_name_unique"
            )
        ]
        verbose_name_plural = "run-to-failure histories"

    def __str__(self) -> str:
        return f"{self.name} ({self.n_steps} steps)"


class HealthModel(models.Model):
    """A fitted remaining-life estimator for one asset type and failure mode, versioned.

    Every fit makes a new version; the newest active one predicts. `estimator` holds the bytes
    of `rul.RulEstimator.to_bytes()`, produced only by PlantOps itself.
    """

    asset_type = models.CharField(max_length=32, choices=AssetType.choices)
    failure_mode = models.ForeignKey(FailureMode, on_delete=models.PROTECT, related_name="+")
    version = models.PositiveIntegerField()
    algorithm = models.CharField(max_length=64)
    step_s = models.FloatField(help_text="Plant seconds per step of its inputs.")
    cap_steps = models.FloatField(help_text="Remaining life is learned up to this many steps.")
    sensor_columns = models.JSONField(default=list)
    estimator = models.BinaryField()
    summary = models.JSONField(default=dict, help_text="What it was fitted on and how well.")
    fitted_at = models.DateTimeField()
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["asset_type", "failure_mode", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["asset_type", "failure_mode", "version"], name="health_model_version"
            )
        ]

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

    asset_type = models.CharField(max_length=32, choices=AssetType.choices)
    failure_mode = models.ForeignKey(FailureMode, on_delete=models.PROTECT, related_name="+")
    cap_days = models.FloatField(help_text="Remaining life is learned up to this many plant days.")
    status = models.CharField(max_length=16, choices=FitStatus.choices, default=FitStatus.QUEUED)
    # The stage's code, which a page words in its viewer's language (`fit_words`), with the
    # round or run it is at for a stage told in parts (0 of 0 for the others), and its English.
    stage = models.CharField(max_length=32, blank=True)
    stage_part = models.PositiveSmallIntegerField(default=0)
    stage_parts = models.PositiveSmallIntegerField(default=0)
    stage_text = models.CharField(max_length=200, blank=True)
    percent = models.PositiveSmallIntegerField(default=0)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty: started on the command line.",
    )
    requested_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    # Touched every few seconds by the process fitting: a run whose heartbeat stops has lost
    # its worker, and is failed by the sweep rather than shown as running for ever.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Why it failed, in English; and as a code with its params for a page to word again (none
    # for a refusal `fit_words` does not know, shown as written).
    error = models.TextField(blank=True)
    error_code = models.CharField(max_length=32, blank=True)
    error_params = models.JSONField(default=dict, blank=True)
    model = models.ForeignKey(
        HealthModel, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    result = models.JSONField(
        default=dict, blank=True, help_text="The version made and how well it did when tested."
    )
    # Grows with every change: a page keeps the newest of two pushes that arrive out of order.
    revision = models.PositiveIntegerField(default=0)

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

    def __str__(self) -> str:
        return f"{self.asset_type} · {self.failure_mode_id} fit {self.pk}: {self.status}"


class AssetHealth(models.Model):
    """Where an asset's health monitoring stands: the detector's state and its latest judgement."""

    asset = models.OneToOneField(Asset, on_delete=models.CASCADE, related_name="health")
    # anomaly.AnomalyDetector.to_dict(): baseline, regime bands, persistence counters.
    detector = models.JSONField(default=dict)
    processed_until = models.DateTimeField(
        null=True, blank=True, help_text="Readings up to here have been turned into features."
    )
    # Set before a run reads: a reading stored later that is older than this arrived late, and
    # its windows are judged again (`LateReadings`).
    read_until = models.DateTimeField(null=True, blank=True)
    level = models.CharField(max_length=16, default="learning")
    score = models.FloatField(null=True, blank=True)
    evidence = models.JSONField(default=list, blank=True)
    judged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "asset health"

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
        verbose_name_plural = "late readings"

    def __str__(self) -> str:
        return f"{self.asset_id} late since {self.since.isoformat()}"


class HealthCheckpoint(models.Model):
    """The anomaly detector's state at the end of a monitoring round: where windows that late
    readings fill are judged again from. Thinned as they age (`monitor.checkpoints_kept`)."""

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField(help_text="The step end the detector had judged up to.")
    detector = models.JSONField()

    class Meta:
        ordering = ["asset", "at"]
        constraints = [
            models.UniqueConstraint(fields=["asset", "at"], name="health_checkpoint_once")
        ]

    def __str__(self) -> str:
        return f"{self.asset_id} checkpoint at {self.at.isoformat()}"


class HealthStep(models.Model):
    """One step (a plant hour by default) of an asset's health features: the estimator's input."""

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="health_steps")
    at = models.DateTimeField(help_text="The end of the step.")
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

    def __str__(self) -> str:
        return f"{self.asset_id} step at {self.at.isoformat()}"


class Prediction(models.Model):
    """A remaining-life prediction for one asset and failure mode, and later how it fared."""

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="predictions")
    failure_mode = models.ForeignKey(FailureMode, on_delete=models.PROTECT, related_name="+")
    model = models.ForeignKey(HealthModel, on_delete=models.PROTECT, related_name="predictions")
    made_at = models.DateTimeField(db_index=True)
    rul_low_days = models.FloatField()
    rul_days = models.FloatField(help_text="The central estimate, plant days from made_at.")
    rul_high_days = models.FloatField()
    confidence = models.FloatField(help_text="Of the low–high interval, e.g. 0.9.")
    health_index = models.FloatField(help_text="1 healthy … 0 at failure.")
    inputs = models.JSONField(default=dict, help_text="Steps used, their span, the drivers.")
    # Scored once a failure is recorded after it.
    failure = models.ForeignKey(
        FailureEvent, on_delete=models.SET_NULL, null=True, blank=True, related_name="scored"
    )
    actual_rul_days = models.FloatField(null=True, blank=True)
    inside_interval = models.BooleanField(null=True, blank=True)
    error_days = models.FloatField(
        null=True, blank=True, help_text="Predicted minus actual: positive is late, too hopeful."
    )

    class Meta:
        ordering = ["-made_at"]
        indexes = [models.Index(fields=["asset", "made_at"], name="prediction_asset_made")]

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
