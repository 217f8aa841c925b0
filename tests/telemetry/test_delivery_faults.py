"""Faults that must not lose or duplicate a reading: ingest and workers killed, ingest away.

These run against a Mosquitto started with the project's own configuration (see the
`project_broker` fixture) and the real ingest and worker processes.
"""

from __future__ import annotations

import re
import signal as signals
import threading
import time

import pytest
from django.db import connection, transaction

from plantops.telemetry.models import Reading
from tests.conftest import Publisher, wait_for, wait_until_flowing
from tests.factories import make_asset, topic
from tests.tcp_proxy import CuttableProxy

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def broker_env(processes, project_broker):
    host, port = project_broker
    processes.env["MQTT_URL"] = f"mqtt://{host}:{port}"
    processes.env["CELERY_VISIBILITY_TIMEOUT_S"] = "5"
    return host, port


@pytest.fixture
def fault_publisher(broker_env):
    publisher = Publisher(*broker_env)
    yield publisher
    publisher.close()


def readings(asset, n: int, *, start: float | None = None) -> list[tuple[str, dict]]:
    """n single-reading messages, each with its own timestamp (1 ms apart)."""
    start = start or time.time() - 60
    return [
        (topic(asset, "telemetry/vibration"), {"ts": start + i / 1000, "value": i % 7})
        for i in range(n)
    ]


def stored(asset) -> int:
    return Reading.objects.filter(signal__asset=asset, signal__slug="vibration").count()


def settle(asset, expected: int, *, timeout: float = 60) -> int:
    wait_for(lambda: stored(asset) >= expected, timeout=timeout, what=f"{expected} readings stored")
    time.sleep(1.5)  # a duplicate, had there been one, would have arrived by now
    return stored(asset)


def test_killing_ingest_mid_stream_loses_and_duplicates_nothing(processes, fault_publisher):
    asset = make_asset()
    processes.worker()
    ingest = processes.ingest(client_id="fault-ingest-kill")
    wait_until_flowing(fault_publisher, asset)

    stream = threading.Thread(target=fault_publisher.publish_many, args=(readings(asset, 5000),))
    stream.start()
    wait_for(lambda: stored(asset) > 0, timeout=30, what="the stream to start arriving")
    ingest.send_signal(signals.SIGKILL)
    ingest.wait()
    killed_at = stored(asset)
    stream.join(timeout=60)
    processes.ingest(client_id="fault-ingest-kill")  # the same session: the broker kept its queue

    assert settle(asset, 5000) == 5000
    assert killed_at < 5000, "ingest was killed after the stream had already been stored"


def test_messages_published_while_ingest_is_stopped_arrive_when_it_starts(
    processes, fault_publisher
):
    asset = make_asset()
    processes.worker()
    ingest = processes.ingest(client_id="fault-ingest-away")
    wait_until_flowing(fault_publisher, asset)
    ingest.send_signal(signals.SIGTERM)
    assert ingest.wait(timeout=15) == 0

    fault_publisher.publish_many(readings(asset, 2000))
    time.sleep(1)
    assert stored(asset) == 0
    processes.ingest(client_id="fault-ingest-away")

    assert settle(asset, 2000) == 2000


def test_a_batch_held_by_a_killed_worker_is_redone_and_stored_once(processes, fault_publisher):
    asset = make_asset()
    worker = processes.worker()
    processes.ingest()
    wait_until_flowing(fault_publisher, asset)
    # Stop the worker so batches queue up in Redis, then kill the next one mid-task.
    worker.send_signal(signals.SIGTERM)
    worker.wait(timeout=15)
    fault_publisher.publish_many(readings(asset, 3000))
    time.sleep(1.5)  # ingest hands its last batch on within INGEST_BATCH_MAX_AGE_S
    # While the readings table is locked the doomed worker cannot store its first batch: it
    # holds it until it is killed. (Killed between two batches, a worker is waiting for the
    # next one from Redis, and kombu's Redis transport loses a message handed to a worker that
    # dies before taking it: that window is Redis's, not the pipeline's, and not tested here.)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {Reading._meta.db_table} IN EXCLUSIVE MODE")
        doomed = processes.worker()
        # "store_batch[<task id>]" is a batch received; the start-up banner lists the task
        # name alone, and a worker killed during start-up holds nothing to redo.
        wait_for(
            lambda: "store_batch[" in processes.log(doomed.log_name),
            timeout=30,
            what="the worker to take a batch",
        )
        doomed.send_signal(signals.SIGKILL)
        doomed.wait()
    processes.worker()

    # The killed worker's batch comes back after the visibility timeout (5 s here).
    assert settle(asset, 3000, timeout=90) == 3000


def test_two_ingest_processes_share_the_load_without_duplicates(processes, fault_publisher):
    asset = make_asset()
    processes.worker()
    first = processes.ingest(client_id="fault-share-a")
    second = processes.ingest(client_id="fault-share-b")
    processes.worker()
    wait_until_flowing(fault_publisher, asset)
    time.sleep(1)

    fault_publisher.publish_many(readings(asset, 4000))

    assert settle(asset, 4000) == 4000
    first.send_signal(signals.SIGTERM)
    second.send_signal(signals.SIGTERM)
    first.wait(timeout=15)
    second.wait(timeout=15)
    counts = [_messages_received(processes, proc.log_name) for proc in (first, second)]
    assert all(count > 0 for count in counts), f"one ingest took nothing: {counts}"


def _messages_received(processes, name: str) -> int:
    match = re.search(r"ingest stopped: IngestCounters\(messages=(\d+)", processes.log(name))
    assert match, processes.log(name)[-1000:]
    return int(match.group(1))


@pytest.fixture
def database_proxy():
    from django.conf import settings

    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        pytest.fail("the database outage test needs PostgreSQL (make test uses it)")
    proxy = CuttableProxy(db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432))
    yield proxy
    proxy.close()


def test_a_database_outage_of_ten_seconds_loses_nothing(processes, fault_publisher, database_proxy):
    asset = make_asset()
    direct = processes.env["DATABASE_URL"]
    # Only the worker goes through the proxy: it is the one that must wait the outage out.
    processes.env["DATABASE_URL"] = re.sub(r"@[^/]+/", f"@127.0.0.1:{database_proxy.port}/", direct)
    processes.worker()
    processes.env["DATABASE_URL"] = direct
    processes.ingest()
    wait_until_flowing(fault_publisher, asset)

    start = time.time() - 60
    messages = readings(asset, 3000, start=start)
    fault_publisher.publish_many(messages[:1000])
    wait_for(lambda: stored(asset) >= 1000, timeout=30, what="the first 1000 readings")
    database_proxy.cut()
    fault_publisher.publish_many(messages[1000:2000])
    time.sleep(10)
    assert stored(asset) == 1000  # nothing got through the cut
    database_proxy.restore()
    fault_publisher.publish_many(messages[2000:])

    assert settle(asset, 3000, timeout=90) == 3000
