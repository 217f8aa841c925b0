from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "plantops.demo"
    label = "demo"
    verbose_name = "Demo plant"
