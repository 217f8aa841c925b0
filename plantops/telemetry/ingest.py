"""The MQTT side of ingest: receive, parse, batch, hand on to the worker, then acknowledge.

Delivery guarantee: a QoS-1 message is acknowledged to the broker only after the batch that
holds it has been handed to Celery (RabbitMQ confirms it has the batch; Redis has it once the
push returns). If ingest dies before that, the broker keeps the message in our persistent
session and sends it again; storing is idempotent, so a message handed on twice is stored once.

Sparkplug B messages (spBv1.0/#) come on the same shared subscription and are read by
`sparkplug.SparkplugHost`, which keeps each edge node's births; its Rebirth requests go out on
the same connection.

Messages arrive through the project's own MQTT 5 subscriber (`mqtt_client.MqttSubscriber`),
which reads the socket in large pieces and calls `_on_message` on this thread, so the batch
needs no lock. Acks are written in one go per batch and only on the connection the messages
came from. While a hand-off is retried no new messages are delivered — the broker's
receive-maximum then bounds what is in flight and holds the backlog — but the connection is
still kept alive (PINGREQ), so the broker does not drop us during a long outage.
"""

from __future__ import annotations

import logging
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from plantops.core.time import now_us
from plantops.env import MqttSettings
from plantops.telemetry.batches import Batch, BatchBuilder
from plantops.telemetry.mqtt_client import MqttSubscriber
from plantops.telemetry.payloads import Limits, Reason, TopicRegistry, parse_message
from plantops.telemetry.sparkplug import SparkplugHost
from plantops.telemetry.sparkplug_wire import NAMESPACE as SPARKPLUG_NAMESPACE
from plantops.telemetry.sparkplug_wire import TOPIC_FILTER as SPARKPLUG_FILTER
from plantops.telemetry.urgency import CrossingWatch

logger = logging.getLogger(__name__)

UNKNOWN = (Reason.UNKNOWN_ASSET, Reason.UNKNOWN_SIGNAL)
SPARKPLUG_PREFIX = SPARKPLUG_NAMESPACE + "/"
CONNACK_TIMEOUT_S = 10.0
FIGURES_EVERY_S = 5.0


@dataclass(frozen=True)
class IngestConfig:
    mqtt: MqttSettings
    client_id: str
    share_group: str
    session_expiry_s: int
    max_batch_items: int
    max_batch_age_s: float
    max_age_s: int
    max_future_s: int = 300
    registry_refresh_s: float = 30.0
    # An unknown topic triggers a reload so a newly configured signal is picked up within
    # seconds, but a stream of unknown topics must not reload the registry on every message.
    registry_miss_refresh_s: float = 5.0
    topic_filter: str = "plantops/#"
    # Also read Sparkplug B (spBv1.0/#) on the same shared subscription.
    sparkplug: bool = True
    keepalive_s: int = 30
    # The largest MQTT packet the broker may send us, sent in CONNECT (MQTT_MAX_PACKET_BYTES);
    # None: no limit.
    max_packet_bytes: int | None = None
    # How an mqtts:// connection checks the broker (its CA) and shows itself (a certificate).
    ssl_context: ssl.SSLContext | None = None


@dataclass
class IngestCounters:
    messages: int = 0
    readings: int = 0
    dead_letters: int = 0
    batches: int = 0
    handoff_failures: int = 0
    rebirths_requested: int = 0


class Ingest:
    """Runs the receive → parse → batch → hand-off → ack loop until `stop` is set."""

    def __init__(
        self,
        config: IngestConfig,
        *,
        hand_off: Callable[[Batch], None],
        load_registry: Callable[[], TopicRegistry],
        stop: threading.Event,
        report: Callable[[dict[str, float]], None] = lambda figures: None,
    ) -> None:
        self.config = config
        self.hand_off = hand_off
        self.load_registry = load_registry
        self.stop = stop
        self.report = report
        self.counters = IngestCounters()
        self.builder = BatchBuilder(
            max_items=config.max_batch_items,
            max_age_s=config.max_batch_age_s,
        )
        self.registry = load_registry()
        self.registry_loaded_at = time.monotonic()
        self.crossings = CrossingWatch()
        self.sparkplug = SparkplugHost(clock=time.monotonic)
        # When the last connect() was sent: until CONNACK arrives (TLS, a remote cluster, a
        # broker restoring a large session) a second connect() would tear the first one down.
        self.connecting_since: float | None = None
        self.connect_backoff = 1.0
        # The connection the messages in the current batch arrived on: their acks go there only.
        self.batch_generation = 0
        self.client = self._make_client()

    # --- MQTT ---------------------------------------------------------------------------------
    def _make_client(self) -> MqttSubscriber:
        config = self.config
        return MqttSubscriber(
            host=config.mqtt.host,
            port=config.mqtt.port,
            client_id=config.client_id,
            subscription=[
                f"$share/{config.share_group}/{topic_filter}"
                for topic_filter in (
                    (config.topic_filter, SPARKPLUG_FILTER)
                    if config.sparkplug
                    else (config.topic_filter,)
                )
            ],
            on_message=self._on_message,
            on_connect=self._on_connect,
            keepalive=config.keepalive_s,
            username=config.mqtt.username,
            password=config.mqtt.password,
            tls=config.mqtt.tls,
            ssl_context=config.ssl_context,
            # A persistent session: the broker keeps our subscription and unacked messages while
            # we are away, for this long.
            session_expiry_s=config.session_expiry_s,
            receive_maximum=self._receive_maximum(),
            max_incoming_packet_size=config.max_packet_bytes,
        )

    def _receive_maximum(self) -> int:
        # How many unacknowledged QoS-1 messages the broker may have in flight to us: enough to
        # fill a batch, and the bound that turns a slow worker into backlog on the broker.
        return min(65535, max(100, 2 * self.config.max_batch_items))

    @property
    def connected(self) -> bool:
        return self.client.connected

    def _on_connect(self, session_present: bool) -> None:
        self.connecting_since = None
        self.connect_backoff = 1.0
        logger.info(
            "connected to MQTT %s:%s as %s (session present: %s)",
            self.config.mqtt.host,
            self.config.mqtt.port,
            self.client.client_id,
            session_present,
        )

    def _on_disconnect(self) -> None:
        self.connecting_since = None
        if not self.stop.is_set():
            logger.warning("MQTT disconnected: %s", self.client.last_error or "not connected")
        # Message ids are per connection: acks for the old one must never be sent on the new.
        # What was parsed is still handed on; the broker redelivers the unacked messages and
        # storing them again is a no-op.
        self._flush(ack=False)

    def _on_message(self, topic: str, payload: bytes, packet_id: int | None) -> bool:
        """Parse and batch one message; return True once the batch is due (pause delivery)."""
        self.counters.messages += 1
        received_us = now_us()
        limits = Limits(
            now_us=received_us,
            max_future_us=self.config.max_future_s * 1_000_000,
            max_age_us=self.config.max_age_s * 1_000_000,
        )
        events = None
        if topic.startswith(SPARKPLUG_PREFIX):
            outcome = self.sparkplug.receive(
                topic, payload, mapping=self.registry.sparkplug, limits=limits
            )
            result, events = outcome.parsed, outcome.events
            for command in outcome.commands:
                # QoS 0, as the specification has it: a lost request is asked again.
                if self.client.publish(command.topic, command.payload):
                    self.counters.rebirths_requested += 1
        else:
            result = parse_message(topic, payload, registry=self.registry, limits=limits)
            if (
                result.rejections
                and result.rejections[0].reason in UNKNOWN
                and self._refresh_registry_on_miss()
            ):
                result = parse_message(topic, payload, registry=self.registry, limits=limits)
        self.counters.readings += len(result.readings) + len(result.history)
        self.counters.dead_letters += len(result.rejections)
        builder = self.builder
        if builder.started_at is None:
            self.batch_generation = self.client.generation
        builder.add(
            topic=topic, result=result, received_us=received_us, ack_id=packet_id, sparkplug=events
        )
        if (
            result.readings
            and self.registry.bands
            and self.crossings.crossed(result.readings, self.registry.bands)
        ):
            builder.hurry()
        return builder.full or (builder.hurried and builder.due())

    # --- registry ------------------------------------------------------------------------------
    def _refresh_registry_on_miss(self) -> bool:
        if time.monotonic() - self.registry_loaded_at < self.config.registry_miss_refresh_s:
            return False
        self._reload_registry()
        return True

    def _reload_registry(self) -> None:
        try:
            self.registry = self.load_registry()
        except Exception:
            logger.exception("could not reload the topic registry; keeping the previous one")
        self.registry_loaded_at = time.monotonic()

    # --- batches -------------------------------------------------------------------------------
    def _flush(self, *, ack: bool = True) -> None:
        if self.builder.empty:
            return
        generation = self.batch_generation
        batch, ack_ids = self.builder.take()
        backoff = 0.1
        while True:
            try:
                self.hand_off(batch)
                break
            except Exception:
                self.counters.handoff_failures += 1
                logger.exception(
                    "hand-off of batch %s failed; retrying in %.1fs", batch.batch_id, backoff
                )
                if self._pause(backoff):
                    # Stopping: nothing is acked, so the broker will send these again.
                    return
                backoff = min(backoff * 2, 10.0)
        self.counters.batches += 1
        if ack:
            self.client.ack(ack_ids, generation)

    def _pause(self, seconds: float) -> bool:
        """Wait `seconds` (True at once if stopping), keeping the connection alive meanwhile.

        Only PINGREQ goes out and only control packets are handled: messages that arrive are
        held by the client until the next `loop()`.
        """
        deadline = time.monotonic() + seconds
        while not self.stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            if not (self.client.connected and self.client.service(min(remaining, 0.25))):
                return self.stop.wait(remaining)
        return True

    def figures(self) -> dict[str, float]:
        """Return the counters and the lag: what is received but not yet acknowledged."""
        return {
            **{name: float(value) for name, value in vars(self.counters).items()},
            "unacked": float(len(self.builder.pending_acks)),
            "oldest_unacked_age_s": self.builder.oldest_age_s(),
            "connected": 1.0 if self.connected else 0.0,
        }

    # --- the loop ------------------------------------------------------------------------------
    def run(self) -> None:
        """Connect and process messages until `stop` is set; then flush, ack and disconnect."""
        config = self.config
        next_report = time.monotonic() + 30
        next_figures = time.monotonic()
        while not self.stop.is_set():
            waiting_for_connack = (
                self.connecting_since is not None
                and time.monotonic() - self.connecting_since < CONNACK_TIMEOUT_S
            )
            if not self.connected and not waiting_for_connack:
                try:
                    self.client.connect()
                    self.connecting_since = time.monotonic()
                except OSError as error:
                    logger.warning(
                        "cannot reach MQTT broker (%s); retrying in %.0fs",
                        error,
                        self.connect_backoff,
                    )
                    self.stop.wait(self.connect_backoff)
                    self.connect_backoff = min(self.connect_backoff * 2, 30.0)
                    continue
            # Wake when the batch comes of age, not only when the next message arrives: at a
            # low message rate that would add up to the gap between messages to its latency.
            if not self.client.loop(timeout=min(0.05, self.builder.seconds_until_due(idle=0.05))):
                self._on_disconnect()
                self.stop.wait(min(self.connect_backoff, 5.0))
                self.connect_backoff = min(self.connect_backoff * 2, 30.0)
                continue
            if self.builder.due():
                self._flush()
            now = time.monotonic()
            if now - self.registry_loaded_at > config.registry_refresh_s:
                self._reload_registry()
            if now >= next_figures:
                next_figures = now + FIGURES_EVERY_S
                self.report(self.figures())
            if now >= next_report:
                next_report = now + 30
                logger.info("ingest: %s", self.counters)
        self._flush()
        # The acks are written; DISCONNECT, then wait for the broker to close its side.
        self.client.disconnect()
        self.report(self.figures())
        logger.info("ingest stopped: %s", self.counters)
