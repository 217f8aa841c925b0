"""Reads for alerts: the event log after an id, and the inbox."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import QuerySet

from plantops.alerts.lifecycle import AlarmState
from plantops.alerts.models import Alert, AlertEvent
from plantops.alerts.services import event_json

MAX_EVENTS_PER_PAGE = 1000


def events_after(
    *,
    after_id: int,
    upto_id: int | None = None,
    line_ids: Iterable[int] | None = None,
    limit: int = MAX_EVENTS_PER_PAGE,
) -> list[dict[str, Any]]:
    """Alert events with an id above `after_id` (and at most `upto_id`), oldest first,
    optionally for some lines only."""
    events = AlertEvent.objects.filter(id__gt=after_id).select_related("alert").order_by("id")
    if upto_id is not None:
        events = events.filter(id__lte=upto_id)
    if line_ids is not None:
        events = events.filter(line_id__in=list(line_ids))
    return [event_json(event) for event in events[:limit]]


def newest_event_id() -> int:
    newest = AlertEvent.objects.order_by("-id").values_list("id", flat=True).first()
    return newest or 0


def inbox_alerts(
    *,
    line_ids: Iterable[int] | None = None,
    priorities: Iterable[str] | None = None,
    states: Iterable[str] | None = None,
) -> QuerySet[Alert]:
    """Open alerts (active, or returned but unacknowledged), most urgent first."""
    alerts = (
        Alert.objects.exclude(state=AlarmState.NORMAL.value)
        .select_related("rule", "asset", "asset__line", "signal", "assignee")
        .order_by("state", "-last_at")
    )
    if line_ids:
        alerts = alerts.filter(asset__line_id__in=list(line_ids))
    if priorities:
        alerts = alerts.filter(priority__in=list(priorities))
    if states:
        alerts = alerts.filter(state__in=list(states))
    return alerts
