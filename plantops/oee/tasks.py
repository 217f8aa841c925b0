from __future__ import annotations

from celery import shared_task

from plantops.oee import services, snapshots


@shared_task(name="oee.make_recent_hours", ignore_result=True)
def make_recent_hours() -> int:
    """Snapshot the hours that closed since the last run (and any a late event made stale)."""
    return snapshots.hours_make_recent()


@shared_task(name="oee.push_line_screen", ignore_result=True)
def push_line_screen(line_id: int) -> None:
    """Push a line's OEE screen once; the line may be gone."""
    services.oee_push_line(line_id=line_id)


@shared_task(name="oee.push_board", ignore_result=True)
def push_board() -> None:
    """Push the floor's OEE board once."""
    services.oee_push_board()


@shared_task(name="oee.push_all_screens", ignore_result=True)
def push_all_screens() -> None:
    """Time passing changes OEE with no event at all: refresh every line's screen now and then."""
    from plantops.assets.models import Line

    services.oee_push_soon(line_ids=Line.objects.values_list("pk", flat=True))
