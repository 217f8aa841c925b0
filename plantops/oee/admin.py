from django.contrib import admin

from plantops.oee.models import CountEvent, StateEvent


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
