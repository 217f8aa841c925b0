"""A worker killed (SIGKILL) in the middle of sending a notification: the task comes back to
another worker, and each recipient gets the message once by each channel.

Real parts throughout: the alert is raised by a stored batch in this process, whose commit
queues `notify.dispatch` on the Redis broker; a real Celery worker (forked by the zygote of
tests/worker_zygote.py) dispatches it and sends by real SMTP (aiosmtpd) or a signed webhook
(an HTTP server), against PostgreSQL. The worker dies at one of three moments of
`sending.send_notification`:

- the webhook receiver has the request and has not answered (it already counted it);
- the SMTP server has the message and holds its answer to DATA;
- the intent is committed and the request has reached nobody (a door in front of the receiver
  takes the connection and passes nothing on).

The second worker gets the task back as Redis gives it back (unacknowledged for longer than
CELERY_VISIBILITY_TIMEOUT_S, restored when a worker starts polling), or from the sweep
(`sending.requeue_stalled`), and finishes it under the same key.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

import pytest
import redis
from django.conf import settings
from django.utils import timezone

from plantops.notify import senders, sending
from plantops.notify.models import (
    Channel,
    DeliveryAttempt,
    Notification,
    NotificationStatus,
    RoutingRule,
    Subscription,
)
from tests.conftest import wait_for
from tests.factories import make_alert, make_asset, make_user
from tests.worker_kills import Zygote, redis_holds

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

# Redis gives a dead worker's task to another once it has been unacknowledged this long.
VISIBILITY_TIMEOUT_S = 2


# --- the broker's queue, the workers ----------------------------------------------------------


def forget_queue(queue: str) -> None:
    """Empty `queue` on Redis, with what killed workers left of it unacknowledged."""
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    try:
        client.delete(queue)
        for tag, message in client.hscan_iter("unacked"):
            if json.loads(message)[2] == queue:
                client.hdel("unacked", tag)
                client.zrem("unacked_index", tag)
    finally:
        client.close()


def unacked_since(queue: str) -> list[float]:
    """When each task of `queue` that a worker took and has not acknowledged was taken."""
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    try:
        return [
            client.zscore("unacked_index", tag) or 0.0
            for tag, message in client.hscan_iter("unacked")
            if json.loads(message)[2] == queue
        ]
    finally:
        client.close()


@pytest.fixture
def smtp_env(processes, smtp) -> None:
    processes.env.update(EMAIL_BACKEND="smtp", EMAIL_HOST="127.0.0.1", EMAIL_PORT=str(smtp.port))


@pytest.fixture
def zygote(processes, smtp_env) -> Iterator[Zygote]:
    """Forks the workers. They consume the queue this process sends to: the alert's trigger
    queues `notify.dispatch` there when the batch that raised it commits."""
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    forget_queue(queue)
    processes.env.update(CELERY_QUEUE=queue, CELERY_VISIBILITY_TIMEOUT_S=str(VISIBILITY_TIMEOUT_S))
    workers = Zygote(processes.env, processes.tmp_path / "workers.log")
    yield workers
    workers.close()
    forget_queue(queue)


def kill(workers: Zygote, pid: int) -> None:
    os.kill(pid, signal.SIGKILL)
    assert workers.wait_dead(pid, timeout=15) == signal.SIGKILL


def start_when_redelivered(workers: Zygote) -> int:
    """Start the next worker once Redis gives the dead worker's task back: a worker restores
    every task unacknowledged past the visibility timeout as it starts polling."""
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    taken = unacked_since(queue)
    assert taken, "the killed worker held no task"
    wait_for(
        lambda: max(taken) < time.time() - VISIBILITY_TIMEOUT_S,
        timeout=VISIBILITY_TIMEOUT_S + 5,
        what="the visibility timeout of the dead worker's task",
    )
    return workers.start_worker()


# --- the plant and what it must have sent ------------------------------------------------------


def mailed_supervisor(channel: Channel) -> None:
    user = make_user(role="supervisor", username="sam")
    user.email = "sam@example.com"
    user.save()
    subscription = Subscription.objects.create(user=user, min_priority="high")
    subscription.channels.add(channel)


def room(channel: Channel) -> None:
    rule = RoutingRule.objects.create(name="High to the maintenance room", min_priority="high")
    rule.channels.add(channel)


def sent(notification: Notification) -> bool:
    notification.refresh_from_db()
    return notification.status == NotificationStatus.SENT


def attempts(notification: Notification) -> list[tuple[int, bool | None]]:
    return list(
        DeliveryAttempt.objects.filter(notification=notification)
        .order_by("number")
        .values_list("number", "ok")
    )


def the_one_notification(alert) -> Notification:
    """What the raise became: one notification (one recipient by one channel)."""
    notifications = list(Notification.objects.filter(alert=alert))
    assert len(notifications) == 1, [n.key for n in notifications]
    return notifications[0]


def wait_for_notification(alert) -> Notification:
    wait_for(
        lambda: Notification.objects.filter(alert=alert).exists(),
        what="the worker to dispatch the raise",
    )
    return the_one_notification(alert)


def assert_finished_after_the_kill(notification: Notification) -> None:
    """Sent once, by the second worker: the first attempt never got an answer."""
    wait_for(lambda: sent(notification), timeout=30, what="the second worker to send it")
    assert attempts(notification) == [(1, None), (2, True)]
    assert Notification.objects.filter(key=notification.key).count() == 1


# --- a door in front of a receiver --------------------------------------------------------------


class Door:
    """A TCP door to a receiver on 127.0.0.1. Shut, it takes connections and passes nothing
    on: the request waits in the door, unseen by the receiver. Open, it forwards."""

    def __init__(self, target_port: int) -> None:
        self.target = ("127.0.0.1", target_port)
        self.knocked = threading.Event()
        self.opened = threading.Event()
        self.sockets: list[socket.socket] = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def open(self) -> None:
        self.opened.set()

    def close(self) -> None:
        for sock in [self.listener, *self.sockets]:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            self.sockets.append(client)
            if not self.opened.is_set():
                self.knocked.set()
                continue
            upstream = socket.create_connection(self.target, timeout=5)
            self.sockets.append(upstream)
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
            sink.shutdown(socket.SHUT_WR)
        except OSError:
            pass


# --- the kills ----------------------------------------------------------------------------------


def test_a_worker_killed_while_the_webhook_receiver_holds_the_request_posts_it_once_by_key(
    zygote, webhook, webhook_channel
):
    room(webhook_channel)
    answered = threading.Event()
    webhook.hold = lambda: answered.wait(30)
    first = zygote.start_worker()

    alert = make_alert(asset=make_asset(), priority="high")
    webhook.wait_for(1)
    kill(zygote, first)
    notification = the_one_notification(alert)
    assert attempts(notification) == [(1, None)]
    webhook.hold = None
    answered.set()
    start_when_redelivered(zygote)

    assert_finished_after_the_kill(notification)
    # The receiver had the first request when the worker died: the second carries the same
    # delivery id, by which the receiver keeps one.
    assert webhook.deliveries() == Counter({senders.delivery_id(notification.key): 2})
    assert all(hook.signature_ok for hook in webhook.hooks)
    assert webhook.hooks[0].body == webhook.hooks[1].body


def test_a_worker_killed_while_the_smtp_server_holds_its_answer_to_data_mails_it_once(
    zygote, smtp, email_channel
):
    mailed_supervisor(email_channel)
    smtp.delay_s = 30.0
    first = zygote.start_worker()

    alert = make_alert(asset=make_asset(), priority="high")
    assert smtp.data_started.wait(20), "the worker never sent the message's DATA"
    kill(zygote, first)
    notification = the_one_notification(alert)
    assert attempts(notification) == [(1, None)]
    smtp.delay_s = 0.0
    start_when_redelivered(zygote)

    assert_finished_after_the_kill(notification)
    mails = smtp.wait_for(1)
    assert [mail.envelope_to for mail in mails] == [["sam@example.com"]]
    # The server drops a message whose sender left before it answered; had it kept it, the
    # second would repeat its Message-ID, by which mail clients show one.
    assert smtp.by_message_id() == Counter({senders.message_id(notification.key): 1})


def test_a_worker_killed_once_the_intent_is_committed_is_relieved_by_the_sweep(
    zygote, webhook, webhook_channel
):
    door = Door(webhook.port)
    webhook_channel.url = f"http://127.0.0.1:{door.port}/hook"
    webhook_channel.save()
    room(webhook_channel)
    try:
        first = zygote.start_worker()
        alert = make_alert(asset=make_asset(), priority="high")
        notification = wait_for_notification(alert)
        assert door.knocked.wait(20), "the worker never called the receiver"
        # It calls out only once the intent and the attempt are committed.
        assert attempts(notification) == [(1, None)]
        notification.refresh_from_db()
        assert notification.status == NotificationStatus.SENDING
        kill(zygote, first)
        door.open()
        zygote.start_worker()
        # The sweep's round, as beat runs it once the attempt has been stalled for minutes.
        assert sending.requeue_stalled(now=timezone.now() + timedelta(minutes=6)) == 1

        assert_finished_after_the_kill(notification)
        # The sweep's task did it: the broker has not given the dead worker's back yet.
        assert unacked_since(settings.CELERY_TASK_DEFAULT_QUEUE)
        assert webhook.deliveries() == Counter({senders.delivery_id(notification.key): 1})
        assert webhook.hooks[0].signature_ok
    finally:
        door.close()
    # The task the dead worker held still comes back to the broker's queue; it finds the
    # notification sent.
    wait_for(
        lambda: not redis_holds(settings.CELERY_BROKER_URL, settings.CELERY_TASK_DEFAULT_QUEUE),
        timeout=20,
        what="the dead worker's task to come back and be done",
    )
    assert attempts(notification) == [(1, None), (2, True)]
