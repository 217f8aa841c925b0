from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OeeConfig(AppConfig):
    name = "plantops.oee"
    label = "oee"
    verbose_name = _("OEE events")
