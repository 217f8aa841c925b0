"""Live pushes over the Redis pub/sub channel layer, from synchronous code, across a drop."""

from __future__ import annotations

import asyncio

import pytest
import redis
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings

from plantops.core import realtime

pytestmark = pytest.mark.services
GROUP = "realtime-test"


async def push(n: int) -> None:
    # The way the worker pushes: synchronous code, after a commit.
    await asyncio.to_thread(realtime.send_now, [(GROUP, {"type": "t", "n": n})])


def test_a_push_from_sync_code_reaches_a_socket_and_resumes_after_redis_drops_it():
    layer = get_channel_layer()

    async def listen() -> tuple[dict, dict]:
        channel = await layer.new_channel()
        await layer.group_add(GROUP, channel)
        try:
            await push(1)
            first = await asyncio.wait_for(layer.receive(channel), timeout=10)
            # Redis drops the subscriber's connection (a restart, a network blip).
            assert redis.Redis.from_url(settings.REDIS_URL).client_kill_filter(_type="pubsub")
            # Pushes meanwhile may be lost (screens catch up from the database); within
            # seconds the layer has reconnected and subscribed again. One receive waits
            # throughout: cancelling it would remove the channel from the layer.
            waiting = asyncio.ensure_future(layer.receive(channel))
            for _ in range(15):
                await push(2)
                done, _ = await asyncio.wait({waiting}, timeout=1)
                if done:
                    return first, waiting.result()
            waiting.cancel()
            pytest.fail("no push arrived within 15 s of the dropped connection")
        finally:
            await layer.group_discard(GROUP, channel)

    first, after_drop = async_to_sync(listen)()
    assert (first["n"], after_drop["n"]) == (1, 2)
