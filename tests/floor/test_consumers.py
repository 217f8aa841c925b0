"""The tablets' WebSockets through the real ASGI stack: origin check, login, live updates."""

from __future__ import annotations

import asyncio

import pytest

from plantops.core.time import now_us, us_to_datetime
from plantops.floor import live
from plantops.pipeline.services import batch_store
from plantops.telemetry.models import Reading
from tests.factories import make_asset, make_batch
from tests.sockets import communicator, session_cookie

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_it_refuses_an_anonymous_socket():
    async def scenario():
        ws = communicator("/ws/floor/", cookie=None)
        connected, code = await ws.connect()
        await ws.disconnect()
        return connected, code

    assert asyncio.run(scenario()) == (False, 4401)


def test_it_refuses_a_socket_from_another_origin():
    cookie = session_cookie()

    async def scenario():
        ws = communicator("/ws/floor/", cookie=cookie, origin="http://evil.example")
        connected, _ = await ws.connect()
        await ws.disconnect()
        return connected

    assert asyncio.run(scenario()) is False


def test_it_sends_a_snapshot_then_the_points_of_a_stored_batch_then_its_tile():
    asset = make_asset()
    signal = asset.signals.get(slug="vibration")
    cookie = session_cookie()
    t = now_us()

    async def scenario():
        asset_ws = communicator(f"/ws/assets/{asset.pk}/", cookie=cookie)
        floor_ws = communicator("/ws/floor/", cookie=cookie)
        assert (await asset_ws.connect())[0]
        assert (await floor_ws.connect())[0]
        asset_snapshot = await asset_ws.receive_json_from(timeout=5)
        floor_snapshot = await floor_ws.receive_json_from(timeout=5)
        await asyncio.to_thread(batch_store, batch=make_batch(readings=[(signal.pk, t, 4.25)]))
        points_update = await asset_ws.receive_json_from(timeout=5)
        # What the floor.push_touched_tiles task does within FLOOR_TILE_PUSH_EVERY_S.
        await asyncio.to_thread(live.tiles_push_touched)
        tile_update = await asset_ws.receive_json_from(timeout=5)
        floor_update = await floor_ws.receive_json_from(timeout=5)
        await asset_ws.disconnect()
        await floor_ws.disconnect()
        return asset_snapshot, floor_snapshot, points_update, tile_update, floor_update

    asset_snapshot, floor_snapshot, points_update, tile_update, floor_update = asyncio.run(
        scenario()
    )
    assert asset_snapshot["type"] == "asset.snapshot"
    assert asset_snapshot["tile"]["status"] == "no_data"
    assert floor_snapshot["type"] == "floor.snapshot"
    assert points_update["points"] == {"vibration": [[t // 1000, 4.25]]}
    assert points_update["tile"] is None
    assert tile_update["tile"]["status"] == "running"
    assert [tile["id"] for tile in floor_update["tiles"]] == [asset.pk]


def test_a_reported_state_sends_the_tile_with_the_batch():
    asset = make_asset()
    cookie = session_cookie()

    async def scenario():
        ws = communicator(f"/ws/assets/{asset.pk}/", cookie=cookie)
        assert (await ws.connect())[0]
        await ws.receive_json_from(timeout=5)
        batch = make_batch(states=[(asset.pk, now_us(), "down", "jam")])
        await asyncio.to_thread(batch_store, batch=batch)
        update = await ws.receive_json_from(timeout=5)
        await ws.disconnect()
        return update

    update = asyncio.run(scenario())
    # The machine sent its code; the tablet shows the reason's words.
    assert (update["tile"]["status"], update["tile"]["state_reason"]) == ("down", "Jam")


def test_it_replays_the_points_a_reconnecting_tablet_missed():
    asset = make_asset()
    signal = asset.signals.get(slug="vibration")
    cookie = session_cookie()
    t = now_us()
    Reading.objects.bulk_create(
        [
            Reading(signal=signal, ts=us_to_datetime(t - i * 1_000_000), value=float(i))
            for i in range(5)
        ]
    )
    seen_ms = (t - 3_000_000) // 1000  # the page has points up to 3 s ago

    async def scenario():
        ws = communicator(f"/ws/assets/{asset.pk}/", cookie=cookie)
        assert (await ws.connect())[0]
        await ws.receive_json_from(timeout=5)  # snapshot
        await ws.send_json_to({"type": "resume", "since_ms": seen_ms})
        reply = await ws.receive_json_from(timeout=5)
        await ws.disconnect()
        return reply

    reply = asyncio.run(scenario())
    assert reply["catch_up"] is True
    assert [value for _, value in reply["points"]["vibration"]] == [2.0, 1.0, 0.0]


def test_it_closes_a_socket_for_an_unknown_asset():
    cookie = session_cookie()

    async def scenario():
        ws = communicator("/ws/assets/999999/", cookie=cookie)
        result = await ws.connect()
        await ws.disconnect()
        return result

    assert asyncio.run(scenario()) == (False, 4404)


def test_it_answers_bad_frames_with_an_error_and_stays_open():
    asset = make_asset()
    cookie = session_cookie()

    async def scenario():
        ws = communicator(f"/ws/assets/{asset.pk}/", cookie=cookie)
        assert (await ws.connect())[0]
        await ws.receive_json_from(timeout=5)  # snapshot
        replies = []
        for frame in (
            "not json",
            "[1, 2]",
            '{"type": "resume", "since_ms": 1e999}',
            '{"type": "resume"}',
        ):
            await ws.send_to(text_data=frame)
            replies.append(await ws.receive_json_from(timeout=5))
        await ws.send_json_to({"type": "resume", "since_ms": 0})
        replies.append(await ws.receive_json_from(timeout=5))
        await ws.disconnect()
        return replies

    replies = asyncio.run(scenario())
    assert [reply["type"] for reply in replies] == [
        "error",
        "error",
        "error",
        "error",
        "asset.update",
    ]


def test_the_periodic_refresh_turns_a_silent_asset_grey_on_open_floor_views():
    from datetime import timedelta

    from plantops.floor.tasks import push_floor_tiles
    from plantops.telemetry.models import LatestReading

    asset = make_asset()
    signal = asset.signals.get(slug="vibration")
    LatestReading.objects.create(
        signal=signal, ts=us_to_datetime(now_us()) - timedelta(minutes=5), value=1.0
    )
    cookie = session_cookie()

    async def scenario():
        ws = communicator("/ws/floor/", cookie=cookie)
        assert (await ws.connect())[0]
        await ws.receive_json_from(timeout=5)  # snapshot
        await asyncio.to_thread(push_floor_tiles)
        update = await ws.receive_json_from(timeout=5)
        await ws.disconnect()
        return update

    update = asyncio.run(scenario())
    tile = next(t for t in update["tiles"] if t["id"] == asset.pk)
    assert tile["status"] == "no_data"
