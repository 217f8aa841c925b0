from django.contrib import admin

from plantops.assets.models import Area, Asset, Line, Signal, Site


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


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "timezone"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [AreaInline]


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
    inlines = [AssetInline]


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
    ]
    list_filter = ["asset_type", "line__area__site", "line__area", "line", "state"]
    search_fields = ["name", "slug", "line__name"]
    list_select_related = ["line"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["state", "state_reason", "state_since"]
    fieldsets = [
        (
            None,
            {"fields": ["line", "position", "slug", "name", "asset_type", "ideal_cycle_time_s"]},
        ),
        ("Reported by the machine", {"fields": ["state", "state_reason", "state_since"]}),
    ]
    inlines = [SignalInline]


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
