from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from plantops.telemetry import gateways, minute_packs, services


@shared_task(name="telemetry.purge_dead_letters")
def purge_dead_letters() -> int:
    return services.dead_letters_purge(older_than_days=settings.DEAD_LETTER_RETENTION_DAYS)


@shared_task(name="telemetry.purge_old_readings")
def purge_old_readings() -> int:
    return services.readings_purge(older_than_days=settings.TELEMETRY_RETENTION_DAYS)


@shared_task(name="telemetry.pack_minutes")
def pack_minutes() -> int:
    return minute_packs.packs_make_all(now=timezone.now(), budget_s=60.0)


@shared_task(
    name="telemetry.sync_gateway",
    # Only an unreachable broker or database is worth waiting out; a refused command would be
    # refused again (it is recorded on the gateway).
    autoretry_for=(gateways.BrokerUnavailable, OperationalError, InterfaceError),
    retry_backoff=True,
    retry_backoff_max=60,
    max_retries=None,
)
def sync_gateway(gateway_id: int, username: str) -> None:
    """Make the broker hold the gateway as saved, or remove it; retried while unreachable."""
    gateways.gateway_sync(gateway_id=gateway_id, username=username)
