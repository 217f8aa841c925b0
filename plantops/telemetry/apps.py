from django.apps import AppConfig


class TelemetryConfig(AppConfig):
    name = "plantops.telemetry"
    label = "telemetry"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from plantops.assets.models import Signal
        from plantops.telemetry.services import signals_changed

        post_save.connect(signals_changed, sender=Signal, dispatch_uid="telemetry-signal-saved")
        post_delete.connect(signals_changed, sender=Signal, dispatch_uid="telemetry-signal-deleted")
