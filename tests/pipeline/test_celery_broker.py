"""The Celery broker: Redis by default, RabbitMQ (quorum queue, publisher confirms) when
CELERY_BROKER_URL says amqp://, and beat, countdowns and the other tasks on either."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time

import pytest
from amqp.exceptions import PreconditionFailed
from kombu import Connection

from tests.conftest import RABBITMQ_URL, ROOT, wait_for

SHOW_CONF = """
import json
from plantops.celery import app
conf = app.conf
queues = [{"name": q.name, "exchange": q.exchange.type, "arguments": q.queue_arguments}
          for q in (conf.task_queues or [])]
print(json.dumps({
    "broker": conf.broker_url,
    "transport_options": conf.broker_transport_options,
    "queue_type": conf.task_default_queue_type,
    "queues": queues,
    "acks_late": conf.task_acks_late,
}))
"""


def celery_conf(**env: str) -> subprocess.CompletedProcess:
    """The Celery configuration a process started with `env` gets (settings are read once)."""
    environment = {k: v for k, v in os.environ.items() if k != "CELERY_BROKER_URL"}
    environment.update(env, DJANGO_SETTINGS_MODULE="plantops.settings", CELERY_QUEUE="plantops")
    code = "import django; django.setup()\n" + SHOW_CONF
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True
    )


def test_redis_is_the_default_broker_and_keeps_its_visibility_timeout():
    done = celery_conf(REDIS_URL="redis://127.0.0.1:6379/9", CELERY_VISIBILITY_TIMEOUT_S="42")
    conf = json.loads(done.stdout)
    assert conf["broker"] == "redis://127.0.0.1:6379/9"
    assert conf["transport_options"]["visibility_timeout"] == 42
    assert conf["queue_type"] == "classic"
    assert conf["queues"] == []
    assert conf["acks_late"] is True


def test_rabbitmq_gets_a_quorum_queue_and_confirms_and_no_visibility_timeout():
    url = "amqp://plantops:secret@rabbit.local:5672/plantops"
    conf = json.loads(celery_conf(CELERY_BROKER_URL=url, CELERY_VISIBILITY_TIMEOUT_S="42").stdout)
    assert conf["broker"] == url
    assert conf["transport_options"] == {"confirm_publish": True}
    assert conf["queue_type"] == "quorum"
    [queue] = conf["queues"]
    assert queue["name"] == "plantops"
    assert queue["exchange"] == "topic"  # native delayed delivery needs it for countdowns
    assert queue["arguments"]["x-queue-type"] == "quorum"
    assert queue["arguments"]["x-delivery-limit"] > 1000
    assert conf["acks_late"] is True


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"CELERY_BROKER_URL": "kafka://k:9092"}, "CELERY_BROKER_URL='kafka://k:9092' must start"),
        (
            {"CELERY_BROKER_URL": "amqp://r//", "FLOOR_TILE_PUSH_EVERY_S": "0.5"},
            "FLOOR_TILE_PUSH_EVERY_S=0.5 is below 1 s",
        ),
    ],
)
def test_a_broker_setting_that_cannot_work_stops_the_start(env, message):
    done = celery_conf(**env)
    assert done.returncode != 0
    assert message in done.stderr


def log_lines(processes, proc, task: str, what: str) -> list[str]:
    return re.findall(rf".*Task {re.escape(task)}\[[^\]]+\] {what}.*", processes.log(proc.log_name))


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_beat_and_countdown_tasks_run_through_a_quorum_queue(processes):
    processes.use_broker("rabbitmq")
    queue = processes.env["CELERY_QUEUE"]
    worker = processes.worker()
    beat = processes.start(
        "beat",
        sys.executable,
        "-m",
        "celery",
        "-A",
        "plantops",
        "beat",
        "-l",
        "info",
        "-s",
        str(processes.tmp_path / "celerybeat-schedule"),
    )
    # Beat's alerts sweep (every 5 s) reaches the worker through RabbitMQ.
    wait_for(
        lambda: log_lines(processes, worker, "alerts.sweep", "succeeded"),
        timeout=60,
        what="a sweep sent by beat to run",
    )
    # A countdown waits in RabbitMQ's delay queues, not in the worker, then runs.
    sent = time.time()
    subprocess.run(
        [
            sys.executable,
            "manage.py",
            "shell",
            "-c",
            "from plantops.oee.tasks import push_board; push_board.apply_async(countdown=2)",
        ],
        cwd=ROOT,
        env=processes.env,
        check=True,
        capture_output=True,
    )
    wait_for(
        lambda: log_lines(processes, worker, "oee.push_board", "succeeded"),
        timeout=30,
        what="the countdown task to run",
    )
    [received] = log_lines(processes, worker, "oee.push_board", "received")
    stamp = re.match(r"\[(\d+-\d+-\d+ [\d:]+),(\d+)", received)
    assert stamp, received
    at = time.mktime(time.strptime(stamp[1], "%Y-%m-%d %H:%M:%S")) + int(stamp[2]) / 1000
    assert at >= sent + 1.5, "the countdown task arrived before its time"
    assert beat.poll() is None, processes.log(beat.log_name)[-2000:]
    # The queue is a quorum queue: declaring it as a classic one is refused.
    with (
        Connection(RABBITMQ_URL) as connection,
        pytest.raises(PreconditionFailed, match="current is 'quorum'"),
    ):
        connection.channel().queue_declare(
            queue, durable=True, auto_delete=False, arguments={"x-queue-type": "classic"}
        )
