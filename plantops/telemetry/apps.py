from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TelemetryConfig(AppConfig):
    name = "plantops.telemetry"
    label = "telemetry"
    verbose_name = _("Telemetry")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save, pre_delete

        from plantops.assets.models import Area, Asset, Line, Signal, Site
        from plantops.telemetry.gateways import plant_renamed
        from plantops.telemetry.services import signals_changed

        post_save.connect(signals_changed, sender=Signal, dispatch_uid="telemetry-signal-saved")
        post_delete.connect(signals_changed, sender=Signal, dispatch_uid="telemetry-signal-deleted")
        # A gateway's ACLs name its places' slugs: renaming or deleting one changes them.
        for place in (Site, Area, Line, Asset):
            uid = f"telemetry-gateways-{place.__name__}"
            post_save.connect(plant_renamed, sender=place, dispatch_uid=f"{uid}-saved")
            pre_delete.connect(plant_renamed, sender=place, dispatch_uid=f"{uid}-deleted")
