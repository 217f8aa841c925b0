import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "plantops.settings")
# Django must be set up before the consumers (and their models) are imported.
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402

from plantops.alerts.routing import websocket_urlpatterns as alert_sockets  # noqa: E402
from plantops.api.mcp_http import with_mcp  # noqa: E402
from plantops.core.body_limit import BodySizeLimit  # noqa: E402
from plantops.core.origins import SameOriginValidator  # noqa: E402
from plantops.floor.routing import websocket_urlpatterns as floor_sockets  # noqa: E402
from plantops.health.routing import websocket_urlpatterns as health_sockets  # noqa: E402

application = ProtocolTypeRouter(
    {
        # A photo and its form, no more: larger bodies are refused before Django spools them.
        # /mcp is the MCP server over streamable HTTP, with a bearer token (plantops.api.mcp_http).
        "http": with_mcp(BodySizeLimit(django_asgi_app, max_bytes=settings.UPLOAD_MAX_BYTES)),
        # Only this site's own origin (scheme, host, port): no other page, not even one on
        # another port of the same host, opens a socket with the user's cookie.
        "websocket": SameOriginValidator(
            AuthMiddlewareStack(URLRouter(floor_sockets + alert_sockets + health_sockets))
        ),
    }
)
