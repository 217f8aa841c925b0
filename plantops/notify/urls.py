from django.urls import path

from plantops.notify import views

app_name = "notify"

urlpatterns = [
    path("alerts/<int:alert_id>/", views.alert_link, name="alert"),
    path("notifications/ack/<str:token>/", views.acknowledge, name="acknowledge"),
    path("notifications/", views.subscriptions, name="subscriptions"),
]
