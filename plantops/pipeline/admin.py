from django.contrib import admin, messages
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from plantops.pipeline import services
from plantops.telemetry import admin as telemetry_admin
from plantops.telemetry import selectors
from plantops.telemetry.models import DeadLetter


@admin.register(DeadLetter)
class DeadLetterAdmin(telemetry_admin.DeadLetterAdmin):
    actions = ["replay"]

    @admin.action(
        description=_("Re-process with the current plant configuration"), permissions=["delete"]
    )
    def replay(self, request, queryset) -> None:
        outcome = services.dead_letters_replay(
            dead_letters=queryset, registry=selectors.topic_registry()
        )
        self.message_user(
            request,
            gettext(
                "%(stored)d stored, %(refused)d still refused (reason updated), "
                "%(too_large)d too large to replay."
            )
            % {
                "stored": outcome.stored,
                "refused": outcome.still_refused,
                "too_large": outcome.not_replayable,
            },
            messages.WARNING if outcome.still_refused else messages.SUCCESS,
        )
