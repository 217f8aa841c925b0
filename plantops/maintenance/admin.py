from django.contrib import admin

from plantops.maintenance.models import (
    ChecklistItem,
    FailureCode,
    Part,
    PartUse,
    PreventiveSchedule,
    WorkOrder,
    WorkOrderEvent,
)


@admin.register(FailureCode)
class FailureCodeAdmin(admin.ModelAdmin):
    list_display = ["code", "label", "kind", "failure_mode"]
    list_filter = ["kind"]
    search_fields = ["code", "label"]


@admin.register(Part)
class PartAdmin(admin.ModelAdmin):
    list_display = ["number", "name", "stock", "unit", "reorder_at", "location"]
    search_fields = ["number", "name"]


class ChecklistInline(admin.TabularInline):
    model = ChecklistItem
    extra = 0
    readonly_fields = ["done_at", "done_by"]


class PartUseInline(admin.TabularInline):
    model = PartUse
    extra = 0
    readonly_fields = ["part", "quantity", "used_by", "used_at"]

    def has_add_permission(self, request, obj=None) -> bool:
        # Parts are taken through the work order's flow, which decrements the stock.
        return False


class EventInline(admin.TabularInline):
    model = WorkOrderEvent
    extra = 0
    readonly_fields = ["at", "user", "kind", "from_status", "to_status", "note"]
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(WorkOrder)
class WorkOrderAdmin(admin.ModelAdmin):
    """Work orders are worked on the tablets; here they are read, with their whole history."""

    list_display = ["__str__", "asset", "kind", "priority", "status", "assignee", "due_at"]
    list_filter = ["status", "kind", "priority", "asset__line"]
    search_fields = ["title", "description", "notes", "asset__name"]
    list_select_related = ["asset", "assignee"]
    date_hierarchy = "created_at"
    inlines = [ChecklistInline, PartUseInline, EventInline]
    readonly_fields = ["status", "created_at", "started_at", "completed_at", "evidence"]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(PreventiveSchedule)
class PreventiveScheduleAdmin(admin.ModelAdmin):
    """Set up here; beat reads the meters and generates the work orders."""

    list_display = ["title", "asset", "meter", "interval", "lead", "meter_value", "active"]
    list_filter = ["meter", "active", "asset__line"]
    search_fields = ["title", "asset__name"]
    readonly_fields = ["meter_value", "meter_read_at", "recount_from"]
