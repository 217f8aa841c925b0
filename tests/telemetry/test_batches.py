"""When ingest hands a batch on: full, old enough, or hurried; and how long it may wait meanwhile."""

from __future__ import annotations

import json

import pytest

from plantops.telemetry.batches import HURRY_GAP_S, BatchBuilder
from plantops.telemetry.payloads import ParseResult


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def one_reading(builder: BatchBuilder, ack_id: int) -> None:
    builder.add(
        topic="plantops/s/a/l/x/telemetry/v",
        result=ParseResult(readings=[(1, 1_000_000 * ack_id, 1.0)]),
        received_us=0,
        ack_id=ack_id,
    )


def test_an_empty_builder_waits_as_long_as_it_likes_and_is_never_due():
    builder = BatchBuilder(max_items=10, max_age_s=0.5, clock=Clock())
    assert builder.seconds_until_due(idle=0.05) == 0.05
    assert not builder.due()


def test_a_batch_is_due_at_its_age_and_says_how_long_is_left():
    clock = Clock()
    builder = BatchBuilder(max_items=10, max_age_s=0.5, clock=clock)
    one_reading(builder, 1)
    clock.now += 0.3
    one_reading(builder, 2)

    assert builder.seconds_until_due(idle=0.05) == pytest.approx(0.2)
    assert not builder.due()
    clock.now += 0.25
    assert builder.due()
    clock.now += 1.0
    assert builder.seconds_until_due(idle=0.05) == 0.0

    batch, acks = builder.take()
    assert (len(batch.readings), acks) == (2, [1, 2])
    assert builder.empty


def test_a_full_batch_is_due_at_once():
    builder = BatchBuilder(max_items=2, max_age_s=60, clock=Clock())
    one_reading(builder, 1)
    assert not builder.due()
    one_reading(builder, 2)
    assert builder.due()


def test_a_steady_stream_is_handed_on_at_its_age():
    clock = Clock()
    builder = BatchBuilder(max_items=100, max_age_s=0.5, clock=clock)
    for ack_id in range(1, 100):
        one_reading(builder, ack_id)
        if builder.due():
            break
        clock.now += 0.01
    assert builder.oldest_age_s() == pytest.approx(0.5)
    assert (builder.size, builder.full) == (51, False)


def test_a_batch_survives_its_celery_message_with_its_types():
    from plantops.telemetry.batches import Batch

    readings = [(7, 1_000_000, 2.5), (8, 2_000_000, 3.0), (2**40, 2**52 + 1, -1e-300)]
    batch = Batch.of(readings=readings, batch_id="b1")
    message = json.loads(json.dumps(batch.to_message()))

    again = Batch.from_message(message)

    assert again.readings.rows() == readings
    assert [type(v) for row in again.readings.rows() for v in row] == [int, int, float] * 3
    assert Batch.from_message({"batch_id": "b2"}).readings.rows() == []
    assert Batch.from_message(Batch(batch_id="b2").to_message()).readings.rows() == []


def test_it_reads_batches_queued_in_the_list_form():
    from plantops.telemetry.batches import Batch

    message = {"batch_id": "b1", "readings": [[7, 1_000_000, 2.5], [8, 2_000_000, 3]]}
    again = Batch.from_message(message)
    assert again.readings.rows() == [(7, 1_000_000, 2.5), (8, 2_000_000, 3.0)]
    assert [type(v) for _, _, v in again.readings.rows()] == [float, float]
    with pytest.raises(ValueError, match="not enough values"):
        Batch.from_message({"batch_id": "b3", "readings": [[1, 2]]})


def test_a_malformed_packed_message_is_refused_with_a_reason():
    from plantops.telemetry.batches import Batch

    packed = Batch.of(readings=[(7, 1, 2.5)], batch_id="b1").to_message()
    packed["reading_columns"]["value"] = "not base64!"
    with pytest.raises(ValueError, match="malformed packed readings"):
        Batch.from_message(packed)
    packed["reading_columns"]["value"] = ""
    with pytest.raises(ValueError, match="differ in length"):
        Batch.from_message(packed)


def test_a_hurried_batch_is_due_at_once_unless_the_last_one_was_taken_just_now():
    clock = Clock()
    builder = BatchBuilder(max_items=100, max_age_s=60, clock=clock)
    one_reading(builder, 1)
    builder.hurry()
    assert builder.due()
    builder.take()

    one_reading(builder, 2)
    builder.hurry()
    assert not builder.due()  # the batch before left 0 s ago
    assert builder.seconds_until_due(idle=0.05) == pytest.approx(HURRY_GAP_S)
    clock.now += HURRY_GAP_S + 1e-6
    assert builder.due()

    _, acks = builder.take()
    assert acks == [2]
    one_reading(builder, 3)
    assert not builder.hurried  # a new batch waits again
    clock.now += 1.0
    assert not builder.due()
