"""Parse and validate the v1 MQTT wire contract. Pure: no Django, no database.

Every message either yields readings, state changes and counts, or rejections with a reason
code; nothing raises past `parse_message`. A batch keeps its good readings and rejects only
its bad items, so one bad reading never costs the others. A message yields at most
`MAX_REJECTIONS_PER_MESSAGE` rejections of its own items, then one that counts the rest.
"""

from __future__ import annotations

import json
import math
import re
import reprlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import NamedTuple

import orjson

from plantops.assets.states import MachineState
from plantops.core.time import datetime_to_us
from plantops.telemetry.sparkplug_mapping import SparkplugMap
from plantops.telemetry.urgency import Band

MAX_PAYLOAD_BYTES = 1024 * 1024
MAX_BATCH_READINGS = 10_000
EXCERPT_CHARS = 1000
MAX_REPLAY_BYTES = 64 * 1024
# Each rejection becomes a dead-letter row: a batch of 10,000 bad items would write 10,000 rows
# that say the same thing. Past this many, its items are only counted, by reason, in one more.
MAX_REJECTIONS_PER_MESSAGE = 100
MACHINE_STATES = frozenset(MachineState)


class Reason(StrEnum):
    PAYLOAD_TOO_LARGE = "payload_too_large"
    INVALID_JSON = "invalid_json"
    NOT_AN_OBJECT = "not_an_object"
    BAD_TOPIC = "bad_topic"
    UNKNOWN_ASSET = "unknown_asset"
    UNKNOWN_SIGNAL = "unknown_signal"
    MISSING_FIELD = "missing_field"
    WRONG_TYPE = "wrong_type"
    NOT_FINITE = "not_finite"
    BAD_TIMESTAMP = "bad_timestamp"
    TIMESTAMP_IN_FUTURE = "timestamp_in_future"
    TIMESTAMP_TOO_OLD = "timestamp_too_old"
    BAD_STATE = "bad_state"
    BATCH_TOO_LARGE = "batch_too_large"
    # Sparkplug B (see `sparkplug`).
    SPARKPLUG_BAD_PAYLOAD = "sparkplug_bad_payload"
    SPARKPLUG_NO_BIRTH = "sparkplug_no_birth"
    SPARKPLUG_SEQ_GAP = "sparkplug_seq_gap"
    SPARKPLUG_UNKNOWN_ALIAS = "sparkplug_unknown_alias"
    SPARKPLUG_AWAITING_REBIRTH = "sparkplug_awaiting_rebirth"
    SPARKPLUG_BAD_VALUE = "sparkplug_bad_value"


@dataclass(frozen=True, slots=True)
class Rejection:
    reason: Reason
    detail: str
    excerpt: str
    # A message that reproduces what was refused, for replay once the configuration is fixed:
    # the payload itself, or one bad item of a batch as a one-item batch. Empty when too large.
    replay: bytes = b""


class StateReport(NamedTuple):
    """A machine said what it is doing, from `ts_us` on (with a reason code, or "")."""

    asset_id: int
    ts_us: int
    state: str
    reason: str


class CountReport(NamedTuple):
    """A machine counted parts made since its last count message."""

    asset_id: int
    ts_us: int
    good: int
    scrap: int


@dataclass(slots=True)
class ParseResult:
    """What one MQTT message contributed: rows to store and reasons for what was refused.

    Readings are `(signal_id, ts_us, value)`, states `(asset_id, ts_us, state, reason)`,
    counts `(asset_id, ts_us, good, scrap)`; `ts_us` is microseconds since the Unix epoch, UTC.
    """

    readings: list[tuple[int, int, float]] = field(default_factory=list)
    states: list[StateReport] = field(default_factory=list)
    counts: list[CountReport] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    # Readings a gateway flagged as history (Sparkplug `is_historical`): stored at their own
    # times like the others, but never taken as a signal's current value.
    history: list[tuple[int, int, float]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class TopicRegistry:
    """Slugs known to the plant model: asset paths `(site, area, line, asset)` → asset id,
    and `(asset id, signal slug)` → signal id; per signal id, the band whose crossing
    hands a batch on at once (`urgency`); and the Sparkplug B mapping."""

    assets: dict[tuple[str, str, str, str], int]
    signals: dict[tuple[int, str], int]
    bands: dict[int, Band] = field(default_factory=dict)
    sparkplug: SparkplugMap = field(default_factory=SparkplugMap)


@dataclass(frozen=True, slots=True)
class Limits:
    now_us: int
    max_future_us: int = 300 * 1_000_000
    max_age_us: int = 400 * 86_400 * 1_000_000


class _Invalid(Exception):
    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


# Text databases refuse NUL, and UTF-8 cannot encode a lone surrogate: either would make the
# worker fail on a whole batch, so neither may reach a stored string.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(text: str) -> str:
    """Return text with NUL and lone surrogates replaced, safe for any text column."""
    return _UNSTORABLE.sub("\ufffd", text)


def excerpt_of(payload: bytes) -> str:
    return storable(payload[: EXCERPT_CHARS * 4].decode("utf-8", errors="replace")[:EXCERPT_CHARS])


def parse_message(
    topic: str, payload: bytes, *, registry: TopicRegistry, limits: Limits
) -> ParseResult:
    """Parse one MQTT message into a ParseResult; never raises for bad input."""
    result = ParseResult()
    try:
        _parse_into(result, topic, payload, registry, limits)
    except _Invalid as invalid:
        replay = payload if len(payload) <= MAX_REPLAY_BYTES else b""
        result.rejections.append(
            Rejection(invalid.reason, invalid.detail, excerpt_of(payload), replay)
        )
    except Exception as error:  # pragma: no cover - a bug here must not stop ingest
        result.rejections.append(
            Rejection(
                Reason.WRONG_TYPE, f"unparseable: {type(error).__name__}", excerpt_of(payload)
            )
        )
    return result


def _parse_into(
    result: ParseResult, topic: str, payload: bytes, registry: TopicRegistry, limits: Limits
) -> None:
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise _Invalid(Reason.PAYLOAD_TOO_LARGE, f"{len(payload)} bytes; the limit is 1 MiB")
    parts = topic.split("/")
    # plantops/<site>/<area>/<line>/<asset>/<kind>[/<signal>]
    if len(parts) not in (6, 7) or parts[0] != "plantops" or not all(parts):
        raise _Invalid(Reason.BAD_TOPIC, "expected plantops/<site>/<area>/<line>/<asset>/<kind>")
    kind = parts[5]
    if len(parts) == 7 and kind != "telemetry":
        raise _Invalid(Reason.BAD_TOPIC, f"unexpected topic level after {kind!r}")
    if kind not in ("telemetry", "state", "count"):
        raise _Invalid(Reason.BAD_TOPIC, f"unknown message kind {kind!r}")
    asset_id = registry.assets.get((parts[1], parts[2], parts[3], parts[4]))
    if asset_id is None:
        raise _Invalid(Reason.UNKNOWN_ASSET, "no asset at " + "/".join(parts[1:5]))
    body = _decode_object(payload)

    if kind == "state":
        ts_us = _timestamp(body, limits)
        state = body.get("state")
        if not isinstance(state, str) or state not in MACHINE_STATES:
            raise _Invalid(
                Reason.BAD_STATE, f"state must be one of {', '.join(sorted(MACHINE_STATES))}"
            )
        reason = body.get("reason", "")
        if reason is None:
            reason = ""
        if not isinstance(reason, str) or len(reason) > 64 or _UNSTORABLE.search(reason):
            raise _Invalid(Reason.WRONG_TYPE, "reason must be text of at most 64 characters")
        result.states.append(StateReport(asset_id, ts_us, state, reason))
    elif kind == "count":
        ts_us = _timestamp(body, limits)
        result.counts.append(
            CountReport(asset_id, ts_us, _count(body, "good"), _count(body, "scrap"))
        )
    elif len(parts) == 7:
        signal_id = registry.signals.get((asset_id, parts[6]))
        if signal_id is None:
            raise _Invalid(Reason.UNKNOWN_SIGNAL, f"asset has no signal {parts[6]!r}")
        result.readings.append((signal_id, _timestamp(body, limits), _value(body)))
    else:
        _parse_batch(result, asset_id, body, registry, limits)


def _parse_batch(
    result: ParseResult, asset_id: int, body: dict, registry: TopicRegistry, limits: Limits
) -> None:
    items = body.get("readings")
    if items is None:
        raise _Invalid(Reason.MISSING_FIELD, "missing 'readings'")
    if not isinstance(items, list):
        raise _Invalid(Reason.WRONG_TYPE, "'readings' must be a list")
    if len(items) > MAX_BATCH_READINGS:
        raise _Invalid(Reason.BATCH_TOO_LARGE, f"{len(items)} readings; the limit is 10,000")
    signals = registry.signals
    readings = result.readings
    # The common item ({"signal": str, "ts": float seconds, "value": float}, all valid) is
    # taken in line; anything else goes the long way, which decides and explains. Only what
    # that way would accept, with the same result, is taken here.
    earliest_us = limits.now_us - limits.max_age_us
    latest_us = limits.now_us + limits.max_future_us
    isfinite = math.isfinite
    unlisted: Counter[Reason] = Counter()  # refused items past MAX_REJECTIONS_PER_MESSAGE
    first_unlisted, first_excerpt = 0, ""
    for index, item in enumerate(items):
        if type(item) is dict:
            slug, ts, value = item.get("signal"), item.get("ts"), item.get("value")
            if (
                type(slug) is str
                and type(ts) is float
                and type(value) is float
                and -1e11 < ts < 1e11
            ):
                signal_id = signals.get((asset_id, slug))
                ts_us = round(ts * 1_000_000)
                if signal_id is not None and isfinite(value) and earliest_us <= ts_us <= latest_us:
                    readings.append((signal_id, ts_us, value))
                    continue
        try:
            if not isinstance(item, dict):
                raise _Invalid(Reason.NOT_AN_OBJECT, "reading must be an object")
            slug = item.get("signal")
            if not isinstance(slug, str):
                raise _Invalid(
                    Reason.MISSING_FIELD if slug is None else Reason.WRONG_TYPE,
                    "'signal' must be a string",
                )
            signal_id = signals.get((asset_id, slug))
            if signal_id is None:
                raise _Invalid(Reason.UNKNOWN_SIGNAL, f"asset has no signal {slug!r}")
            result.readings.append((signal_id, _timestamp(item, limits), _value(item)))
        except _Invalid as invalid:
            if len(result.rejections) < MAX_REJECTIONS_PER_MESSAGE:
                result.rejections.append(
                    Rejection(
                        invalid.reason,
                        f"readings[{index}]: {invalid.detail}",
                        _item_excerpt(item),
                        _item_replay(item),
                    )
                )
                continue
            if not unlisted:
                first_unlisted = index
                first_excerpt = _item_excerpt(item)
            unlisted[invalid.reason] += 1
    if unlisted:
        result.rejections.append(_unlisted_summary(unlisted, first_unlisted, first_excerpt))


def _unlisted_summary(unlisted: Counter[Reason], first_index: int, excerpt: str) -> Rejection:
    """One rejection that counts, by reason, the refused items not recorded one by one.

    It takes the reason most of them share; the excerpt is the first of them. It cannot be
    replayed: the items it counts are not kept.
    """
    total = sum(unlisted.values())
    by_reason = ", ".join(f"{reason.value} {n:,}" for reason, n in unlisted.most_common())
    return Rejection(
        unlisted.most_common(1)[0][0],
        f"{total:,} more refused item{'' if total == 1 else 's'} from readings[{first_index}] "
        f"on, not recorded one by one (a message records {MAX_REJECTIONS_PER_MESSAGE} at most): "
        f"{by_reason}",
        excerpt,
    )


def _item_replay(item: object) -> bytes:
    try:
        replay = json.dumps({"readings": [item]}, allow_nan=True).encode()
    except (TypeError, ValueError, RecursionError):
        return b""  # nested too deep to encode again: kept as an excerpt only
    return replay if len(replay) <= MAX_REPLAY_BYTES else b""


def _item_excerpt(item: object) -> str:
    try:
        return storable(json.dumps(item, allow_nan=True)[:EXCERPT_CHARS])
    except (TypeError, ValueError, RecursionError):
        return storable(reprlib.repr(item)[:EXCERPT_CHARS])


def _decode_object(payload: bytes) -> dict:
    try:
        body = orjson.loads(payload)
    except orjson.JSONDecodeError:
        # orjson is strict where the json module is lenient (NaN and Infinity tokens, integers
        # beyond 64 bits, lone surrogates): the json module decides, so those get the precise
        # reason (for example not_finite) rather than invalid_json.
        try:
            body = json.loads(payload)
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise _Invalid(Reason.INVALID_JSON, "payload is not valid UTF-8 JSON") from None
    if not isinstance(body, dict):
        raise _Invalid(Reason.NOT_AN_OBJECT, "payload must be a JSON object")
    return body


def _timestamp(body: dict, limits: Limits) -> int:
    raw = body.get("ts")
    if raw is None:
        raise _Invalid(Reason.MISSING_FIELD, "missing 'ts'")
    if isinstance(raw, bool):
        raise _Invalid(Reason.WRONG_TYPE, "'ts' must be an RFC 3339 string or epoch seconds")
    if isinstance(raw, int | float):
        if not math.isfinite(raw):
            raise _Invalid(Reason.NOT_FINITE, "'ts' must be finite")
        try:
            ts_us = round(raw * 1_000_000)
        except OverflowError:
            raise _Invalid(Reason.BAD_TIMESTAMP, "'ts' is out of range") from None
    elif isinstance(raw, str):
        ts_us = _rfc3339_us(raw)
    else:
        raise _Invalid(Reason.WRONG_TYPE, "'ts' must be an RFC 3339 string or epoch seconds")
    if ts_us > limits.now_us + limits.max_future_us:
        raise _Invalid(Reason.TIMESTAMP_IN_FUTURE, "'ts' is more than 5 minutes in the future")
    if ts_us < limits.now_us - limits.max_age_us:
        raise _Invalid(Reason.TIMESTAMP_TOO_OLD, "'ts' is older than the retention window")
    return ts_us


def _rfc3339_us(raw: str) -> int:
    # RFC 3339 needs a date, a time and an offset; fromisoformat alone accepts a bare date.
    if len(raw) < 20 or raw[10] not in "Tt ":
        raise _Invalid(Reason.BAD_TIMESTAMP, f"'ts' {raw[:40]!r} is not RFC 3339 date-time")
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        raise _Invalid(Reason.BAD_TIMESTAMP, f"'ts' {raw[:40]!r} is not RFC 3339") from None
    if parsed.tzinfo is None:
        raise _Invalid(Reason.BAD_TIMESTAMP, "'ts' needs an offset such as Z or +01:00")
    try:
        return datetime_to_us(parsed)
    except OverflowError:  # pragma: no cover - year 1 or 9999 with an offset
        raise _Invalid(Reason.BAD_TIMESTAMP, "'ts' is out of range") from None


def _value(body: dict) -> float:
    raw = body.get("value")
    if raw is None:
        raise _Invalid(Reason.MISSING_FIELD, "missing 'value'")
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise _Invalid(Reason.WRONG_TYPE, "'value' must be a number")
    try:
        value = float(raw)
    except OverflowError:
        raise _Invalid(Reason.NOT_FINITE, "'value' is too large") from None
    if not math.isfinite(value):
        raise _Invalid(Reason.NOT_FINITE, "'value' must be finite (no NaN or Infinity)")
    return value


def _count(body: dict, name: str) -> int:
    raw = body.get(name)
    if raw is None:
        raise _Invalid(Reason.MISSING_FIELD, f"missing {name!r}")
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise _Invalid(Reason.WRONG_TYPE, f"{name!r} must be an integer")
    if raw < 0 or raw > 2**31 - 1:
        raise _Invalid(Reason.WRONG_TYPE, f"{name!r} must be between 0 and 2^31-1")
    return raw
