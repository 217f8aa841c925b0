from django.apps import AppConfig


class AssetsConfig(AppConfig):
    name = "plantops.assets"
    label = "assets"
    verbose_name = "Plant model"
