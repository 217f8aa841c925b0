from django.urls import path

from plantops.maintenance import views

app_name = "maintenance"
urlpatterns = [
    path("api/workorders", views.api_work_orders, name="api"),
]
