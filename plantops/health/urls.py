from django.urls import path

from plantops.health import views

app_name = "health"
urlpatterns = [
    path("assets/<int:asset_id>/health.json", views.asset_health_json, name="asset_json"),
    path("health/models/fit", views.fit_start, name="fit_start"),
]
