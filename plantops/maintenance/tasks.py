from __future__ import annotations

from celery import shared_task

from plantops.maintenance import preventive


@shared_task(name="maintenance.run_preventive_schedules", ignore_result=True)
def run_preventive_schedules() -> int:
    """Read every schedule's meter and generate the work orders that have come within lead."""
    return preventive.preventive_run_all()
