"""The alert socket through the real ASGI stack: replay after an id, live events, lost ones."""

from __future__ import annotations

import asyncio

import pytest
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.db import connection

from plantops.alerts.models import AlertEvent, AlertRule
from plantops.alerts.sweep import alerts_sweep
from plantops.core import realtime
from plantops.core.time import now_us
from plantops.pipeline.services import batch_store
from tests.factories import make_asset, make_batch, make_rule
from tests.sockets import communicator, session_cookie

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

S = 1_000_000


def motor_rule() -> AlertRule:
    return make_rule(name="Motor vibration", asset_type="motor", signal_slug="vibration")


def store(signal_id: int, ts_us: int, value: float) -> None:
    batch_store(batch=make_batch(readings=[(signal_id, ts_us, value)]))


def in_thread(function, *args) -> None:
    """Run a write as the telemetry worker would, in its own thread and connection."""
    try:
        function(*args)
    finally:
        connection.close()


def event_ids() -> list[int]:
    return list(AlertEvent.objects.order_by("id").values_list("id", flat=True))


async def receive_until_caught_up(ws: WebsocketCommunicator) -> tuple[list[dict], dict]:
    events = []
    while True:
        message = await ws.receive_json_from(timeout=5)
        if message["type"] == "alert.caught_up":
            return events, message
        assert message["type"] == "alert.event"
        events.append(message["event"])


def test_it_closes_an_anonymous_socket():
    async def scenario():
        ws = communicator("/ws/alerts/?after=0", cookie=None)
        result = await ws.connect()
        await ws.disconnect()
        return result

    assert asyncio.run(scenario()) == (False, 4401)


def test_it_replays_exactly_the_events_after_the_given_id_then_says_caught_up():
    motor_rule()
    signal = make_asset().signals.get(slug="vibration")
    t = now_us()
    for i, value in enumerate([9.0, 1.0, 9.0, 1.0, 9.0]):
        store(signal.pk, t + i * S, value)
    ids = event_ids()
    assert len(ids) == 5
    cookie = session_cookie()

    async def scenario():
        ws = communicator(f"/ws/alerts/?after={ids[1]}", cookie=cookie)
        assert (await ws.connect())[0]
        events, caught_up = await receive_until_caught_up(ws)
        quiet = await ws.receive_nothing(timeout=0.3)
        await ws.disconnect()
        return events, caught_up, quiet

    events, caught_up, quiet = asyncio.run(scenario())
    assert [e["id"] for e in events] == ids[2:]
    assert [e["kind"] for e in events] == ["raised", "returned", "raised"]
    assert caught_up == {"type": "alert.caught_up", "last_id": ids[-1]}
    assert quiet


def test_a_tablet_that_reconnects_gets_the_fifty_alerts_it_missed_once_each_in_order():
    motor_rule()
    assets = [make_asset() for _ in range(51)]
    signals = [asset.signals.get(slug="vibration").pk for asset in assets]
    cookie = session_cookie()
    t = now_us()

    async def scenario():
        ws = communicator("/ws/alerts/?after=0", cookie=cookie)
        assert (await ws.connect())[0]
        assert (await receive_until_caught_up(ws))[0] == []
        await asyncio.to_thread(in_thread, store, signals[0], t, 9.0)
        live = await ws.receive_json_from(timeout=5)
        last_seen = live["event"]["id"]
        await ws.disconnect()

        # The tablet is away while fifty alerts fire, each in its own batch.
        for signal_id in signals[1:]:
            await asyncio.to_thread(in_thread, store, signal_id, t + S, 9.0)

        ws = communicator(f"/ws/alerts/?after={last_seen}", cookie=cookie)
        assert (await ws.connect())[0]
        replayed, caught_up = await receive_until_caught_up(ws)
        quiet = await ws.receive_nothing(timeout=0.5)
        await ws.disconnect()
        return live, replayed, caught_up, quiet

    live, replayed, caught_up, quiet = asyncio.run(scenario())
    ids = event_ids()
    assert len(ids) == 51
    assert live["type"] == "alert.event"
    assert live["event"]["id"] == ids[0]
    assert [e["id"] for e in replayed] == ids[1:]
    assert len({e["alert_id"] for e in replayed}) == 50
    assert {e["kind"] for e in replayed} == {"raised"}
    assert [e["asset_id"] for e in replayed] == [a.pk for a in assets[1:]]
    assert caught_up["last_id"] == ids[-1]
    assert quiet


def test_a_lost_live_message_is_read_from_the_database_before_the_next_one(monkeypatch):
    motor_rule()
    signal = make_asset().signals.get(slug="vibration")
    cookie = session_cookie()
    t = now_us()
    held: list[tuple[str, dict]] = []
    # The pushes of these batches are lost on the way: none reaches the channel layer.
    monkeypatch.setattr(realtime, "send_on_commit", held.extend)

    async def scenario():
        ws = communicator("/ws/alerts/?after=0", cookie=cookie)
        assert (await ws.connect())[0]
        assert (await receive_until_caught_up(ws))[0] == []
        for i, value in enumerate([9.0, 1.0, 9.0]):
            await asyncio.to_thread(in_thread, store, signal.pk, t + i * S, value)
        pushes = [m for group, m in held if group == realtime.ALERTS_GROUP]
        assert len(pushes) == 3
        layer = get_channel_layer()
        # Only the last one arrives; its prev_id is ahead of what the socket has seen.
        await layer.group_send(realtime.ALERTS_GROUP, pushes[-1])
        received = [await ws.receive_json_from(timeout=5) for _ in range(3)]
        # A late copy of a message already recovered changes nothing.
        await layer.group_send(realtime.ALERTS_GROUP, pushes[0])
        await layer.group_send(realtime.ALERTS_GROUP, pushes[-1])
        quiet = await ws.receive_nothing(timeout=0.5)
        await ws.disconnect()
        return pushes, received, quiet

    pushes, received, quiet = asyncio.run(scenario())
    ids = event_ids()
    assert pushes[-1]["event"]["prev_id"] == ids[1]
    assert [m["type"] for m in received] == ["alert.event"] * 3
    assert [m["event"]["id"] for m in received] == ids
    assert [m["event"]["kind"] for m in received] == ["raised", "returned", "raised"]
    assert quiet


def test_the_sweeps_tick_recovers_a_lost_last_event(monkeypatch):
    motor_rule()
    signal = make_asset().signals.get(slug="vibration")
    cookie = session_cookie()
    monkeypatch.setattr(realtime, "send_on_commit", lambda messages: None)

    async def scenario():
        ws = communicator("/ws/alerts/?after=0", cookie=cookie)
        assert (await ws.connect())[0]
        assert (await receive_until_caught_up(ws))[0] == []
        await asyncio.to_thread(in_thread, store, signal.pk, now_us(), 9.0)
        nothing_live = await ws.receive_nothing(timeout=0.3)
        await asyncio.to_thread(in_thread, alerts_sweep)
        recovered = await ws.receive_json_from(timeout=5)
        quiet = await ws.receive_nothing(timeout=0.3)
        await ws.disconnect()
        return nothing_live, recovered, quiet

    nothing_live, recovered, quiet = asyncio.run(scenario())
    assert nothing_live
    assert recovered["type"] == "alert.event"
    assert recovered["event"]["id"] == event_ids()[0]
    assert quiet


def test_a_socket_for_some_lines_gets_only_their_events():
    motor_rule()
    mine = make_asset().signals.get(slug="vibration")
    other = make_asset().signals.get(slug="vibration")
    t = now_us()
    # Before connecting: one event on each line.
    store(other.pk, t, 9.0)
    store(mine.pk, t, 9.0)
    cookie = session_cookie()
    my_line = mine.asset.line_id

    async def scenario():
        ws = communicator(f"/ws/alerts/?after=0&lines={my_line}", cookie=cookie)
        assert (await ws.connect())[0]
        replayed, caught_up = await receive_until_caught_up(ws)
        # Live: the other line's event first, then mine.
        await asyncio.to_thread(in_thread, store, other.pk, t + S, 1.0)
        await asyncio.to_thread(in_thread, store, mine.pk, t + S, 1.0)
        live = await ws.receive_json_from(timeout=5)
        quiet = await ws.receive_nothing(timeout=0.5)
        await ws.disconnect()
        return replayed, caught_up, live, quiet

    replayed, caught_up, live, quiet = asyncio.run(scenario())
    ids = event_ids()
    assert len(ids) == 4
    assert [(e["id"], e["line_id"], e["kind"]) for e in replayed] == [(ids[1], my_line, "raised")]
    assert caught_up["last_id"] == ids[1]
    assert (live["event"]["id"], live["event"]["line_id"]) == (ids[3], my_line)
    assert live["event"]["kind"] == "returned"
    assert quiet
