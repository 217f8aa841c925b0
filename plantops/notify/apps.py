from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotifyConfig(AppConfig):
    name = "plantops.notify"
    label = "notify"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        from plantops.alerts.signals import alerts_announced, events_recorded
        from plantops.notify import triggers

        events_recorded.connect(triggers.events_recorded, dispatch_uid="notify-events")
        alerts_announced.connect(triggers.alerts_announced, dispatch_uid="notify-announced")
