from django.urls import path

from plantops.alerts import views

urlpatterns = [
    path("api/alerts", views.api_alerts, name="api-alerts"),
]
