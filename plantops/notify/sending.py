"""Sending each notification once, recording every attempt and the channels' health.

Per notification (`send_notification`):

1. under the notification's own lock (a PostgreSQL session advisory lock, released by the
   server when a worker dies), with the row locked: stop if it was sent, or cancel it if the
   alert no longer waits for anyone; otherwise record the attempt and commit (the intent);
2. send, with the key as idempotency key (e-mail Message-ID, webhook delivery header);
3. record the provider's answer and the outcome, and the channel's health.

A worker killed in step 2 leaves an attempt with no outcome; the task comes back (acks_late)
and the next worker, taking the lock the dead one held, sends the same message again under
the same key. A notification is thus created once per key and delivered once per key; the
only message sent twice is one the provider had taken without us learning it, and it carries
the same key. See docs/notifications.md.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import F, Max
from django.utils import timezone

from plantops.notify import dispatch, messages, selectors, senders
from plantops.notify.models import (
    NOT_SENT,
    Channel,
    ChannelKind,
    DeliveryAttempt,
    Notification,
    NotificationKind,
    NotificationStatus,
)

log = logging.getLogger(__name__)

# PostgreSQL advisory lock class of a notification being sent (its id is the second key).
SEND_LOCK_CLASS = 0x4E4F  # "NO"
DONE = frozenset({NotificationStatus.SENT, NotificationStatus.FAILED, NotificationStatus.CANCELLED})


# --- sending ------------------------------------------------------------------------------


class Outcome:
    SENT = "sent"
    RETRY = "retry"
    FAILED = "failed"
    CANCELLED = "cancelled"
    DONE = "done"
    BUSY = "busy"


@contextmanager
def _send_lock(pk: int) -> Iterator[bool]:
    """Hold the notification's session lock while it is being sent; False if another live
    worker holds it. On SQLite (the demo's one worker) there is nothing to take."""
    if connection.vendor != "postgresql":
        yield True
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [SEND_LOCK_CLASS, pk])
        got = cursor.fetchone()[0]
    try:
        yield got
    finally:
        if got:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [SEND_LOCK_CLASS, pk])


def send_notification(pk: int) -> str:
    """Send one notification if it is still to be sent; return the `Outcome`. After
    NOTIFY_MAX_ATTEMPTS tries, or an answer that no retry can change, it has failed."""
    with _send_lock(pk) as got:
        if not got:
            return Outcome.BUSY
        with transaction.atomic():
            notification = (
                Notification.objects.select_for_update()
                .select_related("channel")
                .filter(pk=pk)
                .first()
            )
            if notification is None or notification.status in DONE:
                return Outcome.DONE
            now = timezone.now()
            stop = _unwanted(notification, now)
            if stop is not None:
                notification.status = NotificationStatus.CANCELLED
                notification.save(update_fields=["status"])
                DeliveryAttempt.objects.create(
                    notification=notification,
                    number=notification.attempts + 1,
                    started_at=now,
                    finished_at=now,
                    ok=False,
                    answer=f"{NOT_SENT}{stop}",
                )
                return Outcome.CANCELLED
            notification.attempts += 1
            notification.status = NotificationStatus.SENDING
            notification.save(update_fields=["attempts", "status"])
            attempt = DeliveryAttempt.objects.create(
                notification=notification, number=notification.attempts, started_at=now
            )
        # The intent and this attempt are committed: a worker dying from here on leaves them.
        channel = notification.channel
        try:
            answer = senders.send(channel, _message(notification))
            ok, permanent = True, False
        except senders.SendFailed as error:
            answer, ok, permanent = error.answer, False, error.permanent
        return _record_outcome(notification, attempt, answer, ok=ok, final=permanent)


def _unwanted(notification: Notification, now: datetime) -> str | None:
    if not notification.channel.enabled:
        return "the channel is switched off"
    if notification.kind in (NotificationKind.ALERT, NotificationKind.ESCALATION):
        return dispatch.stop_reason(notification.alert, notification.event_id, now)
    return None


def _message(notification: Notification) -> senders.Message:
    return senders.Message(
        key=notification.key,
        address=notification.address,
        subject=notification.subject,
        text=notification.body_text,
        html=notification.body_html,
        data=notification.data,
        link=notification.data.get("link", ""),
    )


def _record_outcome(
    notification: Notification, attempt: DeliveryAttempt, answer: str, *, ok: bool, final: bool
) -> str:
    now = timezone.now()
    with transaction.atomic():
        attempt.finished_at, attempt.ok, attempt.answer = now, ok, answer[:1000]
        attempt.save(update_fields=["finished_at", "ok", "answer"])
        if ok:
            notification.status, notification.sent_at = NotificationStatus.SENT, now
            outcome = Outcome.SENT
        elif final or notification.attempts >= settings.NOTIFY_MAX_ATTEMPTS:
            notification.status, outcome = NotificationStatus.FAILED, Outcome.FAILED
        else:
            notification.status, outcome = NotificationStatus.RETRYING, Outcome.RETRY
        notification.save(update_fields=["status", "sent_at"])
        _channel_result(notification.channel, ok=ok, answer=answer, now=now)
    return outcome


def _channel_result(channel: Channel, *, ok: bool, answer: str, now: datetime) -> None:
    """Keep the channel's health: failing after NOTIFY_FAILING_AFTER failures in a row (and
    the admins told once), well again at its next success."""
    if ok:
        Channel.objects.filter(pk=channel.pk).update(
            consecutive_failures=0, failing_since=None, last_success_at=now
        )
        return
    Channel.objects.filter(pk=channel.pk).update(
        consecutive_failures=F("consecutive_failures") + 1, last_error=answer[:500]
    )
    channel.refresh_from_db()
    if (
        channel.failing_since is None
        and channel.consecutive_failures >= settings.NOTIFY_FAILING_AFTER
    ):
        channel.failing_since = now
        channel.save(update_fields=["failing_since"])
        _tell_admins(channel)


def _tell_admins(channel: Channel) -> None:
    """E-mail the admins (active superusers) that a channel is failing, by an e-mail channel
    that is not the one failing."""
    mail = (
        Channel.objects.filter(kind=ChannelKind.EMAIL, enabled=True, failing_since__isnull=True)
        .exclude(pk=channel.pk)
        .order_by("pk")
        .first()
    )
    if mail is None:
        log.error("channel %s is failing and no other e-mail channel can tell the admins", channel)
        return
    admins = get_user_model().objects.filter(is_superuser=True, is_active=True).exclude(email="")
    text = messages.channel_failing_text(channel)
    created = []
    for admin in admins:
        recipient = selectors.Recipient(mail, admin, admin.email, "admin")
        key = f"failing:{channel.pk}:{channel.failing_since:%Y%m%dT%H%M%S}/{recipient.key}"
        pk = dispatch.record(key, NotificationKind.CHANNEL_FAILING, recipient, text, tier=0)
        if pk is not None:
            created.append(pk)
    dispatch.queue(created)


def retry_delay_s(attempts: int) -> float:
    """Back-off before the next try: 15 s, 1 min, 4 min, 16 min, … (NOTIFY_RETRY_BASE_S)."""
    return settings.NOTIFY_RETRY_BASE_S * 4 ** max(0, attempts - 1)


def requeue_stalled(*, now: datetime | None = None) -> int:
    """Queue what is due again: a retry whose back-off has passed, a message never queued (the
    broker was away), a send whose worker died and whose task did not come back. A duplicate
    task finds the work done, or the notification locked."""
    now = now or timezone.now()
    grace = timedelta(minutes=2)
    stalled = set(
        Notification.objects.filter(
            status=NotificationStatus.PENDING, created_at__lt=now - grace
        ).values_list("pk", flat=True)[:500]
    )
    # A failed try is tried again `retry_delay_s(attempts)` after it finished: never sooner.
    retrying = Notification.objects.filter(status=NotificationStatus.RETRYING).annotate(
        last_try=Max("delivery_attempts__finished_at")
    )
    for pk, attempts, last_try in retrying.values_list("pk", "attempts", "last_try")[:500]:
        if (last_try or now) + timedelta(seconds=retry_delay_s(attempts)) <= now:
            stalled.add(pk)
    stuck = DeliveryAttempt.objects.filter(
        ok__isnull=True,
        started_at__lt=now - timedelta(minutes=5),
        notification__status=NotificationStatus.SENDING,
    ).values_list("notification_id", flat=True)[:500]
    pks = sorted(set(stalled) | set(stuck))
    with transaction.atomic():
        dispatch.queue(pks)
    return len(pks)
