"""Writes for the people acting on alerts: acknowledge, shelve, unshelve, assign, comment.

Each action goes through the pure lifecycle (which refuses what ISA-18.2 does not allow) and is
recorded, with who and why, by `events`; the tablets see it through the event's push.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from plantops.alerts import lifecycle
from plantops.alerts.events import EventRecorder, lock_events
from plantops.alerts.lifecycle import AlertStatus, IllegalTransition, Transition
from plantops.alerts.models import Alert, AlertRule
from plantops.assets.scope import acting_line_ids, require_line
from plantops.core.refusals import Refused, require_permission

ACT = "alerts.change_alert"
SUPERVISE = "alerts.supervise_alerts"


def _act(
    alert_ids: Iterable[int],
    *,
    user: AbstractBaseUser,
    note: str,
    action,
) -> list[int]:
    """Apply `action(status, now, alert) -> Transition` to each alert under the event lock.

    Alerts of lines the user may not act on are refused like an illegal transition: the others
    are still done, and the refusal names what was left."""
    require_permission(user, ACT, _("Your role may not act on alerts."))
    lines = acting_line_ids(user)
    now = timezone.now()
    with transaction.atomic():
        lock_events()
        alerts = list(
            Alert.objects.select_for_update()
            .select_related("asset")
            .filter(pk__in=list(alert_ids))
            .order_by("pk")
        )
        recorder = EventRecorder()
        refused: list[str] = []
        for alert in alerts:
            if lines is not None and alert.asset.line_id not in lines:
                refused.append(_("%(alert)s: not on your lines") % {"alert": alert})
                continue
            try:
                transition = action(alert.status(), now, alert)
            except IllegalTransition as error:
                refused.append(f"{alert}: {error.why}")
                continue
            recorder.apply(
                alert, transition, now, line_id=alert.asset.line_id, user=user, note=note
            )
        if refused and not recorder.pending:
            raise Refused("; ".join(refused))
        recorder.flush()
    return [alert.pk for alert in recorder.alerts.values()]


def alerts_acknowledge(
    *, alert_ids: Iterable[int], user: AbstractBaseUser, note: str = ""
) -> list[int]:
    """Acknowledge the alerts that await it; return the ids acknowledged."""
    return _act(
        alert_ids,
        user=user,
        note=note,
        action=lambda status, now, _: lifecycle.acknowledge(status, now),
    )


def max_shelve_s(user: AbstractBaseUser, rule: AlertRule) -> int:
    """How long this user may shelve this rule's alerts: operators have a plant-wide limit."""
    if user.has_perm(SUPERVISE):
        return rule.max_shelve_s
    return min(settings.ALERT_OPERATOR_MAX_SHELVE_S, rule.max_shelve_s)


def alert_shelve(*, alert_id: int, user: AbstractBaseUser, until: datetime, reason: str) -> None:
    """Shelve an alert until `until`, within the user's limit; a reason is required."""
    if not reason.strip():
        raise Refused(_("Say why the alert is shelved."))

    def shelve(status: AlertStatus, now: datetime, alert: Alert) -> Transition:
        limit = max_shelve_s(user, alert.rule)
        if (until - now).total_seconds() > limit:
            raise Refused(
                _("You may shelve this alert for at most %(limit)s.")
                % {"limit": timedelta(seconds=limit)}
            )
        return lifecycle.shelve(status, now, until, limit, by=user.get_username(), reason=reason)

    _act([alert_id], user=user, note=reason, action=shelve)


def alert_unshelve(*, alert_id: int, user: AbstractBaseUser, note: str = "") -> None:
    _act(
        [alert_id],
        user=user,
        note=note,
        action=lambda status, now, _: lifecycle.unshelve(status, now),
    )


def alert_assign(
    *, alert_id: int, user: AbstractBaseUser, assignee: AbstractBaseUser | None, note: str = ""
) -> None:
    """Give the alert to someone who may act on alerts (or to nobody), as a supervisor of its
    line; recorded as an event with the note."""
    require_permission(user, SUPERVISE, _("Only a supervisor assigns alerts."))
    if assignee is not None and not (assignee.is_active and assignee.has_perm(ACT)):
        raise Refused(
            _("%(name)s may not act on alerts, so cannot be assigned one.")
            % {"name": assignee.get_username()}
        )
    text = f"assigned to {assignee.get_username()}" if assignee else "unassigned"
    with transaction.atomic():
        alert = _locked_alert(alert_id)
        require_line(user, alert.asset.line_id, what=_("this alert"))
        alert.assignee = assignee
        _record_note(alert, user=user, kind="assigned", note=f"{text}. {note}".strip(" ."))


def alert_comment(*, alert_id: int, user: AbstractBaseUser, note: str) -> None:
    require_permission(user, ACT, _("Your role may not comment on alerts."))
    if not note.strip():
        raise Refused(_("A comment needs some text."))
    with transaction.atomic():
        alert = _locked_alert(alert_id)
        require_line(user, alert.asset.line_id, what=_("this alert"))
        _record_note(alert, user=user, kind="commented", note=note)


def _locked_alert(alert_id: int) -> Alert:
    lock_events()
    alert = Alert.objects.select_for_update().select_related("asset").filter(pk=alert_id).first()
    if alert is None:
        raise Refused(_("That alert no longer exists."))
    return alert


def _record_note(alert: Alert, *, user: AbstractBaseUser, kind: str, note: str) -> None:
    """Record an event that changes no alert state (and save the alert as it stands)."""
    recorder = EventRecorder()
    recorder.record(alert, kind, timezone.now(), line_id=alert.asset.line_id, user=user, note=note)
    recorder.flush()
