"""A Sparkplug B edge node's messages, as a gateway such as Ignition Edge or Kepware sends them.

It builds the topics and payloads only (births with every metric's name, alias and datatype;
data by alias; deaths with the birth's bdSeq) and numbers them as the specification says; the
caller publishes them. Used by the simulator's tests and benchmarks to speak Sparkplug B to
a real broker.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from plantops.telemetry.sparkplug_schema import DataType, Payload
from plantops.telemetry.sparkplug_wire import BDSEQ_METRIC, NAMESPACE, REBIRTH_METRIC, SEQ_MODULO

Message = tuple[str, bytes]

_VALUE_FIELD = {
    DataType.INT8: "int_value",
    DataType.INT16: "int_value",
    DataType.INT32: "int_value",
    DataType.UINT8: "int_value",
    DataType.UINT16: "int_value",
    DataType.UINT32: "int_value",
    DataType.INT64: "long_value",
    DataType.UINT64: "long_value",
    DataType.DATETIME: "long_value",
    DataType.FLOAT: "float_value",
    DataType.DOUBLE: "double_value",
    DataType.BOOLEAN: "boolean_value",
    DataType.STRING: "string_value",
    DataType.TEXT: "string_value",
}


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def set_value(metric, datatype: DataType, value: float | int | bool | str | None) -> None:
    """Put `value` into the field its datatype uses; signed integers as two's complement."""
    if value is None:
        metric.is_null = True
        return
    which = _VALUE_FIELD[datatype]
    if which == "int_value":
        value = int(value) & 0xFFFFFFFF
    elif which == "long_value":
        value = int(value) & 0xFFFFFFFFFFFFFFFF
    setattr(metric, which, value)


@dataclass
class SparkplugEdgeNode:
    """One edge node and its devices; `metrics[device]` is `{name: datatype}` ("" the node)."""

    group: str
    node: str
    metrics: dict[str, dict[str, DataType]]
    bdseq: int = 0
    seq: int = 0
    aliases: dict[tuple[str, str], int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        alias = 1
        for device, names in self.metrics.items():
            for name in names:
                self.aliases[(device, name)] = alias
                alias += 1

    def topic(self, kind: str, device: str = "") -> str:
        base = f"{NAMESPACE}/{self.group}/{kind}/{self.node}"
        return f"{base}/{device}" if device else base

    def _next_seq(self) -> int:
        seq = self.seq
        self.seq = (self.seq + 1) % SEQ_MODULO
        return seq

    def _payload(self, ts_ms: int, *, seq: bool = True) -> Payload:
        payload = Payload(timestamp=ts_ms)
        if seq:
            payload.seq = self._next_seq()
        return payload

    def death(self) -> Message:
        """NDEATH: the will registered with the broker at connect; it carries the bdSeq."""
        payload = Payload(timestamp=now_ms())
        payload.metrics.add(name=BDSEQ_METRIC, datatype=DataType.INT64, long_value=self.bdseq)
        return self.topic("NDEATH"), payload.SerializeToString()

    def births(self, values: dict[tuple[str, str], object], *, ts_ms: int | None = None) -> list:
        """NBIRTH then one DBIRTH per device, every metric with its alias and datatype.

        A new birth starts at seq 0 and its bdSeq is that of the death registered with it."""
        ts_ms = ts_ms or now_ms()
        self.seq = 0
        node = self._payload(ts_ms)
        node.metrics.add(name=BDSEQ_METRIC, datatype=DataType.INT64, long_value=self.bdseq)
        node.metrics.add(name=REBIRTH_METRIC, datatype=DataType.BOOLEAN, boolean_value=False)
        self._birth_metrics(node, "", values)
        messages = [(self.topic("NBIRTH"), node.SerializeToString())]
        for device in self.metrics:
            if device:
                payload = self._payload(ts_ms)
                self._birth_metrics(payload, device, values)
                messages.append((self.topic("DBIRTH", device), payload.SerializeToString()))
        return messages

    def _birth_metrics(self, payload: Payload, device: str, values: dict) -> None:
        for name, datatype in self.metrics.get(device, {}).items():
            metric = payload.metrics.add(
                name=name, alias=self.aliases[(device, name)], datatype=datatype
            )
            set_value(metric, datatype, values.get((device, name)))

    def data(
        self,
        device: str,
        values: dict[str, object],
        *,
        ts_ms: int | None = None,
        historical: bool = False,
    ) -> Message:
        """NDATA (device "") or DDATA with the values by alias only, as births allow."""
        ts_ms = ts_ms or now_ms()
        payload = self._payload(ts_ms)
        for name, value in values.items():
            metric = payload.metrics.add(alias=self.aliases[(device, name)], timestamp=ts_ms)
            if historical:
                metric.is_historical = True
            set_value(metric, self.metrics[device][name], value)
        return self.topic("DDATA" if device else "NDATA", device), payload.SerializeToString()

    def device_death(self, device: str) -> Message:
        return self.topic("DDEATH", device), self._payload(now_ms()).SerializeToString()

    def rebirth_requested(self, topic: str, payload: bytes) -> bool:
        """Whether a message to this node is a Rebirth request (NCMD Node Control/Rebirth)."""
        if topic != self.topic("NCMD"):
            return False
        return any(
            m.name == REBIRTH_METRIC and m.boolean_value
            for m in Payload.FromString(payload).metrics
        )

    def next_session(self) -> None:
        """A reconnect: the next birth goes with a new bdSeq."""
        self.bdseq = (self.bdseq + 1) % SEQ_MODULO
