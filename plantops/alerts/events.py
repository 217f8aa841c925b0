"""The one writer of alert events, and their push to the tablets.

Every change of an alert goes through the pure lifecycle and is recorded as an `AlertEvent`.
Events are written under one transaction-level lock, so their ids become visible in increasing
order and each knows the id before it: a tablet that replays "after id N" never skips one
that committed late. Each event is pushed after its transaction commits.

An alarm raised from delayed data and announced later (`delivery.py`) has no event of its
own: the tablets are told with an `alert.announce` push, which sounds like a live raise.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.db.models import Max

from plantops.alerts.delivery import Delivery
from plantops.alerts.lifecycle import EventKind, Transition
from plantops.alerts.models import Alert, AlertEvent
from plantops.alerts.signals import alerts_announced, events_recorded
from plantops.core import realtime
from plantops.core.db import batch_cursor

# Any constant of our own: pg_advisory_xact_lock serialises the writers of alert events.
EVENT_LOCK_KEY = 0x504C_4E41  # "PLNA"


class EventRecorder:
    """Collects alert changes; writes the alerts, then their events in order, on flush, and
    pushes the events once the transaction commits."""

    def __init__(self) -> None:
        self.pending: list[tuple[Alert, AlertEvent]] = []
        self.alerts: dict[int, Alert] = {}  # by id(): new alerts have no pk until flush
        self.announced: list[tuple[Alert, int]] = []

    def apply(
        self,
        alert: Alert,
        transition: Transition,
        at: datetime,
        *,
        line_id: int,
        user: AbstractBaseUser | None = None,
        note: str = "",
        delivery: Delivery = Delivery.LIVE,
        delay_s: float | None = None,
    ) -> None:
        alert.apply(transition.status)
        for kind in transition.events:
            # The system expires a shelve; the user did the rest.
            actor = None if kind is EventKind.SHELVE_EXPIRED else user
            self.record(
                alert,
                kind.value,
                at,
                line_id=line_id,
                user=actor,
                note=note if actor is not None else "",
                activated=transition.activated and kind is EventKind.RAISED,
                delivery=delivery,
                delay_s=delay_s,
            )
        if delivery is Delivery.LATE and transition.annunciate:
            self.announce(alert, line_id=line_id)

    def announce(self, alert: Alert, *, line_id: int) -> None:
        """Tell the tablets now, with sound, of an alarm raised from delayed data (its events
        say `late` and do not sound by themselves)."""
        self.alerts[id(alert)] = alert
        self.announced.append((alert, line_id))

    def record(
        self,
        alert: Alert,
        kind: str,
        at: datetime,
        *,
        line_id: int,
        user: AbstractBaseUser | None = None,
        note: str = "",
        activated: bool = False,
        delivery: Delivery = Delivery.LIVE,
        delay_s: float | None = None,
    ) -> None:
        """Queue one event on the alert as it stands now (also for events without a transition)."""
        self.alerts[id(alert)] = alert
        event = AlertEvent(
            alert=alert,
            kind=kind,
            at=at,
            user=user,
            note=note[:500],
            state=alert.state,
            priority=alert.priority,
            message=alert.message,
            line_id=line_id,
            activated=activated,
            delivery=delivery.value,
            delay_s=delay_s if delivery is Delivery.LATE else None,
        )
        self.pending.append((alert, event))

    def flush(self) -> int:
        with batch_cursor() as cursor:
            for alert in self.alerts.values():
                _save(cursor, alert)
            pushes: list[dict[str, Any]] = []
            previous = None
            for alert, event in self.pending:
                # The event's own snapshot is taken now, after every transition of this batch.
                event.alert_id = alert.pk
                event.pk, event.prev_id = _insert(cursor, event, prev_id=previous)
                previous = event.pk
                pushes.append({"type": "alert.event", "event": event_json(event, alert=alert)})
        # After the events, so a tablet has the alert in its list when it sounds.
        pushes.extend(announce_json(alert, line_id=line_id) for alert, line_id in self.announced)
        if pushes:
            realtime.send_on_commit([(realtime.ALERTS_GROUP, payload) for payload in pushes])
        if previous is not None:
            last_id = previous
            raised = any(event.activated for _, event in self.pending)
            transaction.on_commit(
                lambda: events_recorded.send(EventRecorder, last_id=last_id, raised=raised)
            )
        if self.announced:
            announced = [alert.pk for alert, _ in self.announced]
            transaction.on_commit(lambda: alerts_announced.send(EventRecorder, alert_ids=announced))
        return len(self.pending)


_EVENT_COLUMNS = (
    "alert_id",
    "kind",
    "at",
    "user_id",
    "note",
    "state",
    "priority",
    "message",
    "line_id",
    "activated",
    "delivery",
    "delay_s",
)


_ALERT_FIELDS = [field for field in Alert._meta.concrete_fields if not field.primary_key]
# Every field but the id, as `save()` sends them; both backends quote names with "…".
_ALERT_UPDATE = (
    f'UPDATE "{Alert._meta.db_table}" SET '
    + ", ".join(f'"{field.column}" = %s' for field in _ALERT_FIELDS)
    + " WHERE id = %s"
)


def _save(cursor: Any, alert: Alert) -> None:
    """Save an alert: a new one through the ORM, a known one by one prepared UPDATE of every
    field (what `save()` sends, without building the query on every edge)."""
    if alert.pk is None:
        alert.save()
        return
    values = [f.get_db_prep_save(getattr(alert, f.attname), connection) for f in _ALERT_FIELDS]
    cursor.execute(_ALERT_UPDATE, [*values, alert.pk])


def _insert(cursor: Any, event: AlertEvent, *, prev_id: int | None) -> tuple[int, int]:
    """Insert one event; return its id and the id before it.

    Written out rather than through `save()`: alert edges come with every batch that raises
    or clears one. The first event of a flush takes the newest id as its `prev_id` in the same
    statement, which is safe under the event lock (`lock_events`): no writer can commit an
    event between this transaction taking the lock and its commit.
    """
    table = connection.ops.quote_name(AlertEvent._meta.db_table)
    previous = "%s" if prev_id is not None else f"(SELECT COALESCE(MAX(id), 0) FROM {table})"
    values = [
        event.alert_id,
        event.kind,
        connection.ops.adapt_datetimefield_value(event.at),
        event.user_id,
        event.note,
        event.state,
        event.priority,
        event.message,
        event.line_id,
        event.activated,
        event.delivery,
        event.delay_s,
    ]
    cursor.execute(
        f"INSERT INTO {table} (prev_id, {', '.join(_EVENT_COLUMNS)})"
        f" VALUES ({previous}, {', '.join(['%s'] * len(values))}) RETURNING id, prev_id",
        [prev_id, *values] if prev_id is not None else values,
    )
    return cursor.fetchone()


def lock_events() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [EVENT_LOCK_KEY])
    # SQLite: the IMMEDIATE transaction already holds the only write lock.


def locked_alerts(keys: set[tuple[int, int]]) -> dict[tuple[int, int], Alert]:
    """The alerts of these (rule, asset) keys that exist, locked until the transaction ends.

    A raw query: the ORM's for this one costs more than the rest of an alert's edge."""
    rules = sorted({rule for rule, _ in keys})
    assets = sorted({asset for _, asset in keys})
    table = connection.ops.quote_name(Alert._meta.db_table)
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    found = Alert.objects.raw(
        f"SELECT * FROM {table} WHERE rule_id IN ({', '.join(['%s'] * len(rules))})"
        f" AND asset_id IN ({', '.join(['%s'] * len(assets))}) ORDER BY id{lock}",
        [*rules, *assets],
    )
    return {(a.rule_id, a.asset_id): a for a in found if (a.rule_id, a.asset_id) in keys}


def event_json(event: AlertEvent, *, alert: Alert | None = None) -> dict[str, Any]:
    """The JSON shape of an event for the API and the live push."""
    alert = alert or event.alert
    return {
        "id": event.pk,
        "prev_id": event.prev_id,
        "alert_id": event.alert_id,
        "kind": event.kind,
        "at": event.at.isoformat(),
        "state": event.state,
        "priority": event.priority,
        "message": event.message,
        "line_id": event.line_id,
        "asset_id": alert.asset_id,
        "rule_id": alert.rule_id,
        "note": event.note,
        "shelved_until": alert.shelved_until.isoformat() if alert.shelved_until else None,
        "suppressed": alert.suppressed,
        "delivery": event.delivery,
        "delay_s": event.delay_s,
    }


def announce_json(alert: Alert, *, line_id: int) -> dict[str, Any]:
    """The push that tells the tablets, with sound, of an alarm raised from delayed data."""
    return {
        "type": "alert.announce",
        "alert_id": alert.pk,
        "line_id": line_id,
        "priority": alert.priority,
        "message": alert.message,
    }


def tick_push() -> None:
    """Push the newest event id, so a tablet that missed the last live message notices and
    fetches it."""
    newest = AlertEvent.objects.aggregate(last=Max("id"))["last"] or 0
    realtime.send_now([(realtime.ALERTS_GROUP, {"type": "alert.tick", "last_id": newest})])
