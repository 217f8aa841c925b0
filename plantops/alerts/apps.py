from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AlertsConfig(AppConfig):
    name = "plantops.alerts"
    label = "alerts"
    verbose_name = _("Alerts")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from plantops.alerts.config import plant_config_changed
        from plantops.alerts.models import AlertRule
        from plantops.assets.models import Asset, Line, Signal

        for model in (AlertRule, Signal, Asset, Line):
            post_save.connect(plant_config_changed, sender=model, dispatch_uid=f"config-{model}")
            post_delete.connect(plant_config_changed, sender=model, dispatch_uid=f"del-{model}")
