"""The tablets' WebSockets in tests: a logged-in session, and a socket through the real ASGI
stack that presents it."""

from __future__ import annotations

from channels.testing import WebsocketCommunicator
from django.conf import settings

from plantops.asgi import application
from tests.factories import logged_in, make_user


def session_cookie(role: str | None = "operator") -> str:
    """The session cookie of a new user in `role` (None: no role at all), logged in."""
    return logged_in(make_user(role=role)).cookies[settings.SESSION_COOKIE_NAME].value


def communicator(
    path: str, *, cookie: str | None, origin: str = "http://localhost"
) -> WebsocketCommunicator:
    headers = [(b"origin", origin.encode()), (b"host", b"localhost")]
    if cookie:
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode()))
    return WebsocketCommunicator(application, path, headers=headers)
