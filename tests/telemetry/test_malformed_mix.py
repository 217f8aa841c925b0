"""10,000 malformed messages mixed into good traffic, through the real ingest and worker.

Issue 3, bad input: every bad message becomes a dead letter with its reason, every good reading
is stored exactly once. (Throughput under this mix is measured by bench/malformed.py, not here:
unit tests assert no timings.)

The stream runs on a Mosquitto of the test's own with the project's configuration: the stock
broker drops QoS-1 messages past 1,000 queued for a subscriber that falls behind.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from plantops.assets.models import Asset
from plantops.core.time import datetime_to_us
from plantops.oee.models import CountEvent, StateEvent
from plantops.telemetry.models import DeadLetter, Reading
from plantops.telemetry.payloads import MAX_BATCH_READINGS, MAX_PAYLOAD_BYTES, Reason
from tests.conftest import Publisher, wait_for, wait_until_flowing
from tests.factories import make_asset, topic

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

MALFORMED = 10_000
GOOD_SINGLE = 4_000  # good one-reading messages on `vibration`
GOOD_COUNTS = 100  # good count messages, spread through the stream
GOOD_STATES = 20  # good state messages, likewise
# Expensive cases are sent a few times only; the other cases share the rest of the 10,000.
PAYLOAD_TOO_LARGE = 2
BATCH_TOO_LARGE = 20

Payload = dict | bytes


@dataclass
class Stream:
    """What was sent and what each part of it must become."""

    messages: list[tuple[str, Payload]] = field(default_factory=list)
    reasons: Counter[str] = field(default_factory=Counter)
    malformed: int = 0
    # (signal slug, ts in µs, value) of every good reading sent
    readings: list[tuple[str, int, float]] = field(default_factory=list)
    counts: list[tuple[int, int, int]] = field(default_factory=list)  # (ts µs, good, scrap)
    states: list[tuple[int, str]] = field(default_factory=list)  # (ts µs, state)


def us(epoch_s: float) -> int:
    """A timestamp as the parser stores it: microseconds since the epoch."""
    return round(epoch_s * 1_000_000)


def rfc3339(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, UTC).isoformat().replace("+00:00", "Z")


# A malformed case: (asset, now, k) → (topic, payload, the reason of each dead letter it makes,
# the good batch items it carries as (ts, value) on `speed`). k numbers the message in the stream.
CaseResult = tuple[str, Payload, list[Reason], list[tuple[float, float]]]
Case = Callable[[Asset, float, int], CaseResult]


def single(payload: Payload, reason: Reason, suffix: str = "telemetry/vibration") -> Case:
    return lambda asset, now, k: (topic(asset, suffix), payload, [reason], [])


def built(make: Callable[[float], Payload], reason: Reason, suffix: str) -> Case:
    """A case whose payload depends on the current time."""
    return lambda asset, now, k: (topic(asset, suffix), make(now), [reason], [])


def at(path: Callable[[Asset], str], payload: Payload, reason: Reason) -> Case:
    """A case on a topic of its own (unknown asset, bad topic)."""
    return lambda asset, now, k: (path(asset), payload, [reason], [])


def _location(asset: Asset) -> str:
    return asset.topic_path.rsplit("/", 1)[0]


def mixed_batch(asset: Asset, now: float, k: int) -> CaseResult:
    """An asset batch with one good reading and one bad item of each kind."""
    good_ts, good_value = now - 90 + k / 1000, float(k % 50)
    items = [
        {"signal": "speed", "ts": good_ts, "value": good_value},
        {"signal": "speed", "ts": now - 30, "value": "fast"},
        5,
        {"ts": now - 30, "value": 1.0},
        {"signal": 7, "ts": now - 30, "value": 1.0},
        {"signal": "pressure", "ts": now - 30, "value": 1.0},
        {"signal": "speed", "ts": now + 86_400, "value": 1.0},
        {"signal": "speed", "ts": now - 30, "value": None},
        {"signal": "speed", "ts": "last tuesday", "value": 1.0},
    ]
    reasons = [
        Reason.WRONG_TYPE,
        Reason.NOT_AN_OBJECT,
        Reason.MISSING_FIELD,
        Reason.WRONG_TYPE,
        Reason.UNKNOWN_SIGNAL,
        Reason.TIMESTAMP_IN_FUTURE,
        Reason.MISSING_FIELD,
        Reason.BAD_TIMESTAMP,
    ]
    return topic(asset, "telemetry"), {"readings": items}, reasons, [(good_ts, good_value)]


def nan_batch(asset: Asset, now: float, k: int) -> CaseResult:
    """A batch whose only item has a bare NaN value: it needs raw bytes to be sent."""
    body = b'{"readings": [{"signal": "speed", "ts": %.3f, "value": NaN}]}' % (now - 30)
    return topic(asset, "telemetry"), body, [Reason.NOT_FINITE], []


def _bare(template: bytes) -> Callable[[float], bytes]:
    """JSON text with a `%(ts)s` placeholder filled with a recent epoch timestamp."""
    return lambda now: template % {b"ts": b"%.3f" % (now - 30)}


CASES: list[Case] = [
    # not JSON at all
    single(b"{broken", Reason.INVALID_JSON),
    single(b'{"ts": 1, "value": }', Reason.INVALID_JSON),
    single(b"\xff\xfe\x00 not utf-8", Reason.INVALID_JSON),
    single(b"", Reason.INVALID_JSON),
    single(b"{'ts': 1, 'value': 2}", Reason.INVALID_JSON),
    single(b"[" * 100_000, Reason.INVALID_JSON),  # nesting deep enough to hit the recursion limit
    single(b"{broken", Reason.INVALID_JSON, "state"),
    # JSON, but not an object
    single(b"[1, 2, 3]", Reason.NOT_AN_OBJECT),
    single(b'"twenty one degrees"', Reason.NOT_AN_OBJECT),
    single(b"21.5", Reason.NOT_AN_OBJECT),
    single(b"null", Reason.NOT_AN_OBJECT),
    single(b"[]", Reason.NOT_AN_OBJECT, "count"),
    # fields missing
    single({"value": 1.0}, Reason.MISSING_FIELD),
    built(lambda now: {"ts": now - 30}, Reason.MISSING_FIELD, "telemetry/vibration"),
    single({"ts": None, "value": 1.0}, Reason.MISSING_FIELD),
    single({"values": []}, Reason.MISSING_FIELD, "telemetry"),
    built(lambda now: {"ts": now - 30, "scrap": 0}, Reason.MISSING_FIELD, "count"),
    single({"state": "running"}, Reason.MISSING_FIELD, "state"),
    # fields of the wrong type
    built(lambda now: {"ts": now - 30, "value": "loud"}, Reason.WRONG_TYPE, "telemetry/vibration"),
    built(lambda now: {"ts": now - 30, "value": [1.0]}, Reason.WRONG_TYPE, "telemetry/vibration"),
    built(lambda now: {"ts": now - 30, "value": True}, Reason.WRONG_TYPE, "telemetry/vibration"),
    single({"ts": True, "value": 1.0}, Reason.WRONG_TYPE),
    built(lambda now: {"ts": [now], "value": 1.0}, Reason.WRONG_TYPE, "telemetry/vibration"),
    single({"readings": {"signal": "speed"}}, Reason.WRONG_TYPE, "telemetry"),
    built(lambda now: {"ts": now - 30, "good": 1.5, "scrap": 0}, Reason.WRONG_TYPE, "count"),
    built(lambda now: {"ts": now - 30, "good": "5", "scrap": 0}, Reason.WRONG_TYPE, "count"),
    built(lambda now: {"ts": now - 30, "good": -3, "scrap": 0}, Reason.WRONG_TYPE, "count"),
    built(lambda now: {"ts": now - 30, "good": 1, "scrap": -1}, Reason.WRONG_TYPE, "count"),
    built(lambda now: {"ts": now - 30, "good": 2**40, "scrap": 0}, Reason.WRONG_TYPE, "count"),
    built(lambda now: {"ts": now - 30, "state": "down", "reason": 42}, Reason.WRONG_TYPE, "state"),
    # NaN and Infinity as bare tokens, and a number too large for a float
    built(_bare(b'{"ts": %(ts)s, "value": NaN}'), Reason.NOT_FINITE, "telemetry/vibration"),
    built(_bare(b'{"ts": %(ts)s, "value": Infinity}'), Reason.NOT_FINITE, "telemetry/vibration"),
    built(_bare(b'{"ts": %(ts)s, "value": -Infinity}'), Reason.NOT_FINITE, "telemetry/vibration"),
    built(_bare(b'{"ts": %(ts)s, "value": 1e400}'), Reason.NOT_FINITE, "telemetry/vibration"),
    single(b'{"ts": NaN, "value": 1.0}', Reason.NOT_FINITE),
    nan_batch,
    # timestamps that are not RFC 3339
    single({"ts": "2026-13-45T00:00:00Z", "value": 1.0}, Reason.BAD_TIMESTAMP),
    single({"ts": "yesterday at noon", "value": 1.0}, Reason.BAD_TIMESTAMP),
    single({"ts": "2026-11-22", "value": 1.0}, Reason.BAD_TIMESTAMP),
    single({"ts": "2026-11-22T10:00:00", "value": 1.0}, Reason.BAD_TIMESTAMP),
    single({"ts": "2026-11-22T10:00:00.250", "value": 1.0}, Reason.BAD_TIMESTAMP),
    single({"ts": "2026-11-22X10:00:00.250Z", "value": 1.0}, Reason.BAD_TIMESTAMP),
    single({"ts": "2026-11-22T25:00:00Z", "state": "idle"}, Reason.BAD_TIMESTAMP, "state"),
    # timestamps out of range
    built(
        lambda now: {"ts": now + 3600, "value": 1.0},
        Reason.TIMESTAMP_IN_FUTURE,
        "telemetry/vibration",
    ),
    built(
        lambda now: {"ts": rfc3339(now + 86_400), "value": 1.0},
        Reason.TIMESTAMP_IN_FUTURE,
        "telemetry/vibration",
    ),
    built(
        lambda now: {"ts": now + 3600, "good": 1, "scrap": 0}, Reason.TIMESTAMP_IN_FUTURE, "count"
    ),
    single({"ts": 1e300, "value": 1.0}, Reason.TIMESTAMP_IN_FUTURE),
    built(
        lambda now: {"ts": now - 500 * 86_400, "value": 1.0},
        Reason.TIMESTAMP_TOO_OLD,
        "telemetry/vibration",
    ),
    single({"ts": 0, "value": 1.0}, Reason.TIMESTAMP_TOO_OLD),
    single({"ts": "1999-01-01T00:00:00Z", "state": "down"}, Reason.TIMESTAMP_TOO_OLD, "state"),
    # topics that name nothing configured
    at(
        lambda a: "plantops/nowhere/area/line/ghost/telemetry/vibration",
        b"{}",
        Reason.UNKNOWN_ASSET,
    ),
    at(lambda a: f"plantops/{_location(a)}/ghost/state", b"{}", Reason.UNKNOWN_ASSET),
    built(lambda now: {"ts": now - 30, "value": 1.0}, Reason.UNKNOWN_SIGNAL, "telemetry/pressure"),
    # topics that are not the contract's
    at(lambda a: "plantops/too/short", b"{}", Reason.BAD_TOPIC),
    at(lambda a: topic(a, "telemetry/vibration/extra"), b"{}", Reason.BAD_TOPIC),
    at(lambda a: topic(a, "alarms"), b"{}", Reason.BAD_TOPIC),
    at(lambda a: topic(a, "state/extra"), b"{}", Reason.BAD_TOPIC),
    at(lambda a: topic(a, "telemetry/"), b"{}", Reason.BAD_TOPIC),
    at(lambda a: topic(a, "telemetry").replace("/area/", "//"), b"{}", Reason.BAD_TOPIC),
    # states that are not states
    built(lambda now: {"ts": now - 30, "state": "exploded"}, Reason.BAD_STATE, "state"),
    built(lambda now: {"ts": now - 30}, Reason.BAD_STATE, "state"),
    built(lambda now: {"ts": now - 30, "state": 3}, Reason.BAD_STATE, "state"),
    built(lambda now: {"ts": now - 30, "state": "RUNNING"}, Reason.BAD_STATE, "state"),
    # a batch that keeps its good reading and dead-letters each bad item
    mixed_batch,
]


def too_large(asset: Asset, now: float, k: int) -> CaseResult:
    body = b'{"ts": 1, "value": 1, "pad": "' + b"x" * MAX_PAYLOAD_BYTES + b'"}'
    return topic(asset, "telemetry/vibration"), body, [Reason.PAYLOAD_TOO_LARGE], []


def batch_too_large(asset: Asset, now: float, k: int) -> CaseResult:
    body = {"readings": [0] * (MAX_BATCH_READINGS + 1)}
    return topic(asset, "telemetry"), body, [Reason.BATCH_TOO_LARGE], []


def malformed_cases() -> Iterator[Case]:
    """MALFORMED cases: the expensive ones a few times, the others in turn."""
    special = [too_large] * PAYLOAD_TOO_LARGE + [batch_too_large] * BATCH_TOO_LARGE
    rest = MALFORMED - len(special)
    # Spread the expensive ones through the stream.
    every = rest // len(special)
    plain = 0
    for k in range(MALFORMED):
        if special and k % (every + 1) == every:
            yield special.pop()
        else:
            yield CASES[plain % len(CASES)]
            plain += 1
    assert not special


def build_stream(asset: Asset) -> Stream:
    """GOOD_SINGLE good readings with the malformed messages (and good counts/states) between."""
    now = time.time()
    stream = Stream()
    bad = malformed_cases()
    sent_bad = 0
    for i in range(GOOD_SINGLE):
        ts, value = now - 120 + i / 1000, float(i % 71) / 10
        stream.messages.append((topic(asset, "telemetry/vibration"), {"ts": ts, "value": value}))
        stream.readings.append(("vibration", us(ts), value))
        if i % (GOOD_SINGLE // GOOD_COUNTS) == 0:
            count_ts, good, scrap = now - 60 + i / 1000, i % 13, i % 2
            stream.messages.append(
                (topic(asset, "count"), {"ts": count_ts, "good": good, "scrap": scrap})
            )
            stream.counts.append((us(count_ts), good, scrap))
        if i % (GOOD_SINGLE // GOOD_STATES) == 0:
            # As text, the instant is the one the string names, not the float it came from.
            state_ts = rfc3339(now - 60 + i / 1000)
            state = ("running", "idle", "down", "planned_stop", "changeover")[
                len(stream.states) % 5
            ]
            stream.messages.append(
                (topic(asset, "state"), {"ts": state_ts, "state": state, "reason": "r1"})
            )
            stream.states.append((datetime_to_us(datetime.fromisoformat(state_ts)), state))
        # Evenly: after good reading i, the bad ones due by then.
        while sent_bad < (i + 1) * MALFORMED // GOOD_SINGLE:
            case = next(bad)
            bad_topic, payload, reasons, good_items = case(asset, now, sent_bad)
            stream.messages.append((bad_topic, payload))
            stream.reasons.update(reason.value for reason in reasons)
            stream.readings.extend(("speed", us(ts), value) for ts, value in good_items)
            sent_bad += 1
    stream.malformed = sent_bad
    return stream


@pytest.fixture
def mix_publisher(processes, project_broker) -> Iterator[Publisher]:
    host, port = project_broker
    processes.env["MQTT_URL"] = f"mqtt://{host}:{port}"
    publisher = Publisher(host, port)
    yield publisher
    publisher.close()


def test_the_stream_builder_sends_what_the_test_expects() -> None:
    """The stream's own bookkeeping, so the pipeline test below counts against the right totals."""
    asset = make_asset(signals=("vibration", "temperature", "speed"))
    stream = build_stream(asset)

    assert stream.malformed == MALFORMED
    # Every reason of the JSON wire contract; Sparkplug B's need births and sequence, and have
    # their own stream (tests/telemetry/test_sparkplug.py, tests/pipeline/test_sparkplug_ingest.py).
    assert set(stream.reasons) == {
        reason.value for reason in Reason if not reason.startswith("sparkplug_")
    }
    assert stream.reasons[Reason.PAYLOAD_TOO_LARGE] == PAYLOAD_TOO_LARGE
    assert stream.reasons[Reason.BATCH_TOO_LARGE] == BATCH_TOO_LARGE
    # One dead letter per malformed message, plus the extra bad items of the mixed batches.
    assert sum(stream.reasons.values()) > MALFORMED
    assert len(stream.messages) == GOOD_SINGLE + GOOD_COUNTS + GOOD_STATES + MALFORMED
    keys = [(slug, ts) for slug, ts, _ in stream.readings]
    assert len(keys) == len(set(keys)), "two good readings share a (signal, ts)"


def test_malformed_messages_mixed_into_good_traffic(processes, mix_publisher) -> None:
    asset = make_asset(signals=("vibration", "temperature", "speed"))
    processes.worker()
    ingest = processes.ingest()
    wait_until_flowing(mix_publisher, asset)
    assert not DeadLetter.objects.exists()
    stream = build_stream(asset)
    expected_dead = sum(stream.reasons.values())
    good_signals = {"vibration", "speed"}

    def stored_readings() -> int:
        return Reading.objects.filter(signal__asset=asset, signal__slug__in=good_signals).count()

    mix_publisher.publish_many(stream.messages)

    wait_for(
        lambda: stored_readings() >= len(stream.readings),
        timeout=90,
        what=f"{len(stream.readings)} good readings",
    )
    wait_for(
        lambda: DeadLetter.objects.count() >= expected_dead,
        timeout=90,
        what=f"{expected_dead} dead letters",
    )
    wait_for(
        lambda: CountEvent.objects.filter(asset=asset).count() >= len(stream.counts),
        timeout=30,
        what="the good counts",
    )
    time.sleep(1.5)  # a duplicate or a stray row, had there been one, would have arrived by now

    stored = sorted(
        (slug, datetime_to_us(ts), value)
        for slug, ts, value in Reading.objects.filter(
            signal__asset=asset, signal__slug__in=good_signals
        ).values_list("signal__slug", "ts", "value")
    )
    assert len(stored) == len(stream.readings)
    assert stored == sorted(stream.readings)
    counts = sorted(
        (datetime_to_us(ts), good, scrap)
        for ts, good, scrap in CountEvent.objects.filter(asset=asset).values_list(
            "ts", "good", "scrap"
        )
    )
    assert counts == sorted(stream.counts)
    states = sorted(
        (datetime_to_us(ts), state)
        for ts, state in StateEvent.objects.filter(asset=asset).values_list("ts", "state")
    )
    assert states == sorted(stream.states)

    assert DeadLetter.objects.count() == expected_dead
    by_reason = Counter(DeadLetter.objects.values_list("reason", flat=True))
    assert by_reason == stream.reasons
    assert not DeadLetter.objects.filter(detail="").exists()
    assert DeadLetter.objects.filter(reason=Reason.INVALID_JSON, payload="{broken").exists()

    assert ingest.poll() is None, processes.log("ingest")[-2000:]
    ingest_log = processes.log("ingest")
    assert "Traceback" not in ingest_log, ingest_log[-3000:]
    assert "hand-off of batch" not in ingest_log, ingest_log[-3000:]
    worker_log = processes.log("worker")
    assert "dropped a row" not in worker_log, worker_log[-3000:]
    assert "storing it in halves" not in worker_log, worker_log[-3000:]
