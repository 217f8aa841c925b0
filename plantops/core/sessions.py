"""Sessions on shared tablets: an idle timeout, and live sockets closed when a session ends.

A tablet passes from hand to hand, so a session ends after `SESSION_IDLE_TIMEOUT_S` without
anyone using it, besides Django's absolute limit (`SESSION_COOKIE_AGE`). Only what a person
does counts as use: the refreshes a live page makes by itself send `X-PlantOps-Background`
and leave the clock alone, so an unattended tablet does time out.

A socket outlives the request that opened it. Each joins its session's and its user's group
(`session_group`, `user_group`); logging out, an idle timeout or a deactivated account sends
`session.end` there and the sockets close (4401), and each socket also checks its session
every `SESSION_RECHECK_S`, which catches what a lost push would miss.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.utils.translation import ngettext

from plantops.core.realtime import send_now, send_on_commit

LAST_SEEN_KEY = "plantops_last_seen"
BACKGROUND_HEADER = "X-PlantOps-Background"
# A session is written at most this often just to move its clock (not on every request).
TOUCH_EVERY_S = 60
SESSION_END = {"type": "session.end"}


def session_group(session_key: str) -> str:
    """The Channels group of one session's sockets (a digest: keys never leave the database)."""
    return "session." + hashlib.sha256(session_key.encode()).hexdigest()[:40]


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def idle_for(session: Any, now: float) -> float:
    """Seconds since the session was last used by a person (0 if never recorded)."""
    last = session.get(LAST_SEEN_KEY)
    return now - last if isinstance(last, int | float) else 0.0


def is_idle(session: Any, now: float | None = None) -> bool:
    """Whether the session has gone unused past the idle timeout (0: no idle timeout, for a
    plant whose screens are wall displays)."""
    timeout = settings.SESSION_IDLE_TIMEOUT_S
    return bool(timeout) and idle_for(session, time.time() if now is None else now) > timeout


class IdleTimeoutMiddleware:
    """Log out a session unused for longer than the idle timeout; note each use."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = time.time()
            if is_idle(request.session, now):
                minutes = round(settings.SESSION_IDLE_TIMEOUT_S / 60)
                logout(request)  # sends user_logged_out: the session's sockets close
                messages.info(
                    request,
                    ngettext(
                        "Signed out after %(minutes)d minute without use.",
                        "Signed out after %(minutes)d minutes without use.",
                        minutes,
                    )
                    % {"minutes": minutes},
                )
            elif LAST_SEEN_KEY not in request.session or (
                not request.headers.get(BACKGROUND_HEADER)
                and idle_for(request.session, now) >= TOUCH_EVERY_S
            ):
                request.session[LAST_SEEN_KEY] = now
        return self.get_response(request)


def close_session_sockets(sender: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
    """`user_logged_out`: close the sockets that session opened."""
    key = getattr(getattr(request, "session", None), "session_key", None)
    if key:
        send_now([(session_group(key), SESSION_END)])


def close_user_sockets_if_deactivated(
    sender: Any, instance: Any, created: bool = False, **kwargs: Any
) -> None:
    """A user's `post_save`: a deactivated account's sockets close at once."""
    if not created and not instance.is_active:
        send_on_commit([(user_group(instance.pk), SESSION_END)])
