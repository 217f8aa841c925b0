"""Fixtures that start the real PlantOps processes against the test database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from django.conf import settings
from paho.mqtt.enums import CallbackAPIVersion

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


def database_url() -> str:
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def process_env() -> dict[str, str]:
    """Environment for child processes: the test database and a share group of their own."""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url(),
        MQTT_SHARE_GROUP=f"test-{uuid.uuid4().hex[:8]}",
        CELERY_QUEUE=f"test-{uuid.uuid4().hex[:8]}",
        # A short session: test clients must not leave queues on the broker for a week.
        MQTT_SESSION_EXPIRY_S="120",
        INGEST_BATCH_MAX_AGE_S="0.2",
        PYTHONUNBUFFERED="1",
    )
    return env


class Processes:
    def __init__(self, env: dict[str, str], tmp_path: Path) -> None:
        self.env = env
        self.tmp_path = tmp_path
        self.running: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
        log = open(self.tmp_path / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(
            args, cwd=ROOT, env=env or self.env, stdout=log, stderr=subprocess.STDOUT
        )
        self.running.append((name, proc))
        return proc

    def ingest(self, client_id: str | None = None) -> subprocess.Popen:
        return self.start(
            "ingest",
            sys.executable,
            "manage.py",
            "ingest_mqtt",
            "--client-id",
            client_id or f"test-ingest-{uuid.uuid4().hex[:8]}",
        )

    def worker(self) -> subprocess.Popen:
        return self.start(
            "worker",
            str(VENV_BIN / "celery"),
            "-A",
            "plantops",
            "worker",
            "--pool",
            "solo",
            "-Q",
            self.env["CELERY_QUEUE"],
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-l",
            "info",
        )

    def log(self, name: str) -> str:
        return (self.tmp_path / f"{name}.log").read_text(errors="replace")

    def stop_all(self) -> None:
        for _, proc in reversed(self.running):
            if proc.poll() is None:
                proc.terminate()
        for _, proc in self.running:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture
def processes(process_env, tmp_path) -> Iterator[Processes]:
    procs = Processes(process_env, tmp_path)
    yield procs
    procs.stop_all()


class Publisher:
    """A paho MQTT v5 client that publishes at QoS 1 and waits for the broker's ack."""

    def __init__(self) -> None:
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        self.client.connect(settings.MQTT.host, settings.MQTT.port)
        self.client.loop_start()

    def publish(self, topic: str, payload: dict | bytes) -> None:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.client.publish(topic, body, qos=1).wait_for_publish(timeout=10)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


@pytest.fixture
def publisher() -> Iterator[Publisher]:
    pub = Publisher()
    yield pub
    pub.close()


def wait_for(
    condition: Callable[[], object], *, timeout: float = 20.0, what: str = "condition"
) -> object:
    """Poll until `condition()` is truthy and return it; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.1)
