from django.urls import path

from plantops.oee import views

app_name = "oee"
urlpatterns = [
    path("api/oee", views.api_oee, name="api"),
    path("oee/", views.board_page, name="board"),
    path("lines/<int:line_id>/oee/", views.line_page, name="line"),
    path("lines/<int:line_id>/oee.json", views.line_screen_json, name="line_json"),
    path("lines/<int:line_id>/oee/report/", views.shift_report_page, name="shift_report"),
    path(
        "lines/<int:line_id>/stops/<int:event_id>/reason", views.stop_reason_set, name="stop_reason"
    ),
    path("lines/<int:line_id>/scrap", views.scrap_add, name="scrap"),
]
