"""The periodic sweep of open and hidden alerts, run by beat every few seconds."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from plantops.alerts import lifecycle
from plantops.alerts.conditions import alerts_evaluate_no_data, held_stalled
from plantops.alerts.config import SUPPRESSING_STATES
from plantops.alerts.events import EventRecorder, lock_events, tick_push
from plantops.alerts.models import Alert


def alerts_sweep(*, now: datetime | None = None) -> int:
    """Expire shelving, re-alarm, follow suppression, judge no-data rules and announce alarms
    held back whose late data has stopped coming; return events.

    Run by beat every few seconds. Also pushes a tick with the newest event id, so a tablet
    that missed the last live message notices and fetches it.
    """
    now = now or timezone.now()
    with transaction.atomic():
        count = alerts_evaluate_no_data(now=now)
        lock_events()
        recorder = EventRecorder()
        open_or_hidden = (
            Alert.objects.select_for_update()
            .select_related("rule", "asset")
            .filter(
                ~Q(state=lifecycle.AlarmState.NORMAL.value)
                | Q(shelved_until__isnull=False)
                | Q(suppressed=True)
            )
            .order_by("pk")
        )
        held: list[Alert] = []
        for alert in open_or_hidden:
            line_id = alert.asset.line_id
            status = alert.status()
            if status.shelved_until is not None and status.shelved_until <= now:
                recorder.apply(alert, lifecycle.expire_shelving(status, now), now, line_id=line_id)
                status = alert.status()
            asset = alert.asset
            suppress = status.is_open and (
                asset.state in SUPPRESSING_STATES or asset.out_of_service_since is not None
            )
            if suppress != status.suppressed and (status.is_open or status.suppressed):
                recorder.apply(
                    alert, lifecycle.suppress(status, now, suppress), now, line_id=line_id
                )
                status = alert.status()
            after = alert.rule.realarm_after_s
            if after and lifecycle.realarm_due(status, now, after):
                recorder.apply(alert, lifecycle.realarm(status, now, after), now, line_id=line_id)
            if lifecycle.held_back(alert.status()):
                held.append(alert)
        # Raised from late data that never caught up (a gateway that sent its backlog and went
        # quiet, a signal that reports only on change): the alarm still holds, so tell them.
        for alert in held_stalled(held, now=now):
            alert.apply(lifecycle.announce(alert.status(), now))
            recorder.announce(alert, line_id=alert.asset.line_id)
        count += recorder.flush()
    tick_push()
    return count
