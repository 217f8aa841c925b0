from django.apps import AppConfig


class HealthConfig(AppConfig):
    name = "plantops.health"
    label = "health"
    verbose_name = "Machine health and predictions"
