from django.urls import path

from plantops.floor import me, views

app_name = "floor"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("assets/<int:asset_id>/", views.asset_detail, name="asset"),
    path("assets/<int:asset_id>/trend", views.asset_trend, name="asset_trend"),
    path("work/report/", views.report_pick_asset, name="report_asset"),
    path("me/", me.my_settings, name="my_settings"),
]
