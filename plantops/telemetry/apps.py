from django.apps import AppConfig


class TelemetryConfig(AppConfig):
    name = "plantops.telemetry"
    label = "telemetry"
