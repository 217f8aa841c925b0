"""Storing a batch: bulk, idempotent, latest value kept, live update pushed after commit."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from django.db import connection
from django.test.utils import CaptureQueriesContext

from plantops.core import realtime
from plantops.core.time import now_us
from plantops.floor import live
from plantops.oee.models import CountEvent, StateEvent
from plantops.pipeline.services import batch_store, batch_store_salvaging
from plantops.telemetry.batches import Batch
from plantops.telemetry.models import DeadLetter, LatestReading, Reading
from tests.factories import make_asset, make_batch

pytestmark = pytest.mark.django_db


def test_it_stores_a_redelivered_batch_once():
    asset = make_asset()
    signal = asset.signals.get(slug="vibration")
    t = now_us()
    batch = make_batch(
        readings=[(signal.pk, t - 1_000_000, 1.0), (signal.pk, t, 2.0)],
        dead_letters=[
            ("plantops/x", "{", "invalid_json", "payload is not valid UTF-8 JSON", t, "")
        ],
        states=[(asset.pk, t, "running", "")],
        counts=[(asset.pk, t, 10, 1)],
    )
    batch_store(batch=batch)
    batch_store(batch=Batch.from_message(batch.to_message()))
    assert Reading.objects.filter(signal=signal).count() == 2
    assert DeadLetter.objects.count() == 1
    assert StateEvent.objects.count() == 1
    assert CountEvent.objects.count() == 1


def test_it_stores_all_readings_of_a_batch_in_one_statement():
    asset = make_asset(signals=("vibration", "temperature", "current", "speed"))
    signal_ids = list(asset.signals.values_list("pk", flat=True))
    t = now_us()
    readings = [(signal_ids[i % 4], t - i * 1000, float(i)) for i in range(2000)]
    with CaptureQueriesContext(connection) as queries:
        batch_store(batch=make_batch(readings=readings))
    writes = [q["sql"] for q in queries if '"telemetry_reading"' in q["sql"]]
    if connection.vendor == "postgresql":
        # A fresh batch is copied in; ON CONFLICT is only for batches already (partly) stored.
        assert len(writes) == 1
        assert writes[0].startswith('COPY "telemetry_reading"')
    assert Reading.objects.count() == 2000
    # Whatever the batch size, the statements stay few: no query per reading.
    assert len(queries) < 20


@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY is PostgreSQL's")
def test_a_partly_stored_batch_falls_back_to_inserting_only_the_new_readings():
    from plantops.telemetry.models import MinuteRollup

    asset = make_asset()
    signal = asset.signals.get(slug="vibration")
    minute = now_us() // 60_000_000 * 60_000_000 - 120_000_000
    batch_store(batch=make_batch(readings=[(signal.pk, minute, 1.0), (signal.pk, minute + 1, 2.0)]))
    again = [(signal.pk, minute + 1, 2.0), (signal.pk, minute + 2, 10.0)]
    with CaptureQueriesContext(connection) as queries:
        batch_store(batch=make_batch(readings=again))
    writes = [q["sql"] for q in queries if '"telemetry_reading"' in q["sql"]]
    assert [sql.split()[0] for sql in writes] == ["COPY", "WITH"]
    assert sorted(Reading.objects.values_list("value", flat=True)) == [1.0, 2.0, 10.0]
    rollup = MinuteRollup.objects.get(signal=signal)
    # The reading already stored is not counted twice in its minute.
    assert (rollup.value_count, rollup.value_sum, rollup.value_max) == (3, 13.0, 10.0)
    assert LatestReading.objects.get(signal=signal).value == 10.0


def test_it_keeps_the_newest_value_and_ignores_late_ones():
    asset = make_asset()
    signal = asset.signals.get(slug="vibration")
    t = now_us()
    batch_store(batch=make_batch(readings=[(signal.pk, t, 5.0), (signal.pk, t - 2_000_000, 4.0)]))
    batch_store(batch=make_batch(readings=[(signal.pk, t - 1_000_000, 3.0)]))
    latest = LatestReading.objects.get(signal=signal)
    assert latest.value == 5.0
    batch_store(batch=make_batch(readings=[(signal.pk, t + 1_000_000, 6.0)]))
    latest.refresh_from_db()
    assert latest.value == 6.0


def test_it_keeps_the_newest_machine_state_on_the_asset():
    asset = make_asset()
    t = now_us()
    batch_store(
        batch=make_batch(
            states=[(asset.pk, t - 5_000_000, "running", ""), (asset.pk, t, "down", "jam")]
        )
    )
    batch_store(batch=make_batch(states=[(asset.pk, t - 1_000_000, "idle", "starved")]))
    asset.refresh_from_db()
    assert (asset.state, asset.state_reason) == ("down", "jam")
    assert StateEvent.objects.filter(asset=asset).count() == 3


@pytest.mark.django_db(transaction=True)
def test_it_pushes_one_update_per_asset_after_commit_and_its_tile_soon():
    asset = make_asset()
    signal = asset.signals.get(slug="vibration")
    layer = get_channel_layer()
    group = realtime.asset_group(asset.pk)
    t = now_us()

    async def listen_while_storing() -> tuple[dict, dict]:
        # One event loop throughout: the pub/sub layer's channels live in their loop.
        channel = await layer.new_channel()
        await layer.group_add(group, channel)
        try:
            await sync_to_async(batch_store)(
                batch=make_batch(readings=[(signal.pk, t - 1000, 1.0), (signal.pk, t, 2.0)])
            )
            points = await asyncio.wait_for(layer.receive(channel), timeout=10)
            # What the floor.push_touched_tiles task does within FLOOR_TILE_PUSH_EVERY_S.
            await sync_to_async(live.tiles_push_touched)()
            return points, await asyncio.wait_for(layer.receive(channel), timeout=10)
        finally:
            await layer.group_discard(group, channel)

    message, later = async_to_sync(listen_while_storing)()
    assert message["type"] == "asset.update"
    assert message["points"] == {"vibration": [[(t - 1000) // 1000, 1.0], [t // 1000, 2.0]]}
    assert message["tile"] is None
    shown = {s["slug"]: s["value"] for s in later["tile"]["signals"]}
    assert shown == {"temperature": None, "vibration": 2.0}
    assert later["tile"]["signals"][1]["expected_max"] == 7.1


def test_it_stores_the_rest_when_a_signal_was_deleted_after_ingest_resolved_it():
    asset = make_asset()
    vibration = asset.signals.get(slug="vibration")
    temperature = asset.signals.get(slug="temperature")
    gone_id = temperature.pk
    temperature.delete()
    t = now_us()
    batch_store(batch=make_batch(readings=[(vibration.pk, t, 1.0), (gone_id, t, 2.0)]))
    assert Reading.objects.filter(signal=vibration).count() == 1
    letter = DeadLetter.objects.get()
    assert letter.reason == "unknown_signal"
    assert "deleted" in letter.detail


def test_one_row_the_database_refuses_does_not_cost_the_rest_of_the_batch():
    asset = make_asset()
    signal = asset.signals.get(slug="vibration")
    t = now_us()
    batch = make_batch(
        readings=[(signal.pk, t - i * 1000, float(i)) for i in range(100)],
        # A lone surrogate cannot be encoded for any database: this row must be the only loss.
        dead_letters=[
            ("plantops/x", "ok", "invalid_json", "fine", t, ""),
            ("plantops/\ud800", "bad", "invalid_json", "unstorable", t, ""),
        ],
    )
    outcome = batch_store_salvaging(batch=batch)
    assert Reading.objects.filter(signal=signal).count() == 100
    assert list(DeadLetter.objects.values_list("detail", "position")) == [("fine", 0)]
    assert outcome.readings == 100


def test_halving_a_batch_always_makes_it_smaller_and_keeps_dead_letter_positions():
    batch = make_batch(
        readings=[(1, 1, 1.0)], dead_letters=[("t", "p", "invalid_json", "d", 1, "")] * 3
    )
    first, second = batch.halves()
    assert (first.size, second.size) == (2, 2)
    assert (first.dead_letter_offset, second.dead_letter_offset) == (0, 1)
    tiny_first, tiny_second = make_batch(
        readings=[(1, 1, 1.0)], states=[(1, 1, "idle", "")]
    ).halves()
    assert (tiny_first.size, tiny_second.size) == (1, 1)


def test_retention_deletes_only_readings_older_than_the_window():
    from datetime import UTC, datetime, timedelta

    from plantops.telemetry.services import readings_purge

    signal = make_asset().signals.get(slug="vibration")
    now = datetime(2026, 11, 22, 12, tzinfo=UTC)
    ages_days = [0.5, 9.9, 10.1, 12, 40]
    Reading.objects.bulk_create(
        [Reading(signal=signal, ts=now - timedelta(days=age), value=age) for age in ages_days]
    )
    assert readings_purge(older_than_days=10, now=now) == 3
    assert sorted(Reading.objects.values_list("value", flat=True)) == [0.5, 9.9]


def test_late_states_and_counts_forget_the_oee_hours_they_change():
    from datetime import UTC, datetime, timedelta

    from plantops.core.time import datetime_to_us
    from plantops.oee.models import OeeHour

    asset = make_asset()
    noon = datetime(2026, 11, 23, 12, tzinfo=UTC)
    totals = dict.fromkeys(
        ["planned_s", "run_s", "ideal_run_s", "breakdowns_s", "changeover_s", "small_stops_s"],
        0.0,
    )
    counts = dict.fromkeys(
        ["total_count", "good_count", "startup_rejects", "production_rejects"], 0
    )
    for hours in range(-2, 3):
        OeeHour.objects.create(
            asset=asset, hour=noon + timedelta(hours=hours), ideal_known=True, **totals, **counts
        )
    batch_store(
        batch=make_batch(
            states=[(asset.pk, datetime_to_us(noon + timedelta(minutes=30)), "down", "")],
            counts=[(asset.pk, datetime_to_us(noon - timedelta(minutes=90)), 5, 0)],
        )
    )
    # The state changes 12:00 onwards (until its next change, not known yet); the count 10:00.
    left = sorted(h.hour.hour for h in OeeHour.objects.filter(asset=asset))
    assert left == [11]
