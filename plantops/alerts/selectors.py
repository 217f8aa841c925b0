"""Reads for alerts: the event log after an id, and the inbox."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Case, F, IntegerField, Q, QuerySet, Value, When

from plantops.alerts.lifecycle import AlarmState, Priority
from plantops.alerts.models import Alert, AlertEvent
from plantops.alerts.services import event_json
from plantops.assets.models import Line

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


# --- the supervisor inbox page -------------------------------------------------------------

OPEN_STATES = (AlarmState.ACTIVE_UNACK, AlarmState.ACTIVE_ACK, AlarmState.RTN_UNACK)
PRIORITIES = tuple(Priority)
INBOX_SORTS = ("newest", "priority")


def inbox_alerts_sorted(
    *,
    line_ids: Iterable[int] | None = None,
    priorities: Iterable[str] | None = None,
    states: Iterable[str] | None = None,
    sort: str = "newest",
) -> QuerySet[Alert]:
    """Open alerts filtered as `inbox_alerts`, newest last change first or most urgent first."""
    alerts = inbox_alerts(line_ids=line_ids, priorities=priorities, states=states)
    if sort == "priority":
        rank = Case(
            *(When(priority=p.value, then=Value(n)) for n, p in enumerate(PRIORITIES)),
            default=Value(len(PRIORITIES)),
            output_field=IntegerField(),
        )
        return alerts.order_by(rank, F("last_at").desc(nulls_last=True), "-pk")
    return alerts.order_by(F("last_at").desc(nulls_last=True), "-pk")


def inbox_lines() -> list[Line]:
    """Lines that have assets, for the inbox's line filter."""
    return list(
        Line.objects.filter(assets__isnull=False).distinct().order_by("position", "name", "pk")
    )


def alert_assignable_users() -> list[Any]:
    """Active users who may act on alerts: the people an alert can be assigned to."""
    may_act = (
        Q(is_superuser=True)
        | Q(
            groups__permissions__codename="change_alert",
            groups__permissions__content_type__app_label="alerts",
        )
        | Q(
            user_permissions__codename="change_alert",
            user_permissions__content_type__app_label="alerts",
        )
    )
    users = get_user_model().objects.filter(may_act, is_active=True).distinct()
    return list(users.order_by("username"))
