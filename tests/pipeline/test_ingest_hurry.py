"""A reading that crosses a rule's limit is handed on at once, not when its batch is old.

Runs `Ingest` in a thread against the project's Mosquitto, with the registry the ingest command
loads (topics and limit bands from the database) and batches that would otherwise wait 60 s.
"""

from __future__ import annotations

import threading
import time
import uuid

import pytest
from django.db import connection

from plantops.env import MqttSettings
from plantops.pipeline.management.commands.ingest_mqtt import _load_registry
from plantops.telemetry.batches import Batch
from plantops.telemetry.ingest import Ingest, IngestConfig
from tests.conftest import Publisher, wait_for
from tests.factories import make_asset, make_rule, topic

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

BATCH_AGE_S = 60.0


def test_a_limit_crossing_hands_its_batch_on_at_once(project_broker):
    host, port = project_broker
    asset = make_asset()
    make_rule(signal=asset.signals.get(slug="vibration"), limit=5.0)
    config = IngestConfig(
        mqtt=MqttSettings(host=host, port=port, username=None, password=None, tls=False),
        client_id=f"hurry-{uuid.uuid4().hex[:8]}",
        share_group=f"test-{uuid.uuid4().hex[:8]}",
        session_expiry_s=60,
        max_batch_items=10_000,
        max_batch_age_s=BATCH_AGE_S,
        max_age_s=86_400,
    )
    stop = threading.Event()
    handed: list[Batch] = []
    started: dict[str, Ingest] = {}

    def run() -> None:
        try:
            ingest = Ingest(config, hand_off=handed.append, load_registry=_load_registry, stop=stop)
            started["ingest"] = ingest
            ingest.run()
        finally:
            connection.close()

    began = time.monotonic()
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    publisher = Publisher(host, port)
    vibration = topic(asset, "telemetry/vibration")
    try:
        wait_for(lambda: "ingest" in started, what="ingest started")
        ingest = started["ingest"]

        def ordinary_reading_received() -> bool:
            # Until the subscription is in place, messages are not ours to count.
            publisher.publish(vibration, {"ts": time.time(), "value": 1.0})
            return ingest.counters.messages > 0

        wait_for(ordinary_reading_received, what="the subscription")
        publisher.publish(topic(asset, "telemetry/temperature"), {"ts": time.time(), "value": 99})
        wait_for(lambda: ingest.counters.messages >= 2, what="an unwatched reading")
        assert handed == []  # ordinary readings wait for the batch's age

        publisher.publish(vibration, {"ts": time.time(), "value": 9.0})
        wait_for(lambda: handed, timeout=10, what="the crossing's batch")

        assert time.monotonic() - began < BATCH_AGE_S
        # The whole batch goes, the waiting readings with the crossing.
        values = handed[0].readings.values.tolist()
        assert values[-1] == 9.0
        assert 99.0 in values
        assert set(values[:-1]) == {1.0, 99.0}
    finally:
        stop.set()
        thread.join(timeout=15)
        publisher.close()
