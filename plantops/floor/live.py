"""The floor's live pushes: what a stored batch changed, and the tiles of the assets it touched.

Sent after the batch's transaction commits. Every batch sends its readings to the pages of the
assets it touched, so their charts, and the values beside them, move with the data. A tile
(an asset's status and latest values, on the floor view and its own page) is read and sent
once per `FLOOR_TILE_PUSH_EVERY_S` for all the assets touched in that time, and at once when a
machine reports a new state: a person reads a tile, and reading every touched tile on every
batch cost the worker more than storing the batch.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from django.conf import settings

from plantops.core import realtime
from plantops.core.redis import key as redis_key
from plantops.core.redis import redis_client
from plantops.floor.selectors import asset_tiles
from plantops.telemetry.columns import ReadingColumns

# The newest points per signal a live update carries: a chart shows an hour, and a batch
# from a gateway's backlog must not flood the sockets.
LIVE_POINTS_PER_SIGNAL = 300
# The assets touched since the tiles were last pushed, and the claim of that push.
TOUCHED = "floor-touched"
TILES_CLAIM = "floor-tiles"
# Asset id → when this process last marked it touched (time.monotonic()).
_marked_at: dict[int, float] = {}


def batch_push(
    *,
    readings: ReadingColumns,
    signals: dict[int, tuple[int, str]],
    asset_ids: Iterable[int] = (),
) -> None:
    """Push a stored batch to the screens: each touched asset's new points, the tiles of the
    assets that reported a state (`asset_ids`) now, and the others' tiles soon.
    `signals` maps each signal id to (asset id, slug)."""
    points: dict[int, dict[str, list[tuple[int, float]]]] = {}
    for signal_id, series in readings.series_per_signal(limit=LIVE_POINTS_PER_SIGNAL).items():
        meta = signals.get(signal_id)
        if meta is not None:
            asset_id, slug = meta
            points.setdefault(asset_id, {})[slug] = series
    changed = set(asset_ids)
    _send(points, asset_tiles(asset_ids=changed) if changed else [])
    if later := set(points) - changed:
        tiles_push_soon(asset_ids=later)


def tiles_push_soon(*, asset_ids: Iterable[int]) -> None:
    """Have these assets' tiles pushed within `FLOOR_TILE_PUSH_EVERY_S`, with those of every
    other asset touched meanwhile, in one read.

    An asset this process marked within the last half interval is not marked again: its push
    is under way (or, if that push has just run, the next one takes it), and a stream of
    batches would otherwise cost a round trip to Redis each."""
    from plantops.floor.tasks import push_touched_tiles

    every_s = settings.FLOOR_TILE_PUSH_EVERY_S
    now = time.monotonic()
    due = [pk for pk in asset_ids if now - _marked_at.get(pk, -every_s) >= every_s / 2]
    if not due:
        return
    _marked_at.update(dict.fromkeys(due, now))
    realtime.push_soon(
        claim=TILES_CLAIM, every_s=every_s, task=push_touched_tiles, mark=(TOUCHED, due)
    )


def tiles_push_touched() -> None:
    """Push the tiles of the assets touched since the last time (see `tiles_push_soon`)."""
    # Released first: an asset touched from now on either is read here or claims a push of
    # its own, so none is left waiting.
    realtime.push_soon_release(TILES_CLAIM)
    pipe = redis_client().pipeline(transaction=True)
    pipe.smembers(redis_key(TOUCHED))
    pipe.delete(redis_key(TOUCHED))
    touched, _ = pipe.execute()
    if touched:
        _send({}, asset_tiles(asset_ids=sorted(int(pk) for pk in touched)))


def floor_push_all() -> None:
    """Push every tile to the floor view, so assets that went quiet show "no data"."""
    realtime.send_now([(realtime.FLOOR_GROUP, {"type": "floor.update", "tiles": asset_tiles()})])


def _send(points: dict[int, dict[str, list]], tiles: list[dict]) -> None:
    """One update per asset with points or a tile, and the tiles to the floor view."""
    by_asset = {tile["id"]: tile for tile in tiles}
    messages: list[tuple[str, dict]] = [
        (
            realtime.asset_group(asset_id),
            {
                "type": "asset.update",
                "asset": asset_id,
                "points": points.get(asset_id, {}),
                "tile": by_asset.get(asset_id),
            },
        )
        for asset_id in sorted(set(points) | set(by_asset))
    ]
    if tiles:
        messages.append((realtime.FLOOR_GROUP, {"type": "floor.update", "tiles": tiles}))
    realtime.send_now(messages)
