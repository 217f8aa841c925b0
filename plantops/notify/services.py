"""The notifications' entry points: beat's sweep, and the signed acknowledge link.

`dispatch` turns alert events into notifications and escalates them; `sending` sends each
once; `digests` writes the daily and per-shift e-mails.
"""

from __future__ import annotations

from typing import Any

from django.core import signing
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from plantops.alerts.models import Alert
from plantops.alerts.services import alerts_acknowledge
from plantops.core.refusals import Refused
from plantops.notify import dispatch, messages, sending
from plantops.notify.models import Notification


def sweep() -> dict[str, int]:
    """Beat's round: events a lost trigger left, escalations, floods, stalled messages."""
    return {
        "dispatched": dispatch.dispatch_events(),
        "escalated": dispatch.escalate_due(),
        "floods_ended": dispatch.end_floods(),
        "requeued": sending.requeue_stalled(),
    }


# --- the acknowledge link -----------------------------------------------------------------


def ack_link_target(token: str, *, user: Any) -> Notification:
    """The notification an acknowledge link stands for, if `user` may use it now; otherwise
    `Refused` naming why (forged, expired, used, someone else's, not about an alert)."""
    try:
        key = messages.ack_key(token)
    except signing.SignatureExpired:
        raise Refused(
            gettext("This acknowledge link has expired. Open the alert and acknowledge it there.")
        ) from None
    except signing.BadSignature:
        raise Refused(gettext("This acknowledge link is not valid.")) from None
    notification = (
        Notification.objects.select_related("alert__asset__line", "alert__rule")
        .filter(key=key)
        .first()
    )
    if notification is None or notification.alert is None:
        raise Refused(gettext("This acknowledge link is not valid."))
    if notification.user_id is not None and notification.user_id != user.pk:
        raise Refused(
            gettext("This acknowledge link was sent to someone else; open the alert instead.")
        )
    if notification.ack_used_at is not None:
        raise Refused(gettext("This acknowledge link has already been used."))
    return notification


def acknowledge_by_link(token: str, *, user: Any, note: str) -> Alert:
    """Acknowledge the alert of an acknowledge link as `user` (a logged-in user: the alerts'
    own role and line checks apply), with a note; the link then works no more."""
    with transaction.atomic():
        notification = ack_link_target(token, user=user)
        # Locked and read again: of two uses at once, the second sees the first's.
        used = (
            Notification.objects.select_for_update()
            .values_list("ack_used_at", flat=True)
            .get(pk=notification.pk)
        )
        if used is not None:
            raise Refused(gettext("This acknowledge link has already been used."))
        alerts_acknowledge(
            alert_ids=[notification.alert_id],
            user=user,
            note=(note or "Acknowledged from a notification").strip(),
        )
        Notification.objects.filter(pk=notification.pk).update(ack_used_at=timezone.now())
    return notification.alert
