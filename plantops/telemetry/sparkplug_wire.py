"""Sparkplug B (Eclipse Sparkplug 3.0) on the wire: topics, message types, metric values, the
Rebirth command, and the events a host reports to the worker. Pure: no Django.

Topics are `spBv1.0/<group>/<type>/<edge node>[/<device>]`, or `spBv1.0/STATE/<host id>` for a
host application's state. How a host reads a node's messages in turn is `sparkplug`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple

from plantops.telemetry.payloads import EXCERPT_CHARS, storable
from plantops.telemetry.sparkplug_mapping import Source
from plantops.telemetry.sparkplug_schema import DataType, Payload

NAMESPACE = "spBv1.0"
TOPIC_FILTER = f"{NAMESPACE}/#"
SEQ_MODULO = 256
REBIRTH_METRIC = "Node Control/Rebirth"
BDSEQ_METRIC = "bdSeq"


class MessageType(StrEnum):
    NBIRTH = "NBIRTH"
    NDEATH = "NDEATH"
    DBIRTH = "DBIRTH"
    DDEATH = "DDEATH"
    NDATA = "NDATA"
    DDATA = "DDATA"
    NCMD = "NCMD"
    DCMD = "DCMD"
    STATE = "STATE"


NODE_TYPES = {MessageType.NBIRTH, MessageType.NDEATH, MessageType.NDATA, MessageType.NCMD}
DEVICE_TYPES = {MessageType.DBIRTH, MessageType.DDEATH, MessageType.DDATA, MessageType.DCMD}


@dataclass(frozen=True, slots=True)
class SparkplugTopic:
    type: MessageType
    source: Source
    # The host application id of a STATE topic (`spBv1.0/STATE/<host id>`).
    host_id: str = ""


class SeenMetric(NamedTuple):
    name: str
    alias: int  # -1: none given
    datatype: int
    value: str
    ts_us: int


class EventKind(StrEnum):
    BIRTH = "birth"
    DEATH = "death"
    SEEN = "seen"


class SparkplugEvent(NamedTuple):
    """A birth or death of a node (device "") or device, or metrics seen that are unmapped.

    A birth lists every metric it defines; SEEN lists only unmapped ones. JSON-safe as a list.
    """

    kind: str
    group: str
    node: str
    device: str
    ts_us: int
    metrics: list[SeenMetric]

    @property
    def source(self) -> Source:
        return Source(self.group, self.node, self.device)

    @classmethod
    def of(cls, row: list | tuple) -> SparkplugEvent:
        kind, group, node, device, ts_us, metrics = row
        return cls(
            str(kind),
            str(group),
            str(node),
            str(device),
            int(ts_us),
            [SeenMetric(str(n), int(a), int(d), str(v), int(t)) for n, a, d, v, t in metrics],
        )


class Command(NamedTuple):
    """A message the host must publish (QoS 0): a Rebirth request."""

    topic: str
    payload: bytes


def parse_topic(topic: str) -> SparkplugTopic | None:
    """Return the topic's parts, or None if it is not a Sparkplug B topic PlantOps reads."""
    parts = topic.split("/")
    if len(parts) < 3 or parts[0] != NAMESPACE or not all(parts):
        return None
    if parts[1] == MessageType.STATE and len(parts) == 3:
        return SparkplugTopic(MessageType.STATE, Source("", ""), host_id=parts[2])
    try:
        kind = MessageType(parts[2])
    except ValueError:
        return None
    if kind in NODE_TYPES and len(parts) == 4:
        return SparkplugTopic(kind, Source(parts[1], parts[3]))
    if kind in DEVICE_TYPES and len(parts) == 5:
        return SparkplugTopic(kind, Source(parts[1], parts[3], parts[4]))
    return None


def rebirth_command(group: str, node: str, *, timestamp_ms: int) -> Command:
    """NCMD asking an edge node to publish its births again (specification 6.4.7)."""
    payload = Payload(timestamp=timestamp_ms)
    payload.metrics.add(
        name=REBIRTH_METRIC,
        timestamp=timestamp_ms,
        datatype=DataType.BOOLEAN,
        boolean_value=True,
    )
    return Command(f"{NAMESPACE}/{group}/{MessageType.NCMD}/{node}", payload.SerializeToString())


# --- values -------------------------------------------------------------------------------------

_SIGNED_BITS = {DataType.INT8: 8, DataType.INT16: 16, DataType.INT32: 32, DataType.INT64: 64}


def metric_value(metric, datatype: int) -> float | str | None:
    """The metric's value by its datatype: a number, text, or None (null, or a kind PlantOps
    does not read such as DataSet or Template).

    Signed integers travel as unsigned two's complement (Int8–Int32 in the 32-bit field, Int64
    in the 64-bit one); a gateway that wrote an Int8 as 8 bits reads the same.
    """
    if metric.is_null:
        return None
    which = metric.WhichOneof("value")
    if which is None:
        return None
    raw = getattr(metric, which)
    if which in ("int_value", "long_value"):
        bits = _SIGNED_BITS.get(datatype)
        if bits is not None:
            raw &= (1 << bits) - 1
            if raw >= 1 << (bits - 1):
                raw -= 1 << bits
        return float(raw)
    if which in ("float_value", "double_value"):
        return float(raw)
    if which == "boolean_value":
        return 1.0 if raw else 0.0
    if which == "string_value":
        return raw
    return None


def type_name(datatype: int) -> str:
    try:
        return DataType(datatype).name
    except ValueError:
        return f"datatype {datatype}"


def text_of(value: float | str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(int(value)) if value.is_integer() and abs(value) < 2**53 else repr(value)
    return storable(value[:200])


def payload_excerpt(kind: MessageType, payload) -> str:
    shown = []
    for metric in payload.metrics[:20]:
        label = metric.name or f"alias {metric.alias}"
        shown.append(f"{label}={text_of(metric_value(metric, metric.datatype))}")
    more = len(payload.metrics) - len(shown)
    text = f"{kind} seq={payload.seq if payload.HasField('seq') else '-'} " + ", ".join(shown)
    if more > 0:
        text += f" … {more} more"
    return storable(text[:EXCERPT_CHARS])


def raw_excerpt(payload: bytes) -> str:
    return "0x" + payload[: EXCERPT_CHARS // 2 - 1].hex()
