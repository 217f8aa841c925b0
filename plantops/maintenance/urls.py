from django.urls import path

from plantops.maintenance import views

app_name = "maintenance"
urlpatterns = [
    path("api/workorders", views.api_work_orders, name="api"),
    path("work/", views.work_list, name="list"),
    path("work/<int:work_order_id>/", views.work_detail, name="detail"),
    path("work/<int:work_order_id>/move", views.work_move, name="move"),
    path("work/<int:work_order_id>/schedule", views.work_schedule, name="schedule"),
    path(
        "work/<int:work_order_id>/checklist/<int:item_id>",
        views.work_checklist,
        name="checklist",
    ),
    path("work/<int:work_order_id>/parts", views.work_parts, name="parts"),
    path("work/<int:work_order_id>/note", views.work_note, name="note"),
    path("work/<int:work_order_id>/photos", views.work_photo_add, name="photo_add"),
    path("work/<int:work_order_id>/photos/<int:photo_id>", views.work_photo, name="photo"),
    path("work/<int:work_order_id>/complete", views.work_complete, name="complete"),
    path("work/from-alert/<int:alert_id>", views.work_from_alert, name="from_alert"),
    path("work/from-prediction/<int:asset_id>", views.work_from_prediction, name="from_prediction"),
    path("work/report/<int:asset_id>/", views.report, name="report"),
    path("alerts/rules/", views.alert_rules, name="rules"),
    path("health/models/", views.model_health, name="model_health"),
    path("work/kpis/", views.maintenance_kpis, name="kpis"),
]
