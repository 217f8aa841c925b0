"""Live push to browsers: the one place that names Channels groups and sends to them.

Pushes are hints; the database is the record. They are sent only after the transaction that
wrote the data commits, so a browser never sees a value that was rolled back.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Iterable
from typing import Any

from channels.layers import get_channel_layer
from django.db import transaction

from plantops.core.redis import key as redis_key
from plantops.core.redis import redis_client

logger = logging.getLogger(__name__)

FLOOR_GROUP = "floor"
# Every alert event; each socket filters by the lines it shows.
ALERTS_GROUP = "alerts"


# Every line's current shift OEE, for the floor-level OEE board.
OEE_BOARD_GROUP = "oee.board"


# Fits of the remaining-life estimators: their progress, for the model-health page.
HEALTH_FITS_GROUP = "health.fits"


def asset_group(asset_id: int) -> str:
    return f"asset.{asset_id}"


def line_oee_group(line_id: int) -> str:
    return f"oee.line.{line_id}"


def push_soon(
    *,
    claim: str,
    every_s: float,
    task: Any,
    args: list | None = None,
    mark: tuple[str, Iterable[Any]] | None = None,
) -> None:
    """Have `task` (a push) run once at the end of an interval of `every_s`, however often
    this is called within it; `mark` = (set, members) adds what it should push to a Redis
    set, in the same round trip.

    The first call in an interval claims it in Redis and schedules the task; later calls find
    the claim and add nothing, since that run reads everything stored by then. A push is a
    hint: if Redis is away it is skipped (and logged), never the data.
    """
    try:
        pipe = redis_client().pipeline(transaction=False)
        if mark is not None:
            pipe.sadd(redis_key(mark[0]), *mark[1])
        pipe.set(redis_key("push-soon", claim), 1, nx=True, px=int(every_s * 1000))
        if pipe.execute()[-1]:
            task.apply_async(args=args or [], countdown=every_s)
    except Exception:
        logger.warning("could not schedule the push %s", claim, exc_info=True)


def push_soon_release(claim: str) -> None:
    """Let the next `push_soon` of `claim` schedule again at once (its run has read
    everything up to now)."""
    redis_client().delete(redis_key("push-soon", claim))


def send_on_commit(messages: list[tuple[str, dict[str, Any]]]) -> None:
    """Send `(group, message)` pairs once the current transaction commits."""
    if messages:
        transaction.on_commit(lambda: send_now(messages))


def send_now(messages: list[tuple[str, dict[str, Any]]]) -> None:
    layer = get_channel_layer()
    if layer is None or not messages:
        return
    try:
        asyncio.run_coroutine_threadsafe(_send_all(layer, messages), _push_loop()).result(
            timeout=SEND_TIMEOUT_S
        )
    except Exception:
        # The data is stored; a lost hint is recovered by the browser's catch-up on reconnect.
        logger.exception("live push failed for %d messages", len(messages))


SEND_TIMEOUT_S = 10.0
_loop: asyncio.AbstractEventLoop | None = None
_loop_pid = 0
_loop_lock = threading.Lock()


def _push_loop() -> asyncio.AbstractEventLoop:
    """One event loop per process, in a daemon thread, for pushes from synchronous code.

    `async_to_sync` would start a new loop for every push, and the channel layer's Redis
    connections belong to a loop: each push would connect to Redis anew (about 4 ms of CPU,
    paid by the worker on every batch). A forked worker process starts its own loop.
    """
    global _loop, _loop_pid
    with _loop_lock:
        if _loop is None or _loop_pid != os.getpid():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="realtime-push", daemon=True).start()
            _loop, _loop_pid = loop, os.getpid()
        return _loop


async def _send_all(layer, messages: list[tuple[str, dict[str, Any]]]) -> None:
    for group, message in messages:
        await layer.group_send(group, message)
