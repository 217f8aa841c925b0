"""Receivers of the alerts' signals: they only queue work (the sweep catches what is lost)."""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)


def events_recorded(sender: Any, *, last_id: int, raised: bool, **kwargs: Any) -> None:
    if not raised:
        return
    from plantops.notify import tasks

    try:
        tasks.dispatch.delay()
    except Exception:
        log.exception("could not queue notification dispatch up to event %s", last_id)


def alerts_announced(sender: Any, *, alert_ids: list[int], **kwargs: Any) -> None:
    from plantops.notify import tasks

    try:
        tasks.announce.delay(alert_ids)
    except Exception:
        log.exception("could not queue the announcement of alerts %s", alert_ids)
