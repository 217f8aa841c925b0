"""The alerts export: each alert a user is shown, with its events."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from plantops.alerts import selectors as alert_selectors
from plantops.alerts.models import AlertEvent
from plantops.api.export_tables.shared import CHUNK, local, require_range, stamp
from plantops.api.exports import Column, Table

ALERT_COLUMNS = [
    Column("alert id", "number"),
    Column("rule"),
    Column("line"),
    Column("asset"),
    Column("alert priority"),
    Column("alert state now"),
    Column("event id", "number"),
    Column("event"),
    Column("at (UTC)", "time"),
    Column("at (site time)", "time"),
    Column("site time zone"),
    Column("by"),
    Column("note"),
    Column("state after"),
    Column("priority"),
    Column("message"),
    Column("delivery"),
    Column("judged late by s", "number"),
]
_ALERT_FIELDS = (
    "alert_id",
    "alert__rule__name",
    "alert__asset__line__name",
    "alert__asset__name",
    "alert__priority",
    "alert__state",
    "id",
    "kind",
    "at",
    "alert__asset__line__area__site__timezone",
    "user__username",
    "note",
    "state",
    "priority",
    "message",
    "delivery",
    "delay_s",
)


def alerts_table(
    user: Any,
    *,
    states: Sequence[str] | None = None,
    priorities: Sequence[str] | None = None,
    line_ids: Sequence[int] | None = None,
    asset_id: int | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> Table:
    """The alerts `user` is shown (`alerts_seen_by`, filtered as GET /api/v1/alerts), each
    with its events at or after `start` and before `end` (either open): a row per event,
    grouped by alert, oldest event first."""
    require_range(start, end)
    alerts = alert_selectors.alerts_seen_by(
        user,
        states=states,
        priorities=priorities,
        line_ids=line_ids,
        asset_ids=[asset_id] if asset_id is not None else None,
    )
    events = AlertEvent.objects.filter(alert__in=alerts.values("pk"))
    if start is not None:
        events = events.filter(at__gte=start)
    if end is not None:
        events = events.filter(at__lt=end)
    rows = events.order_by("alert_id", "id").values_list(*_ALERT_FIELDS)
    return Table(f"alerts-{stamp(end or timezone.now())}", ALERT_COLUMNS, _alert_rows(rows))


def _alert_rows(rows: QuerySet) -> Iterator[list]:
    for (
        *alert,
        event_id,
        kind,
        at,
        zone,
        by,
        note,
        state,
        priority,
        message,
        how,
        delay,
    ) in rows.iterator(chunk_size=CHUNK):
        yield [
            *alert,
            event_id,
            kind,
            at,
            local(at, zone),
            zone,
            by,
            note,
            state,
            priority,
            message,
            how,
            delay,
        ]
