"""The MQTT 5 codec and subscriber of ingest, checked against paho's encoders and by hand.

No broker and no database: packets are built with paho's own packet code where it has one,
by hand from the specification otherwise, and the subscriber talks to a fake broker socket.
"""

from __future__ import annotations

import itertools
import socket
import struct

import paho.mqtt.client as mqtt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from plantops.telemetry import mqtt_client
from plantops.telemetry import mqtt_wire as wire
from plantops.telemetry.mqtt_client import MqttSubscriber
from plantops.telemetry.mqtt_wire import (
    Connack,
    Disconnect,
    PacketReader,
    PacketTooLarge,
    Pingresp,
    ProtocolError,
    Publish,
    Suback,
    decode_packets,
)

TOPIC = "plantops/site/area/line/asset/telemetry/vibration"


# --- packets as paho (or the specification) writes them -----------------------------------------
class _NoSocket:
    def close(self) -> None:
        pass


def paho_client() -> mqtt.Client:
    """A paho client whose outgoing packets are captured in `client.sent` instead of sent."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="c1", protocol=mqtt.MQTTv5)
    client.sent = []  # type: ignore[attr-defined]
    client._sock = _NoSocket()  # type: ignore[assignment]  # paho queues nothing without one

    def capture(command, packet, mid, qos, info=None):
        client.sent.append(bytes(packet))  # type: ignore[attr-defined]
        return mqtt.MQTTErrorCode.MQTT_ERR_SUCCESS

    client._packet_queue = capture  # type: ignore[method-assign]
    return client


def paho_publish(
    topic: str = TOPIC,
    payload: bytes = b'{"ts": 1, "value": 2}',
    *,
    qos: int = 1,
    packet_id: int = 1,
    retain: bool = False,
    dup: bool = False,
    properties: Properties | None = None,
) -> bytes:
    client = paho_client()
    client._send_publish(packet_id, topic.encode(), payload, qos, retain, dup, None, properties)
    return client.sent[0]


def packet(first: int, body: bytes) -> bytes:
    return bytes((first,)) + wire.encode_varint(len(body)) + body


def props(packet_type: int, **values) -> bytes:
    properties = Properties(packet_type)
    for name, value in values.items():
        setattr(properties, name, value)
    return properties.pack()


def connack(session_present: bool = False, reason: int = 0, properties: bytes = b"\x00") -> bytes:
    return packet(0x20, bytes((int(session_present), reason)) + properties)


def suback(packet_id: int, *codes: int, properties: bytes = b"\x00") -> bytes:
    return packet(0x90, packet_id.to_bytes(2, "big") + properties + bytes(codes))


PINGRESP = b"\xd0\x00"


# --- encoding ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "value", [0, 1, 127, 128, 16_383, 16_384, 2_097_151, 2_097_152, 268_435_455]
)
def test_remaining_length_matches_paho_and_decodes_back(value):
    expected = paho_client()._pack_remaining_length(bytearray(), value)
    encoded = wire.encode_varint(value)
    assert encoded == bytes(expected)
    assert wire.decode_varint(encoded, 0, len(encoded)) == (value, len(encoded))
    # Cut short it is incomplete, not wrong.
    assert wire.decode_varint(encoded, 0, len(encoded) - 1) is None or len(encoded) == 1


def test_remaining_length_edges_have_the_specified_sizes():
    sizes = {127: 1, 128: 2, 16_383: 2, 16_384: 3, 2_097_151: 3, 2_097_152: 4, 268_435_455: 4}
    for value, size in sizes.items():
        assert len(wire.encode_varint(value)) == size
    with pytest.raises(ValueError, match="does not fit"):
        wire.encode_varint(268_435_456)


def test_connect_is_the_packet_paho_writes():
    client = paho_client()
    client.username_pw_set("user", "sécret")
    client._client_id = b"ingest-1"
    client._clean_start = False
    properties = Properties(PacketTypes.CONNECT)
    properties.SessionExpiryInterval = 604_800
    properties.ReceiveMaximum = 10_000
    client._connect_properties = properties
    client._send_connect(30)

    ours = wire.encode_connect(
        client_id="ingest-1",
        keepalive=30,
        clean_start=False,
        username="user",
        password="sécret",
        session_expiry_s=604_800,
        receive_maximum=10_000,
    )
    assert ours == client.sent[0]


def test_connect_with_a_maximum_packet_size_is_the_packet_paho_writes():
    client = paho_client()
    client._client_id = b"ingest-1"
    client._clean_start = False
    properties = Properties(PacketTypes.CONNECT)
    properties.SessionExpiryInterval = 60
    properties.ReceiveMaximum = 100
    properties.MaximumPacketSize = 4 * 1024 * 1024
    client._connect_properties = properties
    client._send_connect(30)

    ours = wire.encode_connect(
        client_id="ingest-1",
        keepalive=30,
        session_expiry_s=60,
        receive_maximum=100,
        maximum_packet_size=4 * 1024 * 1024,
    )
    assert ours == client.sent[0]


@pytest.mark.parametrize("size", [0, -1, wire.MAX_PACKET_SIZE + 1])
def test_a_maximum_packet_size_the_protocol_cannot_carry_is_refused(size):
    with pytest.raises(ValueError, match="maximum packet size"):
        wire.encode_connect(client_id="x", keepalive=2, maximum_packet_size=size)


def test_connect_without_credentials_sets_no_credential_flags():
    data = wire.encode_connect(client_id="x", keepalive=2, session_expiry_s=120)
    # fixed header, remaining length, "MQTT", version 5, then the connect flags
    assert data[:9] == b"\x10" + bytes((len(data) - 2,)) + b"\x00\x04MQTT\x05"
    assert data[9] == 0x00
    assert data[10:12] == b"\x00\x02"


def test_subscribe_is_the_packet_paho_writes():
    client = paho_client()
    client._send_subscribe(False, [(b"$share/g/plantops/#", SubscribeOptions(qos=1))])
    packet_id = struct.unpack("!H", client.sent[0][2:4])[0]
    assert wire.encode_subscribe(packet_id, "$share/g/plantops/#", qos=1) == client.sent[0]


def test_one_subscribe_to_several_filters_is_the_packet_paho_writes():
    client = paho_client()
    filters = [b"$share/g/plantops/#", b"$share/g/spBv1.0/#"]
    client._send_subscribe(False, [(f, SubscribeOptions(qos=1)) for f in filters])
    packet_id = struct.unpack("!H", client.sent[0][2:4])[0]
    assert wire.encode_subscribe(packet_id, [f.decode() for f in filters]) == client.sent[0]


def test_a_qos0_publish_is_the_packet_paho_writes():
    payload = b"\x08\x01\x12\x00"
    assert wire.encode_publish(TOPIC, payload) == paho_publish(payload=payload, qos=0, packet_id=0)


def test_pubacks_are_paho_pubacks_concatenated():
    ids = [1, 2, 300, 65_535]
    client = paho_client()
    for packet_id in ids:
        client._send_puback(packet_id)
    assert wire.encode_pubacks(ids) == b"".join(client.sent)
    assert wire.encode_pubacks([]) == b""


def test_control_packets():
    assert wire.PINGREQ_PACKET == b"\xc0\x00"
    assert wire.encode_disconnect() == b"\xe0\x00"
    assert wire.encode_disconnect(0x04) == b"\xe0\x02\x04\x00"


# --- decoding ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("qos", "retain", "dup"), [(0, False, False), (1, False, False), (1, True, True)]
)
def test_publish_from_paho_decodes(qos, retain, dup):
    payload = b'{"ts": 1700000000, "value": 21.5}'
    data = paho_publish(payload=payload, qos=qos, packet_id=4242, retain=retain, dup=dup)
    assert decode_packets(data) == (
        [Publish(TOPIC, payload, 4242 if qos else None, qos, retain, dup)],
        len(data),
    )


def test_publish_properties_are_skipped():
    properties = Properties(PacketTypes.PUBLISH)
    properties.MessageExpiryInterval = 60
    properties.ContentType = "application/json"
    properties.UserProperty = [("a", "1"), ("b", "2")]
    properties.CorrelationData = b"\x00\x01"
    properties.SubscriptionIdentifier = [7, 300]
    properties.PayloadFormatIndicator = 1
    data = paho_publish(payload=b"{}", packet_id=9, properties=properties)
    [message], end = decode_packets(data)
    assert message == Publish(TOPIC, b"{}", 9, 1, False, False)
    assert end == len(data)


def test_large_publish_with_a_four_byte_remaining_length():
    payload = bytes(range(256)) * 8200  # 2,099,200 bytes: the remaining length needs 4 bytes
    data = paho_publish(payload=payload, packet_id=1)
    assert data[1:5] == wire.encode_varint(len(data) - 5)
    [message], _ = decode_packets(data)
    assert message.payload == payload


def test_empty_payload_and_non_ascii_topic():
    data = paho_publish(topic="plantops/zürich/a/b/c/telemetry", payload=b"", packet_id=3)
    assert decode_packets(data)[0] == [
        Publish("plantops/zürich/a/b/c/telemetry", b"", 3, 1, False, False)
    ]


def test_a_topic_that_is_not_utf8_is_kept_escaped():
    body = b"\x00\x03a\xffb" + b"\x00\x05\x00" + b"x"
    [message], _ = decode_packets(packet(0x32, body))
    assert message.topic == "a\udcffb"
    assert message.payload == b"x"


def test_connack_suback_pingresp_disconnect():
    connack_props = props(
        PacketTypes.CONNACK,
        AssignedClientIdentifier="auto-1",
        ServerKeepAlive=10,
        MaximumPacketSize=1024,
        UserProperty=[("k", "v")],
    )
    disconnect_props = props(PacketTypes.DISCONNECT, ReasonString="bye")
    data = (
        connack(True, 0, connack_props)
        + suback(1, 0x01, 0x87)
        + PINGRESP
        + b"\xe0\x00"
        + packet(0xE0, b"\x8e" + disconnect_props)
        + packet(0xE0, b"\x8b")
    )
    packets, end = decode_packets(data)
    assert end == len(data)
    assert packets == [
        Connack(
            True,
            0,
            {
                wire.ASSIGNED_CLIENT_IDENTIFIER: "auto-1",
                wire.SERVER_KEEP_ALIVE: 10,
                wire.MAXIMUM_PACKET_SIZE: 1024,
                wire.USER_PROPERTY: [("k", "v")],
            },
        ),
        Suback(1, (0x01, 0x87)),
        Pingresp(),
        Disconnect(0),
        Disconnect(0x8E, {wire.REASON_STRING: "bye"}),
        Disconnect(0x8B),
    ]


def test_a_connack_without_properties_decodes():
    assert decode_packets(b"\x20\x02\x00\x87")[0] == [Connack(False, 0x87)]


def stream() -> tuple[bytes, list]:
    messages = [Publish(TOPIC, b'{"value": %d}' % i, i + 1, 1, False, False) for i in range(3)] + [
        Publish("plantops/x", b"q0", None, 0, True, False)
    ]
    data = (
        connack(False)
        + suback(1, 0x01)
        + b"".join(
            paho_publish(m.topic, m.payload, qos=m.qos, packet_id=m.packet_id or 0, retain=m.retain)
            for m in messages
        )
        + PINGRESP
        + paho_publish("plantops/big", b"x" * 300, packet_id=77)
    )
    expected = [
        Connack(False, 0),
        Suback(1, (0x01,)),
        *messages,
        Pingresp(),
        Publish("plantops/big", b"x" * 300, 77, 1, False, False),
    ]
    return data, expected


def test_several_packets_in_one_buffer():
    data, expected = stream()
    assert PacketReader().feed(data) == expected


def test_packets_split_at_every_byte_boundary():
    data, expected = stream()
    for cut in range(len(data) + 1):
        reader = PacketReader()
        assert reader.feed(data[:cut]) + reader.feed(data[cut:]) == expected, cut
        assert reader.buffered == 0


def test_packets_fed_one_byte_at_a_time():
    data, expected = stream()
    reader = PacketReader()
    packets = []
    for i in range(len(data)):
        packets += reader.feed(data[i : i + 1])
    assert packets == expected


@settings(max_examples=200, deadline=None)
@given(
    messages=st.lists(
        st.tuples(
            st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40),
            st.binary(max_size=400),
            st.integers(0, 1),
            st.integers(1, 65_535),
            st.booleans(),
        ),
        max_size=12,
    ),
    cuts=st.lists(st.integers(0, 10_000), max_size=8),
)
def test_any_split_of_a_stream_decodes_to_the_same_packets(messages, cuts):
    data = b"".join(
        paho_publish(topic, payload, qos=qos, packet_id=pid, retain=retain)
        for topic, payload, qos, pid, retain in messages
    )
    expected = [
        Publish(topic, payload, pid if qos else None, qos, retain, False)
        for topic, payload, qos, pid, retain in messages
    ]
    bounds = sorted({min(cut, len(data)) for cut in cuts} | {0, len(data)})
    reader = PacketReader()
    packets = []
    for start, end in itertools.pairwise(bounds):
        packets += reader.feed(data[start:end])
    assert packets == expected
    assert reader.buffered == 0


def test_a_packet_in_many_pieces_is_decoded_once_when_its_last_piece_arrives(monkeypatch):
    # Decoding (and joining) on every piece made a large packet cost the square of its size.
    data = paho_publish(payload=b"x" * 1024 * 1024, packet_id=9)
    decodes = []
    decode = wire.decode_packets
    monkeypatch.setattr(
        wire, "decode_packets", lambda *a, **k: decodes.append(1) or decode(*a, **k)
    )
    reader = PacketReader()
    packets = []
    for start in range(0, len(data), 1024):
        packets += reader.feed(data[start : start + 1024])

    assert packets == [Publish(TOPIC, b"x" * 1024 * 1024, 9, 1, False, False)]
    assert len(decodes) == 2  # the first piece (to read the header) and the last
    assert reader.buffered == 0


# --- too large --------------------------------------------------------------------------------
def test_a_packet_over_the_maximum_is_refused_from_its_header_before_the_rest_arrives():
    data = paho_publish(payload=b"x" * 2000)
    reader = PacketReader(max_packet_size=1000)
    with pytest.raises(PacketTooLarge, match=f"a packet of {len(data)} bytes.* is 1000"):
        reader.feed(data[:5])


def test_a_packet_of_exactly_the_maximum_is_read():
    data = paho_publish(payload=b"x" * 2000)
    reader = PacketReader(max_packet_size=len(data))
    assert reader.feed(data[:1000]) == []
    assert reader.feed(data[1000:]) == [Publish(TOPIC, b"x" * 2000, 1, 1, False, False)]
    with pytest.raises(PacketTooLarge):
        PacketReader(max_packet_size=len(data) - 1).feed(data)


# --- malformed --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"\x30\xff\xff\xff\xff\x01", "longer than 4 bytes"),
        (packet(0x32, b"\x00\x50plantops"), "topic runs past"),
        (packet(0x30, b"\x00"), "too short for its topic length"),
        (packet(0x32, b"\x00\x01a\x00"), "too short for its packet id"),
        (packet(0x32, b"\x00\x01a\x00\x00"), "packet id 0"),
        (packet(0x32, b"\x00\x01a\x00\x01"), "without a property length"),
        (packet(0x34, b"\x00\x01a\x00\x01\x00x"), "QoS 2"),
        (packet(0x36, b"\x00\x01a\x00\x01\x00x"), "QoS 3"),
        (packet(0x30, b"\x00\x00\x00x"), "empty topic"),
        (packet(0x32, b"\x00\x01a\x00\x01\x03\x23\x00\x01x"), "topic alias"),
        (packet(0x32, b"\x00\x01a\x00\x01\x02\x7f\x00x"), "unknown property 0x7F"),
        (packet(0x32, b"\x00\x01a\x00\x01\x05\x02\x00x"), "properties run past"),
        (packet(0x32, b"\x00\x01a\x00\x01\x02\x02\x00x"), "runs past the property block"),
        (packet(0x32, b"\x00\x01a\x00\x01\x04\x01\x00\x01\x01x"), "appears twice"),
        (b"\x40\x02\x00\x01", "unexpected packet type 4"),
        (b"\x21\x02\x00\x00", "reserved flags"),
        (b"\x20\x01\x00", "CONNACK too short"),
        (b"\x20\x02\x02\x00", "reserved acknowledge flags"),
        (b"\x90\x03\x00\x01\x00", "SUBACK without reason codes"),
        (b"\xd0\x01\x00", "PINGRESP with a body"),
    ],
)
def test_malformed_packets_raise_a_protocol_error(data, error):
    with pytest.raises(ProtocolError, match=error):
        PacketReader().feed(data)


def test_an_incomplete_remaining_length_waits_for_more():
    reader = PacketReader()
    assert reader.feed(b"\x30\xff\xff") == []
    assert reader.buffered == 3
    with pytest.raises(ProtocolError, match="longer than 4 bytes"):
        reader.feed(b"\xff\xff")


# --- the subscriber against a fake broker -----------------------------------------------------
class FakeBroker:
    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.conn: socket.socket | None = None

    def accept(self) -> None:
        self.conn, _ = self.listener.accept()
        self.conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.conn.settimeout(2)

    def receive(self) -> list[bytes]:
        """Raw packets the client sent since the last call (waits briefly for the first)."""
        assert self.conn is not None
        data = b""
        self.conn.settimeout(0.5)
        try:
            while chunk := self.conn.recv(65536):
                data += chunk
                self.conn.settimeout(0.05)
        except TimeoutError:
            pass
        packets, pos = [], 0
        while pos < len(data):
            length, start = wire.decode_varint(data, pos + 1, len(data))
            packets.append(data[pos : start + length])
            pos = start + length
        return packets

    def close(self) -> None:
        if self.conn:
            self.conn.close()
        self.listener.close()


@pytest.fixture
def fake_broker():
    broker = FakeBroker()
    yield broker
    broker.close()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def connected_client(broker: FakeBroker, clock: Clock, **options) -> tuple[MqttSubscriber, list]:
    received: list = []
    client = MqttSubscriber(
        host="127.0.0.1",
        port=broker.port,
        client_id="c1",
        subscription="$share/g/plantops/#",
        on_message=lambda topic, payload, pid: received.append((topic, payload, pid)),
        keepalive=10,
        session_expiry_s=60,
        receive_maximum=100,
        clock=clock,
        **options,
    )
    client.connect()
    broker.accept()
    [connect] = broker.receive()
    assert connect[0] == 0x10
    broker.conn.sendall(connack(True))
    assert client.loop(0.5)
    assert client.connected
    [subscribe] = broker.receive()
    assert subscribe[0] == 0x82
    assert subscribe.endswith(b"$share/g/plantops/#\x01")
    broker.conn.sendall(suback(1, 0x01))
    assert client.loop(0.2)
    return client, received


def test_subscriber_delivers_and_acks_on_its_own_connection_only(fake_broker):
    client, received = connected_client(fake_broker, Clock())
    generation = client.generation
    fake_broker.conn.sendall(paho_publish(packet_id=5) + paho_publish(packet_id=6))
    assert client.loop(0.5)
    assert [pid for _, _, pid in received] == [5, 6]
    assert client.ack([5, 6], generation)
    assert fake_broker.receive() == [b"\x40\x02\x00\x05", b"\x40\x02\x00\x06"]
    # Ids from another connection are never acknowledged on this one.
    assert not client.ack([7], generation - 1)
    assert fake_broker.receive() == []
    client.disconnect()
    assert fake_broker.receive() == [b"\xe0\x00"]
    assert not client.ack([5], generation)


def test_subscriber_holds_messages_while_servicing_and_pings_when_idle(fake_broker):
    clock = Clock()
    client, received = connected_client(fake_broker, clock)
    fake_broker.conn.sendall(paho_publish(packet_id=1) + paho_publish(packet_id=2))
    clock.now += 5
    assert client.service(0.5)
    assert received == []  # held, not delivered
    assert fake_broker.receive() == []
    # Nothing was sent for the keepalive: the next read sends a ping (once).
    clock.now += 5
    assert client.service(0.05)
    assert client.service(0.05)
    assert fake_broker.receive() == [wire.PINGREQ_PACKET]
    fake_broker.conn.sendall(PINGRESP)
    assert client.service(0.5)
    assert received == []
    assert client.loop(0.05)
    assert [pid for _, _, pid in received] == [1, 2]


def test_servicing_stops_reading_once_it_holds_enough_and_still_pings(fake_broker, monkeypatch):
    monkeypatch.setattr(mqtt_client, "MAX_HELD_BYTES", 100)
    clock = Clock()
    client, received = connected_client(fake_broker, clock)
    fake_broker.conn.sendall(b"".join(paho_publish(qos=0, payload=b"x" * 60) for _ in range(2)))
    assert client.service(0.5)
    assert client._held_bytes == 120
    # More arrives, but a full hold is not read: it stays in the socket.
    fake_broker.conn.sendall(paho_publish(qos=0, payload=b"y" * 60))
    clock.now += 10
    assert client.service(0.05)
    assert client._held_bytes == 120
    assert fake_broker.receive() == [wire.PINGREQ_PACKET]
    clock.now += 10  # no reply was read, yet the connection is not judged dead
    assert client.service(0.05)
    assert fake_broker.receive() == [wire.PINGREQ_PACKET]
    assert client.connected
    # Delivery resumes: the held messages, then what waited in the socket.
    assert client.loop(0.05)
    assert client.loop(0.5)
    assert [payload for _, payload, _ in received] == [b"x" * 60, b"x" * 60, b"y" * 60]
    assert client._held_bytes == 0


def test_subscriber_gives_up_on_a_silent_broker(fake_broker):
    clock = Clock()
    client, _ = connected_client(fake_broker, clock)
    clock.now += 10
    assert client.service(0.05)  # sends PINGREQ
    assert fake_broker.receive() == [wire.PINGREQ_PACKET]
    clock.now += 6  # 16 s since the broker last said anything: more than 1.5 × keepalive
    assert not client.service(0.05)
    assert not client.connected
    assert "no packet from the broker" in client.last_error


def test_a_paused_delivery_holds_the_rest_for_the_next_loop(fake_broker):
    clock = Clock()
    client, received = connected_client(fake_broker, clock)
    client.on_message = lambda topic, payload, pid: received.append(pid) or len(received) % 2 == 0
    fake_broker.conn.sendall(b"".join(paho_publish(packet_id=i) for i in range(1, 6)))
    assert client.loop(0.5)
    assert received == [1, 2]
    assert client.loop(0.05)
    assert received == [1, 2, 3, 4]
    assert client.loop(0.05)
    assert received == [1, 2, 3, 4, 5]


def test_server_disconnect_and_protocol_errors_drop_the_connection(fake_broker):
    client, _ = connected_client(fake_broker, Clock())
    fake_broker.conn.sendall(packet(0xE0, b"\x8e\x00"))
    assert not client.loop(0.5)
    assert "session taken over" in client.last_error
    assert not client.connected
    assert client.sock is None


def test_qos2_publish_drops_the_connection(fake_broker):
    client, _ = connected_client(fake_broker, Clock())
    fake_broker.conn.sendall(paho_publish(qos=2, packet_id=1))
    assert not client.loop(0.5)
    assert "QoS 2" in client.last_error


def test_a_refused_connack_and_server_properties(fake_broker):
    client = MqttSubscriber(
        host="127.0.0.1", port=fake_broker.port, client_id="", subscription="t", on_message=print
    )
    client.connect()
    fake_broker.accept()
    fake_broker.receive()
    fake_broker.conn.sendall(
        connack(
            False,
            0,
            props(PacketTypes.CONNACK, AssignedClientIdentifier="srv-1", ServerKeepAlive=5),
        )
    )
    assert client.loop(0.5)
    assert (client.client_id, client.keepalive) == ("srv-1", 5)
    client.connect()  # a new connection
    fake_broker.accept()
    fake_broker.receive()
    fake_broker.conn.sendall(connack(False, 0x87))
    assert not client.loop(0.5)
    assert "not authorized" in client.last_error


def test_the_subscriber_sends_its_maximum_packet_size_and_hangs_up_on_a_larger_packet(fake_broker):
    received: list = []
    client = MqttSubscriber(
        host="127.0.0.1",
        port=fake_broker.port,
        client_id="c1",
        subscription="$share/g/plantops/#",
        on_message=lambda topic, payload, pid: received.append(pid),
        max_incoming_packet_size=1000,
    )
    client.connect()
    fake_broker.accept()
    [connect] = fake_broker.receive()
    # Maximum Packet Size (0x27), four bytes
    assert b"\x27\x00\x00\x03\xe8" in connect
    fake_broker.conn.sendall(connack(False))
    assert client.loop(0.5)
    fake_broker.receive()  # SUBSCRIBE
    fake_broker.conn.sendall(paho_publish(packet_id=1))
    assert client.loop(0.5)
    assert received == [1]

    # A broker that ignores it: only the header is read, then DISCONNECT "packet too large".
    fake_broker.conn.sendall(paho_publish(payload=b"x" * 2000, packet_id=2)[:8])
    assert not client.loop(0.5)
    assert fake_broker.receive() == [b"\xe0\x02\x95\x00"]
    assert "Maximum Packet Size" in client.last_error
    assert not client.connected
    assert received == [1]
