"""The floor's live pushes: a batch's points at once, the touched assets' tiles coalesced."""

from __future__ import annotations

import pytest

from plantops.core.redis import key, redis_client
from plantops.core.time import now_us
from plantops.floor import live, tasks
from plantops.pipeline.services import batch_store
from tests.factories import make_asset, make_batch

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(live.time, "monotonic", clock)
    return clock


@pytest.fixture
def scheduled(monkeypatch, settings, clock):
    """The touched-tiles pushes scheduled, with a clean slate in Redis and in this process."""
    settings.FLOOR_TILE_PUSH_EVERY_S = 1
    redis_client().delete(key(live.TOUCHED), key("push-soon", live.TILES_CLAIM))
    monkeypatch.setattr(live, "_marked_at", {})
    runs = []
    monkeypatch.setattr(
        tasks.push_touched_tiles,
        "apply_async",
        lambda args, countdown: runs.append(countdown),
    )
    return runs


@pytest.fixture
def sent(monkeypatch):
    messages = []
    monkeypatch.setattr(live.realtime, "send_now", messages.extend)
    return messages


def test_it_pushes_the_tiles_of_many_batches_once_per_interval(scheduled, sent):
    asset, other = make_asset(), make_asset()
    signals = [asset.signals.get(slug="vibration").pk, other.signals.get(slug="vibration").pk]
    t = now_us()
    for i in range(20):
        batch_store(batch=make_batch(readings=[(s, t + i * 1000, 1.0) for s in signals]))
    # Every batch sent its points; none read a tile; one push is due for both assets.
    assert scheduled == [1]
    assert all(message["tile"] is None for _, message in sent)
    assert len(sent) == 40
    sent.clear()
    live.tiles_push_touched()
    tiles = {tile["id"] for group, message in sent if group == "floor" for tile in message["tiles"]}
    assert tiles == {asset.pk, other.pk}
    assert {message["asset"] for group, message in sent if group != "floor"} == tiles


def test_after_a_push_a_batch_half_an_interval_later_claims_the_next_one(scheduled, sent, clock):
    asset = make_asset()
    signal = asset.signals.get(slug="vibration").pk
    batch_store(batch=make_batch(readings=[(signal, now_us(), 1.0)]))
    live.tiles_push_touched()
    clock.now += 0.4  # marked lately: its push is under way, no round trip to Redis
    batch_store(batch=make_batch(readings=[(signal, now_us() + 1000, 2.0)]))
    assert scheduled == [1]
    clock.now += 0.2
    batch_store(batch=make_batch(readings=[(signal, now_us() + 2000, 3.0)]))
    assert scheduled == [1, 1]
    sent.clear()
    live.tiles_push_touched()
    assert [tile["id"] for group, m in sent if group == "floor" for tile in m["tiles"]] == [
        asset.pk
    ]
