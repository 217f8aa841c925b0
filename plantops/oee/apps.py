from django.apps import AppConfig


class OeeConfig(AppConfig):
    name = "plantops.oee"
    label = "oee"
    verbose_name = "OEE events"
