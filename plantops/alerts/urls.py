from django.urls import path

from plantops.alerts import views

urlpatterns = [
    path("api/alerts", views.api_alerts, name="api-alerts"),
    path("alerts/", views.inbox, name="alerts-inbox"),
    path("alerts/kpis/", views.alarm_kpis, name="alerts-kpis"),
    path("alerts/panel", views.line_panel, name="alerts-panel"),
    path("alerts/acknowledge", views.inbox_acknowledge, name="alerts-acknowledge"),
    path("alerts/shelve", views.inbox_shelve, name="alerts-shelve"),
    path("alerts/unshelve", views.inbox_unshelve, name="alerts-unshelve"),
    path("alerts/assign", views.inbox_assign, name="alerts-assign"),
    path("alerts/comment", views.inbox_comment, name="alerts-comment"),
]
