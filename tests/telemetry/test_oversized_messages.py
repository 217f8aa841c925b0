"""A message larger than the ingest accepts never reaches it, and the next reading is not held up.

Against a Mosquitto with the project's configuration (`max_packet_size` 4 MiB) and the real
ingest and worker processes. The ingest sends MQTT_MAX_PACKET_BYTES as Maximum Packet Size in
its CONNECT, so the broker discards a larger message for it; a publish over the broker's own
limit is refused to its publisher.

Messages on one subscription arrive in the order they were published, and batches are stored
in the order they were made: once the reading published after the large message is stored, the
large one, had it reached the ingest, would be stored too (as a dead letter: it is over 1 MiB).
"""

from __future__ import annotations

import json
import threading
import time

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from plantops.telemetry.models import DeadLetter, Reading
from tests.conftest import Publisher, wait_for, wait_until_flowing
from tests.factories import make_asset, topic

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

MIB = 1024 * 1024


@pytest.fixture
def broker(processes, project_broker):
    host, port = project_broker
    processes.env["MQTT_URL"] = f"mqtt://{host}:{port}"
    return host, port


@pytest.fixture
def gateway(broker):
    """A gateway publishing to the project's broker."""
    gateway = Publisher(*broker)
    yield gateway
    gateway.close()


def padded_reading(size: int, *, value: float) -> bytes:
    """A reading of `size` bytes: valid but for its size (an unknown field takes the room)."""
    head = json.dumps({"ts": time.time() - 10, "value": value, "pad": ""}).encode()
    return head[:-2] + b"x" * (size - len(head)) + b'"}'


def next_reading_is_stored(gateway: Publisher, asset) -> None:
    """Publish an ordinary reading and wait, at most a few seconds, for its row."""
    value = 1.25
    gateway.publish(topic(asset, "telemetry/vibration"), {"ts": time.time(), "value": value})
    wait_for(
        lambda: Reading.objects.filter(signal__asset=asset, value=value).exists(),
        timeout=10,
        what="the reading published after the large message",
    )


def test_a_message_over_the_ingests_maximum_packet_size_is_never_sent_to_it(processes, gateway):
    processes.env["MQTT_MAX_PACKET_BYTES"] = str(2 * MIB)
    asset = make_asset()
    processes.worker()
    ingest = processes.ingest()
    wait_until_flowing(gateway, asset)

    # 3 MiB is within what the broker takes from a publisher (4 MiB), so it is acknowledged
    # here; it is over what the ingest takes, so the broker drops it on the way out.
    gateway.publish(topic(asset, "telemetry/vibration"), padded_reading(3 * MIB, value=6.5))
    next_reading_is_stored(gateway, asset)

    assert not DeadLetter.objects.exists()
    assert not Reading.objects.filter(signal__asset=asset, value=6.5).exists()
    assert ingest.poll() is None
    log = processes.log("ingest")
    assert "MQTT disconnected" not in log, log[-3000:]
    assert "Traceback" not in log, log[-3000:]


def test_a_publish_over_the_brokers_maximum_is_refused_to_its_publisher(processes, broker, gateway):
    asset = make_asset()
    processes.worker()
    ingest = processes.ingest()
    wait_until_flowing(gateway, asset)

    oversized = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    # It must not reconnect and send the message again while the test looks on.
    oversized.reconnect_delay_set(min_delay=60, max_delay=60)
    refused = threading.Event()
    oversized.on_disconnect = lambda *args: refused.set()
    oversized.connect(*broker)
    oversized.loop_start()
    try:
        info = oversized.publish(
            topic(asset, "telemetry/vibration"), padded_reading(8 * MIB, value=6.5), qos=1
        )
        wait_for(
            lambda: refused.is_set() or info.is_published(),
            timeout=10,
            what="the broker to answer the 8 MiB publish",
        )
        assert refused.is_set()
        assert not info.is_published()
    finally:
        oversized.loop_stop()

    next_reading_is_stored(gateway, asset)

    assert not DeadLetter.objects.exists()
    assert not Reading.objects.filter(signal__asset=asset, value=6.5).exists()
    assert ingest.poll() is None
    log = processes.log("ingest")
    assert "MQTT disconnected" not in log, log[-3000:]
