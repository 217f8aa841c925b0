"""Sessions on shared tablets: roles on sockets, the idle timeout, and sockets closed when
their session ends (logout, idle, deactivation)."""

from __future__ import annotations

import asyncio
import time

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings as django_settings
from django.contrib.auth.models import User
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client

from plantops.core.sessions import BACKGROUND_HEADER, LAST_SEEN_KEY
from tests.factories import logged_in, make_asset, make_user
from tests.sockets import communicator, session_cookie

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

SOCKETS = ["/ws/alerts/?after=0", "/ws/floor/"]


def cookie_of(client: Client) -> str:
    return client.cookies[django_settings.SESSION_COOKIE_NAME].value


async def closed_with(ws: WebsocketCommunicator, timeout: float = 5) -> int:
    """Read what the server sends until it closes the socket; its close code."""
    while True:
        output = await ws.receive_output(timeout=timeout)
        if output["type"] == "websocket.close":
            return output.get("code", 1000)


async def open_socket(path: str, cookie: str) -> WebsocketCommunicator:
    ws = communicator(path, cookie=cookie)
    connected, code = await ws.connect()
    assert connected, code
    await ws.receive_json_from(timeout=5)  # the snapshot, or the first catch-up message
    return ws


@pytest.mark.parametrize("path", SOCKETS)
def test_a_user_without_a_role_is_refused_a_socket(path):
    cookie = session_cookie(role=None)

    async def scenario():
        ws = communicator(path, cookie=cookie)
        result = await ws.connect()
        await ws.disconnect()
        return result

    assert asyncio.run(scenario()) == (False, 4403)


def test_logging_out_closes_that_sessions_sockets_and_no_other():
    make_asset()
    olga = make_user(role="operator", username="olga")
    tablet, phone = logged_in(olga), logged_in(olga)

    async def scenario():
        alerts = await open_socket(SOCKETS[0], cookie_of(tablet))
        floor = await open_socket(SOCKETS[1], cookie_of(tablet))
        other = await open_socket(SOCKETS[1], cookie_of(phone))
        await database_sync_to_async(tablet.post)("/logout/")
        codes = [await closed_with(alerts), await closed_with(floor)]
        still_open = await other.receive_nothing(timeout=0.5)
        for ws in (alerts, floor, other):
            await ws.disconnect()
        return codes, still_open

    codes, still_open = asyncio.run(scenario())
    assert codes == [4401, 4401]
    assert still_open


def test_deactivating_a_user_closes_their_sockets_and_refuses_new_ones():
    olga = make_user(role="operator", username="olga")
    cookie = cookie_of(logged_in(olga))

    def deactivate():
        user = User.objects.get(pk=olga.pk)
        user.is_active = False
        user.save()

    async def scenario():
        ws = await open_socket(SOCKETS[0], cookie)
        await database_sync_to_async(deactivate)()
        code = await closed_with(ws)
        await ws.disconnect()
        again = communicator(SOCKETS[0], cookie=cookie)
        refused = await again.connect()
        await again.disconnect()
        return code, refused

    code, refused = asyncio.run(scenario())
    assert code == 4401
    assert refused == (False, 4401)


def set_last_seen(cookie: str, seconds_ago: float) -> None:
    session = SessionStore(session_key=cookie)
    session[LAST_SEEN_KEY] = time.time() - seconds_ago
    session.save()


def test_an_idle_session_signs_out_on_the_next_request_and_says_why(settings):
    settings.SESSION_IDLE_TIMEOUT_S = 600
    client = logged_in(make_user(role="operator", username="olga"))
    assert client.get("/").status_code == 200
    set_last_seen(cookie_of(client), 601)

    response = client.get("/", follow=True)

    assert response.redirect_chain[-1][0].startswith("/login/")
    assert "Signed out after 10 minutes without use." in response.text
    assert client.get("/").status_code == 302  # still signed out


def test_only_what_a_person_does_moves_the_idle_clock(settings):
    settings.SESSION_IDLE_TIMEOUT_S = 600
    client = logged_in(make_user(role="operator", username="olga"))
    client.get("/")
    set_last_seen(cookie_of(client), 300)
    before = SessionStore(session_key=cookie_of(client))[LAST_SEEN_KEY]

    client.get("/alerts/panel", headers={BACKGROUND_HEADER: "1"})
    assert SessionStore(session_key=cookie_of(client))[LAST_SEEN_KEY] == before

    client.get("/")
    assert SessionStore(session_key=cookie_of(client))[LAST_SEEN_KEY] > before + 299


def test_an_open_socket_closes_once_its_session_has_gone_idle(settings):
    settings.SESSION_IDLE_TIMEOUT_S = 600
    settings.SESSION_RECHECK_S = 0.2
    client = logged_in(make_user(role="operator", username="olga"))
    client.get("/")
    cookie = cookie_of(client)

    async def scenario():
        ws = await open_socket(SOCKETS[1], cookie)
        await database_sync_to_async(set_last_seen)(cookie, 601)
        code = await closed_with(ws)
        await ws.disconnect()
        return code

    assert asyncio.run(scenario()) == 4401


@pytest.mark.parametrize("change", ["role taken away", "new password"])
def test_an_open_socket_closes_when_its_role_or_password_changes(settings, change):
    settings.SESSION_RECHECK_S = 0.2
    olga = make_user(role="operator", username="olga")
    cookie = cookie_of(logged_in(olga))

    def apply() -> None:
        user = User.objects.get(pk=olga.pk)
        if change == "role taken away":
            user.groups.clear()
        else:
            user.set_password("a-new-long-password-47")
            user.save()

    async def scenario():
        ws = await open_socket(SOCKETS[0], cookie)
        await database_sync_to_async(apply)()
        code = await closed_with(ws)
        await ws.disconnect()
        return code

    assert asyncio.run(scenario()) == 4401


def test_no_idle_timeout_for_wall_displays(settings):
    settings.SESSION_IDLE_TIMEOUT_S = 0
    client = logged_in(make_user(role="operator", username="wall"))
    client.get("/")
    set_last_seen(cookie_of(client), 10 * 86400)
    assert client.get("/").status_code == 200
