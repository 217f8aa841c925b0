from django.urls import path

from plantops.alerts import consumers

websocket_urlpatterns = [
    path("ws/alerts/", consumers.AlertConsumer.as_asgi()),
]
