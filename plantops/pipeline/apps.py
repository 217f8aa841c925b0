from django.apps import AppConfig


class PipelineConfig(AppConfig):
    name = "plantops.pipeline"
    label = "pipeline"
    verbose_name = "Telemetry pipeline"
