from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from plantops.assets import services
from plantops.assets.models import (
    Area,
    Asset,
    Holiday,
    Line,
    Product,
    ProductCycleTime,
    Shift,
    ShiftBreak,
    Signal,
    Site,
)


class AreaInline(admin.TabularInline):
    model = Area
    extra = 0
    prepopulated_fields = {"slug": ["name"]}
    show_change_link = True


class LineInline(admin.TabularInline):
    model = Line
    extra = 0
    prepopulated_fields = {"slug": ["name"]}
    show_change_link = True


class AssetInline(admin.TabularInline):
    model = Asset
    extra = 0
    fields = ["position", "slug", "name", "asset_type", "ideal_cycle_time_s"]
    prepopulated_fields = {"slug": ["name"]}
    show_change_link = True


class SignalInline(admin.TabularInline):
    model = Signal
    extra = 0
    fields = ["slug", "name", "unit", "expected_min", "expected_max", "sampling_interval_s"]
    prepopulated_fields = {"slug": ["name"]}


class HolidayInline(admin.TabularInline):
    model = Holiday
    extra = 0


class ShiftInline(admin.TabularInline):
    model = Shift
    extra = 0
    fields = ["name", "start", "end", "weekdays"]
    show_change_link = True  # breaks are set on the shift's own page


class ProductCycleTimeInline(admin.TabularInline):
    model = ProductCycleTime
    extra = 0
    autocomplete_fields = ["product"]


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]


class ShiftBreakInline(admin.TabularInline):
    model = ShiftBreak
    extra = 0


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "timezone"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [AreaInline, HolidayInline]


@admin.register(Area)
class AreaAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "site"]
    list_filter = ["site"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [LineInline]


@admin.register(Line)
class LineAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "area", "position"]
    list_filter = ["area__site", "area"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["operators"]
    fieldsets = [
        (None, {"fields": ["area", "slug", "name", "position", "operators"]}),
        (_("OEE"), {"fields": ["oee_target", "small_stop_s", "startup_reject_window_s"]}),
    ]
    inlines = [ShiftInline, AssetInline]


@admin.register(Shift)
class ShiftAdmin(admin.ModelAdmin):
    """Shifts in the site's local time; a shift ending at or before its start ends next day."""

    list_display = ["__str__", "line"]
    list_filter = ["line__area__site", "line"]
    inlines = [ShiftBreakInline]


@admin.register(Asset)
class AssetAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "slug",
        "asset_type",
        "line",
        "ideal_cycle_time_s",
        "state",
        "state_since",
        "in_service",
    ]
    list_filter = ["asset_type", "line__area__site", "line__area", "line", "state"]
    actions = ["take_out_of_service", "return_to_service"]
    search_fields = ["name", "slug", "line__name"]
    list_select_related = ["line"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["state", "state_reason", "state_since"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "line",
                    "position",
                    "slug",
                    "name",
                    "asset_type",
                    "ideal_cycle_time_s",
                    "current_product",
                ]
            },
        ),
        (_("Reported by the machine"), {"fields": ["state", "state_reason", "state_since"]}),
        (
            _("Maintenance"),
            {
                "fields": ["out_of_service_since", "out_of_service_reason"],
                "description": _("While an asset is out of service its alerts are suppressed."),
            },
        ),
    ]
    inlines = [SignalInline, ProductCycleTimeInline]

    @admin.display(boolean=True, description=_("In service"), ordering="out_of_service_since")
    def in_service(self, asset: Asset) -> bool:
        return asset.out_of_service_since is None

    @admin.action(description=_("Take out of service for maintenance"), permissions=["change"])
    def take_out_of_service(self, request: HttpRequest, queryset: QuerySet[Asset]) -> None:
        n = services.assets_take_out_of_service(
            asset_ids=list(queryset.values_list("pk", flat=True)),
            # Stored on the asset and shown to everyone as written: data, not translated.
            reason=f"Maintenance (set by {request.user.get_username()})",
        )
        self.message_user(
            request,
            ngettext(
                "%(count)d asset out of service: its alerts are suppressed.",
                "%(count)d assets out of service: their alerts are suppressed.",
                n,
            )
            % {"count": n},
        )

    @admin.action(description=_("Return to service"), permissions=["change"])
    def return_to_service(self, request: HttpRequest, queryset: QuerySet[Asset]) -> None:
        n = services.assets_return_to_service(asset_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(
            request,
            ngettext("%(count)d asset back in service.", "%(count)d assets back in service.", n)
            % {"count": n},
        )


@admin.register(Signal)
class SignalAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "slug",
        "asset",
        "unit",
        "expected_min",
        "expected_max",
        "sampling_interval_s",
    ]
    list_filter = ["unit", "asset__asset_type", "asset__line"]
    search_fields = ["name", "slug", "asset__name", "asset__slug"]
    list_select_related = ["asset", "asset__line"]
    prepopulated_fields = {"slug": ["name"]}
