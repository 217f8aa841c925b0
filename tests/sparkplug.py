"""A Sparkplug B edge node on a real broker, for tests: it registers its death as its will,
publishes births and data built by `SparkplugEdgeNode`, and answers Rebirth requests."""

from __future__ import annotations

import threading
import uuid

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from plantops.simulator.sparkplug_node import SparkplugEdgeNode
from tests.conftest import wait_for


class EdgeGateway:
    def __init__(
        self, host: str, port: int, node: SparkplugEdgeNode, values: dict, *, answer: bool = True
    ) -> None:
        self.node = node
        self.values = values
        # Whether it publishes its births again when asked (a real edge node does).
        self.answer_rebirths = answer
        self.rebirth_requests = 0
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"edge-{uuid.uuid4().hex[:8]}",
            protocol=mqtt.MQTTv5,
        )
        will_topic, will_payload = node.death()
        self.client.will_set(will_topic, will_payload, qos=1)
        self.client.on_connect = lambda client, *_: client.subscribe(node.topic("NCMD"), qos=1)
        self.client.on_subscribe = lambda *_: self._subscribed.set()
        self.client.on_message = self._on_message
        self.client.connect(host, port)
        self.client.loop_start()
        wait_for(self._subscribed.is_set, timeout=10, what="the edge node's NCMD subscription")

    def _on_message(self, client, userdata, message) -> None:
        if self.node.rebirth_requested(message.topic, message.payload):
            self.rebirth_requests += 1
            if self.answer_rebirths:
                self.births()

    def send(self, messages: list[tuple[str, bytes]]) -> None:
        infos = [self.client.publish(topic, payload, qos=1) for topic, payload in messages]
        for info in infos:
            info.wait_for_publish(timeout=10)

    def births(self) -> None:
        with self._lock:
            self.send(self.node.births(self.values))

    def data(self, device: str, values: dict, **kwargs) -> None:
        with self._lock:
            self.send([self.node.data(device, values, **kwargs)])

    def lose(self, device: str, values: dict) -> None:
        """Make a message the broker never sees: the next one shows a seq gap."""
        with self._lock:
            self.node.data(device, values)

    def die(self) -> None:
        with self._lock:
            self.send([self.node.death()])

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()
