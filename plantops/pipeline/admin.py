from django.contrib import admin, messages

from plantops.pipeline import services
from plantops.telemetry import admin as telemetry_admin
from plantops.telemetry import selectors
from plantops.telemetry.models import DeadLetter


@admin.register(DeadLetter)
class DeadLetterAdmin(telemetry_admin.DeadLetterAdmin):
    actions = ["replay"]

    @admin.action(
        description="Re-process with the current plant configuration", permissions=["delete"]
    )
    def replay(self, request, queryset) -> None:
        outcome = services.dead_letters_replay(
            dead_letters=queryset, registry=selectors.topic_registry()
        )
        self.message_user(
            request,
            f"{outcome.stored} stored, {outcome.still_refused} still refused (reason updated), "
            f"{outcome.not_replayable} too large to replay.",
            messages.WARNING if outcome.still_refused else messages.SUCCESS,
        )
