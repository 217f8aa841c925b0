"""Turning alert events into notifications (the intent, written before any send), and
escalating the raises nobody acknowledges.

Dispatch reads the alert events after a cursor, in id order (events commit in id order under
the alerts' event lock, so none is skipped). A live activation becomes one `Notification` per
recipient and channel, keyed `event:<id>/<recipient>/<channel>`, unless:

- the alarm repeats a raise notified within `NOTIFY_REPEAT_WINDOW_S` (chattering);
- its line is in a flood: then each recipient gets one summary per flood and tier
  (`flood:<id>:t<tier>/…`), however many alarms follow;
- it was raised from late data: it pages nobody until it is announced (`announce_late`).

A key exists once (a unique column), so dispatching again, or escalating twice, never makes
a second notification of one thing to one recipient by one channel.
"""

from __future__ import annotations

import logging
from contextlib import suppress
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from plantops.alerts.kpis import FLOOD_WINDOW
from plantops.alerts.lifecycle import EventKind
from plantops.alerts.models import Alert, AlertEvent
from plantops.assets.models import Line
from plantops.notify import messages, rules, selectors
from plantops.notify.models import (
    ChannelKind,
    DispatchCursor,
    Escalation,
    Flood,
    Notification,
    NotificationKind,
)

log = logging.getLogger(__name__)

CURSOR = "alert-events"
DISPATCH_LIMIT = 1000


# --- dispatch -----------------------------------------------------------------------------


def dispatch_events(*, limit: int = DISPATCH_LIMIT) -> int:
    """Turn the alert events after the cursor into notifications; queue them; return how many
    notifications were created."""
    created: list[int] = []
    with transaction.atomic():
        cursor = _cursor()
        rows = list(
            AlertEvent.objects.filter(id__gt=cursor.last_id)
            .order_by("id")
            .values_list("id", "kind", "activated", "delivery")[:limit]
        )
        if not rows:
            return 0
        raises = [
            pk
            for pk, kind, activated, delivery in rows
            if kind == EventKind.RAISED and activated and delivery == "live"
        ]
        events = (
            AlertEvent.objects.filter(pk__in=raises)
            .select_related("alert__asset__line__area__site", "alert__rule", "alert__signal")
            .order_by("id")
        )
        now = timezone.now()
        for event in events:
            created.extend(_notify_raise(event, event.alert, now))
        DispatchCursor.objects.filter(pk=cursor.pk).update(last_id=rows[-1][0])
    queue(created)
    return len(created)


def dispatch_skip_to(*, last_id: int) -> None:
    """Count the alert events up to `last_id` as dispatched without telling anyone: a past
    written in one go (the demo's history) is not news to page people about."""
    with transaction.atomic():
        cursor = _cursor()
        if cursor.last_id < last_id:
            DispatchCursor.objects.filter(pk=cursor.pk).update(last_id=last_id)


def announce_late(alert_ids: list[int]) -> int:
    """Notify the alarms raised from delayed data that are announced now, as if just raised."""
    created: list[int] = []
    now = timezone.now()
    with transaction.atomic():
        for alert in Alert.objects.filter(pk__in=alert_ids).select_related(
            "asset__line__area__site", "rule"
        ):
            event = (
                AlertEvent.objects.filter(alert=alert, kind=EventKind.RAISED, activated=True)
                .order_by("-id")
                .first()
            )
            if event is not None:
                created.extend(_notify_raise(event, alert, now, announced=True))
    queue(created)
    return len(created)


def _cursor() -> DispatchCursor:
    try:
        return DispatchCursor.objects.select_for_update().get(name=CURSOR)
    except DispatchCursor.DoesNotExist:
        with transaction.atomic(), suppress(IntegrityError):
            DispatchCursor.objects.create(name=CURSOR, last_id=0)
        return DispatchCursor.objects.select_for_update().get(name=CURSOR)


def _shelved(alert: Alert, now: datetime) -> bool:
    return alert.shelved_until is not None and alert.shelved_until > now


def _notify_raise(
    event: AlertEvent, alert: Alert, now: datetime, *, announced: bool = False
) -> list[int]:
    if alert.suppressed or _shelved(alert, now):
        return []
    window = timedelta(seconds=settings.NOTIFY_REPEAT_WINDOW_S)
    if window and not announced:
        told = (
            Notification.objects.filter(
                alert=alert,
                kind=NotificationKind.ALERT,
                event__at__gt=event.at - window,
                event__at__lte=event.at,
                event_id__lt=event.pk,
            )
            .order_by("-event_id")
            .values_list("event_id", flat=True)
            .first()
        )
        # A repeat of a raise nobody has answered yet is chatter; once someone acknowledged
        # it, a new raise is news again.
        answered = told is not None and (
            AlertEvent.objects.filter(
                alert=alert, kind=EventKind.ACKNOWLEDGED, pk__gt=told, pk__lt=event.pk
            ).exists()
        )
        if told is not None and not answered:
            return []
    line = alert.asset.line
    flood = _flood_at(line, event)
    steps = selectors.escalation_steps()
    step = steps.get(alert.priority)
    if step is not None and selectors.highest_tier(alert.priority) > 1:
        Escalation.objects.get_or_create(
            event=event,
            defaults={
                "alert": alert,
                "flood": flood,
                "tier": 1,
                # An alarm announced late waits its step from now, not from its old raise.
                "next_at": (now if announced else event.at) + timedelta(minutes=step),
            },
        )
    return _notify_tier(alert, event, line, tier=1, at=now, flood=flood)


def _activations(line_id: int, at: datetime, *, through: int | None = None) -> list[datetime]:
    """When the line's alarms were activated in the flood window ending at `at`. With
    `through` (an event id), of the activations at `at` itself only those recorded up to that
    event count: one batch raising many alarms at one moment floods from its eleventh."""
    activations = AlertEvent.objects.filter(
        line_id=line_id,
        kind=EventKind.RAISED,
        activated=True,
        at__gt=at - FLOOD_WINDOW,
        at__lte=at,
    )
    if through is not None:
        activations = activations.exclude(at=at, pk__gt=through)
    return list(activations.values_list("at", flat=True))


def _flood_at(line: Line, event: AlertEvent) -> Flood | None:
    """The line's flood at the activation `event`, opened now if it makes one; None outside
    one."""
    at = event.at
    activations = _activations(line.pk, at, through=event.pk)
    flood = Flood.objects.select_for_update().filter(line=line, ended_at__isnull=True).first()
    if flood is None and not rules.flooding(activations, at):
        return None
    if flood is None:
        flood = Flood.objects.create(line=line, started_at=min(activations), alerts=0)
    Flood.objects.filter(pk=flood.pk).update(alerts=F("alerts") + 1)
    return flood


def _notify_tier(
    alert: Alert, event: AlertEvent, line: Line, *, tier: int, at: datetime, flood: Flood | None
) -> list[int]:
    """Record the notifications of one tier for one raise (a flood's summary in a flood)."""
    found = selectors.recipients(line, priority=alert.priority, at=at, tier=tier)
    created = []
    if flood is not None:
        flood_alerts = list(
            Alert.objects.filter(
                asset__line=line,
                events__kind=EventKind.RAISED,
                events__activated=True,
                events__at__gte=flood.started_at,
            )
            .select_related("asset", "rule")
            .distinct()
            .order_by("pk")
        )
        flood_alerts.sort(key=lambda a: -rules.rank(a.priority))
        text = messages.flood_text(
            line, started_at=flood.started_at, alerts=flood_alerts, tier=tier
        )
        for recipient in found:
            key = f"flood:{flood.pk}:t{tier}/{recipient.key}"
            pk = record(
                key, NotificationKind.FLOOD, recipient, text, tier=tier, flood=flood, event=event
            )
            if pk is not None:
                created.append(pk)
        return created
    for recipient in found:
        key = f"event:{event.pk}/{recipient.key}"
        text = messages.alert_text(
            alert, event, tier=tier, escalated=tier > 1, ack_url=messages.ack_url(key)
        )
        kind = NotificationKind.ESCALATION if tier > 1 else NotificationKind.ALERT
        pk = record(key, kind, recipient, text, tier=tier, alert=alert, event=event)
        if pk is not None:
            created.append(pk)
    return created


def record(
    key: str,
    kind: str,
    recipient: selectors.Recipient,
    text: messages.Text,
    *,
    tier: int,
    alert: Alert | None = None,
    event: AlertEvent | None = None,
    flood: Flood | None = None,
) -> int | None:
    """Write the notification of `key` unless it exists; return its id if new."""
    data = {**text.data, "link": text.link}
    with transaction.atomic():
        try:
            notification = Notification.objects.create(
                key=key,
                kind=kind,
                channel=recipient.channel,
                user=recipient.user,
                address=recipient.address,
                alert=alert,
                event=event,
                flood=flood,
                tier=tier,
                why=recipient.why[:200],
                subject=text.subject[:300],
                body_text=text.text,
                body_html=text.html if recipient.channel.kind == ChannelKind.EMAIL else "",
                data=data,
            )
        except IntegrityError:
            return None
    return notification.pk


def queue(pks: list[int]) -> None:
    if not pks:
        return
    from plantops.notify import tasks

    def send_all() -> None:
        for pk in pks:
            try:
                tasks.send.delay(pk)
            except Exception:  # the broker is away: the sweep queues them again
                log.exception("could not queue notification %s; the sweep will", pk)

    transaction.on_commit(send_all)


# --- escalation and floods ----------------------------------------------------------------


def escalate_due(*, now: datetime | None = None) -> int:
    """Tell the next tier of every alarm still unacknowledged past its tier's step; stop
    escalations that someone answered. Return the notifications created."""
    now = now or timezone.now()
    steps = selectors.escalation_steps()
    created: list[int] = []
    with transaction.atomic():
        due = (
            Escalation.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(stopped_at__isnull=True, next_at__lte=now)
            .select_related(
                "alert__asset__line__area__site", "alert__rule", "alert__signal", "event", "flood"
            )
            .order_by("next_at")[:200]
        )
        for escalation in due:
            alert = escalation.alert
            why = stop_reason(alert, escalation.event_id, now)
            step = steps.get(alert.priority)
            last_tier = selectors.highest_tier(alert.priority)
            if why is None and (step is None or escalation.tier >= last_tier):
                why = "last tier told"
            if why is not None:
                escalation.stopped_at, escalation.stopped_why = now, why
                escalation.save(update_fields=["stopped_at", "stopped_why"])
                continue
            escalation.tier += 1
            created.extend(
                _notify_tier(
                    alert,
                    escalation.event,
                    alert.asset.line,
                    tier=escalation.tier,
                    at=now,
                    flood=escalation.flood,
                )
            )
            escalation.next_at = escalation.next_at + timedelta(minutes=step)
            if escalation.tier >= last_tier:
                escalation.stopped_at, escalation.stopped_why = now, "last tier told"
            escalation.save(update_fields=["tier", "next_at", "stopped_at", "stopped_why"])
    queue(created)
    return len(created)


def stop_reason(alert: Alert, event_id: int, now: datetime) -> str | None:
    """Why nobody more is to be told of this raise, or None while it still waits."""
    alert.refresh_from_db()
    if alert.suppressed:
        return "suppressed"
    if _shelved(alert, now):
        return "shelved"
    if not rules.still_escalating(state=alert.state, shelved=False, suppressed=False):
        return "acknowledged" if alert.acknowledged_at else "returned to normal"
    later = AlertEvent.objects.filter(alert=alert, pk__gt=event_id)
    if later.filter(kind=EventKind.ACKNOWLEDGED).exists():
        # Acknowledged, then raised again: this raise was answered; the new one is its own.
        return "acknowledged"
    # A newer raise that was told on its own takes over. A repeat within the repeat window
    # (a chattering alarm) is told nothing, so this raise still stands for it: its message
    # still goes out and its escalation goes on.
    newer = later.filter(kind=EventKind.RAISED, activated=True).values("pk")
    if (
        Notification.objects.filter(event_id__in=newer).exists()
        or Escalation.objects.filter(event_id__in=newer).exists()
    ):
        return "raised again"
    return None


def end_floods(*, now: datetime | None = None) -> int:
    """Close the floods whose last ten minutes no longer hold a flood's worth of alarms."""
    now = now or timezone.now()
    ended = 0
    for flood in Flood.objects.filter(ended_at__isnull=True):
        if rules.flood_over(_activations(flood.line_id, now), now):
            Flood.objects.filter(pk=flood.pk).update(ended_at=now)
            ended += 1
    return ended
