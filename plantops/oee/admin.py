from django.contrib import admin

from plantops.oee.models import (
    CountEvent,
    ScrapEntry,
    StateEvent,
    StopReason,
    StopReasonEntry,
)


@admin.register(StateEvent)
class StateEventAdmin(admin.ModelAdmin):
    list_display = ["ts", "asset", "state", "reason"]
    list_filter = ["state", "asset__line"]
    search_fields = ["asset__name", "reason"]
    list_select_related = ["asset"]
    date_hierarchy = "ts"


@admin.register(CountEvent)
class CountEventAdmin(admin.ModelAdmin):
    list_display = ["ts", "asset", "good", "scrap"]
    list_filter = ["asset__line"]
    search_fields = ["asset__name"]
    list_select_related = ["asset"]
    date_hierarchy = "ts"


@admin.register(StopReason)
class StopReasonAdmin(admin.ModelAdmin):
    list_display = ["label", "code", "category", "active"]
    list_filter = ["category", "active"]
    search_fields = ["label", "code"]
    prepopulated_fields = {"code": ["label"]}


@admin.register(StopReasonEntry)
class StopReasonEntryAdmin(admin.ModelAdmin):
    """Reasons operators gave to stops; entered on the tablets, read here."""

    list_display = ["event", "reason", "entered_by", "entered_at"]
    list_filter = ["reason"]
    list_select_related = ["event__asset", "reason", "entered_by"]
    readonly_fields = ["event", "reason", "entered_by", "entered_at"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        # A reason is changed on the tablet, which also drops the OEE snapshots it is in.
        return False


@admin.register(ScrapEntry)
class ScrapEntryAdmin(admin.ModelAdmin):
    """Scrap operators recorded; entered on the tablets, read here."""

    list_display = ["ts", "asset", "quantity", "reason", "entered_by"]
    list_filter = ["asset__line"]
    list_select_related = ["asset", "entered_by"]
    readonly_fields = ["asset", "ts", "quantity", "reason", "entered_by", "entered_at"]
    date_hierarchy = "ts"

    def has_add_permission(self, request) -> bool:
        return False
