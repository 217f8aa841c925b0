"""Live push to browsers: the one place that names Channels groups and sends to them.

Pushes are hints; the database is the record. They are sent only after the transaction that
wrote the data commits, so a browser never sees a value that was rolled back.
"""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)

FLOOR_GROUP = "floor"
# Every alert event; each socket filters by the lines it shows.
ALERTS_GROUP = "alerts"


def asset_group(asset_id: int) -> str:
    return f"asset.{asset_id}"


def send_on_commit(messages: list[tuple[str, dict[str, Any]]]) -> None:
    """Send `(group, message)` pairs once the current transaction commits."""
    if messages:
        transaction.on_commit(lambda: send_now(messages))


def send_now(messages: list[tuple[str, dict[str, Any]]]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(_send_all)(layer, messages)
    except Exception:
        # The data is stored; a lost hint is recovered by the browser's catch-up on reconnect.
        logger.exception("live push failed for %d messages", len(messages))


async def _send_all(layer, messages: list[tuple[str, dict[str, Any]]]) -> None:
    for group, message in messages:
        await layer.group_send(group, message)
