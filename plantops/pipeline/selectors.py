"""Reads for the pipeline: whether data flows, in counts of what each stage stored."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Max

from plantops.oee.models import CountEvent, StateEvent
from plantops.telemetry.models import DeadLetter, LatestReading, Reading


def pipeline_stats() -> dict[str, Any]:
    """Return the counters that show whether data flows, as one JSON-ready object."""
    by_reason = dict(
        DeadLetter.objects.values_list("reason").annotate(n=Count("pk")).order_by("reason")
    )
    latest = LatestReading.objects.aggregate(at=Max("ts"))["at"]
    last_dead = DeadLetter.objects.aggregate(at=Max("received_at"))["at"]
    return {
        "readings_stored": Reading.objects.count(),
        "signals_reporting": LatestReading.objects.count(),
        "latest_reading_at": latest.isoformat() if latest else None,
        "state_events": StateEvent.objects.count(),
        "count_events": CountEvent.objects.count(),
        "dead_letters": sum(by_reason.values()),
        "dead_letters_by_reason": by_reason,
        "latest_dead_letter_at": last_dead.isoformat() if last_dead else None,
    }
