from django.apps import AppConfig


class MaintenanceConfig(AppConfig):
    name = "plantops.maintenance"
    label = "maintenance"
    verbose_name = "Maintenance"
