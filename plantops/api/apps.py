from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "plantops.api"
    label = "api"
    verbose_name = "API"
