"""Sparkplug B as the host reads it: births, data by alias, sequence, deaths, mapping. No database."""

from __future__ import annotations

from plantops.simulator.sparkplug_node import SparkplugEdgeNode
from plantops.telemetry.payloads import Limits, Reason, StateReport
from plantops.telemetry.sparkplug import REBIRTH_EVERY_S, SEEN_EVERY_S, SparkplugHost
from plantops.telemetry.sparkplug_mapping import MetricTarget, Source, SparkplugMap, Target
from plantops.telemetry.sparkplug_schema import DataType, Payload
from plantops.telemetry.sparkplug_wire import EventKind, parse_topic

NOW_MS = 1_800_000_000_000
LIMITS = Limits(now_us=NOW_MS * 1000)
SPINDLE = Source("plant", "edge1", "spindle")
NODE = Source("plant", "edge1")
MAPPING = SparkplugMap(
    assets={SPINDLE: 7, NODE: 8},
    metrics={
        (*SPINDLE, "Vibration"): MetricTarget(Target.SIGNAL, 70),
        (*SPINDLE, "Temperature"): MetricTarget(Target.SIGNAL, 71),
        (*SPINDLE, "Mode"): MetricTarget(Target.STATE),
        (*SPINDLE, "Good"): MetricTarget(Target.GOOD_TOTAL),
        (*SPINDLE, "Scrap"): MetricTarget(Target.SCRAP_TOTAL),
        (*SPINDLE, "Offset"): MetricTarget(Target.SIGNAL, 72),
        (*NODE, "Uptime"): MetricTarget(Target.IGNORE),
    },
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def edge() -> SparkplugEdgeNode:
    return SparkplugEdgeNode(
        group="plant",
        node="edge1",
        metrics={
            "": {"Uptime": DataType.INT64, "Cabinet": DataType.FLOAT},
            "spindle": {
                "Vibration": DataType.DOUBLE,
                "Temperature": DataType.FLOAT,
                "Mode": DataType.STRING,
                "Good": DataType.UINT32,
                "Scrap": DataType.UINT32,
                "Offset": DataType.INT16,
                "Serial": DataType.STRING,
            },
        },
    )


BIRTH_VALUES = {
    ("", "Uptime"): 5,
    ("spindle", "Vibration"): 1.5,
    ("spindle", "Good"): 100,
    ("spindle", "Scrap"): 3,
    ("spindle", "Mode"): "Running",
}


def host_after_birth() -> tuple[SparkplugHost, SparkplugEdgeNode, Clock]:
    clock = Clock()
    host = SparkplugHost(clock=clock)
    node = edge()
    for topic, payload in node.births(BIRTH_VALUES, ts_ms=NOW_MS - 5000):
        result = host.receive(topic, payload, mapping=MAPPING, limits=LIMITS)
        assert not result.parsed.rejections
    return host, node, clock


def receive(host, message):
    return host.receive(*message, mapping=MAPPING, limits=LIMITS)


def test_the_schema_reads_the_specification_wire_format():
    # Payload{timestamp=1, metrics=[{alias=3, datatype=10 (Double), double_value=1.5}], seq=4},
    # assembled by hand from the field numbers of Eclipse Sparkplug 3.0's sparkplug_b.proto.
    metric = bytes([0x10, 0x03, 0x20, 0x0A, 0x69]) + bytes.fromhex("000000000000f83f")
    raw = bytes([0x08, 0x01, 0x12, len(metric)]) + metric + bytes([0x18, 0x04])
    payload = Payload.FromString(raw)
    assert payload.timestamp == 1
    assert payload.seq == 4
    assert payload.metrics[0].alias == 3
    assert payload.metrics[0].double_value == 1.5
    assert Payload(timestamp=1, seq=4, metrics=[payload.metrics[0]]).SerializeToString() == raw


def test_fields_it_does_not_declare_are_skipped_not_refused():
    # A metric carrying a DataSet (field 17) and properties (field 9) still decodes.
    metric = bytes([0x0A, 0x01, 0x61, 0x4A, 0x00, 0x8A, 0x01, 0x02, 0x08, 0x01])
    payload = Payload.FromString(bytes([0x12, len(metric)]) + metric)
    assert payload.metrics[0].name == "a"
    assert payload.metrics[0].WhichOneof("value") is None


def test_topics():
    assert parse_topic("spBv1.0/plant/DDATA/edge1/spindle").source == SPINDLE
    assert parse_topic("spBv1.0/plant/NBIRTH/edge1").source == NODE
    assert parse_topic("spBv1.0/STATE/scada").host_id == "scada"
    for bad in ("spBv1.0/plant/DDATA/edge1", "spBv1.0/plant/NDATA/e/d", "spBv1.0/plant/X/e"):
        assert parse_topic(bad) is None
    assert parse_topic("plantops/a/b/c/d/state") is None


def test_births_define_the_metrics_and_their_values_are_data():
    clock = Clock()
    host = SparkplugHost(clock=clock)
    results = [receive(host, m) for m in edge().births(BIRTH_VALUES, ts_ms=NOW_MS - 5000)]
    node_birth, device_birth = results
    assert node_birth.events[0].kind == EventKind.BIRTH
    assert [m.name for m in node_birth.events[0].metrics] == [
        "bdSeq",
        "Node Control/Rebirth",
        "Uptime",
        "Cabinet",
    ]
    assert device_birth.events[0].source == SPINDLE
    seen = {m.name: m for m in device_birth.events[0].metrics}
    assert seen["Vibration"].datatype == DataType.DOUBLE
    assert seen["Vibration"].value == "1.5"
    assert seen["Serial"].value == ""  # null in the birth
    ts = (NOW_MS - 5000) * 1000
    assert device_birth.parsed.readings == [(70, ts, 1.5)]
    assert device_birth.parsed.states == [StateReport(7, ts, "running", "")]
    # A birth's running totals only set the baseline.
    assert device_birth.parsed.counts == []


def test_data_by_alias_is_read_through_the_birth():
    host, node, _ = host_after_birth()
    result = receive(
        host,
        node.data(
            "spindle",
            {"Vibration": 2.25, "Temperature": 40.5, "Offset": -3, "Good": 110, "Scrap": 4},
            ts_ms=NOW_MS,
        ),
    )
    assert not result.parsed.rejections
    ts = NOW_MS * 1000
    assert sorted(result.parsed.readings) == [(70, ts, 2.25), (71, ts, 40.5), (72, ts, -3.0)]
    assert [tuple(c) for c in result.parsed.counts] == [(7, ts, 10, 1)]


def test_a_counter_reset_counts_from_zero():
    host, node, _ = host_after_birth()
    receive(host, node.data("spindle", {"Good": 150}, ts_ms=NOW_MS - 2000))
    result = receive(host, node.data("spindle", {"Good": 20}, ts_ms=NOW_MS - 1000))
    assert [c.good for c in result.parsed.counts] == [20]


def test_a_seq_gap_refuses_until_the_rebirth_and_asks_for_it_once_per_interval():
    host, node, clock = host_after_birth()
    node.data("spindle", {"Vibration": 1.0})  # lost on the way
    gap = receive(host, node.data("spindle", {"Vibration": 2.0}))
    assert [r.reason for r in gap.parsed.rejections] == [Reason.SPARKPLUG_SEQ_GAP]
    assert not gap.parsed.readings
    assert len(gap.commands) == 1
    assert node.rebirth_requested(*gap.commands[0])
    clock.now += 1
    waiting = receive(host, node.data("spindle", {"Vibration": 3.0}))
    assert [r.reason for r in waiting.parsed.rejections] == [Reason.SPARKPLUG_AWAITING_REBIRTH]
    assert waiting.commands == []  # asked a moment ago
    clock.now += REBIRTH_EVERY_S
    assert len(receive(host, node.data("spindle", {"Vibration": 3.0})).commands) == 1
    for message in node.births(BIRTH_VALUES):
        assert not receive(host, message).parsed.rejections
    assert receive(host, node.data("spindle", {"Vibration": 4.0})).parsed.readings


def test_an_unknown_alias_refuses_the_whole_message_and_asks_for_a_rebirth():
    host, node, _ = host_after_birth()
    topic, raw = node.data("spindle", {"Vibration": 2.0})
    payload = Payload.FromString(raw)
    payload.metrics.add(alias=999, double_value=1.0)
    result = receive(host, (topic, payload.SerializeToString()))
    assert [r.reason for r in result.parsed.rejections] == [Reason.SPARKPLUG_UNKNOWN_ALIAS]
    assert "alias 999" in result.parsed.rejections[0].detail
    assert result.parsed.readings == []
    assert len(result.commands) == 1


def test_data_without_a_birth_asks_for_one():
    host = SparkplugHost(clock=Clock())
    node = edge()
    node.births(BIRTH_VALUES)  # published before this host started
    result = receive(host, node.data("spindle", {"Vibration": 2.0}))
    assert [r.reason for r in result.parsed.rejections] == [Reason.SPARKPLUG_NO_BIRTH]
    assert result.commands[0].topic == "spBv1.0/plant/NCMD/edge1"


def test_deaths_end_the_session_and_a_stale_death_is_ignored():
    host, node, _ = host_after_birth()
    stale = node.death()  # the will of this session
    node.next_session()
    for message in node.births(BIRTH_VALUES):
        receive(host, message)
    assert receive(host, stale).events == []  # an older session's will: ignored
    device = receive(host, node.device_death("spindle"))
    assert [(e.kind, e.source) for e in device.events] == [(EventKind.DEATH, SPINDLE)]
    death = receive(host, node.death())
    assert [(e.kind, e.source) for e in death.events] == [(EventKind.DEATH, NODE)]
    assert not host.knows("plant", "edge1")
    after = receive(host, node.data("spindle", {"Vibration": 2.0}))
    assert after.parsed.rejections[0].reason == Reason.SPARKPLUG_NO_BIRTH


def test_historical_metrics_are_stored_but_not_as_the_current_value():
    host, node, _ = host_after_birth()
    result = receive(
        host, node.data("spindle", {"Vibration": 9.0}, ts_ms=NOW_MS - 3_600_000, historical=True)
    )
    assert result.parsed.readings == []
    assert result.parsed.history == [(70, (NOW_MS - 3_600_000) * 1000, 9.0)]


def test_unmapped_metrics_are_reported_as_seen_once_a_minute():
    host, node, clock = host_after_birth()
    first = receive(host, node.data("spindle", {"Serial": "SN-1", "Vibration": 1.0}))
    assert [(e.kind, [m.name for m in e.metrics]) for e in first.events] == [
        (EventKind.SEEN, ["Serial"])
    ]
    assert first.events[0].metrics[0].value == "SN-1"
    assert receive(host, node.data("spindle", {"Serial": "SN-2"})).events == []
    clock.now += SEEN_EVERY_S
    assert receive(host, node.data("spindle", {"Serial": "SN-3"})).events[0].metrics[0].value == (
        "SN-3"
    )


def test_values_a_target_cannot_take_are_refused_with_the_reason():
    host, node, _ = host_after_birth()
    bad_state = receive(host, node.data("spindle", {"Mode": "dancing", "Vibration": 1.0}))
    assert [r.reason for r in bad_state.parsed.rejections] == [Reason.BAD_STATE]
    assert len(bad_state.parsed.readings) == 1  # the good metric of the message is kept
    topic, raw = node.data("spindle", {"Vibration": 1.0})
    payload = Payload.FromString(raw)
    payload.metrics[0].ClearField("double_value")
    payload.metrics[0].string_value = "high"
    text = receive(host, (topic, payload.SerializeToString()))
    assert [r.reason for r in text.parsed.rejections] == [Reason.SPARKPLUG_BAD_VALUE]


def test_timestamps_outside_the_window_are_refused():
    host, node, _ = host_after_birth()
    result = receive(host, node.data("spindle", {"Vibration": 1.0}, ts_ms=NOW_MS + 3_600_000))
    assert [r.reason for r in result.parsed.rejections] == [Reason.TIMESTAMP_IN_FUTURE]


def test_bad_payloads_state_and_commands():
    host, _node, _ = host_after_birth()
    garbage = receive(host, ("spBv1.0/plant/DDATA/edge1/spindle", b"\xff\xff\xff"))
    assert garbage.parsed.rejections[0].reason == Reason.SPARKPLUG_BAD_PAYLOAD
    assert garbage.parsed.rejections[0].excerpt.startswith("0x")
    assert receive(host, ("spBv1.0/plant/NCMD/edge1", b"\x00")).parsed.rejections == []
    ok = receive(host, ("spBv1.0/STATE/scada", b'{"online": true, "timestamp": 1}'))
    assert ok.parsed.rejections == []
    assert host.hosts == {"scada": True}
    bad = receive(host, ("spBv1.0/STATE/scada", b"online"))
    assert bad.parsed.rejections[0].reason == Reason.SPARKPLUG_BAD_PAYLOAD
    topic = receive(host, ("spBv1.0/plant/DDATA/edge1", b""))
    assert topic.parsed.rejections[0].reason == Reason.BAD_TOPIC
