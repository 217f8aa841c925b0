from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

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
            pgettext_lazy("what an alert rule applies to", "Scope"),
            {
                "fields": ["signal", "asset_type", "signal_slug"],
                "description": _("Either one signal, or an asset type with a signal slug."),
            },
        ),
        (_("Condition"), {"fields": ["limit", "deadband", "window_s", "timeout_s"]}),
        (
            _("Delays"),
            {"fields": ["on_delay_s", "off_delay_s", "realarm_after_s", "max_shelve_s"]},
        ),
        (_("Message"), {"fields": ["message_template"]}),
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
