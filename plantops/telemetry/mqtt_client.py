"""A lean MQTT 5 subscriber over one socket, for ingest's receive path.

One persistent session (clean_start=False), one shared subscription at QoS 1, manual acks.
Everything runs on the caller's thread: `loop()` reads whatever the socket holds with one
large recv(), decodes every complete packet (see `mqtt_wire`) and calls `on_message(topic,
payload, packet_id)` for each PUBLISH. `ack()` then writes the PUBACKs for many messages with
one sendall().

Message ids belong to one connection. Each successful CONNACK starts a new `generation`;
`ack()` takes the generation the ids came from and drops them if the connection has changed
since, so an id is never acknowledged on a connection it did not arrive on.

`max_incoming_packet_size` is sent in CONNECT as Maximum Packet Size: an MQTT 5 broker then
discards a larger message for us instead of sending it (MQTT-3.1.2-25), so one huge publish
costs ingest neither the time to read it nor the memory to hold it. A broker that sends one
anyway breaks the protocol: we send DISCONNECT "packet too large" and drop the connection as
soon as its header is read.

`service()` keeps the connection alive without delivering messages: it sends PINGREQ when due
and answers control packets, but holds every PUBLISH it reads until the next `loop()`. Ingest
calls it while a hand-off is retried, so the broker neither drops the session for silence nor
gets more than its receive-maximum of messages ahead of us.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import ssl
import time
from collections import deque
from collections.abc import Callable, Sequence

from plantops.telemetry.mqtt_wire import (
    ASSIGNED_CLIENT_IDENTIFIER,
    DISCONNECT_PACKET,
    MAXIMUM_PACKET_SIZE,
    PACKET_TOO_LARGE,
    PINGREQ_PACKET,
    REASON_STRING,
    SERVER_KEEP_ALIVE,
    Connack,
    Disconnect,
    PacketReader,
    PacketTooLarge,
    Pingresp,
    ProtocolError,
    Publish,
    Suback,
    encode_connect,
    encode_disconnect,
    encode_pubacks,
    encode_publish,
    encode_subscribe,
    reason_name,
)

logger = logging.getLogger(__name__)

RECV_SIZE = 256 * 1024
CONNECT_TIMEOUT_S = 5.0
# A send that cannot complete in this long means the broker has stopped reading from us.
SEND_TIMEOUT_S = 10.0
# What `service()` holds before it stops reading. QoS 1 is bounded by our receive-maximum, but
# QoS 0 is not: past this, the socket is left unread and TCP pushes back on the broker.
MAX_HELD_BYTES = 32 * 1024 * 1024
# After a read that brought only a little, wait this long before the next one, so that a
# stream of small messages is read several at a time: one message per recv() spent more CPU
# on system calls than on the messages. It adds at most this much to a reading's latency.
COALESCE_BELOW_BYTES = 16 * 1024
COALESCE_S = 0.002

# on_message(topic, payload, packet_id or None at QoS 0); a true result pauses delivery: the
# rest of what was read is held for the next `loop()`.
MessageHandler = Callable[[str, bytes, "int | None"], "bool | None"]
ConnectHandler = Callable[[bool], None]


class ConnectionLost(Exception):
    pass


class MqttSubscriber:
    """A persistent-session MQTT 5 subscriber to one topic filter at QoS 1."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        client_id: str,
        subscription: str | Sequence[str],
        on_message: MessageHandler,
        on_connect: ConnectHandler = lambda session_present: None,
        keepalive: int = 30,
        username: str | None = None,
        password: str | None = None,
        tls: bool = False,
        ssl_context: ssl.SSLContext | None = None,
        session_expiry_s: int | None = None,
        receive_maximum: int | None = None,
        max_incoming_packet_size: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.host = host
        self.port = port
        self.client_id = client_id
        self.subscriptions = (
            (subscription,) if isinstance(subscription, str) else tuple(subscription)
        )
        self.on_message = on_message
        self.on_connect = on_connect
        self.requested_keepalive = keepalive
        self.keepalive = keepalive
        self.username = username
        self.password = password
        self.tls = tls
        self.ssl_context = ssl_context
        self.session_expiry_s = session_expiry_s
        self.receive_maximum = receive_maximum
        # The largest packet we accept from the broker (None: no limit).
        self.max_incoming_packet_size = max_incoming_packet_size
        self.clock = clock
        # The largest packet the broker accepts from us (CONNACK may lower it).
        self.max_packet_size: int | None = None
        self.sock: socket.socket | None = None
        self.connected = False
        self.generation = 0
        # Why the last connection ended, for the caller's log.
        self.last_error = ""
        self.pings_sent = 0
        self._reader = PacketReader(max_packet_size=max_incoming_packet_size)
        self._held: deque[Publish] = deque()
        self._held_bytes = 0
        self._timeout: float | None = None
        self._last_read_small = False
        self._last_sent = 0.0
        self._last_received = 0.0
        self._ping_outstanding = False
        self._next_packet_id = 0

    # --- connection -----------------------------------------------------------------------
    def connect(self) -> None:
        """Open the socket and send CONNECT; CONNACK arrives through `loop()`. OSError if down."""
        self._close("reconnecting")
        sock = socket.create_connection((self.host, self.port), timeout=CONNECT_TIMEOUT_S)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.tls:
                context = self.ssl_context or ssl.create_default_context()
                sock = context.wrap_socket(sock, server_hostname=self.host)
            self.sock = sock
            self._timeout = None
            self.last_error = ""
            self.keepalive = self.requested_keepalive
            self.max_packet_size = None
            self._last_received = self.clock()
            self._ping_outstanding = False
            self._send(
                encode_connect(
                    client_id=self.client_id,
                    keepalive=self.keepalive,
                    clean_start=False,
                    username=self.username,
                    password=self.password,
                    session_expiry_s=self.session_expiry_s,
                    receive_maximum=self.receive_maximum,
                    maximum_packet_size=self.max_incoming_packet_size,
                )
            )
        except BaseException:
            self.sock = None
            sock.close()
            raise

    def disconnect(self) -> None:
        """Send DISCONNECT (normal), let the broker close its side, and close the socket."""
        sock = self.sock
        if sock is None:
            return
        try:
            if self.connected:
                self._send(DISCONNECT_PACKET)
            # Closing with unread data would send RST, which may discard what we just sent.
            sock.shutdown(socket.SHUT_WR)
            sock.settimeout(1.0)
            deadline = self.clock() + 1.0
            while self.clock() < deadline and sock.recv(RECV_SIZE):
                pass
        except (OSError, ConnectionLost):
            pass
        self._close("disconnected")

    def _close(self, why: str) -> None:
        if self.sock is not None:
            self.last_error = self.last_error or why
            with contextlib.suppress(OSError):
                self.sock.close()
        self.sock = None
        self.connected = False
        self._held.clear()
        self._held_bytes = 0
        self._reader.clear()

    def _lose(self, why: str) -> bool:
        self.last_error = why
        self._close(why)
        return False

    # --- receiving ------------------------------------------------------------------------
    def loop(self, timeout: float) -> bool:
        """Deliver held messages, or wait up to `timeout` s for data and handle it.

        Return False when there is no connection (it was lost, refused, or never made).
        """
        if self.sock is None:
            return False
        held = self._held
        if held:
            on_message = self.on_message
            while held:
                packet = held.popleft()
                self._held_bytes -= len(packet[1])
                if on_message(packet[0], packet[1], packet[2]):
                    break
            return self._keep_alive()
        return self._read(timeout, deliver=True)

    def service(self, timeout: float) -> bool:
        """Keep the connection alive for up to `timeout` s without delivering any message."""
        if self.sock is None:
            return False
        if self._held_bytes >= MAX_HELD_BYTES:
            return self._unread(timeout)
        return self._read(timeout, deliver=False)

    def _unread(self, timeout: float) -> bool:
        """Wait without reading, still sending PINGREQ every keepalive so the broker keeps us.

        Unread, the broker's replies cannot be judged: the silence check restarts once reading
        does, and a dead connection shows then as an error or a silent broker.
        """
        time.sleep(timeout)
        now = self.clock()
        self._last_received = now
        if self.connected and self.keepalive and now - self._last_sent >= self.keepalive:
            self.pings_sent += 1
            self._send(PINGREQ_PACKET)
        return self.sock is not None

    def _read(self, timeout: float, *, deliver: bool) -> bool:
        sock = self.sock
        assert sock is not None
        now = self.clock()
        if self.connected and self.keepalive:
            # Wake in time to send the next PINGREQ.
            if self._ping_outstanding:
                due = self._last_received + 1.5 * self.keepalive
            else:
                due = min(self._last_sent, self._last_received) + self.keepalive
            timeout = max(0.0, min(timeout, due - now))
        if self._last_read_small and deliver:
            pause = min(COALESCE_S, timeout)
            time.sleep(pause)
            timeout -= pause
        if self._timeout != timeout:
            sock.settimeout(timeout)
            self._timeout = timeout
        try:
            data = sock.recv(RECV_SIZE)
        except (TimeoutError, BlockingIOError, ssl.SSLWantReadError):
            self._last_read_small = False  # the stream has paused: read the next one at once
            return self._keep_alive()
        except OSError as error:
            return self._lose(f"socket error: {error}")
        if not data:
            return self._lose("connection closed by the broker")
        self._last_read_small = len(data) < COALESCE_BELOW_BYTES
        self._last_received = self.clock()
        self._ping_outstanding = False
        try:
            packets = self._reader.feed(data)
        except PacketTooLarge as error:
            logger.error("MQTT broker sent a packet larger than we accept: %s", error)
            if self.connected:
                self._send(encode_disconnect(PACKET_TOO_LARGE))
            return self._lose(f"protocol error: {error}")
        except ProtocolError as error:
            return self._lose(f"protocol error: {error}")
        on_message = self.on_message
        held = self._held
        for packet in packets:
            if type(packet) is Publish:
                if not deliver or held:
                    held.append(packet)
                    self._held_bytes += len(packet[1])
                elif on_message(packet[0], packet[1], packet[2]):
                    deliver = False
            elif not self._control(packet):
                return False
        return self._keep_alive()

    def _control(self, packet: object) -> bool:
        if isinstance(packet, Connack):
            return self._connack(packet)
        if isinstance(packet, Suback):
            for code in packet.reason_codes:
                if code >= 0x80:
                    logger.error(
                        "MQTT subscription to %s refused: %s",
                        " and ".join(self.subscriptions),
                        reason_name(code),
                    )
            return True
        if isinstance(packet, Pingresp):
            return True
        if isinstance(packet, Disconnect):
            why = packet.properties.get(REASON_STRING)
            return self._lose(
                f"disconnected by the broker: {reason_name(packet.reason_code)}"
                + (f" ({why})" if why else "")
            )
        return self._lose(f"unexpected packet {packet!r}")

    def _connack(self, connack: Connack) -> bool:
        if self.connected:
            return self._lose("protocol error: a second CONNACK")
        if connack.reason_code >= 0x80:
            why = connack.properties.get(REASON_STRING)
            logger.error(
                "MQTT connection refused: %s%s",
                reason_name(connack.reason_code),
                f" ({why})" if why else "",
            )
            return self._lose(f"connection refused: {reason_name(connack.reason_code)}")
        properties = connack.properties
        self.client_id = properties.get(ASSIGNED_CLIENT_IDENTIFIER, self.client_id)
        self.keepalive = properties.get(SERVER_KEEP_ALIVE, self.keepalive)
        self.max_packet_size = properties.get(MAXIMUM_PACKET_SIZE)
        self.connected = True
        self.generation += 1
        self._next_packet_id = self._next_packet_id % 0xFFFF + 1
        self._send(encode_subscribe(self._next_packet_id, self.subscriptions, qos=1))
        self.on_connect(connack.session_present)
        return self.sock is not None

    def _keep_alive(self) -> bool:
        if not self.connected or not self.keepalive:
            return self.sock is not None
        now = self.clock()
        if now - self._last_received > 1.5 * self.keepalive:
            return self._lose(f"no packet from the broker for {now - self._last_received:.1f}s")
        if not self._ping_outstanding and (
            now - self._last_sent >= self.keepalive or now - self._last_received >= self.keepalive
        ):
            self._ping_outstanding = True
            self.pings_sent += 1
            self._send(PINGREQ_PACKET)
        return self.sock is not None

    # --- sending --------------------------------------------------------------------------
    def ack(self, packet_ids: list[int], generation: int) -> bool:
        """PUBACK `packet_ids` in one write if they came from the current connection.

        Return whether they were sent; ids from an earlier connection are dropped.
        """
        if not packet_ids or not self.connected or generation != self.generation:
            return False
        self._send(encode_pubacks(packet_ids))
        return self.connected

    def publish(self, topic: str, payload: bytes) -> bool:
        """Publish at QoS 0 (fire and forget); return whether it was written."""
        if not self.connected:
            return False
        self._send(encode_publish(topic, payload))
        return self.connected

    def _send(self, data: bytes) -> None:
        sock = self.sock
        if sock is None:
            return
        if self.max_packet_size is not None and len(data) > self.max_packet_size > 4:
            # Only SUBSCRIBE can be that large: a filter longer than the broker accepts.
            logger.error("MQTT packet of %d bytes exceeds the broker's maximum", len(data))
        if self._timeout != SEND_TIMEOUT_S:
            sock.settimeout(SEND_TIMEOUT_S)
            self._timeout = SEND_TIMEOUT_S
        try:
            sock.sendall(data)
        except OSError as error:
            self._lose(f"socket error while sending: {error}")
            return
        self._last_sent = self.clock()
