from django.contrib import admin, messages

from plantops.telemetry import selectors, services
from plantops.telemetry.models import DeadLetter


@admin.register(DeadLetter)
class DeadLetterAdmin(admin.ModelAdmin):
    list_display = ["received_at", "reason", "topic", "detail"]
    list_filter = ["reason", "received_at"]
    search_fields = ["topic", "detail", "payload"]
    date_hierarchy = "received_at"
    readonly_fields = [
        "received_at",
        "topic",
        "reason",
        "detail",
        "payload",
        "batch_id",
        "position",
    ]
    exclude = ["raw"]
    actions = ["replay"]

    def has_add_permission(self, request) -> bool:
        # Dead letters are what the machines sent; nobody writes them by hand.
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        # Read-only records; replaying needs only view and delete.
        return False

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
