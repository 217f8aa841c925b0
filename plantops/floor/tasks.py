from __future__ import annotations

from celery import shared_task

from plantops.floor import live


@shared_task(name="floor.push_floor_tiles", ignore_result=True)
def push_floor_tiles() -> None:
    """Push every tile to the floor view, so assets that went quiet show "no data"."""
    live.floor_push_all()


@shared_task(name="floor.push_touched_tiles", ignore_result=True)
def push_touched_tiles() -> None:
    """Push the tiles of the assets whose readings arrived since the last such push."""
    live.tiles_push_touched()
