"""Celery tasks of the notifications: thin, each a call into `services` or `digests`."""

from __future__ import annotations

from celery import shared_task

from plantops.notify import digests, sending, services
from plantops.notify import dispatch as dispatching

# Another live worker is sending this notification: look again after it.
BUSY_RETRY_S = 5.0


@shared_task(name="notify.dispatch")
def dispatch() -> int:
    return dispatching.dispatch_events()


@shared_task(name="notify.announce")
def announce(alert_ids: list[int]) -> int:
    return dispatching.announce_late(alert_ids)


@shared_task(name="notify.send", bind=True, max_retries=None)
def send(self, notification_id: int) -> str:
    # A failed try is queued again by beat's sweep once its back-off has passed
    # (`sending.requeue_stalled`): a countdown of hours would outlive Redis' visibility timeout.
    outcome = sending.send_notification(notification_id)
    if outcome == sending.Outcome.BUSY:
        raise self.retry(countdown=BUSY_RETRY_S)
    return outcome


@shared_task(name="notify.sweep")
def sweep() -> dict[str, int]:
    return services.sweep()


@shared_task(name="notify.send_digests")
def send_digests() -> int:
    return digests.send_due_digests()
