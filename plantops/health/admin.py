from django.contrib import admin

from plantops.health import failures
from plantops.health.models import (
    AssetHealth,
    FailureEvent,
    FailureMode,
    FitRun,
    HealthModel,
    Prediction,
    RunToFailureHistory,
)


@admin.register(FailureMode)
class FailureModeAdmin(admin.ModelAdmin):
    list_display = ["label", "code"]
    search_fields = ["label", "code"]
    prepopulated_fields = {"code": ["label"]}


@admin.register(FailureEvent)
class FailureEventAdmin(admin.ModelAdmin):
    """Failures entered here end the asset's run and score the predictions made before them."""

    list_display = ["failed_at", "asset", "failure_mode", "repaired_before_failure", "source"]
    list_filter = ["failure_mode", "source", "asset__asset_type"]
    search_fields = ["asset__name", "note"]
    list_select_related = ["asset", "failure_mode"]
    date_hierarchy = "failed_at"
    fields = ["asset", "failure_mode", "failed_at", "repaired_before_failure", "note"]

    def has_change_permission(self, request, obj=None) -> bool:
        # Predictions were scored against it: a wrong entry is deleted and entered again.
        return False

    def save_model(self, request, obj, form, change) -> None:
        recorded = failures.failure_record(
            asset=obj.asset,
            failure_mode=obj.failure_mode,
            failed_at=obj.failed_at,
            repaired_before_failure=obj.repaired_before_failure,
            note=obj.note,
            user=request.user,
        )
        obj.pk = recorded.pk


@admin.register(RunToFailureHistory)
class RunToFailureHistoryAdmin(admin.ModelAdmin):
    """Imported with `manage.py health_import_history`; read here."""

    list_display = ["name", "asset_type", "failure_mode", "n_steps", "step_s", "imported_at"]
    list_filter = ["asset_type", "failure_mode"]
    search_fields = ["name"]
    exclude = ["settings_data", "sensors_data"]
    readonly_fields = [
        "asset_type",
        "failure_mode",
        "name",
        "step_s",
        "n_steps",
        "settings_columns",
        "sensor_columns",
        "imported_at",
    ]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(HealthModel)
class HealthModelAdmin(admin.ModelAdmin):
    """Fitted from the model-health page or `manage.py health_fit`; an admin may only retire
    a version."""

    list_display = ["__str__", "algorithm", "fitted_at", "active"]
    list_filter = ["asset_type", "failure_mode", "active"]
    exclude = ["estimator"]
    readonly_fields = [
        "asset_type",
        "failure_mode",
        "version",
        "algorithm",
        "step_s",
        "cap_steps",
        "sensor_columns",
        "summary",
        "fitted_at",
    ]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(FitRun)
class FitRunAdmin(admin.ModelAdmin):
    """Every fit, as its worker left it: started from the model-health page, never here."""

    list_display = [
        "requested_at",
        "asset_type",
        "failure_mode",
        "status",
        "percent",
        "requested_by",
        "model",
    ]
    list_filter = ["status", "asset_type", "failure_mode"]
    list_select_related = ["failure_mode", "requested_by", "model__failure_mode"]
    date_hierarchy = "requested_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AssetHealth)
class AssetHealthAdmin(admin.ModelAdmin):
    list_display = ["asset", "level", "score", "judged_at", "processed_until"]
    list_filter = ["level"]
    list_select_related = ["asset"]
    exclude = ["detector"]
    readonly_fields = ["asset", "level", "score", "evidence", "judged_at", "processed_until"]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(Prediction)
class PredictionAdmin(admin.ModelAdmin):
    list_display = [
        "made_at",
        "asset",
        "failure_mode",
        "rul_low_days",
        "rul_days",
        "rul_high_days",
        "inside_interval",
        "error_days",
    ]
    list_filter = ["failure_mode", "inside_interval", "asset__asset_type"]
    list_select_related = ["asset", "failure_mode"]
    date_hierarchy = "made_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
