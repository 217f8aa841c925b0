"""The base of every WebSocket: a signed-in user with the right permission, for as long as
their session lasts.

A socket is refused (closed before it is accepted) without a login (4401) or without the
consumer's `permission` (4403). Once open, it closes with 4401 when its session ends: on
logout, idle timeout or deactivation (`core.sessions`), checked again every
`SESSION_RECHECK_S` in case a push was lost. The browser then goes to the login page.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from importlib import import_module
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.http import HttpRequest
from django.utils import translation
from django.utils.crypto import constant_time_compare

from plantops.core.sessions import is_idle, session_group, user_group

logger = logging.getLogger(__name__)

CLOSE_BAD_REQUEST = 4400
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404


def socket_language(scope: dict[str, Any]) -> str:
    """The language a page would be shown in to the browser that opened this socket, chosen as
    Django chooses a page's: the language cookie, else Accept-Language, else the plant's. A
    push made once for every viewer (by a worker, in its language) is worded again in it."""
    request = HttpRequest()
    request.COOKIES = dict(scope.get("cookies") or {})
    headers = dict(scope.get("headers") or [])
    request.META["HTTP_ACCEPT_LANGUAGE"] = headers.get(b"accept-language", b"").decode("latin-1")
    return translation.get_language_from_request(request)


def still_signed_in(session_key: str | None, user_id: int, permission: str = "") -> bool:
    """Whether the session still exists, belongs to the user, is not idle and was made with
    the user's current password, and the user is still active and holds `permission`."""
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None or (permission and not user.has_perm(permission)):
        return False
    if session_key:
        data = import_module(settings.SESSION_ENGINE).SessionStore(session_key).load()
        if data.get(SESSION_KEY) != str(user_id) or is_idle(data):
            return False
        if data.get(HASH_SESSION_KEY) and not constant_time_compare(
            data[HASH_SESSION_KEY], user.get_session_auth_hash()
        ):
            return False  # the password changed since: Django ends such sessions too
    return True


class SignedInConsumer(AsyncJsonWebsocketConsumer):
    """Subclasses set `permission` and implement `opened()`: accept (or close) and send
    their first message."""

    permission: str = ""

    async def connect(self) -> None:
        self.guard_groups: list[str] = []
        self.recheck: asyncio.Task | None = None
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        session = self.scope.get("session")
        self.session_key = getattr(session, "session_key", None)
        self.user_id = user.pk
        if not await database_sync_to_async(still_signed_in)(self.session_key, user.pk):
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        if self.permission and not await database_sync_to_async(user.has_perm)(self.permission):
            await self.close(code=CLOSE_FORBIDDEN)
            return

        self.guard_groups = [user_group(user.pk)]
        if self.session_key:
            self.guard_groups.append(session_group(self.session_key))
        for group in self.guard_groups:
            await self.channel_layer.group_add(group, self.channel_name)
        self.recheck = asyncio.create_task(self._recheck())
        await self.opened()

    async def opened(self) -> None:
        raise NotImplementedError

    async def disconnect(self, code: int) -> None:
        if getattr(self, "recheck", None) is not None:
            self.recheck.cancel()
        for group in getattr(self, "guard_groups", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def session_end(self, message: dict[str, Any]) -> None:
        await self.close(code=CLOSE_UNAUTHENTICATED)

    async def _recheck(self) -> None:
        """Close the socket once its session or role has gone; a failed check (the database
        away) is logged and tried again at the next round."""
        with contextlib.suppress(asyncio.CancelledError):
            while True:
                await asyncio.sleep(settings.SESSION_RECHECK_S)
                try:
                    alive = await database_sync_to_async(still_signed_in)(
                        self.session_key, self.user_id, self.permission
                    )
                except Exception:
                    logger.warning("could not check a socket's session", exc_info=True)
                    continue
                if not alive:
                    await self.close(code=CLOSE_UNAUTHENTICATED)
                    return
