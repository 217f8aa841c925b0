from django.urls import path

from plantops.health import consumers

websocket_urlpatterns = [
    path("ws/health/fits/", consumers.FitRunConsumer.as_asgi()),
]
