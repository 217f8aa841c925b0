from __future__ import annotations

from celery import shared_task

from plantops.alerts import services


@shared_task(name="alerts.sweep")
def sweep() -> int:
    return services.alerts_sweep()
