from django.contrib import admin

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

    def has_add_permission(self, request) -> bool:
        # Dead letters are what the machines sent; nobody writes them by hand.
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
