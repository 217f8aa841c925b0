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
    path: str, *, cookie: str | None, origin: str = "http://localhost", language: str = ""
) -> WebsocketCommunicator:
    """A socket to `path` with the session `cookie`, and the language cookie's `language`."""
    headers = [(b"origin", origin.encode()), (b"host", b"localhost")]
    cookies = [f"{settings.SESSION_COOKIE_NAME}={cookie}"] if cookie else []
    if language:
        cookies.append(f"{settings.LANGUAGE_COOKIE_NAME}={language}")
    if cookies:
        headers.append((b"cookie", "; ".join(cookies).encode()))
    return WebsocketCommunicator(application, path, headers=headers)
