"""The MCP tools on alerts: the open ones, one alert's history, and acknowledging one with a
note, through the alerts' own selectors (which show an operator only their lines) and
services (which check the role, the line and the ISA-18.2 lifecycle, and record who)."""

from __future__ import annotations

from typing import Any

from django.db.models import Case, Count, F, IntegerField, Q, Value, When

from plantops.alerts import selectors as alert_selectors
from plantops.alerts import services as alert_services
from plantops.alerts.lifecycle import AlarmState, Priority
from plantops.alerts.models import Alert
from plantops.api.mcp_scope import NotShown, excerpt, local, via_mcp

MAX_ALERTS = 100
MAX_EVENTS = 100
EARLIER_ALERTS = 5

STATE_MEANINGS = {
    AlarmState.ACTIVE_UNACK.value: "active, not acknowledged: nobody has answered it yet",
    AlarmState.ACTIVE_ACK.value: "active, acknowledged: someone is on it; the condition remains",
    AlarmState.RTN_UNACK.value: "returned to normal but never acknowledged: still open until "
    "someone acknowledges it",
    AlarmState.NORMAL.value: "closed: returned to normal and acknowledged",
}
OPEN_STATES = [state.value for state in alert_selectors.OPEN_STATES]


def _alert_row(alert: Alert) -> dict[str, Any]:
    line = alert.asset.line
    zone = line.area.site.timezone
    return {
        "id": alert.pk,
        "priority": alert.priority,
        "state": alert.state,
        "state_meaning": STATE_MEANINGS.get(alert.state, alert.state),
        "message": alert.message,
        "rule": alert.rule.name,
        "asset": {"id": alert.asset_id, "name": alert.asset.name},
        "line": {"id": line.pk, "name": line.name},
        "value": alert.value,
        "unit": alert.signal.unit if alert.signal else None,
        "time_zone": zone,
        "first_raised_at": local(alert.first_at, zone),
        "last_raised_at": local(alert.last_at, zone),
        "returned_at": local(alert.returned_at, zone),
        "occurrences": alert.occurrences,
        "acknowledged_at": local(alert.acknowledged_at, zone),
        "acknowledged_by": getattr(alert, "acknowledged_by", None),
        "shelved_until": local(alert.shelved_until, zone),
        "shelve_reason": alert.shelve_reason,
        "suppressed": alert.suppressed,
        "assignee": alert.assignee.get_username() if alert.assignee else None,
    }


def open_alerts(
    user: Any,
    *,
    line_id: int | None = None,
    asset_id: int | None = None,
    priority: str | None = None,
    limit: int = 25,
) -> dict[str, Any]:
    """The open alerts the caller is shown (active, or returned but unacknowledged), most
    urgent first and newest first within a priority, at most `limit`, with how many are open
    per priority."""
    found = alert_selectors.alerts_seen_by(
        user,
        states=OPEN_STATES,
        priorities=[priority] if priority else None,
        line_ids=[line_id] if line_id is not None else None,
        asset_ids=[asset_id] if asset_id is not None else None,
    )
    counts = found.aggregate(
        **{p.value: Count("pk", filter=Q(priority=p.value)) for p in Priority},
        unacknowledged=Count(
            "pk", filter=Q(state__in=[AlarmState.ACTIVE_UNACK.value, AlarmState.RTN_UNACK.value])
        ),
        shelved=Count("pk", filter=Q(shelved_until__isnull=False)),
    )
    rank = Case(
        *(When(priority=p.value, then=Value(n)) for n, p in enumerate(Priority)),
        default=Value(len(Priority)),
        output_field=IntegerField(),
    )
    alerts = found.order_by(rank, F("last_at").desc(nulls_last=True), "-pk")[
        : min(limit, MAX_ALERTS)
    ]
    rows = [_alert_row(alert) for alert in alerts]
    total = sum(counts[p.value] for p in Priority)
    return {"open": total, "counts": counts, "listed": len(rows), "alerts": rows}


def alert_history(user: Any, *, alert_id: int, limit: int = 50) -> dict[str, Any]:
    """One alert the caller is shown, what happened to it (its newest `limit` events, oldest
    first, with who acted and their note), and the alarm's earlier alerts (same rule, same
    asset)."""
    alert = alert_selectors.alert_seen_by(user, alert_id=alert_id)
    if alert is None:
        raise NotShown(f"There is no alert {alert_id} on the lines you are shown.")
    zone = alert.asset.line.area.site.timezone
    events = alert.history[-min(limit, MAX_EVENTS) :]
    earlier = (
        alert_selectors.alerts_seen_by(user)
        .filter(rule_id=alert.rule_id, asset_id=alert.asset_id)
        .exclude(pk=alert.pk)
        .order_by("-first_at", "-pk")
    )
    return {
        "alert": _alert_row(alert),
        "events_total": len(alert.history),
        "events": [
            {
                "at": local(event.at, zone),
                "kind": event.kind,
                "user": event.user.get_username() if event.user else None,
                "note": event.note,
                "state_after": event.state,
                "late_data_delay_s": event.delay_s,
            }
            for event in events
        ],
        "earlier_alerts_total": earlier.count(),
        "earlier_alerts": [
            {
                "id": other.pk,
                "state": other.state,
                "first_raised_at": local(other.first_at, zone),
                "last_raised_at": local(other.last_at, zone),
                "occurrences": other.occurrences,
                "message": excerpt(other.message, 200),
            }
            for other in earlier[:EARLIER_ALERTS]
        ],
    }


def acknowledge_alert(user: Any, *, alert_id: int, note: str) -> dict[str, Any]:
    """Acknowledge one alert as the caller, with their note headed "Through MCP, for <user>";
    the alert as it stands afterwards."""
    if not alert_selectors.alert_known(user, alert_id=alert_id):
        raise NotShown(f"There is no alert {alert_id}.")
    alert_services.alerts_acknowledge(alert_ids=[alert_id], user=user, note=via_mcp(user, note))
    alert = alert_selectors.alert_seen_by(user, alert_id=alert_id)
    if alert is None:  # acknowledged, but on a line the caller is not shown
        raise NotShown(f"There is no alert {alert_id} on the lines you are shown.")
    return {"acknowledged": True, "note_recorded": via_mcp(user, note), **_alert_row(alert)}
