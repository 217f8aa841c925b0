from __future__ import annotations

from celery import shared_task

from plantops.alerts import sweep as alert_sweep


@shared_task(name="alerts.sweep")
def sweep() -> int:
    return alert_sweep.alerts_sweep()
