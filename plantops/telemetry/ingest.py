"""The MQTT side of ingest: receive, parse, batch, hand on to the worker, then acknowledge.

Delivery guarantee: a QoS-1 message is acknowledged to the broker only after the batch that
holds it has been handed to Celery (Redis). If ingest dies before that, the broker keeps the
message in our persistent session and sends it again; storing is idempotent, so a message
handed on twice is stored once.

The loop is single-threaded: paho's `loop()` calls `on_message` on this thread, so the batch
needs no lock, and while a hand-off is retried no new messages are read — the broker's
receive-maximum then bounds what is in flight and holds the backlog.
"""

from __future__ import annotations

import logging
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from plantops.env import MqttSettings
from plantops.telemetry.batches import Batch, BatchBuilder
from plantops.telemetry.payloads import Limits, Reason, TopicRegistry, now_us, parse_message

logger = logging.getLogger(__name__)

UNKNOWN = (Reason.UNKNOWN_ASSET, Reason.UNKNOWN_SIGNAL)
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


@dataclass
class IngestCounters:
    messages: int = 0
    readings: int = 0
    dead_letters: int = 0
    batches: int = 0
    handoff_failures: int = 0


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
            max_items=config.max_batch_items, max_age_s=config.max_batch_age_s
        )
        self.registry = load_registry()
        self.registry_loaded_at = time.monotonic()
        self.connected = False
        # When the last connect() was sent: until CONNACK arrives (TLS, a remote cluster, a
        # broker restoring a large session) a second connect() would tear the first one down.
        self.connecting_since: float | None = None
        self.connect_backoff = 1.0
        self.client = self._make_client()

    # --- MQTT ---------------------------------------------------------------------------------
    def _make_client(self) -> mqtt.Client:
        config = self.config
        client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=config.client_id,
            protocol=MQTTProtocolVersion.MQTTv5,
            manual_ack=True,
        )
        if config.mqtt.username:
            client.username_pw_set(config.mqtt.username, config.mqtt.password)
        if config.mqtt.tls:
            client.tls_set(cert_reqs=ssl.CERT_REQUIRED)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        return client

    def _connect_properties(self) -> Properties:
        properties = Properties(PacketTypes.CONNECT)
        # A persistent session: the broker keeps our subscription and unacked messages while we
        # are away, for this long.
        properties.SessionExpiryInterval = self.config.session_expiry_s
        # How many unacknowledged QoS-1 messages the broker may have in flight to us: enough to
        # fill a batch, and the bound that turns a slow worker into backlog on the broker.
        properties.ReceiveMaximum = min(65535, max(100, 2 * self.config.max_batch_items))
        return properties

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            logger.error("MQTT connection refused: %s", reason_code)
            return
        self.connected = True
        self.connecting_since = None
        self.connect_backoff = 1.0
        logger.info(
            "connected to MQTT %s:%s as %s (session present: %s)",
            self.config.mqtt.host,
            self.config.mqtt.port,
            self.config.client_id,
            flags.session_present,
        )
        topic = f"$share/{self.config.share_group}/{self.config.topic_filter}"
        client.subscribe(topic, options=SubscribeOptions(qos=1))

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        self.connected = False
        self.connecting_since = None
        if not self.stop.is_set():
            logger.warning("MQTT disconnected: %s", reason_code)
        # Message ids are per connection: acks for the old one must never be sent on the new.
        # What was parsed is still handed on; the broker redelivers the unacked messages and
        # storing them again is a no-op.
        self._flush(ack=False)

    def _on_message(self, client, userdata, message: mqtt.MQTTMessage) -> None:
        self.counters.messages += 1
        received_us = now_us()
        limits = Limits(
            now_us=received_us,
            max_future_us=self.config.max_future_s * 1_000_000,
            max_age_us=self.config.max_age_s * 1_000_000,
        )
        topic = message.topic
        result = parse_message(topic, message.payload, registry=self.registry, limits=limits)
        if (
            result.rejections
            and result.rejections[0].reason in UNKNOWN
            and self._refresh_registry_on_miss()
        ):
            result = parse_message(topic, message.payload, registry=self.registry, limits=limits)
        self.counters.readings += len(result.readings)
        self.counters.dead_letters += len(result.rejections)
        self.builder.add(
            topic=topic,
            result=result,
            received_us=received_us,
            ack_id=message.mid if message.qos else None,
        )

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
                if self.stop.wait(backoff):
                    # Stopping: nothing is acked, so the broker will send these again.
                    return
                backoff = min(backoff * 2, 10.0)
        self.counters.batches += 1
        if ack and self.connected:
            for mid in ack_ids:
                self.client.ack(mid, 1)

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
                    self.client.connect(
                        config.mqtt.host,
                        config.mqtt.port,
                        keepalive=30,
                        clean_start=False,
                        properties=self._connect_properties(),
                    )
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
            rc = self.client.loop(timeout=0.05)
            if rc not in (MQTTErrorCode.MQTT_ERR_SUCCESS, MQTTErrorCode.MQTT_ERR_AGAIN):
                self.connected = False
                self.connecting_since = None
                self._flush(ack=False)
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
        # Let the final acks leave before the socket closes.
        for _ in range(5):
            self.client.loop(timeout=0.02)
        self.client.disconnect()
        self.connected = False
        self.report(self.figures())
        logger.info("ingest stopped: %s", self.counters)
