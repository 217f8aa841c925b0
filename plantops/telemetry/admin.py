from django.contrib import admin


class DeadLetterAdmin(admin.ModelAdmin):
    """The refused messages, read-only; registered by the pipeline, whose replay action stores
    what now passes the way any batch is stored."""

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

    def has_add_permission(self, request) -> bool:
        # Dead letters are what the machines sent; nobody writes them by hand.
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        # Read-only records; replaying needs only view and delete.
        return False
