from __future__ import annotations

from celery import shared_task
from django.conf import settings

from plantops.telemetry import services


@shared_task(name="telemetry.purge_dead_letters")
def purge_dead_letters() -> int:
    return services.dead_letters_purge(older_than_days=settings.DEAD_LETTER_RETENTION_DAYS)


@shared_task(name="telemetry.purge_old_readings")
def purge_old_readings() -> int:
    return services.readings_purge(older_than_days=settings.TELEMETRY_RETENTION_DAYS)
