from django.apps import AppConfig


class FloorConfig(AppConfig):
    name = "plantops.floor"
    label = "floor"
