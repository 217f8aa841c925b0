from django.urls import path

from plantops.oee import views

app_name = "oee"
urlpatterns = [
    path("api/oee", views.api_oee, name="api"),
]
