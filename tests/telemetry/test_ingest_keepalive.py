"""Ingest keeps its MQTT connection alive while a hand-off is retried for longer than keepalive.

Runs `Ingest` in a thread against the project's Mosquitto with a 2 s keepalive: the broker
drops a client it hears nothing from for 1.5 × keepalive, so an ingest that only waited
during the retry would lose its connection (and get its messages a second time).
"""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path

import pytest
from django.db import close_old_connections, connection

from plantops.env import MqttSettings
from plantops.pipeline.services import batch_store_salvaging
from plantops.telemetry import selectors
from plantops.telemetry.batches import Batch
from plantops.telemetry.ingest import Ingest, IngestConfig
from plantops.telemetry.models import Reading
from tests.conftest import Publisher, wait_for
from tests.factories import make_asset, topic

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

KEEPALIVE_S = 2
FAIL_FOR_S = 8.0
MESSAGES = 300


def broker_log(tmp_path_factory, port: int) -> Path:
    """The log of the `project_broker` listening on `port`."""
    for conf in tmp_path_factory.getbasetemp().glob("mosquitto*/mosquitto.conf"):
        if f"listener {port} " in conf.read_text():
            return conf.parent / "mosquitto.log"
    pytest.fail(f"no project broker configuration for port {port}")


def test_keepalive_is_serviced_while_a_hand_off_is_retried(project_broker, tmp_path_factory):
    host, port = project_broker
    asset = make_asset()
    client_id = f"keepalive-{uuid.uuid4().hex[:8]}"
    config = IngestConfig(
        mqtt=MqttSettings(host=host, port=port, username=None, password=None, tls=False),
        client_id=client_id,
        share_group=f"test-{uuid.uuid4().hex[:8]}",
        session_expiry_s=120,
        max_batch_items=50,
        max_batch_age_s=0.2,
        max_age_s=86_400,
        keepalive_s=KEEPALIVE_S,
    )
    stop = threading.Event()
    failing = {"until": None, "messages_at_first_failure": None, "messages_at_success": None}
    started: dict[str, Ingest] = {}

    def hand_off(batch: Batch) -> None:
        ingest = started["ingest"]
        now = time.monotonic()
        if failing["until"] is None:
            failing["until"] = now + FAIL_FOR_S
            failing["messages_at_first_failure"] = ingest.counters.messages
        if now < failing["until"]:
            raise ConnectionError("Redis is away (test)")
        if failing["messages_at_success"] is None:
            failing["messages_at_success"] = ingest.counters.messages
        batch_store_salvaging(batch=Batch.from_message(batch.to_message()))

    def load_registry():
        close_old_connections()
        return selectors.topic_registry()

    def run() -> None:
        try:
            ingest = Ingest(config, hand_off=hand_off, load_registry=load_registry, stop=stop)
            started["ingest"] = ingest
            ingest.run()
        finally:
            connection.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    publisher = Publisher(host, port)
    try:
        wait_for(lambda: "ingest" in started and started["ingest"].connected, what="ingest up")
        ingest = started["ingest"]
        time.sleep(0.5)  # the SUBSCRIBE follows the CONNACK
        start = time.time() - 60
        publisher.publish_many(
            [
                (topic(asset, "telemetry/vibration"), {"ts": start + i / 1000, "value": i % 7})
                for i in range(MESSAGES)
            ]
        )

        def stored() -> int:
            return Reading.objects.filter(signal__asset=asset).count()

        wait_for(lambda: stored() >= MESSAGES, timeout=FAIL_FOR_S + 30, what="all readings")
        time.sleep(1)  # a redelivered duplicate would have been counted by now
        assert stored() == MESSAGES
        assert ingest.counters.handoff_failures >= 3
        # While the hand-off was retried nothing new was delivered: backpressure held.
        assert failing["messages_at_first_failure"] == failing["messages_at_success"]
        # One connection throughout, kept alive by pings, and each message received once.
        assert ingest.client.generation == 1
        assert ingest.client.pings_sent >= 2
        assert ingest.counters.messages == MESSAGES
        assert ingest.connected
    finally:
        stop.set()
        thread.join(timeout=15)
        publisher.close()
    log = broker_log(tmp_path_factory, port).read_text(errors="replace")
    # "New client connected from … as <id> (p5, c0, k2)." once: no timeout, no reconnect.
    assert log.count(f" as {client_id} (") == 1, log[-2000:]
    assert f"Client {client_id} has exceeded timeout" not in log
