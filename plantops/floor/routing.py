from django.urls import path

from plantops.floor import consumers

websocket_urlpatterns = [
    path("ws/floor/", consumers.FloorConsumer.as_asgi()),
    path("ws/assets/<int:asset_id>/", consumers.AssetConsumer.as_asgi()),
    path("ws/lines/<int:line_id>/oee/", consumers.LineOeeConsumer.as_asgi()),
    path("ws/oee/", consumers.OeeBoardConsumer.as_asgi()),
]
