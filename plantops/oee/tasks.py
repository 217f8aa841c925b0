from __future__ import annotations

from celery import shared_task

from plantops.oee import services


@shared_task(name="oee.make_recent_hours", ignore_result=True)
def make_recent_hours() -> int:
    """Snapshot the hours that closed since the last run (and any a late event made stale)."""
    return services.oee_hours_make_recent()
