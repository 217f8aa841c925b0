"""Fixtures that start the real PlantOps processes against the test database."""

from __future__ import annotations

import json
import os
import shutil
import socket
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

from tests.broker import render_mosquitto_conf
from tests.dynsec import DynsecBroker, run_dynsec_broker

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
# The RabbitMQ a test hands batches over when it asks for it (`processes.use_broker`); `make test`
# finds or starts it (scripts/services.sh rabbitmq).
RABBITMQ_URL = os.environ.get("TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672//")


def database_url() -> str:
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture(autouse=True, scope="session")
def few_password_rounds() -> Iterator[None]:
    """Users are made by the hundred: hash their passwords with few rounds (tests/hashers.py)."""
    from django.test.utils import override_settings

    with override_settings(
        PASSWORD_HASHERS=[
            "tests.hashers.FewRoundsPBKDF2PasswordHasher",
            *settings.PASSWORD_HASHERS,
        ]
    ):
        yield


@pytest.fixture(autouse=True)
def fresh_plant_config() -> Iterator[None]:
    """Each test starts without the rules and signal names a worker keeps for a few seconds:
    a rolled-back test leaves no delete signal behind, and SQLite may reuse its ids."""
    from plantops.alerts.config import plant_config_changed

    plant_config_changed()
    yield
    plant_config_changed()


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
        self.rabbitmq_queues: set[str] = set()

    def use_broker(self, broker: str) -> None:
        """Hand batches over `broker` in the processes started from now on: "redis" (REDIS_URL,
        as by default) or "rabbitmq" (a quorum queue of this test's own, deleted at its end)."""
        if broker == "redis":
            self.env.pop("CELERY_BROKER_URL", None)
        elif broker == "rabbitmq":
            self.env["CELERY_BROKER_URL"] = RABBITMQ_URL
            self.rabbitmq_queues.add(self.env["CELERY_QUEUE"])
        else:
            raise ValueError(f"unknown broker {broker!r}: redis or rabbitmq")

    def start(self, name: str, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
        """Start a process logging to <name>.log (<name>-2.log for the second of that name, …)."""
        taken = {started for started, _ in self.running}
        unique, n = name, 1
        while unique in taken:
            n += 1
            unique = f"{name}-{n}"
        log = open(self.tmp_path / f"{unique}.log", "wb")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(
            args, cwd=ROOT, env=env or self.env, stdout=log, stderr=subprocess.STDOUT
        )
        proc.log_name = unique  # type: ignore[attr-defined]
        self.running.append((unique, proc))
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
        if self.rabbitmq_queues:
            delete_rabbitmq_queues(self.rabbitmq_queues)


def delete_rabbitmq_queues(names: set[str]) -> None:
    """Delete the quorum queues (and their exchanges) tests made: they are durable."""
    from kombu import Connection

    with Connection(RABBITMQ_URL) as connection:
        channel = connection.channel()
        for name in names:
            channel.queue_delete(name)
            channel.exchange_delete(name)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> pytest.TestReport:
    """A failed test that ran processes shows the end of each one's log with its failure, so
    a failure seen once on a loaded machine can be read without running it again."""
    report = yield
    procs = getattr(item, "funcargs", {}).get("processes")
    if report.failed and isinstance(procs, Processes):
        for name, _ in procs.running:
            report.sections.append(
                (f"log of {name} (last 3,000 characters)", procs.log(name)[-3000:])
            )
    return report


@pytest.fixture
def processes(process_env, tmp_path) -> Iterator[Processes]:
    procs = Processes(process_env, tmp_path)
    yield procs
    procs.stop_all()


class Publisher:
    """A paho MQTT v5 client that publishes at QoS 1 and waits for the broker's ack."""

    def __init__(self, host: str | None = None, port: int | None = None) -> None:
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        self.client.max_inflight_messages_set(1000)
        self.client.connect(host or settings.MQTT.host, port or settings.MQTT.port)
        self.client.loop_start()

    def publish(self, topic: str, payload: dict | bytes) -> None:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.client.publish(topic, body, qos=1).wait_for_publish(timeout=10)

    def publish_many(self, messages: list[tuple[str, dict | bytes]]) -> None:
        """Publish all, at most 5,000 unacknowledged at a time (paho's message ids are 16-bit).

        A dict is sent as JSON, bytes as they are (for payloads that are not valid JSON).
        """
        pending = []
        for topic, payload in messages:
            body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            pending.append(self.client.publish(topic, body, qos=1))
            if len(pending) >= 5000:
                for info in pending:
                    info.wait_for_publish(timeout=30)
                pending.clear()
        for info in pending:
            info.wait_for_publish(timeout=30)

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


@pytest.fixture(scope="module")
def project_broker(tmp_path_factory) -> Iterator[tuple[str, int]]:
    """A Mosquitto of our own, started with scripts/mosquitto.conf as `make demo` would.

    Delivery tests need the queue limits we ship: a stock broker drops QoS-1 messages past
    1,000 queued for a client that is away.
    """
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    workdir = tmp_path_factory.mktemp("mosquitto")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    (workdir / "mosquitto.conf").write_text(render_mosquitto_conf(port=port, data_dir=workdir))
    proc = subprocess.Popen(
        [binary, "-c", str(workdir / "mosquitto.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )

    def listening() -> bool:
        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", port)) == 0

    wait_for(listening, timeout=10, what="the project's Mosquitto to listen")
    yield "127.0.0.1", port
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(scope="module")
def dynsec_broker(tmp_path_factory) -> Iterator[DynsecBroker]:
    """A broker started with docker/mosquitto.conf, the production one: anonymous clients are
    refused and identities live in the dynamic-security plugin's store, fresh, with its admin."""
    with run_dynsec_broker(tmp_path_factory.mktemp("dynsec")) as broker:
        yield broker


def wait_until_flowing(publisher: Publisher, asset) -> None:
    """Publish a temperature probe until one is stored: ingest is subscribed, the worker is up."""
    from plantops.telemetry.models import Reading

    probe = asset.signals.get(slug="temperature")
    topic = f"plantops/{asset.topic_path}/telemetry/temperature"

    def stored() -> bool:
        publisher.publish(topic, {"ts": time.time(), "value": 21.0})
        time.sleep(0.3)
        return Reading.objects.filter(signal=probe).exists()

    wait_for(stored, timeout=30, what="the pipeline to store a probe reading")


# The modules that wait longest (a two-minute outage, hundreds of worker kills, a day's
# backlog): collected first, so that under pytest-xdist one worker starts on them at once while
# the others take the short tests, rather than one of them starting last and ending the run.
# pytest-django then sorts the tests by kind (database, transactional, none), keeping this order
# within each kind: the transactional tests, which flush the tables, still come after the rest.
SLOW_FIRST = (
    "test_tablet_reconnect_in_chromium",
    "test_handoff_kills",
    "test_delivery_faults",
    "test_ingest_pipeline",
    "test_prediction_end_to_end",
    "test_late_equals_live",
)


@pytest.hookimpl(tryfirst=True)  # before pytest-django's stable sort by kind
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        module = item.nodeid.split("::", 1)[0].rsplit("/", 1)[-1].removesuffix(".py")
        return SLOW_FIRST.index(module) if module in SLOW_FIRST else len(SLOW_FIRST)

    items.sort(key=rank)
