"""What a tablet's alert socket hears of a gateway's backlog: its events, marked late, and an
announcement only for an alarm that still holds now."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from plantops.alerts.sweep import alerts_sweep
from plantops.core.time import now_us
from plantops.pipeline.services import batch_store
from tests.factories import make_asset, make_batch, make_rule
from tests.sockets import communicator, session_cookie

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

S = 1_000_000
HOURS_3 = 3 * 3600 * S


def in_thread(function, *args, **kwargs) -> None:
    """Run a write as the worker (or beat) would, in its own thread and connection."""
    try:
        function(*args, **kwargs)
    finally:
        connection.close()


def store(signal_id: int, values: list[float], *, start_us: int) -> None:
    rows = [(signal_id, start_us + i * S, v) for i, v in enumerate(values)]
    batch_store(batch=make_batch(readings=rows))


async def hear(ws, count: int) -> list[dict]:
    """The next `count` messages, and then any more that follow within half a second (what
    one commit pushes arrives together, so anything extra would be right behind)."""
    heard = [await ws.receive_json_from(timeout=10) for _ in range(count)]
    while not await ws.receive_nothing(timeout=0.5):
        heard.append(await ws.receive_json_from(timeout=5))
    return heard


def summary(messages: list[dict]) -> list[tuple]:
    return [
        (m["type"], m["event"]["kind"], m["event"]["delivery"])
        if m["type"] == "alert.event"
        else (m["type"], m["alert_id"], m["priority"])
        for m in messages
    ]


def signal_with_rule(priority: str = "critical"):
    signal = make_asset().signals.get(slug="vibration")
    make_rule(signal=signal, deadband=1.0, priority=priority)
    return signal


def test_a_backlog_that_came_and_went_reaches_the_tablet_late_and_silent():
    backlog, live = signal_with_rule(), signal_with_rule()
    cookie = session_cookie()

    async def scenario():
        ws = communicator("/ws/alerts/?after=0", cookie=cookie)
        assert (await ws.connect())[0]
        assert [m["type"] for m in await hear(ws, 1)] == ["alert.caught_up"]
        start = now_us() - HOURS_3
        await asyncio.to_thread(in_thread, store, backlog.pk, [1.0, 7.0, 8.0], start_us=start)
        await asyncio.to_thread(in_thread, store, backlog.pk, [3.0, 2.0], start_us=start + 3 * S)
        from_backlog = await hear(ws, 2)
        await asyncio.to_thread(in_thread, store, live.pk, [1.0, 7.0], start_us=now_us() - S)
        from_live = await hear(ws, 1)
        await ws.disconnect()
        return from_backlog, from_live

    from_backlog, from_live = asyncio.run(scenario())
    assert summary(from_backlog) == [
        ("alert.event", "raised", "late"),
        ("alert.event", "returned", "late"),
    ]
    assert from_backlog[0]["event"]["delay_s"] > 3 * 3600 - 5
    assert summary(from_live) == [("alert.event", "raised", "live")]
    assert from_live[0]["event"]["delay_s"] is None


def test_an_alarm_still_holding_after_its_backlog_is_announced_once_its_data_catches_up():
    backlog = signal_with_rule()
    cookie = session_cookie()

    async def scenario():
        ws = communicator("/ws/alerts/?after=0", cookie=cookie)
        assert (await ws.connect())[0]
        await hear(ws, 1)
        start = now_us() - HOURS_3
        await asyncio.to_thread(in_thread, store, backlog.pk, [1.0, 7.0, 8.0], start_us=start)
        held = await hear(ws, 1)
        await asyncio.to_thread(in_thread, store, backlog.pk, [8.5], start_us=now_us())
        caught_up = await hear(ws, 1)
        await asyncio.to_thread(in_thread, store, backlog.pk, [8.6], start_us=now_us())
        later = await hear(ws, 0)
        await ws.disconnect()
        return held, caught_up, later

    held, caught_up, later = asyncio.run(scenario())
    alert_id = held[0]["event"]["alert_id"]
    assert summary(held) == [("alert.event", "raised", "late")]
    assert summary(caught_up) == [("alert.announce", alert_id, "critical")]
    assert later == []


def test_an_alarm_whose_backlog_stopped_before_catching_up_is_announced_by_the_sweep():
    backlog = signal_with_rule(priority="high")
    cookie = session_cookie()

    async def scenario():
        ws = communicator(f"/ws/alerts/?after=0&lines={backlog.asset.line_id}", cookie=cookie)
        assert (await ws.connect())[0]
        await hear(ws, 1)
        start = now_us() - HOURS_3
        await asyncio.to_thread(in_thread, store, backlog.pk, [1.0, 7.0], start_us=start)
        held = await hear(ws, 1)
        soon = timezone.now() + timedelta(seconds=61)
        await asyncio.to_thread(in_thread, alerts_sweep, now=soon)
        swept = await hear(ws, 1)
        await ws.disconnect()
        return held, swept

    held, swept = asyncio.run(scenario())
    assert summary(held) == [("alert.event", "raised", "late")]
    assert summary(swept) == [("alert.announce", held[0]["event"]["alert_id"], "high")]
