"""The MCP server over streamable HTTP at /mcp, beside Django in the same ASGI application.

Each request carries its own `Authorization: Bearer <API token>`: without a valid one it is
answered 401 before the MCP SDK sees it, and the tools act as that token's user. The SDK runs
stateless with JSON responses, one session manager per request: nothing is kept between
requests, so any web process behind the load balancer can answer any request, and nothing
needs the ASGI lifespan events daphne does not send. As Django does for its own requests,
each request gets a thread of its own for the ORM, so one slow tool call holds up no other.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.conf import settings
from django.db import connections
from django.http.request import split_domain_port, validate_host
from mcp.server.transport_security import TransportSecuritySettings
from starlette.datastructures import Headers

from plantops.api.mcp import caller_header, server
from plantops.core.auth import TokenRefused, token_user

PATH = "/mcp"

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

# The SDK's own Host and Origin checks guard servers that take no credentials; this one takes
# a bearer token no other page holds, and its Host is checked against ALLOWED_HOSTS as
# Django checks it.
_TRANSPORT = TransportSecuritySettings(enable_dns_rebinding_protection=False)


def with_mcp(app: App) -> App:
    """`app` for every HTTP request but those to /mcp, which the MCP server answers."""

    async def route(scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and (path == PATH or path.startswith(PATH + "/")):
            await mcp_endpoint(scope, receive, send)
        else:
            await app(scope, receive, send)

    return route


async def _answer(send: Send, status: int, detail: str, headers: list | None = None) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _authenticate(header: str) -> None:
    try:
        token_user(header, "GET")
    finally:
        connections.close_all()


async def mcp_endpoint(scope: Scope, receive: Receive, send: Send) -> None:
    """One MCP request: the host and the token checked, then the SDK's answer."""
    headers = Headers(scope=scope)
    domain, _ = split_domain_port(headers.get("host", ""))
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        await _answer(send, 400, "This host is not one PlantOps serves (ALLOWED_HOSTS).")
        return
    header = headers.get("authorization", "")
    challenge = [(b"www-authenticate", b'Bearer realm="PlantOps"')]
    if not header.startswith("Bearer "):
        await _answer(send, 401, "Send an API token: Authorization: Bearer <token>.", challenge)
        return
    async with ThreadSensitiveContext():
        try:
            await sync_to_async(_authenticate, thread_sensitive=True)(header)
        except TokenRefused as refused:
            await _answer(send, 401, str(refused), challenge)
            return
        token = caller_header.set(header)
        try:
            app = server.streamable_http_app(
                streamable_http_path=PATH,
                stateless_http=True,
                json_response=True,
                transport_security=_TRANSPORT,
            )
            async with app.router.lifespan_context(app):
                await app(scope, receive, send)
        finally:
            caller_header.reset(token)
