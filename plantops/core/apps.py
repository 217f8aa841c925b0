from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "plantops.core"
    label = "core"
