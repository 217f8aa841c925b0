from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import wraps

from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext_lazy
from django.views.decorators.http import require_GET, require_POST, require_safe

from plantops.alerts import charts, kpis, selectors, services
from plantops.alerts.delivery import delay_text
from plantops.assets.scope import acting_line_ids
from plantops.core.actions import attempt
from plantops.core.auth import api_login_required
from plantops.core.deprecation import superseded_by
from plantops.core.querystrings import choice_buttons, toggle_buttons
from plantops.core.refusals import Refused


@superseded_by("/api/v1/alert-events")
@require_GET
@api_login_required
def api_alerts(request: HttpRequest) -> JsonResponse:
    """GET /api/alerts?since_id=<n>[&line=<id>]: alert events after that id, oldest first."""
    if not request.user.has_perm("alerts.view_alert"):
        return JsonResponse({"error": "your role may not see alerts"}, status=403)
    try:
        since_id = int(request.GET.get("since_id", "0"))
        line = request.GET.get("line")
        line_ids = [int(line)] if line else None
    except ValueError:
        return JsonResponse({"error": "since_id and line must be integers"}, status=400)
    if since_id < 0:
        return JsonResponse({"error": "since_id must not be negative"}, status=400)
    events = selectors.events_after(after_id=since_id, line_ids=line_ids)
    return JsonResponse(
        {
            "events": events,
            "last_id": events[-1]["id"] if events else since_id,
            "more": len(events) == selectors.MAX_EVENTS_PER_PAGE,
        }
    )


# --- the supervisor inbox ------------------------------------------------------------------

SHELVE_CHOICES = [
    ("900", gettext_lazy("15 min")),
    ("3600", gettext_lazy("1 h")),
    ("28800", gettext_lazy("8 h")),
    ("86400", gettext_lazy("24 h")),
]
STATE_LABELS = selectors.STATE_LABELS


def _actionable(alerts: list, user, permission: str = "alerts.change_alert") -> list:
    """Mark each alert `actionable` when the user may act on it: their role, and their lines
    for an operator (the services refuse the rest anyway; the buttons are not offered)."""
    lines = acting_line_ids(user)
    may_act = user.has_perm(permission)
    for alert in alerts:
        alert.on_my_lines = lines is None or alert.asset.line_id in lines
        alert.actionable = may_act and alert.on_my_lines
    return alerts


def _int_list(values: list[str]) -> list[int]:
    return [int(value) for value in values if value.isdigit()]


def _here(request: HttpRequest) -> str:
    """This page without `partial`: where the row forms send the user back to."""
    query = request.GET.copy()
    query.pop("partial", None)
    return f"{request.path}?{query.urlencode()}" if query else request.path


@login_required
@permission_required("alerts.view_alert", raise_exception=True)
@require_safe  # live.js asks with HEAD whether the session is still valid
def inbox(request: HttpRequest) -> HttpResponse:
    """GET /alerts/?line=&priority=&state=&sort=: open alerts; `partial=1` for the list only."""
    query = request.GET
    line_ids = _int_list(query.getlist("line"))
    priorities = [p for p in query.getlist("priority") if p in selectors.PRIORITIES]
    states = [s for s in query.getlist("state") if s in STATE_LABELS]
    sort = query.get("sort") if query.get("sort") in selectors.INBOX_SORTS else "newest"
    # Read before the alerts: an event committed in between is then replayed over the socket
    # and refreshes the list, rather than falling between the page and the live feed.
    after_id = selectors.newest_event_id()
    alerts = _actionable(
        selectors.labelled(
            selectors.inbox_alerts_sorted(
                line_ids=line_ids, priorities=priorities, states=states, sort=sort
            )
        ),
        request.user,
    )
    context = {
        "alerts": alerts,
        "after_id": after_id,
        "line_ids": ",".join(map(str, line_ids)),
        "can_act": request.user.has_perm("alerts.change_alert"),
        "can_assign": request.user.has_perm("alerts.supervise_alerts"),
        "assignees": selectors.alert_assignable_users()
        if request.user.has_perm("alerts.supervise_alerts")
        else [],
        "shelve_choices": SHELVE_CHOICES,
        "filtered": bool(line_ids or priorities or states),
        "clear_url": reverse("alerts-inbox") if line_ids or priorities or states else "",
        "here": _here(request),
        # A notification's link lands here, on its alert's entry (`#alert-<id>`).
        "focus": next(iter(_int_list(query.getlist("focus"))), None),
    }
    if query.get("partial") == "1":
        return render(request, "alerts/_inbox_list.html", context)
    context |= {
        "line_buttons": toggle_buttons(
            query, "line", [(str(line.pk), line.name) for line in selectors.inbox_lines()]
        ),
        "priority_buttons": toggle_buttons(
            query,
            "priority",
            [(p.value, selectors.PRIORITY_LABELS[p.value]) for p in selectors.PRIORITIES],
        ),
        "state_buttons": toggle_buttons(query, "state", list(STATE_LABELS.items())),
        "sort_buttons": choice_buttons(
            query,
            "sort",
            [("newest", _("Newest")), ("priority", pgettext_lazy("sort alerts by", "Priority"))],
            sort,
        ),
    }
    return render(request, "alerts/inbox.html", context)


def line_panel_context(request: HttpRequest, *, line_ids: list[int] | None, here: str) -> dict:
    """What `alerts/_panel.html` needs: the open alerts of some lines (None: every line).

    `here` is the page showing the panel, where its acknowledge buttons return to."""
    # Read before the alerts, as in the inbox.
    after_id = selectors.newest_event_id()
    alerts, hidden = selectors.line_panel_alerts(line_ids=line_ids)
    return {
        "panel_alerts": _actionable(alerts, request.user),
        "panel_hidden": hidden,
        "panel_after_id": after_id,
        "panel_line_ids": ",".join(map(str, line_ids or [])),
        "panel_here": here,
    }


@login_required
@permission_required("alerts.view_alert", raise_exception=True)
@require_safe
def line_panel(request: HttpRequest) -> HttpResponse:
    """GET /alerts/panel?line=<id>&back=<url>: a tablet's alert panel, refreshed by alerts.js."""
    line_ids = _int_list(request.GET.getlist("line")) or None
    back = request.GET.get("back", "")
    if not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        back = reverse("floor:overview")
    context = line_panel_context(request, line_ids=line_ids, here=back)
    return render(request, "alerts/_panel.html", context)


def _back(request: HttpRequest) -> HttpResponseRedirect:
    """Redirect to the inbox view the form was posted from (same host only)."""
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("alerts-inbox")
    return redirect(target)


def _alert_id(request: HttpRequest) -> int | None:
    value = request.POST.get("alert", "")
    return int(value) if value.isdigit() else None


def _inbox_action(permission: str) -> Callable[[Callable[[HttpRequest], str]], Callable]:
    """An inbox form post: the view parses the form and calls one service, returning what to
    tell the user; a refusal, of the form or by the service, is told instead. Either way the
    user goes back to the inbox view the form was posted from."""

    def decorate(view: Callable[[HttpRequest], str]) -> Callable[[HttpRequest], HttpResponse]:
        @login_required
        @permission_required(permission, raise_exception=True)
        @require_POST
        @wraps(view)
        def action(request: HttpRequest) -> HttpResponse:
            attempt(request, lambda: view(request), success=lambda text: text)
            return _back(request)

        return action

    return decorate


@_inbox_action("alerts.change_alert")
def inbox_acknowledge(request: HttpRequest) -> str:
    alert_ids = _int_list(request.POST.getlist("alert"))
    if not alert_ids:
        raise Refused(_("Select the alerts to acknowledge first."))
    done = services.alerts_acknowledge(
        alert_ids=alert_ids, user=request.user, note=request.POST.get("note", "").strip()
    )
    skipped = len(set(alert_ids)) - len(done)
    text = ngettext(
        "Acknowledged %(count)d alert.", "Acknowledged %(count)d alerts.", len(done)
    ) % {"count": len(done)}
    if skipped:
        text += " " + ngettext(
            "%(count)d left: already acknowledged, or not on your lines.",
            "%(count)d left: already acknowledged, or not on your lines.",
            skipped,
        ) % {"count": skipped}
    return text


@_inbox_action("alerts.change_alert")
def inbox_shelve(request: HttpRequest) -> str:
    alert_id = _alert_id(request)
    duration = request.POST.get("duration", "")
    if alert_id is None or duration not in dict(SHELVE_CHOICES):
        raise Refused(_("Choose an alert and how long to shelve it."))
    services.alert_shelve(
        alert_id=alert_id,
        user=request.user,
        until=timezone.now() + timedelta(seconds=int(duration)),
        reason=request.POST.get("reason", "").strip(),
    )
    return _("Shelved for %(duration)s.") % {"duration": dict(SHELVE_CHOICES)[duration]}


@_inbox_action("alerts.change_alert")
def inbox_unshelve(request: HttpRequest) -> str:
    alert_id = _alert_id(request)
    if alert_id is None:
        raise Refused(_("Choose an alert to unshelve."))
    services.alert_unshelve(alert_id=alert_id, user=request.user)
    return _("Unshelved.")


@_inbox_action("alerts.supervise_alerts")
def inbox_assign(request: HttpRequest) -> str:
    alert_id = _alert_id(request)
    assignee_id = request.POST.get("assignee", "")
    assignees = {str(user.pk): user for user in selectors.alert_assignable_users()}
    if alert_id is None or (assignee_id and assignee_id not in assignees):
        raise Refused(_("Choose an alert and someone who may act on alerts."))
    assignee = assignees.get(assignee_id)
    services.alert_assign(
        alert_id=alert_id,
        user=request.user,
        assignee=assignee,
        note=request.POST.get("note", "").strip(),
    )
    if assignee is None:
        return _("Unassigned.")
    return _("Assigned to %(name)s.") % {"name": assignee.get_username()}


@_inbox_action("alerts.change_alert")
def inbox_comment(request: HttpRequest) -> str:
    alert_id = _alert_id(request)
    if alert_id is None:
        raise Refused(_("Choose an alert to comment on."))
    services.alert_comment(
        alert_id=alert_id, user=request.user, note=request.POST.get("note", "").strip()
    )
    return _("Comment added.")


# --- alarm KPIs ------------------------------------------------------------------------------

KPI_RANGES = {
    "24h": (gettext_lazy("24 h"), timedelta(hours=24)),
    "7d": (gettext_lazy("7 days"), timedelta(days=7)),
    "30d": (gettext_lazy("30 days"), timedelta(days=30)),
}
# EEMUA 191 / ISA-18.2 benchmarks for one operator position.
RATE_ACCEPTABLE = 1.0  # average alarms per 10 minutes: "very likely acceptable"
RATE_MANAGEABLE = 2.0  # "maximum manageable"
FLOOD_PERCENT_TARGET = 1.0  # % of time in flood
STALE_TARGET = 5  # standing alarms at any time


def _grade(ok: bool, warn: bool = False) -> str:
    return "good" if ok else ("warn" if warn else "bad")


@login_required
@permission_required("alerts.view_alert", raise_exception=True)
@require_safe
def alarm_kpis(request: HttpRequest) -> HttpResponse:
    """GET /alerts/kpis/?range=24h|7d|30d&line=<id>: alarm-system performance (EEMUA 191)."""
    query = request.GET
    range_key = query.get("range") if query.get("range") in KPI_RANGES else "24h"
    line_ids = _int_list(query.getlist("line"))
    end = timezone.now()
    # Buckets on the clock's ten minutes, so the chart reads 10:00, 10:10, …
    start = (end - KPI_RANGES[range_key][1]).replace(second=0, microsecond=0)
    start -= timedelta(minutes=start.minute % 10)
    activations, spans = selectors.alarm_kpi_inputs(start=start, end=end, line_ids=line_ids)
    report = kpis.alarm_kpis(activations, spans, start=start, end=end)
    starts, series = kpis.activation_series(activations, start=start, end=end)
    rates = [
        {
            "rate": rate,
            "flood": report.floods[rate.position],
            "grade": _grade(
                rate.average_per_10min <= RATE_ACCEPTABLE,
                rate.average_per_10min <= RATE_MANAGEABLE,
            ),
        }
        for rate in report.rates
    ]
    worst_average = max((r.average_per_10min for r in report.rates), default=0.0)
    flood_percent = max((f.percent_of_period for f in report.floods.values()), default=0.0)
    context = {
        "report": report,
        "rates": rates,
        "range_label": KPI_RANGES[range_key][0],
        "range_buttons": choice_buttons(
            query, "range", [(key, label) for key, (label, _) in KPI_RANGES.items()], range_key
        ),
        "line_buttons": toggle_buttons(
            query, "line", [(str(line.pk), line.name) for line in selectors.inbox_lines()]
        ),
        "summary": {
            "worst_average": worst_average,
            "average_grade": _grade(
                worst_average <= RATE_ACCEPTABLE, worst_average <= RATE_MANAGEABLE
            ),
            "peak": max((r.peak_per_10min for r in report.rates), default=0),
            "peak_grade": _grade(
                max((r.peak_per_10min for r in report.rates), default=0) <= kpis.FLOOD_THRESHOLD
            ),
            "flood_percent": flood_percent,
            "flood_grade": _grade(flood_percent < FLOOD_PERCENT_TARGET),
            "stale_grade": _grade(len(report.stale) < STALE_TARGET),
            "chatter_grade": _grade(not report.chattering),
        },
        "stale": [
            {
                "alarm": alarm,
                "priority_label": selectors.PRIORITY_LABELS.get(alarm.priority, alarm.priority),
                "active_for": delay_text(alarm.active_for.total_seconds()),
            }
            for alarm in report.stale
        ],
        "mix": [
            {
                "bucket": bucket,
                "label": selectors.PRIORITY_LABELS.get(bucket.name, bucket.name),
                "grade": _grade(abs(bucket.percent - bucket.target_percent) <= 5.0),
            }
            for bucket in report.priority_mix.buckets
        ],
        "targets": {
            "acceptable": RATE_ACCEPTABLE,
            "manageable": RATE_MANAGEABLE,
            "flood_threshold": kpis.FLOOD_THRESHOLD,
            "flood_percent": FLOOD_PERCENT_TARGET,
            "stale": STALE_TARGET,
        },
        "figure": charts.rate_figure(
            [timezone.localtime(moment) for moment in starts],
            series,
            flood_threshold=kpis.FLOOD_THRESHOLD,
            zone=timezone.get_current_timezone(),
        ),
    }
    return render(request, "alerts/kpis.html", context)
