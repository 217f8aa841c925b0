"""The WebSocket origin check: a socket is opened only by a page of this very site.

Channels' `AllowedHostsOriginValidator` compares the Origin's host with ALLOWED_HOSTS and
ignores scheme and port, so a page served by another program on the same host (another
port) could open a socket with the user's cookie. Here the Origin must equal this site's own
origin as the browser sees it (scheme, host and port of the request, `https` when the TLS
proxy says so through `SECURE_PROXY_SSL_HEADER`), or one of `CSRF_TRUSTED_ORIGINS`, and the
host must be allowed.
"""

from __future__ import annotations

from typing import Any

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host


def _header(scope: dict[str, Any], name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


def site_origin(scope: dict[str, Any]) -> str | None:
    """This site's origin as the browser that opened the socket sees it, from its Host."""
    host = _header(scope, b"host")
    if not host:
        return None
    secure = scope.get("scheme") == "wss"
    proxy = settings.SECURE_PROXY_SSL_HEADER
    if proxy:
        name, value = proxy
        # "HTTP_X_FORWARDED_PROTO" → b"x-forwarded-proto"
        header = name.removeprefix("HTTP_").replace("_", "-").lower().encode()
        secure = secure or _header(scope, header) == value
    return f"{'https' if secure else 'http'}://{host.lower()}"


def origin_allowed(scope: dict[str, Any]) -> bool:
    origin = _header(scope, b"origin")
    own = site_origin(scope)
    if not origin or own is None:
        return False
    domain, _ = split_domain_port(own.split("://", 1)[1])
    if not validate_host(domain, settings.ALLOWED_HOSTS):
        return False
    origin = origin.lower()
    return origin == own or origin in {o.lower() for o in settings.CSRF_TRUSTED_ORIGINS}


class SameOriginValidator:
    """ASGI middleware: refuse (403 at the handshake) a socket from any other origin."""

    def __init__(self, application: Any) -> None:
        self.application = application

    async def __call__(self, scope: dict, receive: Any, send: Any) -> Any:
        if scope["type"] == "websocket" and not origin_allowed(scope):
            return await WebsocketDenier()(scope, receive, send)
        return await self.application(scope, receive, send)
