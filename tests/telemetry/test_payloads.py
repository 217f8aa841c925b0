"""The v1 wire contract parser: every rejection reason, both timestamp forms, batches."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from plantops.core.time import datetime_to_us
from plantops.telemetry.batches import BatchBuilder
from plantops.telemetry.payloads import (
    MAX_PAYLOAD_BYTES,
    MAX_REJECTIONS_PER_MESSAGE,
    Limits,
    Reason,
    TopicRegistry,
    parse_message,
)

NOW = datetime(2026, 11, 22, 10, 0, 0, tzinfo=UTC)
NOW_US = datetime_to_us(NOW)
ASSET = "plantops/riverside/press-shop/press-line-1/press-1"
REGISTRY = TopicRegistry(
    assets={("riverside", "press-shop", "press-line-1", "press-1"): 7},
    signals={(7, "vibration"): 70, (7, "speed"): 71},
)
LIMITS = Limits(now_us=NOW_US, max_future_us=300_000_000, max_age_us=30 * 86_400_000_000)


def parse(topic: str, payload: object):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return parse_message(topic, body, registry=REGISTRY, limits=LIMITS)


def only_rejection(result) -> Reason:
    assert (result.readings, result.states, result.counts) == ([], [], [])
    assert len(result.rejections) == 1
    return result.rejections[0].reason


def test_it_reads_a_single_reading_with_an_rfc3339_timestamp():
    result = parse(
        f"{ASSET}/telemetry/vibration", {"ts": "2026-11-22T10:00:00.250Z", "value": 2.5, "seq": 4}
    )
    assert result.readings == [(70, NOW_US + 250_000, 2.5)]
    assert result.rejections == []


def test_it_reads_an_offset_timestamp_as_the_same_instant():
    result = parse(f"{ASSET}/telemetry/vibration", {"ts": "2026-11-22T11:00:00+01:00", "value": 1})
    assert result.readings == [(70, NOW_US, 1.0)]


def test_it_reads_epoch_seconds_integer_and_fractional():
    epoch = NOW.timestamp()
    assert parse(f"{ASSET}/telemetry/speed", {"ts": int(epoch), "value": 3}).readings == [
        (71, NOW_US, 3.0)
    ]
    assert parse(f"{ASSET}/telemetry/speed", {"ts": epoch - 0.5, "value": 3}).readings == [
        (71, NOW_US - 500_000, 3.0)
    ]


def test_it_reads_a_batch_and_keeps_good_items_when_some_are_bad():
    result = parse(
        f"{ASSET}/telemetry",
        {
            "readings": [
                {"signal": "vibration", "ts": "2026-11-22T10:00:00Z", "value": 1.5},
                {"signal": "nope", "ts": "2026-11-22T10:00:00Z", "value": 1.5},
                {"signal": "speed", "ts": "2026-11-22T10:00:01Z", "value": 900},
                {"signal": "speed", "ts": "2026-11-22T10:00:02Z"},
                "not an object",
            ]
        },
    )
    assert result.readings == [(70, NOW_US, 1.5), (71, NOW_US + 1_000_000, 900.0)]
    assert [(r.reason, r.detail.split(":")[0]) for r in result.rejections] == [
        (Reason.UNKNOWN_SIGNAL, "readings[1]"),
        (Reason.MISSING_FIELD, "readings[3]"),
        (Reason.NOT_AN_OBJECT, "readings[4]"),
    ]
    assert '"nope"' in result.rejections[0].excerpt


def test_it_reads_state_and_count_messages():
    state = parse(
        f"{ASSET}/state", {"ts": "2026-11-22T10:00:00Z", "state": "down", "reason": "jam"}
    )
    count = parse(f"{ASSET}/count", {"ts": "2026-11-22T10:00:00Z", "good": 12, "scrap": 1})
    assert state.states == [(7, NOW_US, "down", "jam")]
    assert count.counts == [(7, NOW_US, 12, 1)]
    assert parse(f"{ASSET}/state", {"ts": "2026-11-22T10:00:00Z", "state": "idle"}).states == [
        (7, NOW_US, "idle", "")
    ]


@pytest.mark.parametrize(
    ("topic", "payload", "reason"),
    [
        (f"{ASSET}/telemetry/vibration", b"{not json", Reason.INVALID_JSON),
        (f"{ASSET}/telemetry/vibration", b"\xff\xfe\x00", Reason.INVALID_JSON),
        (f"{ASSET}/telemetry/vibration", [1, 2], Reason.NOT_AN_OBJECT),
        (f"{ASSET}/telemetry/vibration", {"value": 1}, Reason.MISSING_FIELD),
        (f"{ASSET}/telemetry/vibration", {"ts": NOW.timestamp()}, Reason.MISSING_FIELD),
        (
            f"{ASSET}/telemetry/vibration",
            {"ts": NOW.timestamp(), "value": "1.0"},
            Reason.WRONG_TYPE,
        ),
        (f"{ASSET}/telemetry/vibration", {"ts": NOW.timestamp(), "value": True}, Reason.WRONG_TYPE),
        (f"{ASSET}/telemetry/vibration", {"ts": [1], "value": 1}, Reason.WRONG_TYPE),
        (f"{ASSET}/telemetry/vibration", b'{"ts": 1795341600, "value": NaN}', Reason.NOT_FINITE),
        (
            f"{ASSET}/telemetry/vibration",
            b'{"ts": 1795341600, "value": -Infinity}',
            Reason.NOT_FINITE,
        ),
        (f"{ASSET}/telemetry/vibration", b'{"ts": 1795341600, "value": 1e999}', Reason.NOT_FINITE),
        (f"{ASSET}/telemetry/vibration", {"ts": "2026-11-22", "value": 1}, Reason.BAD_TIMESTAMP),
        (
            f"{ASSET}/telemetry/vibration",
            {"ts": "2026-11-22T10:00:00", "value": 1},
            Reason.BAD_TIMESTAMP,
        ),
        (
            f"{ASSET}/telemetry/vibration",
            {"ts": "yesterday at noon!!", "value": 1},
            Reason.BAD_TIMESTAMP,
        ),
        (
            f"{ASSET}/telemetry/vibration",
            {"ts": "2026-11-22T10:05:01Z", "value": 1},
            Reason.TIMESTAMP_IN_FUTURE,
        ),
        (
            f"{ASSET}/telemetry/vibration",
            {"ts": "2026-10-01T10:00:00Z", "value": 1},
            Reason.TIMESTAMP_TOO_OLD,
        ),
        (f"{ASSET}/telemetry/vibration", {"ts": 0, "value": 1}, Reason.TIMESTAMP_TOO_OLD),
        (
            "plantops/riverside/press-shop/press-line-1/press-9/telemetry/vibration",
            {"ts": 1, "value": 1},
            Reason.UNKNOWN_ASSET,
        ),
        (f"{ASSET}/telemetry/pressure", {"ts": NOW.timestamp(), "value": 1}, Reason.UNKNOWN_SIGNAL),
        ("plantops/riverside/press-shop/press-1/telemetry", {"readings": []}, Reason.BAD_TOPIC),
        ("factory/riverside/press-shop/press-line-1/press-1/state", {}, Reason.BAD_TOPIC),
        (f"{ASSET}/alarms", {}, Reason.BAD_TOPIC),
        (f"{ASSET}/state/extra", {}, Reason.BAD_TOPIC),
        (f"{ASSET}/state", {"ts": NOW.timestamp(), "state": "exploded"}, Reason.BAD_STATE),
        (
            f"{ASSET}/state",
            {"ts": NOW.timestamp(), "state": "down", "reason": 3},
            Reason.WRONG_TYPE,
        ),
        (f"{ASSET}/count", {"ts": NOW.timestamp(), "good": -1, "scrap": 0}, Reason.WRONG_TYPE),
        (f"{ASSET}/count", {"ts": NOW.timestamp(), "good": 1.5, "scrap": 0}, Reason.WRONG_TYPE),
        (f"{ASSET}/count", {"ts": NOW.timestamp(), "good": 3}, Reason.MISSING_FIELD),
        (f"{ASSET}/telemetry", {"values": []}, Reason.MISSING_FIELD),
        (f"{ASSET}/telemetry", {"readings": {"signal": "speed"}}, Reason.WRONG_TYPE),
    ],
)
def test_it_rejects_with_the_reason(topic, payload, reason):
    assert only_rejection(parse(topic, payload)) == reason


def test_it_rejects_payloads_over_one_mebibyte_before_decoding():
    payload = b'{"ts": 1, "value": 1, "pad": "' + b"x" * MAX_PAYLOAD_BYTES + b'"}'
    assert (
        only_rejection(parse(f"{ASSET}/telemetry/vibration", payload)) == Reason.PAYLOAD_TOO_LARGE
    )


def test_it_rejects_batches_over_ten_thousand_readings():
    item = {"signal": "speed", "ts": NOW.timestamp(), "value": 1}
    assert (
        only_rejection(parse(f"{ASSET}/telemetry", {"readings": [item] * 10_001}))
        == Reason.BATCH_TOO_LARGE
    )


def test_it_keeps_a_truncated_copy_of_what_it_rejected():
    rejection = parse(f"{ASSET}/telemetry/vibration", b"[" + b"1," * 5000 + b"1]").rejections[0]
    assert rejection.excerpt.startswith("[1,1,")
    assert len(rejection.excerpt) == 1000


def test_it_keeps_nul_and_lone_surrogates_out_of_what_it_stores():
    rejection = parse(f"{ASSET}/telemetry/vibration", b'{"ts": 1, "value": 1}\x00').rejections[0]
    assert "\x00" not in rejection.excerpt
    assert rejection.excerpt.endswith("\ufffd")
    state = parse(f"{ASSET}/state", b'{"ts": 1795341600, "state": "down", "reason": "jam\\u0000"}')
    assert only_rejection(state) == Reason.WRONG_TYPE
    lone = parse(f"{ASSET}/state", b'{"ts": 1795341600, "state": "down", "reason": "\\ud800"}')
    assert only_rejection(lone) == Reason.WRONG_TYPE


def test_an_item_nested_too_deep_to_encode_again_is_still_rejected_with_its_reason():
    deep = b"[" * 990 + b"]" * 990
    payload = (
        b'{"readings": [{"signal": "vibration", "ts": "2026-11-22T10:00:00Z", "value": 1}, '
        + deep
        + b"]}"
    )
    result = parse(f"{ASSET}/telemetry", payload)
    assert result.readings == [(70, NOW_US, 1.0)]
    [rejection] = result.rejections
    assert (rejection.reason, rejection.detail.split(":")[0]) == (
        Reason.NOT_AN_OBJECT,
        "readings[1]",
    )
    assert rejection.excerpt.startswith("[[")


@pytest.mark.parametrize(
    "item",
    [
        {"signal": ["vibration"], "ts": 1.0, "value": 1.0},
        {"signal": 7, "ts": 1.0, "value": 1.0},
        {"signal": "vibration", "ts": float("nan"), "value": 1.0},
        {"signal": "vibration", "ts": 1e300, "value": 1.0},
        {"signal": "vibration", "ts": 1.0, "value": float("inf")},
        {"signal": "vibration", "ts": True, "value": 1.0},
        {"signal": "nope", "ts": 1.0, "value": 1.0},
    ],
)
def test_an_item_of_floats_that_is_not_valid_is_refused_with_its_reason(item):
    # The common item is parsed in line; whatever is wrong with one still gets its reason.
    now_us = 1_000_000
    registry = TopicRegistry(assets={("s", "a", "l", "x"): 1}, signals={(1, "vibration"): 9})
    payload = json.dumps({"readings": [item, {"signal": "vibration", "ts": 1.0, "value": 2.5}]})
    result = parse_message(
        "plantops/s/a/l/x/telemetry",
        payload.encode(),
        registry=registry,
        limits=Limits(now_us=now_us),
    )
    assert result.readings == [(9, 1_000_000, 2.5)]
    assert len(result.rejections) == 1
    assert result.rejections[0].detail.startswith("readings[0]: ")


# --- at most 100 dead letters per message ------------------------------------------------------
def batch_of(items: list) -> bytes:
    return json.dumps({"readings": items}).encode()


def good_item(k: int) -> dict:
    return {"signal": "speed", "ts": NOW.timestamp() - k, "value": float(k)}


# One item refused for each reason an item can have, with the reason.
BAD_ITEMS = {
    Reason.NOT_AN_OBJECT: 5,
    Reason.MISSING_FIELD: {"ts": 1.0, "value": 1.0},
    Reason.WRONG_TYPE: {"signal": 7, "ts": 1.0, "value": 1.0},
    Reason.UNKNOWN_SIGNAL: {"signal": "nope", "ts": "2026-11-22T10:00:00Z", "value": 1.0},
    Reason.NOT_FINITE: {"signal": "speed", "ts": "2026-11-22T10:00:00Z", "value": float("nan")},
    Reason.BAD_TIMESTAMP: {"signal": "speed", "ts": "last tuesday", "value": 1.0},
    Reason.TIMESTAMP_IN_FUTURE: {"signal": "speed", "ts": "2027-01-01T00:00:00Z", "value": 1.0},
    Reason.TIMESTAMP_TOO_OLD: {"signal": "speed", "ts": 0, "value": 1.0},
}


def test_a_batch_of_ten_thousand_bad_items_records_a_hundred_and_one_that_counts_the_rest():
    result = parse(f"{ASSET}/telemetry", batch_of([BAD_ITEMS[Reason.UNKNOWN_SIGNAL]] * 10_000))

    assert result.readings == []
    assert len(result.rejections) == MAX_REJECTIONS_PER_MESSAGE + 1 == 101
    listed, summary = result.rejections[:-1], result.rejections[-1]
    assert [r.detail.split(":")[0] for r in listed] == [f"readings[{i}]" for i in range(100)]
    assert all(r.replay for r in listed)
    assert summary.reason == Reason.UNKNOWN_SIGNAL
    assert summary.detail == (
        "9,900 more refused items from readings[100] on, not recorded one by one "
        "(a message records 100 at most): unknown_signal 9,900"
    )
    assert '"nope"' in summary.excerpt
    assert summary.replay == b""  # the items it counts are not kept


def test_the_count_of_the_rest_names_each_reason_and_takes_the_commonest():
    items = [BAD_ITEMS[Reason.NOT_AN_OBJECT]] * 100
    items += [BAD_ITEMS[Reason.NOT_FINITE]] * 3 + [BAD_ITEMS[Reason.BAD_TIMESTAMP]] * 5
    result = parse(f"{ASSET}/telemetry", batch_of(items))

    summary = result.rejections[-1]
    assert len(result.rejections) == 101
    assert summary.reason == Reason.BAD_TIMESTAMP
    assert summary.detail.startswith("8 more refused items from readings[100] on")
    assert summary.detail.endswith(": bad_timestamp 5, not_finite 3")
    assert summary.excerpt == '{"signal": "speed", "ts": "2026-11-22T10:00:00Z", "value": NaN}'


def test_good_items_after_the_hundredth_bad_one_are_all_kept():
    items = []
    for k in range(300):
        items += [BAD_ITEMS[Reason.MISSING_FIELD], good_item(k)]
    result = parse(f"{ASSET}/telemetry", batch_of(items))

    assert len(result.readings) == 300
    assert len(result.rejections) == 101
    assert result.rejections[-1].detail.startswith("200 more refused items from readings[200] on")


def test_a_hundred_bad_items_are_all_recorded_and_the_hundred_and_first_is_counted():
    hundred = parse(f"{ASSET}/telemetry", batch_of([BAD_ITEMS[Reason.WRONG_TYPE]] * 100))
    assert [r.detail.split(":")[0] for r in hundred.rejections][-1] == "readings[99]"
    assert len(hundred.rejections) == 100

    one_more = parse(f"{ASSET}/telemetry", batch_of([BAD_ITEMS[Reason.WRONG_TYPE]] * 101))
    assert len(one_more.rejections) == 101
    assert one_more.rejections[-1].detail.startswith("1 more refused item from readings[100] on")


def test_the_count_of_the_rest_fits_the_dead_letter_row_with_every_reason_an_item_can_have():
    # Past the first 100, 1,237 items for each of the 8 reasons: the longest count there can be.
    items = [BAD_ITEMS[Reason.MISSING_FIELD]] * 100
    for item in BAD_ITEMS.values():
        items += [item] * 1_237
    result = parse(f"{ASSET}/telemetry", batch_of(items))

    summary = result.rejections[-1]
    assert {reason.value for reason in BAD_ITEMS} == {
        part.split()[0] for part in summary.detail.split(": ", 1)[1].split(", ")
    }
    builder = BatchBuilder(max_items=10_000, max_age_s=1.0)
    builder.add(topic=f"{ASSET}/telemetry", result=result, received_us=NOW_US, ack_id=1)
    batch, _ = builder.take()
    assert len(batch.dead_letters) == 101
    # DeadLetter.detail holds 300 characters: the count is stored whole.
    assert batch.dead_letters[-1].detail == summary.detail
    assert len(summary.detail) <= 300
