from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

from plantops.core.time import now_us
from plantops.pipeline import services
from plantops.telemetry import metrics
from plantops.telemetry.batches import Batch


@shared_task(
    # The name batches queued by earlier versions carry.
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
        dead_letter_reasons=[letter.reason for letter in batch.dead_letters],
        latency_s=latency_s,
    )
    return {"readings": outcome.readings, "dead_letters": outcome.dead_letters}
