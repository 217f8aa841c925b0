"""MQTT 5 packets for a subscriber: encode what it sends, decode what a broker sends it. Pure.

Only the subset ingest needs. Encoded: CONNECT, SUBSCRIBE, PUBLISH (QoS 0), PUBACK, PINGREQ,
DISCONNECT.
Decoded (incrementally, from a buffer that may end in the middle of a packet): CONNACK, SUBACK,
PUBLISH (QoS 0 and 1), PINGRESP and DISCONNECT. Anything else from the broker, or a packet
that breaks the specification, raises `ProtocolError`; the caller then drops the connection.

A PUBLISH is decoded to a `Publish` tuple; its properties are skipped, except that a Topic
Alias is refused: a subscriber that never sends Topic Alias Maximum must not receive one.

A subscriber that sends Maximum Packet Size in CONNECT must not receive a larger packet: one
that declares a larger size raises `PacketTooLarge` as soon as its fixed header is read, before
the rest of it is buffered.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

# Control packet types (the high nibble of the first byte).
CONNECT = 1
CONNACK = 2
PUBLISH = 3
PUBACK = 4
SUBSCRIBE = 8
SUBACK = 9
PINGREQ = 12
PINGRESP = 13
DISCONNECT = 14

# Property identifiers this module reads or writes by name.
SESSION_EXPIRY_INTERVAL = 0x11
ASSIGNED_CLIENT_IDENTIFIER = 0x12
SERVER_KEEP_ALIVE = 0x13
REASON_STRING = 0x1F
RECEIVE_MAXIMUM = 0x21
TOPIC_ALIAS = 0x23
MAXIMUM_QOS = 0x24
USER_PROPERTY = 0x26
MAXIMUM_PACKET_SIZE = 0x27

MAX_REMAINING_LENGTH = 268_435_455
# The largest whole packet: a one-byte header and a four-byte remaining length before it.
MAX_PACKET_SIZE = 1 + 4 + MAX_REMAINING_LENGTH

PACKET_TOO_LARGE = 0x95

PINGREQ_PACKET = b"\xc0\x00"
# DISCONNECT with reason code 0 (normal disconnection) and no properties: the short form.
DISCONNECT_PACKET = b"\xe0\x00"

# How each property's value is laid out, by identifier (MQTT 5, section 2.2.2.2).
_BYTE, _TWO, _FOUR, _VARINT, _STRING, _BINARY, _PAIR = range(7)
_PROPERTY_TYPES: dict[int, int] = {
    0x01: _BYTE,  # Payload Format Indicator
    0x02: _FOUR,  # Message Expiry Interval
    0x03: _STRING,  # Content Type
    0x08: _STRING,  # Response Topic
    0x09: _BINARY,  # Correlation Data
    0x0B: _VARINT,  # Subscription Identifier
    0x11: _FOUR,  # Session Expiry Interval
    0x12: _STRING,  # Assigned Client Identifier
    0x13: _TWO,  # Server Keep Alive
    0x15: _STRING,  # Authentication Method
    0x16: _BINARY,  # Authentication Data
    0x17: _BYTE,  # Request Problem Information
    0x18: _FOUR,  # Will Delay Interval
    0x19: _BYTE,  # Request Response Information
    0x1A: _STRING,  # Response Information
    0x1C: _STRING,  # Server Reference
    0x1F: _STRING,  # Reason String
    0x21: _TWO,  # Receive Maximum
    0x22: _TWO,  # Topic Alias Maximum
    0x23: _TWO,  # Topic Alias
    0x24: _BYTE,  # Maximum QoS
    0x25: _BYTE,  # Retain Available
    0x26: _PAIR,  # User Property
    0x27: _FOUR,  # Maximum Packet Size
    0x28: _BYTE,  # Wildcard Subscription Available
    0x29: _BYTE,  # Subscription Identifier Available
    0x2A: _BYTE,  # Shared Subscription Available
}
# Properties that may appear more than once; decoded to a list of their values.
_REPEATABLE = frozenset({0x0B, USER_PROPERTY})

REASON_NAMES: dict[int, str] = {
    0x00: "success",
    0x04: "disconnect with will message",
    0x80: "unspecified error",
    0x81: "malformed packet",
    0x82: "protocol error",
    0x83: "implementation specific error",
    0x84: "unsupported protocol version",
    0x85: "client identifier not valid",
    0x86: "bad user name or password",
    0x87: "not authorized",
    0x88: "server unavailable",
    0x89: "server busy",
    0x8A: "banned",
    0x8B: "server shutting down",
    0x8C: "bad authentication method",
    0x8D: "keep alive timeout",
    0x8E: "session taken over",
    0x8F: "topic filter invalid",
    0x90: "topic name invalid",
    0x93: "receive maximum exceeded",
    0x94: "topic alias invalid",
    0x95: "packet too large",
    0x97: "quota exceeded",
    0x98: "administrative action",
    0x99: "payload format invalid",
    0x9A: "retain not supported",
    0x9B: "QoS not supported",
    0x9C: "use another server",
    0x9D: "server moved",
    0x9E: "shared subscriptions not supported",
    0x9F: "connection rate exceeded",
    0xA0: "maximum connect time",
    0xA1: "subscription identifiers not supported",
    0xA2: "wildcard subscriptions not supported",
}


def reason_name(code: int) -> str:
    """Return e.g. "0x87 not authorized" for an MQTT 5 reason code."""
    return f"0x{code:02X} {REASON_NAMES.get(code, 'unknown reason')}"


class ProtocolError(ValueError):
    """The broker sent bytes that are not a valid MQTT 5 packet for this client."""


class PacketTooLarge(ProtocolError):
    """The broker sent a packet larger than the Maximum Packet Size this client advertised."""


class Publish(NamedTuple):
    topic: str
    payload: bytes
    # None at QoS 0.
    packet_id: int | None
    qos: int
    retain: bool
    dup: bool


@dataclass(frozen=True, slots=True)
class Connack:
    session_present: bool
    reason_code: int
    properties: dict[int, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Suback:
    packet_id: int
    reason_codes: tuple[int, ...]
    properties: dict[int, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Pingresp:
    pass


@dataclass(frozen=True, slots=True)
class Disconnect:
    reason_code: int = 0
    properties: dict[int, Any] = field(default_factory=dict)


Packet = Publish | Connack | Suback | Pingresp | Disconnect
PINGRESP_PACKET = Pingresp()


# --- encoding ---------------------------------------------------------------------------------
def encode_varint(value: int) -> bytes:
    """Encode a Variable Byte Integer (the remaining length and property lengths use it)."""
    if not 0 <= value <= MAX_REMAINING_LENGTH:
        raise ValueError(f"{value} does not fit a variable byte integer")
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def encode_string(text: str) -> bytes:
    return encode_binary(text.encode("utf-8"))


def encode_binary(data: bytes) -> bytes:
    if len(data) > 0xFFFF:
        raise ValueError(f"{len(data)} bytes do not fit a two-byte length")
    return len(data).to_bytes(2, "big") + data


def _packet(first_byte: int, body: bytes) -> bytes:
    return bytes((first_byte,)) + encode_varint(len(body)) + body


def encode_connect(
    *,
    client_id: str,
    keepalive: int,
    clean_start: bool = False,
    username: str | None = None,
    password: str | None = None,
    session_expiry_s: int | None = None,
    receive_maximum: int | None = None,
    maximum_packet_size: int | None = None,
) -> bytes:
    """Encode an MQTT 5 CONNECT; `maximum_packet_size` is the largest packet (in bytes, header
    included) the broker may send us."""
    flags = 0x02 if clean_start else 0
    if username is not None:
        flags |= 0x80
    if password is not None:
        flags |= 0x40
    properties = b""
    if session_expiry_s is not None:
        properties += bytes((SESSION_EXPIRY_INTERVAL,)) + session_expiry_s.to_bytes(4, "big")
    if receive_maximum is not None:
        if not 1 <= receive_maximum <= 0xFFFF:
            raise ValueError(f"receive maximum {receive_maximum} is not within 1..65535")
        properties += bytes((RECEIVE_MAXIMUM,)) + receive_maximum.to_bytes(2, "big")
    if maximum_packet_size is not None:
        if not 1 <= maximum_packet_size <= MAX_PACKET_SIZE:
            raise ValueError(
                f"maximum packet size {maximum_packet_size} is not within 1..{MAX_PACKET_SIZE}"
            )
        properties += bytes((MAXIMUM_PACKET_SIZE,)) + maximum_packet_size.to_bytes(4, "big")
    body = (
        encode_string("MQTT")
        + bytes((5, flags))
        + keepalive.to_bytes(2, "big")
        + encode_varint(len(properties))
        + properties
        + encode_string(client_id)
    )
    if username is not None:
        body += encode_string(username)
    if password is not None:
        body += encode_binary(password.encode("utf-8"))
    return _packet(CONNECT << 4, body)


def encode_subscribe(packet_id: int, topic_filter: str | Sequence[str], *, qos: int = 1) -> bytes:
    """Encode a SUBSCRIBE to one filter or several, without properties or extra options."""
    if not 1 <= packet_id <= 0xFFFF:
        raise ValueError(f"packet id {packet_id} is not within 1..65535")
    filters = [topic_filter] if isinstance(topic_filter, str) else list(topic_filter)
    body = packet_id.to_bytes(2, "big") + b"\x00"
    for each in filters:
        body += encode_string(each) + bytes((qos,))
    return _packet((SUBSCRIBE << 4) | 0x02, body)


def encode_publish(topic: str, payload: bytes) -> bytes:
    """Encode a QoS-0 PUBLISH, without properties (a command to a device, say)."""
    return _packet(PUBLISH << 4, encode_string(topic) + b"\x00" + payload)


_PUBACK_HEAD = (PUBACK << 4 << 24) | (2 << 16)


def encode_pubacks(packet_ids: Iterable[int]) -> bytes:
    """Encode one 4-byte PUBACK (reason code omitted: success) per packet id, concatenated."""
    words = [_PUBACK_HEAD | packet_id for packet_id in packet_ids]
    return struct.pack(f">{len(words)}I", *words)


def encode_disconnect(reason_code: int = 0) -> bytes:
    if reason_code == 0:
        return DISCONNECT_PACKET
    return _packet(DISCONNECT << 4, bytes((reason_code, 0)))


# --- decoding ---------------------------------------------------------------------------------
def decode_varint(data: bytes, pos: int, end: int) -> tuple[int, int] | None:
    """Return (value, position after it), or None if `data[pos:end]` ends inside it."""
    value = 0
    shift = 0
    for index in range(pos, min(end, pos + 4)):
        byte = data[index]
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, index + 1
        shift += 7
    if end - pos >= 4:
        raise ProtocolError("a variable byte integer is longer than 4 bytes")
    return None


def _varint_within(data: bytes, pos: int, end: int, what: str) -> tuple[int, int]:
    decoded = decode_varint(data, pos, end)
    if decoded is None:
        raise ProtocolError(f"{what} runs past the end of the packet")
    return decoded


def decode_properties(data: bytes, pos: int, end: int) -> tuple[dict[int, Any], int]:
    """Decode a property block at `pos` (its length first); return it and the position after."""
    length, pos = _varint_within(data, pos, end, "the property length")
    stop = pos + length
    if stop > end:
        raise ProtocolError("the properties run past the end of the packet")
    properties: dict[int, Any] = {}
    while pos < stop:
        identifier = data[pos]
        kind = _PROPERTY_TYPES.get(identifier)
        pos += 1
        if kind is None:
            raise ProtocolError(f"unknown property 0x{identifier:02X}")
        if kind == _BYTE:
            value, size = (data[pos] if pos < stop else None), 1
        elif kind == _TWO:
            value, size = int.from_bytes(data[pos : pos + 2], "big"), 2
        elif kind == _FOUR:
            value, size = int.from_bytes(data[pos : pos + 4], "big"), 4
        elif kind == _VARINT:
            value, after = _varint_within(data, pos, stop, f"property 0x{identifier:02X}")
            size = after - pos
        elif kind == _PAIR:
            key, after = _decode_string(data, pos, stop)
            text, after = _decode_string(data, after, stop)
            value, size = (key, text), after - pos
        else:
            raw, after = _decode_binary(data, pos, stop)
            value = raw.decode("utf-8", "surrogateescape") if kind == _STRING else raw
            size = after - pos
        pos += size
        if pos > stop:
            raise ProtocolError(f"property 0x{identifier:02X} runs past the property block")
        if identifier in _REPEATABLE:
            properties.setdefault(identifier, []).append(value)
        elif identifier in properties:
            raise ProtocolError(f"property 0x{identifier:02X} appears twice")
        else:
            properties[identifier] = value
    return properties, stop


def _decode_binary(data: bytes, pos: int, end: int) -> tuple[bytes, int]:
    if pos + 2 > end:
        raise ProtocolError("a length-prefixed field runs past the end")
    stop = pos + 2 + ((data[pos] << 8) | data[pos + 1])
    if stop > end:
        raise ProtocolError("a length-prefixed field runs past the end")
    return bytes(data[pos + 2 : stop]), stop


def _decode_string(data: bytes, pos: int, end: int) -> tuple[str, int]:
    raw, stop = _decode_binary(data, pos, end)
    return raw.decode("utf-8", "surrogateescape"), stop


def _decode_publish(first: int, data: bytes, pos: int, end: int) -> Publish:
    qos = (first >> 1) & 0x03
    if qos == 3:
        raise ProtocolError("PUBLISH with QoS 3")
    if qos == 2:
        raise ProtocolError("PUBLISH with QoS 2 on a QoS 1 subscription")
    if pos + 2 > end:
        raise ProtocolError("PUBLISH too short for its topic length")
    topic_end = pos + 2 + ((data[pos] << 8) | data[pos + 1])
    if topic_end > end:
        raise ProtocolError("PUBLISH topic runs past the end of the packet")
    # A topic that is not UTF-8 is kept (escaped) so it is dead-lettered, not looped on.
    topic = data[pos + 2 : topic_end].decode("utf-8", "surrogateescape")
    pos = topic_end
    packet_id = None
    if qos:
        if pos + 2 > end:
            raise ProtocolError("PUBLISH too short for its packet id")
        packet_id = (data[pos] << 8) | data[pos + 1]
        if not packet_id:
            raise ProtocolError("PUBLISH at QoS 1 with packet id 0")
        pos += 2
    if pos >= end:
        raise ProtocolError("PUBLISH without a property length")
    if data[pos] == 0:
        pos += 1
    else:
        properties, pos = decode_properties(data, pos, end)
        if TOPIC_ALIAS in properties:
            raise ProtocolError("PUBLISH with a topic alias (none was allowed)")
    if not topic:
        raise ProtocolError("PUBLISH with an empty topic")
    return Publish(topic, data[pos:end], packet_id, qos, bool(first & 0x01), bool(first & 0x08))


def _decode_control(first: int, data: bytes, pos: int, end: int) -> Packet:
    kind = first >> 4
    if first & 0x0F:
        raise ProtocolError(f"packet type {kind} with reserved flags 0x{first & 0x0F:X}")
    if kind == PINGRESP:
        if end != pos:
            raise ProtocolError("PINGRESP with a body")
        return PINGRESP_PACKET
    if kind == CONNACK:
        if end - pos < 2:
            raise ProtocolError("CONNACK too short")
        if data[pos] & 0xFE:
            raise ProtocolError("CONNACK with reserved acknowledge flags")
        properties: dict[int, Any] = {}
        if end - pos > 2:
            properties, _ = decode_properties(data, pos + 2, end)
        return Connack(bool(data[pos] & 0x01), data[pos + 1], properties)
    if kind == SUBACK:
        if end - pos < 3:
            raise ProtocolError("SUBACK too short")
        packet_id = (data[pos] << 8) | data[pos + 1]
        properties, after = decode_properties(data, pos + 2, end)
        if after == end:
            raise ProtocolError("SUBACK without reason codes")
        return Suback(packet_id, tuple(data[after:end]), properties)
    if kind == DISCONNECT:
        if end == pos:
            return Disconnect(0)
        properties = {}
        if end - pos > 1:
            properties, _ = decode_properties(data, pos + 1, end)
        return Disconnect(data[pos], properties)
    raise ProtocolError(f"unexpected packet type {kind} from the broker")


def decode_packets(
    data: bytes, pos: int = 0, *, max_packet_size: int | None = None
) -> tuple[list[Packet], int]:
    """Decode every complete packet in `data` from `pos`; return them and where decoding stopped.

    What is left from the returned position on is the start of a packet still in transit.
    A packet whose header declares more than `max_packet_size` bytes raises `PacketTooLarge`,
    complete or not.
    """
    packets: list[Packet] = []
    append = packets.append
    size = len(data)
    while pos + 2 <= size:
        first = data[pos]
        length = data[pos + 1]
        start = pos + 2
        if length & 0x80:
            decoded = decode_varint(data, pos + 1, size)
            if decoded is None:
                break
            length, start = decoded
        end = start + length
        if max_packet_size is not None and end - pos > max_packet_size:
            raise PacketTooLarge(
                f"a packet of {end - pos} bytes; the Maximum Packet Size we sent is "
                f"{max_packet_size}"
            )
        if end > size:
            break
        if first >> 4 == PUBLISH:
            append(_decode_publish(first, data, start, end))
        else:
            append(_decode_control(first, data, start, end))
        pos = end
    return packets, pos


class PacketReader:
    """Turns a byte stream, in pieces of any size, into packets.

    A packet that arrives in many pieces is gathered in a bytearray and decoded once, when its
    last piece is in: every byte is copied a fixed number of times, so reading a packet costs
    time in proportion to its size. (Joining the pieces as bytes copied all that had arrived
    on every piece: a 64 MiB packet read in 256 KiB pieces took seconds.)
    """

    def __init__(self, *, max_packet_size: int | None = None) -> None:
        self.max_packet_size = max_packet_size
        self._rest = bytearray()
        # The length `_rest` must reach for its first packet to be complete; 0 while its fixed
        # header is incomplete.
        self._needed = 0

    def feed(self, data: bytes) -> list[Packet]:
        """Add the bytes just received; return the packets they complete, in order."""
        rest = self._rest
        if rest:
            rest += data
            if len(rest) < self._needed:
                return []
            data = bytes(rest)
            rest.clear()
        packets, pos = decode_packets(data, max_packet_size=self.max_packet_size)
        self._needed = 0
        if pos < len(data):
            rest += memoryview(data)[pos:]
            self._needed = _packet_size(rest)
        return packets

    @property
    def buffered(self) -> int:
        """Bytes received that do not yet make a whole packet."""
        return len(self._rest)

    def clear(self) -> None:
        self._rest.clear()
        self._needed = 0


def _packet_size(data: bytearray) -> int:
    """Return the size of the packet `data` starts with, or 0 if its fixed header is cut short."""
    decoded = decode_varint(data, 1, len(data)) if len(data) >= 2 else None
    return 0 if decoded is None else decoded[0] + decoded[1]
