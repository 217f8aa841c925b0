from django.contrib import admin

from plantops.alerts.models import Alert, AlertEvent, AlertRule
from plantops.core.admin import ReadOnlyAdmin


@admin.register(AlertRule)
class AlertRuleAdmin(admin.ModelAdmin):
    # Who may change rules is Django's own alerts.change_alertrule (the Supervisors group).
    list_display = ["name", "kind", "priority", "signal", "asset_type", "signal_slug", "enabled"]
    list_filter = ["kind", "priority", "enabled"]
    search_fields = ["name", "signal__slug", "signal__asset__name", "signal_slug"]
    autocomplete_fields = ["signal"]
    fieldsets = [
        (None, {"fields": ["name", "kind", "priority", "enabled"]}),
        (
            "Scope",
            {
                "fields": ["signal", "asset_type", "signal_slug"],
                "description": "Either one signal, or an asset type with a signal slug.",
            },
        ),
        ("Condition", {"fields": ["limit", "deadband", "window_s", "timeout_s"]}),
        (
            "Delays",
            {"fields": ["on_delay_s", "off_delay_s", "realarm_after_s", "max_shelve_s"]},
        ),
        ("Message", {"fields": ["message_template"]}),
    ]


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "state", "priority", "occurrences", "last_at", "assignee"]
    list_filter = ["state", "priority", "suppressed"]
    search_fields = ["message", "asset__name", "rule__name"]
    list_select_related = ["rule", "asset", "assignee"]
    date_hierarchy = "last_at"


@admin.register(AlertEvent)
class AlertEventAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "kind",
        "alert",
        "state",
        "priority",
        "at",
        "delivery",
        "delay_s",
        "user",
        "note",
    ]
    list_filter = ["kind", "state", "priority", "delivery"]
    search_fields = ["message", "note"]
    list_select_related = ["alert__rule", "alert__asset", "user"]
    date_hierarchy = "at"
