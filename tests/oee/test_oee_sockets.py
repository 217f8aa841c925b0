"""The OEE screens' WebSockets: the whole screen on connect, then the coalesced pushes."""

from __future__ import annotations

import asyncio

import pytest
from channels.db import database_sync_to_async
from django.utils import translation

from plantops.oee import services
from plantops.oee.models import StopReason
from tests.oee.test_screens import line_with_a_stop  # noqa: F401 - a fixture
from tests.sockets import communicator, session_cookie

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_a_line_socket_gets_its_screen_on_connect_and_each_push(line_with_a_stop):  # noqa: F811
    asset, stop = line_with_a_stop
    cookie = session_cookie()

    async def scenario():
        ws = communicator(f"/ws/lines/{asset.line_id}/oee/", cookie=cookie)
        connected, _ = await ws.connect()
        assert connected
        first = await ws.receive_json_from(timeout=10)
        # An operator explains the stop elsewhere; the push brings the new screen. Through
        # the service, as the tablet does: it also drops the hour snapshots the stop is in,
        # which exist once that hour has closed.
        await database_sync_to_async(
            lambda: services.stop_reason_assign(
                event=stop, reason=StopReason.objects.get(code="jam"), user=None
            )
        )()
        await database_sync_to_async(services.oee_push_line)(line_id=asset.line_id)
        second = await ws.receive_json_from(timeout=10)
        await ws.disconnect()
        return first, second

    first, second = asyncio.run(scenario())
    assert first["type"] == second["type"] == "oee.screen"
    assert [s["id"] for s in first["screen"]["stops"]] == [stop.pk]
    assert second["screen"]["stops"] == []
    assert second["screen"]["pareto"][0]["code"] == "jam"


def test_each_viewer_gets_the_line_s_screen_in_their_own_language(line_with_a_stop):  # noqa: F811
    asset, _ = line_with_a_stop
    cookie = session_cookie()

    def push_in_english():
        with translation.override("en"):
            services.oee_push_line(line_id=asset.line_id)

    async def scenario():
        german = communicator(f"/ws/lines/{asset.line_id}/oee/", cookie=cookie, language="de")
        english = communicator(f"/ws/lines/{asset.line_id}/oee/", cookie=cookie)
        assert (await german.connect())[0]
        assert (await english.connect())[0]
        snapshots = [await ws.receive_json_from(timeout=10) for ws in (german, english)]
        await database_sync_to_async(push_in_english)()
        pushes = [await ws.receive_json_from(timeout=10) for ws in (german, english)]
        for ws in (german, english):
            await ws.disconnect()
        return snapshots, pushes

    snapshots, pushes = asyncio.run(scenario())

    def words(message):
        screen = message["screen"]
        return (
            [stop["state_label"] for stop in screen["stops"]],
            [bar["label"] for bar in screen["pareto"]],
            screen["figures"]["pareto"]["data"][0]["y"],
            screen["figures"]["hourly"]["layout"]["xaxis"]["title"]["text"].split(" ")[0],
        )

    german = (["Störung"], ["Noch nicht begründet"], ["Noch nicht begründet"], "Zeit")
    english = (["Down"], ["Not explained yet"], ["Not explained yet"], "Time")
    assert [words(message) for message in snapshots] == [german, english]
    assert [words(message) for message in pushes] == [german, english]
    assert pushes[0]["screen"]["stops"][0]["state"] == "down"  # the code stays as it is


def test_the_board_socket_and_an_unknown_line(line_with_a_stop):  # noqa: F811
    asset, _ = line_with_a_stop
    cookie = session_cookie()

    async def scenario():
        board = communicator("/ws/oee/", cookie=cookie)
        assert (await board.connect())[0]
        snapshot = await board.receive_json_from(timeout=10)
        await database_sync_to_async(services.oee_push_board)()
        pushed = await board.receive_json_from(timeout=10)
        await board.disconnect()
        gone = communicator("/ws/lines/999999/oee/", cookie=cookie)
        refused = await gone.connect()
        await gone.disconnect()
        return snapshot, pushed, refused

    snapshot, pushed, refused = asyncio.run(scenario())
    assert snapshot["type"] == pushed["type"] == "oee.board"
    assert [line["id"] for line in pushed["lines"]] == [asset.line_id]
    assert refused == (False, 4404)
