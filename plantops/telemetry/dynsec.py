"""Mosquitto's dynamic-security control API: send JSON commands as its admin, return the answers.

The broker (Mosquitto 2 with mosquitto_dynamic_security.so) runs the commands published to
`$CONTROL/dynamic-security/v1` by a client holding its admin role, in order, and publishes one
answer per message on `$CONTROL/dynamic-security/v1/response` to every subscriber there, so
each request tags its commands with a correlation id of its own and waits for those answers.
Command reference: https://mosquitto.org/documentation/dynamic-security/.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from plantops.core.tls import mqtt_context
from plantops.env import MqttSettings

CONTROL_TOPIC = "$CONTROL/dynamic-security/v1"
RESPONSE_TOPIC = f"{CONTROL_TOPIC}/response"
TIMEOUT_S = 5.0


class BrokerError(Exception):
    """The broker's identities could not be changed."""


class BrokerUnavailable(BrokerError):
    """The broker could not be reached or did not answer in time: worth trying again."""


class BrokerRefused(BrokerError):
    """The broker refused the admin or answered a command with an error: trying the same
    again would fail the same way."""


class ControlSession:
    """One admin connection to the broker's control topic (see `control_session`)."""

    def __init__(self, client: mqtt.Client, timeout_s: float) -> None:
        self._client = client
        self._timeout_s = timeout_s
        self._changed = threading.Condition()
        self._answers: dict[str, dict] = {}
        self._refused: dict[int, str] = {}
        self._lost = ""
        client.on_message = self._on_message
        client.on_publish = self._on_publish
        client.on_disconnect = self._on_disconnect

    def run(self, commands: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Send `commands` in one message; return the broker's answers in the same order.

        An answer is `{"command": name}` with `"data"` for a read, or with `"error"`.
        """
        if not commands:
            return []
        request = uuid.uuid4().hex
        tags = [f"{request}/{index}" for index in range(len(commands))]
        payload = json.dumps(
            {
                "commands": [
                    {**command, "correlationData": tag}
                    for command, tag in zip(commands, tags, strict=True)
                ]
            }
        )
        info = self._client.publish(CONTROL_TOPIC, payload, qos=1)
        deadline = time.monotonic() + self._timeout_s
        with self._changed:
            while not all(tag in self._answers for tag in tags):
                if info.mid in self._refused:
                    raise BrokerRefused(
                        f"the broker refused the admin's command message ({self._refused[info.mid]}): "
                        "does MQTT_ADMIN_URL name a client with the dynamic-security admin role?"
                    )
                if self._lost:
                    raise BrokerUnavailable(f"the broker dropped the admin: {self._lost}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise BrokerUnavailable(
                        f"the broker did not answer {len(commands)} commands within "
                        f"{self._timeout_s:.0f} s: is its dynamic-security plugin loaded?"
                    )
                self._changed.wait(left)
            return [self._answers.pop(tag) for tag in tags]

    def execute(self, commands: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Like `run`, but raise `BrokerRefused` if the broker answered any command with an error."""
        answers = self.run(commands)
        for command, answer in zip(commands, answers, strict=True):
            if answer.get("error"):
                target = command.get("username") or command.get("rolename") or ""
                raise BrokerRefused(f"{command['command']} {target}: {answer['error']}".strip())
        return answers

    def _on_message(self, client, userdata, message: mqtt.MQTTMessage) -> None:
        try:
            answers = json.loads(message.payload)["responses"]
        except (ValueError, KeyError, TypeError):
            return
        with self._changed:
            for answer in answers:
                tag = answer.get("correlationData") if isinstance(answer, dict) else None
                if isinstance(tag, str):
                    # Other admins' answers arrive too; nobody waits for them and they go.
                    self._answers[tag] = answer
            self._changed.notify_all()

    def _on_publish(self, client, userdata, mid: int, reason_code, properties) -> None:
        if reason_code.is_failure:
            with self._changed:
                self._refused[mid] = str(reason_code)
                self._changed.notify_all()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        with self._changed:
            self._lost = str(reason_code)
            self._changed.notify_all()


def login_client(identity: MqttSettings, client_id: str, *, timeout_s: float) -> mqtt.Client:
    """A paho MQTT v5 client that logs in as `identity` (over TLS for mqtts://), not connected."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    client.username_pw_set(identity.username, identity.password)
    if identity.tls:
        client.tls_set_context(mqtt_context())
    client.connect_timeout = timeout_s
    return client


@contextmanager
def control_session(
    admin: MqttSettings, *, timeout_s: float = TIMEOUT_S
) -> Iterator[ControlSession]:
    """Connect as the broker's dynamic-security admin and yield a session to send commands.

    Raises `BrokerUnavailable` when the broker cannot be reached or does not answer within
    `timeout_s`, and `BrokerRefused` when it refuses the admin's login or subscription.
    """
    # Unique: a second admin connection with the same id would take this one over.
    client = login_client(admin, f"plantops-admin-{uuid.uuid4().hex[:12]}", timeout_s=timeout_s)
    # No reconnecting behind the caller's back: a lost connection fails the request.
    client.reconnect_delay_set(min_delay=3600, max_delay=3600)
    ready = threading.Event()
    outcome: dict[str, Any] = {}

    def on_connect(client, userdata, flags, reason_code, properties) -> None:
        outcome["connack"] = reason_code
        if not reason_code.is_failure:
            client.subscribe(RESPONSE_TOPIC, qos=1)
        else:
            ready.set()

    def on_subscribe(client, userdata, mid, reason_codes, properties) -> None:
        outcome["suback"] = reason_codes[0]
        ready.set()

    client.on_connect = on_connect
    client.on_subscribe = on_subscribe
    where = f"{admin.host}:{admin.port}"
    try:
        client.connect(admin.host, admin.port, keepalive=30, clean_start=True)
    except (OSError, ValueError) as error:
        raise BrokerUnavailable(f"cannot reach the MQTT broker at {where}: {error}") from None
    client.loop_start()
    try:
        if not ready.wait(timeout_s):
            raise BrokerUnavailable(
                f"the MQTT broker at {where} did not answer within {timeout_s:.0f} s"
            )
        if outcome["connack"].is_failure:
            raise BrokerRefused(
                f"the MQTT broker at {where} refused the admin in MQTT_ADMIN_URL: {outcome['connack']}"
            )
        if outcome["suback"].is_failure:
            raise BrokerRefused(
                f"the admin in MQTT_ADMIN_URL may not read {RESPONSE_TOPIC} ({outcome['suback']}): "
                "is the dynamic-security plugin loaded and is it the plugin's admin?"
            )
        yield ControlSession(client, timeout_s)
    finally:
        client.disconnect()
        client.loop_stop()
