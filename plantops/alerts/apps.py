from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "plantops.alerts"
    label = "alerts"
    verbose_name = "Alerts"
