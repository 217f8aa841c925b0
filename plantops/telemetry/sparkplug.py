"""Sparkplug B (Eclipse Sparkplug 3.0) as a host application reads it. Pure: no Django.

Topics are `spBv1.0/<group>/<type>/<edge node>[/<device>]`. An edge node announces itself with
NBIRTH (every metric's name, alias, datatype and current value, and its `bdSeq`), its devices
with DBIRTH; data messages (NDATA, DDATA) may then name metrics by alias alone, so they are
read through the last birth of their node or device. Every message of a node after its birth
carries `seq`, one more than the last (mod 256); NDEATH (the node's MQTT will) ends a session
and carries the `bdSeq` of the birth it ends, so a death left over from an older session is
told apart and ignored.

`SparkplugHost` keeps that state per edge node and turns each message into what the JSON wire
contract yields (readings, states, counts and rejections, see `payloads`) plus
`SparkplugEvent`s — births, deaths and metrics seen that are not mapped yet — for the worker to
record. It never guesses: data that cannot be read through a birth it holds (no birth, a seq
gap, an unknown alias) is refused with its own reason and answered with a Rebirth request
(NCMD `Node Control/Rebirth`, at most one per node every `REBIRTH_EVERY_S`); the node's data
stays refused until the new NBIRTH arrives.

Mapping is the plant's: a node or device maps to an asset and each metric name to a signal,
the machine state, or a running total of good or scrap parts (`SparkplugMap`, set in the
admin). What is not mapped is reported as seen (at most once a minute per metric) and
otherwise left alone: an edge node publishes far more tags than a plant maps.

The state is per process: one edge node's messages must all reach the same ingest process (see
the README on running several). A new process knows no births and asks for them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import orjson
from google.protobuf.message import DecodeError

from plantops.telemetry.payloads import (
    EXCERPT_CHARS,
    MACHINE_STATES,
    MAX_PAYLOAD_BYTES,
    CountReport,
    Limits,
    ParseResult,
    Reason,
    Rejection,
    StateReport,
    storable,
)
from plantops.telemetry.sparkplug_mapping import Source, SparkplugMap, Target
from plantops.telemetry.sparkplug_schema import DataType, Payload
from plantops.telemetry.sparkplug_wire import (
    BDSEQ_METRIC,
    SEQ_MODULO,
    Command,
    EventKind,
    MessageType,
    SeenMetric,
    SparkplugEvent,
    SparkplugTopic,
    metric_value,
    parse_topic,
    payload_excerpt,
    raw_excerpt,
    rebirth_command,
    text_of,
    type_name,
)

# A node that keeps failing is asked again, but not on every message.
REBIRTH_EVERY_S = 5.0
# An unmapped metric is reported to the worker at most this often (its last value, for the admin).
SEEN_EVERY_S = 60.0


@dataclass(slots=True)
class SparkplugResult:
    parsed: ParseResult = field(default_factory=ParseResult)
    events: list[SparkplugEvent] = field(default_factory=list)
    commands: list[Command] = field(default_factory=list)


@dataclass(slots=True)
class _Session:
    """What one edge node's last NBIRTH (and its devices' DBIRTHs) said."""

    bdseq: int | None
    next_seq: int
    aliases: dict[int, tuple[str, int]]
    devices: dict[str, dict[int, tuple[str, int]]] = field(default_factory=dict)
    datatypes: dict[tuple[str, str], int] = field(default_factory=dict)
    # Set once its data cannot be read any more; the next NBIRTH clears it.
    broken: bool = False


class _Refused(Exception):
    def __init__(self, reason: Reason, detail: str, *, rebirth: bool = False) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail
        self.rebirth = rebirth


class SparkplugHost:
    """Reads Sparkplug B messages as a host application; one instance per ingest process."""

    def __init__(self, *, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._sessions: dict[tuple[str, str], _Session] = {}
        self._rebirth_asked: dict[tuple[str, str], float] = {}
        self._seen_at: dict[tuple[Source, str], float] = {}
        # The last running total of each counter metric: a count is the difference.
        self._totals: dict[tuple[Source, str], float] = {}
        # Other host applications' STATE: host id -> online.
        self.hosts: dict[str, bool] = {}

    def knows(self, group: str, node: str) -> bool:
        session = self._sessions.get((group, node))
        return session is not None and not session.broken

    # --- one message ---------------------------------------------------------------------------
    def receive(
        self, topic: str, payload: bytes, *, mapping: SparkplugMap, limits: Limits
    ) -> SparkplugResult:
        """Read one message; never raises for bad input."""
        result = SparkplugResult()
        parsed = parse_topic(topic)
        if parsed is None:
            result.parsed.rejections.append(
                Rejection(
                    Reason.BAD_TOPIC,
                    "expected spBv1.0/<group>/<message type>/<edge node>[/<device>]",
                    storable(topic[:EXCERPT_CHARS]),
                )
            )
            return result
        if len(payload) > MAX_PAYLOAD_BYTES:
            result.parsed.rejections.append(
                Rejection(
                    Reason.PAYLOAD_TOO_LARGE,
                    f"{len(payload)} bytes; the limit is 1 MiB",
                    raw_excerpt(payload[:64]),
                )
            )
            return result
        if parsed.type is MessageType.STATE:
            self._state(parsed, payload, result)
            return result
        if parsed.type in (MessageType.NCMD, MessageType.DCMD):
            return result  # commands to edge nodes, from us or another host: not telemetry
        try:
            message = Payload.FromString(payload)
        except DecodeError as error:
            result.parsed.rejections.append(
                Rejection(
                    Reason.SPARKPLUG_BAD_PAYLOAD,
                    f"not a Sparkplug B payload: {error}"[:300],
                    raw_excerpt(payload),
                )
            )
            return result
        try:
            self._read(parsed, message, mapping, limits, result)
        except _Refused as refused:
            # A message is read whole or not at all: nothing it yielded before the refusal.
            result.parsed, result.events = ParseResult(), []
            result.parsed.rejections.append(
                Rejection(refused.reason, refused.detail, payload_excerpt(parsed.type, message))
            )
            if refused.rebirth:
                self._ask_rebirth(parsed.source, result, limits)
        return result

    def _state(self, parsed: SparkplugTopic, payload: bytes, result: SparkplugResult) -> None:
        try:
            body = orjson.loads(payload)
        except orjson.JSONDecodeError:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("online"), bool):
            result.parsed.rejections.append(
                Rejection(
                    Reason.SPARKPLUG_BAD_PAYLOAD,
                    'STATE must be JSON {"online": true|false, "timestamp": <ms>}',
                    storable(payload[:EXCERPT_CHARS].decode("utf-8", errors="replace")),
                )
            )
            return
        self.hosts[parsed.host_id] = body["online"]

    def _ask_rebirth(self, source: Source, result: SparkplugResult, limits: Limits) -> None:
        key = (source.group, source.node)
        now = self._clock()
        if now - self._rebirth_asked.get(key, -math.inf) < REBIRTH_EVERY_S:
            return
        self._rebirth_asked[key] = now
        result.commands.append(
            rebirth_command(source.group, source.node, timestamp_ms=limits.now_us // 1000)
        )

    def _read(
        self,
        topic: SparkplugTopic,
        message,
        mapping: SparkplugMap,
        limits: Limits,
        result: SparkplugResult,
    ) -> None:
        kind, source = topic.type, topic.source
        key = (source.group, source.node)
        ts_us = self._message_ts(message, limits)
        if kind is MessageType.NBIRTH:
            self._node_birth(source, message, ts_us, mapping, limits, result)
            return
        if kind is MessageType.NDEATH:
            bdseq = next(
                (m.long_value for m in message.metrics if m.name == BDSEQ_METRIC),
                None,
            )
            session = self._sessions.get(key)
            if (
                session is not None
                and None not in (bdseq, session.bdseq)
                and bdseq != session.bdseq
            ):
                return  # the will of an earlier session, delivered after the new birth
            self._sessions.pop(key, None)
            result.events.append(SparkplugEvent(EventKind.DEATH, *source, ts_us, []))
            return
        session = self._sessions.get(key)
        if session is None:
            raise _Refused(
                Reason.SPARKPLUG_NO_BIRTH,
                f"no NBIRTH from {source.group}/{source.node} since this ingest started",
                rebirth=True,
            )
        if session.broken:
            raise _Refused(
                Reason.SPARKPLUG_AWAITING_REBIRTH,
                f"{source.group}/{source.node} lost its place; waiting for its NBIRTH",
                rebirth=True,
            )
        seq = message.seq if message.HasField("seq") else None
        if seq != session.next_seq:
            session.broken = True
            raise _Refused(
                Reason.SPARKPLUG_SEQ_GAP,
                f"seq {seq if seq is not None else 'missing'}, expected {session.next_seq}: "
                "messages were lost; asked for a rebirth",
                rebirth=True,
            )
        session.next_seq = (seq + 1) % SEQ_MODULO
        if kind is MessageType.DBIRTH:
            aliases: dict[int, tuple[str, int]] = {}
            metrics = self._birth_metrics(source, message, ts_us, aliases, session)
            session.devices[source.device] = aliases
            result.events.append(SparkplugEvent(EventKind.BIRTH, *source, ts_us, metrics))
            self._values(source, message, ts_us, aliases, mapping, limits, result, birth=True)
        elif kind is MessageType.DDEATH:
            session.devices.pop(source.device, None)
            result.events.append(SparkplugEvent(EventKind.DEATH, *source, ts_us, []))
        elif kind is MessageType.NDATA:
            self._values(source, message, ts_us, session.aliases, mapping, limits, result)
        else:  # DDATA
            aliases = session.devices.get(source.device)
            if aliases is None:
                session.broken = True
                raise _Refused(
                    Reason.SPARKPLUG_NO_BIRTH,
                    f"no DBIRTH from device {source} in this session",
                    rebirth=True,
                )
            self._values(source, message, ts_us, aliases, mapping, limits, result)

    def _node_birth(self, source, message, ts_us, mapping, limits, result) -> None:
        key = (source.group, source.node)
        bdseq = next((int(m.long_value) for m in message.metrics if m.name == BDSEQ_METRIC), None)
        seq = message.seq if message.HasField("seq") else 0
        session = _Session(bdseq=bdseq, next_seq=(seq + 1) % SEQ_MODULO, aliases={})
        metrics = self._birth_metrics(source, message, ts_us, session.aliases, session)
        self._sessions[key] = session
        self._rebirth_asked.pop(key, None)
        result.events.append(SparkplugEvent(EventKind.BIRTH, *source, ts_us, metrics))
        self._values(source, message, ts_us, session.aliases, mapping, limits, result, birth=True)

    def _birth_metrics(self, source, message, ts_us, aliases, session) -> list[SeenMetric]:
        seen = []
        for metric in message.metrics:
            if not metric.name:
                raise _Refused(
                    Reason.SPARKPLUG_BAD_PAYLOAD, "a birth metric without a name", rebirth=True
                )
            datatype = metric.datatype
            if metric.HasField("alias"):
                aliases[metric.alias] = (metric.name, datatype)
            session.datatypes[(source.device, metric.name)] = datatype
            seen.append(
                SeenMetric(
                    metric.name,
                    metric.alias if metric.HasField("alias") else -1,
                    datatype,
                    text_of(metric_value(metric, datatype)),
                    metric.timestamp * 1000 if metric.timestamp else ts_us,
                )
            )
        return seen

    @staticmethod
    def _message_ts(message, limits: Limits) -> int:
        return message.timestamp * 1000 if message.HasField("timestamp") else limits.now_us

    def _values(
        self,
        source: Source,
        message,
        ts_us: int,
        aliases: dict[int, tuple[str, int]],
        mapping: SparkplugMap,
        limits: Limits,
        result: SparkplugResult,
        *,
        birth: bool = False,
    ) -> None:
        """Turn the metrics' values into readings, states and counts by the mapping."""
        parsed = result.parsed
        asset_id = mapping.assets.get(source)
        session = self._sessions[(source.group, source.node)]
        counts: dict[int, list[int]] = {}  # ts_us -> [good, scrap]
        unmapped: list[SeenMetric] = []
        earliest_us = limits.now_us - limits.max_age_us
        latest_us = limits.now_us + limits.max_future_us
        for metric in message.metrics:
            if metric.name:
                name = metric.name
                datatype = (
                    metric.datatype
                    if metric.HasField("datatype")
                    else session.datatypes.get((source.device, name), DataType.UNKNOWN)
                )
            elif metric.HasField("alias") and metric.alias in aliases:
                name, datatype = aliases[metric.alias]
            else:
                session.broken = True
                raise _Refused(
                    Reason.SPARKPLUG_UNKNOWN_ALIAS,
                    f"alias {metric.alias} is not in the last birth of {source}",
                    rebirth=True,
                )
            if name == BDSEQ_METRIC or name.startswith(("Node Control/", "Device Control/")):
                continue
            value = metric_value(metric, datatype)
            at_us = metric.timestamp * 1000 if metric.timestamp else ts_us
            target = (
                mapping.metrics.get((source.group, source.node, source.device, name))
                if asset_id is not None
                else None
            )
            if target is None:
                if not birth and self._report_seen(source, name):
                    unmapped.append(
                        SeenMetric(
                            name,
                            metric.alias if metric.HasField("alias") else -1,
                            datatype,
                            text_of(value),
                            at_us,
                        )
                    )
                continue
            if target.target is Target.IGNORE or value is None:
                continue
            if not earliest_us <= at_us <= latest_us:
                parsed.rejections.append(
                    Rejection(
                        Reason.TIMESTAMP_IN_FUTURE
                        if at_us > latest_us
                        else Reason.TIMESTAMP_TOO_OLD,
                        f"metric {name!r}: timestamp outside the accepted window",
                        payload_excerpt(
                            MessageType.DDATA if source.device else MessageType.NDATA, message
                        ),
                    )
                )
                continue
            if target.target is Target.SIGNAL:
                if isinstance(value, str) or not math.isfinite(value):
                    parsed.rejections.append(
                        Rejection(
                            Reason.SPARKPLUG_BAD_VALUE,
                            f"metric {name!r} ({type_name(datatype)}) is mapped to a "
                            "signal, which takes finite numbers",
                            storable(f"{source} {name}={text_of(value)}"),
                        )
                    )
                    continue
                (parsed.history if metric.is_historical else parsed.readings).append(
                    (target.signal_id, at_us, value)
                )
            elif target.target is Target.STATE:
                state = value.strip().lower().replace(" ", "_") if isinstance(value, str) else ""
                if state not in MACHINE_STATES:
                    parsed.rejections.append(
                        Rejection(
                            Reason.BAD_STATE,
                            f"metric {name!r}: state must be one of "
                            f"{', '.join(sorted(MACHINE_STATES))}",
                            storable(f"{source} {name}={text_of(value)}"),
                        )
                    )
                    continue
                parsed.states.append(StateReport(asset_id, at_us, state, ""))
            else:
                made = self._count(source, name, value, birth=birth)
                if made:
                    slot = counts.setdefault(at_us, [0, 0])
                    slot[0 if target.target is Target.GOOD_TOTAL else 1] += made
        for at_us, (good, scrap) in sorted(counts.items()):
            parsed.counts.append(CountReport(asset_id, at_us, good, scrap))
        if unmapped:
            result.events.append(SparkplugEvent(EventKind.SEEN, *source, ts_us, unmapped))

    def _report_seen(self, source: Source, name: str) -> bool:
        now = self._clock()
        key = (source, name)
        if now - self._seen_at.get(key, -math.inf) < SEEN_EVERY_S:
            return False
        self._seen_at[key] = now
        return True

    def _count(self, source: Source, name: str, value: float | str, *, birth: bool) -> int:
        """Parts made since the last total seen of this counter (0 for the first one seen).

        A total lower than the last means the counter was reset: in data, the new total was
        made since; in a birth (an edge node restarted), it only starts counting again.
        """
        if isinstance(value, str) or not math.isfinite(value) or value < 0:
            return 0
        key = (source, name)
        last = self._totals.get(key)
        self._totals[key] = value
        if last is None:
            return 0
        if value >= last:
            return min(int(value - last), 2**31 - 1)
        return 0 if birth else min(int(value), 2**31 - 1)
