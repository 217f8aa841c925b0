from django.apps import AppConfig


class SimulatorConfig(AppConfig):
    name = "plantops.simulator"
    label = "simulator"
