from __future__ import annotations

from celery import shared_task

from plantops.core import realtime
from plantops.floor.selectors import asset_tiles


@shared_task(name="floor.push_floor_tiles", ignore_result=True)
def push_floor_tiles() -> None:
    """Push every tile to the floor view, so assets that went quiet show "no data"."""
    realtime.send_now([(realtime.FLOOR_GROUP, {"type": "floor.update", "tiles": asset_tiles()})])
