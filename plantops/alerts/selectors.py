"""Reads for alerts: the event log after an id, the inbox, and the limit bands ingest hurries on."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import (
    Case,
    F,
    IntegerField,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from plantops.alerts import kpis
from plantops.alerts.config import config
from plantops.alerts.delivery import delay_text
from plantops.alerts.evaluation import RuleKind
from plantops.alerts.events import event_json
from plantops.alerts.lifecycle import AlarmState, EventKind, Priority
from plantops.alerts.models import Alert, AlertEvent
from plantops.assets.models import Line, Signal
from plantops.assets.scope import shown_line_ids
from plantops.core.refusals import require_permission
from plantops.telemetry.urgency import Band

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


def limit_bands() -> dict[int, Band]:
    """Per signal watched by an enabled high or low limit rule, the band those rules allow:
    the lowest high limit, the highest low limit and the smallest deadband. Ingest hands a
    batch on at once when a reading leaves it (`telemetry.urgency`)."""
    bands: dict[int, Band] = {}
    for rule, info in config.watched(Signal.objects.values_list("pk", flat=True)):
        if rule.kind not in (RuleKind.HIGH.value, RuleKind.LOW.value):
            continue
        band = bands.get(info.pk, Band(deadband=abs(rule.deadband)))
        bands[info.pk] = Band(
            low=max(band.low, rule.limit) if rule.kind == RuleKind.LOW.value else band.low,
            high=min(band.high, rule.limit) if rule.kind == RuleKind.HIGH.value else band.high,
            deadband=min(band.deadband, abs(rule.deadband)),
        )
    return bands


def newest_event_id() -> int:
    newest = AlertEvent.objects.order_by("-id").values_list("id", flat=True).first()
    return newest or 0


def inbox_alerts(
    *,
    line_ids: Iterable[int] | None = None,
    priorities: Iterable[str] | None = None,
    states: Iterable[str] | None = None,
) -> QuerySet[Alert]:
    """Open alerts (active, or returned but unacknowledged), most urgent first; each with
    `data_delay_s`, the delay of its latest raise or return when it was judged from late data
    (else None)."""
    latest_condition = AlertEvent.objects.filter(
        alert=OuterRef("pk"), kind__in=[EventKind.RAISED.value, EventKind.RETURNED.value]
    ).order_by("-id")
    alerts = (
        Alert.objects.exclude(state=AlarmState.NORMAL.value)
        .select_related("rule", "asset", "asset__line", "signal", "assignee")
        .annotate(data_delay_s=Subquery(latest_condition.values("delay_s")[:1]))
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
STATE_LABELS = {
    AlarmState.ACTIVE_UNACK.value: _("ACTIVE UNACK"),
    AlarmState.ACTIVE_ACK.value: _("ACTIVE ACK"),
    AlarmState.RTN_UNACK.value: _("RETURNED UNACK"),
}
PRIORITY_LABELS = {
    Priority.CRITICAL.value: pgettext_lazy("alert priority", "CRITICAL"),
    Priority.HIGH.value: pgettext_lazy("alert priority", "HIGH"),
    Priority.MEDIUM.value: pgettext_lazy("alert priority", "MEDIUM"),
    Priority.LOW.value: pgettext_lazy("alert priority", "LOW"),
}
UNACKNOWLEDGED = frozenset({AlarmState.ACTIVE_UNACK.value, AlarmState.RTN_UNACK.value})
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


def labelled(alerts: Iterable[Alert]) -> list[Alert]:
    """The alerts as a list, each with `state_label`, `needs_ack` and `delay_label` ("3 h 10
    min" when its latest raise or return came from late data, else "") for the templates."""
    alerts = list(alerts)
    for alert in alerts:
        alert.state_label = STATE_LABELS.get(alert.state, alert.state)
        alert.priority_label = PRIORITY_LABELS.get(alert.priority, alert.priority)
        alert.needs_ack = alert.state in UNACKNOWLEDGED
        delay_s = getattr(alert, "data_delay_s", None)
        alert.delay_label = delay_text(delay_s) if delay_s is not None else ""
    return alerts


# --- the operator position: a tablet's lines -------------------------------------------------


def operator_line_ids(user: Any) -> list[int]:
    """The lines at the user's operator position (set on the line in the admin), in floor order."""
    if not user.is_authenticated:
        return []
    lines = Line.objects.filter(operators=user).order_by("position", "name", "pk")
    return list(lines.values_list("pk", flat=True))


def line_names(line_ids: Iterable[int]) -> str:
    """ "Line 1, Line 2": the names of some lines, in floor order."""
    lines = Line.objects.filter(pk__in=list(line_ids)).order_by("position", "name", "pk")
    return ", ".join(lines.values_list("name", flat=True))


def line_panel_alerts(*, line_ids: Iterable[int] | None) -> tuple[list[Alert], int]:
    """Open alerts of some lines (all lines for None), most urgent first, for a tablet; and how
    many more are shelved or suppressed (out of the operator's sight, in the inbox)."""
    alerts = inbox_alerts_sorted(line_ids=line_ids, sort="priority")
    out_of_sight = Q(shelved_until__isnull=False) | Q(suppressed=True)
    return labelled(alerts.exclude(out_of_sight)), alerts.filter(out_of_sight).count()


# --- alarm KPIs ------------------------------------------------------------------------------


def alarm_kpi_inputs(
    *, start: datetime, end: datetime, line_ids: Iterable[int] | None = None
) -> tuple[list[kpis.Activation], list[kpis.AlertSpan]]:
    """The period's activations, and the spans of alerts that may be stale at its end.

    An alarm is named by its rule and asset, and its operator position is its line. A span runs
    from an alert's last raise before `end` to the first return after it, if any."""
    line_names = dict(Line.objects.values_list("pk", "name"))
    events = AlertEvent.objects.filter(activated=True, at__gte=start, at__lt=end)
    if line_ids:
        events = events.filter(line_id__in=list(line_ids))
    activations = [
        kpis.Activation(
            at=at,
            key=rule,
            asset=asset,
            position=line_names.get(line_id, f"line {line_id}"),
            priority=priority,
        )
        for at, rule, asset, line_id, priority in events.values_list(
            "at", "alert__rule__name", "alert__asset__name", "line_id", "priority"
        ).iterator()
    ]
    # Only an alert raised more than a day before `end` can be stale there.
    history = AlertEvent.objects.filter(
        at__lt=end, kind__in=[EventKind.RAISED.value, EventKind.RETURNED.value]
    )
    if line_ids:
        history = history.filter(line_id__in=list(line_ids))
    last = (
        history.values("alert")
        .annotate(
            raised=Max("at", filter=Q(kind=EventKind.RAISED.value)),
            returned=Max("at", filter=Q(kind=EventKind.RETURNED.value)),
        )
        .filter(raised__lt=end - kpis.STALE_AFTER)
    )
    spans_of = {row["alert"]: row for row in last}
    alerts = Alert.objects.filter(pk__in=list(spans_of)).select_related("rule", "asset")
    spans = []
    for alert in alerts:
        row = spans_of[alert.pk]
        returned = row["returned"]
        spans.append(
            kpis.AlertSpan(
                key=alert.rule.name,
                asset=alert.asset.name,
                position=line_names.get(alert.asset.line_id, f"line {alert.asset.line_id}"),
                priority=alert.priority,
                raised_at=row["raised"],
                cleared_at=returned if returned is not None and returned >= row["raised"] else None,
            )
        )
    return activations, spans


# --- what a user is shown: the API's reads -------------------------------------------------

VIEW = "alerts.view_alert"
ACT = "alerts.change_alert"
SUPERVISE = "alerts.supervise_alerts"
NOT_SHOWN = "Your role may not see alerts."


def seen_line_ids(user: Any) -> frozenset[int] | None:
    """The lines whose alerts `user` is shown through the API and MCP; None for every line:
    an operator their own, the plant-wide and watching roles every line
    (plantops.assets.scope.shown_line_ids). A role without the alerts is refused."""
    require_permission(user, VIEW, NOT_SHOWN)
    return shown_line_ids(user)


def alerts_seen_by(
    user: Any,
    *,
    states: Iterable[str] | None = None,
    priorities: Iterable[str] | None = None,
    line_ids: Iterable[int] | None = None,
    asset_ids: Iterable[int] | None = None,
    shelved: bool | None = None,
    raised_from: datetime | None = None,
    raised_to: datetime | None = None,
) -> QuerySet[Alert]:
    """Alerts `user` is shown, open or closed, filtered; each with `acknowledged_by`, the name
    of whoever made the current acknowledgement (None when it is not acknowledged).

    The raise time filtered on is the alert's latest raise (`last_at`): from inclusive, to
    exclusive."""
    lines = seen_line_ids(user)
    # The acknowledgement event carries the same instant the alert stored, so the two match
    # exactly; an older acknowledgement of an earlier raise does not.
    acknowledgement = AlertEvent.objects.filter(
        alert=OuterRef("pk"), kind=EventKind.ACKNOWLEDGED.value, at=OuterRef("acknowledged_at")
    ).order_by("-id")
    alerts = Alert.objects.select_related(
        "rule", "asset", "asset__line__area__site", "signal", "assignee"
    ).annotate(acknowledged_by=Subquery(acknowledgement.values("user__username")[:1]))
    if lines is not None:
        alerts = alerts.filter(asset__line_id__in=lines)
    if states:
        alerts = alerts.filter(state__in=list(states))
    if priorities:
        alerts = alerts.filter(priority__in=list(priorities))
    if line_ids:
        alerts = alerts.filter(asset__line_id__in=list(line_ids))
    if asset_ids:
        alerts = alerts.filter(asset_id__in=list(asset_ids))
    if shelved is not None:
        alerts = alerts.filter(shelved_until__isnull=not shelved)
    if raised_from is not None:
        alerts = alerts.filter(last_at__gte=raised_from)
    if raised_to is not None:
        alerts = alerts.filter(last_at__lt=raised_to)
    return alerts


def alert_seen_by(user: Any, *, alert_id: int) -> Alert | None:
    """One alert `user` is shown, as `alerts_seen_by` gives it, with `history`: its events
    oldest first, each with the user who acted; None when there is no such alert for them."""
    history = AlertEvent.objects.select_related("user").order_by("id")
    return (
        alerts_seen_by(user)
        .prefetch_related(Prefetch("events", queryset=history, to_attr="history"))
        .filter(pk=alert_id)
        .first()
    )


def alert_known(user: Any, *, alert_id: int) -> bool:
    """True when the alert exists, on any line: an action on another line's alert is then
    refused by the service in its own words rather than answered as missing."""
    require_permission(user, VIEW, NOT_SHOWN)
    return Alert.objects.filter(pk=alert_id).exists()


def events_seen_by(
    user: Any,
    *,
    after_id: int,
    line_ids: Iterable[int] | None = None,
    limit: int = MAX_EVENTS_PER_PAGE,
) -> list[dict[str, Any]]:
    """`events_after` for the lines `user` is shown (within `line_ids` when given)."""
    lines = seen_line_ids(user)
    if lines is not None:
        line_ids = lines if line_ids is None else lines & set(line_ids)
    return events_after(after_id=after_id, line_ids=line_ids, limit=limit)


def alert_assignee(
    user: Any, *, user_id: int | None = None, username: str | None = None
) -> Any | None:
    """The active user with this id or username whom a supervisor names to assign an alert
    to; None when there is none. Only a supervisor may look people up this way."""
    require_permission(user, SUPERVISE, "Only a supervisor assigns alerts.")
    people = get_user_model().objects.filter(is_active=True)
    if user_id is not None:
        return people.filter(pk=user_id).first()
    if username is not None:
        return people.filter(username=username).first()
    return None
