"""The production broker config (docker/mosquitto.conf) on a port of a test's own, and a client
that records what the broker answers.

The broker loads the dynamic-security plugin with a fresh store made by `mosquitto_ctrl dynsec
init` (both come with Debian's `mosquitto` package, which scripts/services.sh installs), so it
refuses anonymous clients and knows only its admin until PlantOps tells it more.
"""

from __future__ import annotations

import glob
import json
import os
import re
import secrets
import shutil
import socket
import ssl
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from plantops.env import MqttSettings
from tests.certs import Certificates, make_certificates

PRODUCTION_CONF = Path(__file__).resolve().parent.parent / "docker" / "mosquitto.conf"
START_TIMEOUT_S = 10.0
ANSWER_TIMEOUT_S = 10.0


def plugin_path() -> str:
    """Where this machine's Mosquitto keeps the dynamic-security plugin (Debian: by architecture)."""
    found = glob.glob("/usr/lib/*/mosquitto_dynamic_security.so") + glob.glob(
        "/usr/lib/mosquitto_dynamic_security.so"
    )
    if not found:
        raise RuntimeError(
            "mosquitto_dynamic_security.so not found: install Debian's mosquitto package"
        )
    return found[0]


def render_production_conf(
    *,
    port: int,
    data_dir: Path,
    plugin: str,
    tls_port: int,
    certificates: Certificates,
    require_certificate: bool = False,
) -> str:
    """Return docker/mosquitto.conf on 127.0.0.1:`port` (plain) and `tls_port` (TLS, with
    `certificates`), with its store and data in `data_dir`."""
    conf = PRODUCTION_CONF.read_text()
    replacements = {
        r"^listener 1883 127\.0\.0\.1$": f"listener {port} 127.0.0.1",
        r"^listener 8883$": f"listener {tls_port} 127.0.0.1",
        r"^certfile .*$": f"certfile {certificates.server_cert}",
        r"^keyfile .*$": f"keyfile {certificates.server_key}",
        r"^cafile .*$": f"cafile {certificates.ca}",
        r"^require_certificate false$": f"require_certificate {str(require_certificate).lower()}",
        r"^plugin .*$": f"plugin {plugin}",
        r"^plugin_opt_config_file .*$": f"plugin_opt_config_file {data_dir}/dynamic-security.json",
        r"^persistence_location .*$": f"persistence_location {data_dir}/",
    }
    for pattern, line in replacements.items():
        conf, n = re.subn(pattern, line, conf, flags=re.MULTILINE)
        if n != 1:
            raise RuntimeError(f"docker/mosquitto.conf has no single line matching {pattern}")
    # Run as whoever starts it: a temporary directory is closed to the `mosquitto` user.
    user = "root" if os.geteuid() == 0 else os.environ.get("USER", "root")
    return conf + f"\nuser {user}\n"


@dataclass(frozen=True)
class DynsecBroker:
    host: str
    port: int
    admin: MqttSettings
    log: Path
    # The TLS listener, and the CA (and a client certificate) it trusts.
    tls_port: int
    certificates: Certificates

    def identity(self, username: str | None, password: str | None) -> MqttSettings:
        return MqttSettings(
            host=self.host, port=self.port, username=username, password=password, tls=False
        )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


@contextmanager
def run_dynsec_broker(
    workdir: Path, *, require_certificate: bool = False
) -> Iterator[DynsecBroker]:
    """Start the production broker config with a fresh identity store; stop it afterwards.
    `require_certificate`: its TLS listener also asks each client for a certificate."""
    admin = MqttSettings("127.0.0.1", 0, "admin", secrets.token_urlsafe(16), False)
    ctrl = shutil.which("mosquitto_ctrl") or "/usr/bin/mosquitto_ctrl"
    subprocess.run(
        [ctrl, "dynsec", "init", str(workdir / "dynamic-security.json"), "admin", admin.password],
        check=True,
        capture_output=True,
    )
    port, tls_port = _free_port(), _free_port()
    certificates = make_certificates(workdir)
    conf = workdir / "mosquitto.conf"
    conf.write_text(
        render_production_conf(
            port=port,
            data_dir=workdir,
            plugin=plugin_path(),
            tls_port=tls_port,
            certificates=certificates,
            require_certificate=require_certificate,
        )
    )
    log = workdir / "mosquitto.log"
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    with log.open("wb") as out:
        proc = subprocess.Popen([binary, "-c", str(conf)], stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not (_listening(port) and _listening(tls_port)):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the broker did not start:\n{log.read_text()}")
            time.sleep(0.05)
        yield DynsecBroker(
            "127.0.0.1",
            port,
            MqttSettings("127.0.0.1", port, "admin", admin.password, False),
            log,
            tls_port,
            certificates,
        )
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Probe:
    """A paho MQTT v5 client that records the broker's answers: the CONNACK, each PUBACK's and
    SUBACK's reason code, a DISCONNECT, and the messages it receives. It never reconnects.

    Its client id is its user name unless given, as a gateway's must be.
    """

    def __init__(
        self,
        identity: MqttSettings,
        *,
        client_id: str | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.connack: ReasonCode | None = None
        self.disconnected: ReasonCode | None = None
        self.messages: list[tuple[str, bytes]] = []
        self._acks: dict[int, ReasonCode | list[ReasonCode]] = {}
        self._answered = threading.Condition()
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id or identity.username or f"probe-{uuid.uuid4().hex[:8]}",
            protocol=mqtt.MQTTv5,
        )
        if identity.username is not None:
            client.username_pw_set(identity.username, identity.password)
        if tls is not None:
            client.tls_set_context(tls)
        client.reconnect_delay_set(min_delay=3600, max_delay=3600)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_ack
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        self.client = client
        client.connect(identity.host, identity.port, keepalive=30, clean_start=True)
        client.loop_start()
        self._wait(lambda: self.connack is not None, "a CONNACK")

    @property
    def connected(self) -> bool:
        return self.connack is not None and not self.connack.is_failure and not self.disconnected

    def publish(self, topic: str, payload: dict | bytes) -> ReasonCode:
        """Publish at QoS 1 and return the reason code of the broker's PUBACK."""
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        mid = self.client.publish(topic, body, qos=1).mid
        self._wait(lambda: mid in self._acks, f"the PUBACK of {topic}")
        return self._acks.pop(mid)

    def subscribe(self, topic_filter: str) -> ReasonCode:
        """Subscribe at QoS 1 and return the reason code of the broker's SUBACK."""
        _, mid = self.client.subscribe(topic_filter, qos=1)
        self._wait(lambda: mid in self._acks, f"the SUBACK of {topic_filter}")
        return self._acks.pop(mid)[0]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def _wait(self, condition, what: str) -> None:
        deadline = time.monotonic() + ANSWER_TIMEOUT_S
        with self._answered:
            while not condition():
                if self.disconnected is not None and self.connack is not None:
                    raise AssertionError(f"disconnected ({self.disconnected}) waiting for {what}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no answer from the broker: waited for {what}")
                self._answered.wait(left)

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        with self._answered:
            self.connack = reason_code
            self._answered.notify_all()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        with self._answered:
            self.disconnected = reason_code
            if self.connack is None:
                self.connack = reason_code  # refused before a CONNACK could be read
            self._answered.notify_all()

    def _on_ack(self, client, userdata, mid, reason_code, properties) -> None:
        with self._answered:
            self._acks[mid] = reason_code
            self._answered.notify_all()

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties) -> None:
        with self._answered:
            self._acks[mid] = reason_codes
            self._answered.notify_all()

    def _on_message(self, client, userdata, message) -> None:
        with self._answered:
            self.messages.append((message.topic, message.payload))
            self._answered.notify_all()
