from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError

from plantops.telemetry import metrics, services
from plantops.telemetry.batches import Batch
from plantops.telemetry.payloads import now_us


@shared_task(
    name="telemetry.store_batch",
    # Only connection trouble is worth waiting out; any other error would fail the same way
    # on every retry and must not hold the batch for ever.
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    retry_backoff_max=30,
    max_retries=None,
)
def store_batch(message: dict) -> dict:
    """Store one ingest batch; retried with backoff while the database is unreachable."""
    batch = Batch.from_message(message)
    outcome = services.batch_store_salvaging(batch=batch)
    latency_s = (now_us() - batch.first_received_us) / 1e6 if batch.first_received_us else None
    metrics.batch_recorded(
        readings=outcome.readings,
        dead_letter_reasons=[letter[2] for letter in batch.dead_letters],
        latency_s=latency_s,
    )
    return {"readings": outcome.readings, "dead_letters": outcome.dead_letters}


@shared_task(name="telemetry.purge_dead_letters")
def purge_dead_letters() -> int:
    return services.dead_letters_purge(older_than_days=settings.DEAD_LETTER_RETENTION_DAYS)


@shared_task(name="telemetry.purge_old_readings")
def purge_old_readings() -> int:
    return services.readings_purge(older_than_days=settings.TELEMETRY_RETENTION_DAYS)
