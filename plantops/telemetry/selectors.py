"""Reads for the telemetry pipeline: the topic registry, trends and pipeline counters."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Count, Max

from plantops.assets.models import Asset, Signal
from plantops.oee.models import CountEvent, StateEvent
from plantops.telemetry.models import DeadLetter, LatestReading, MinuteRollup, Reading
from plantops.telemetry.payloads import TopicRegistry


def topic_registry() -> TopicRegistry:
    """Return every configured asset path and signal slug, for ingest to resolve topics."""
    assets = {
        (site, area, line, asset): pk
        for pk, site, area, line, asset in Asset.objects.values_list(
            "pk", "line__area__site__slug", "line__area__slug", "line__slug", "slug"
        )
    }
    signals = {
        (asset_id, slug): pk
        for pk, asset_id, slug in Signal.objects.values_list("pk", "asset_id", "slug")
    }
    return TopicRegistry(assets=assets, signals=signals)


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


def signal_trend_from_rollups(
    *, signal_id: int, start: datetime, end: datetime, max_points: int = 1500
) -> list[tuple[datetime, float, float, float]]:
    """Return `(bucket start, min, mean, max)` from minute rollups, at most `max_points` buckets.

    For spans of days or months: a week of 1 Hz data is 10,080 rollup rows instead of 604,800
    readings, merged into buckets of whole minutes.
    """
    minutes = max(1, int((end - start).total_seconds() // 60))
    bucket_minutes = max(1, -(-minutes // max_points))
    rows = (
        MinuteRollup.objects.filter(signal_id=signal_id, minute__gte=start, minute__lt=end)
        .order_by("minute")
        .values_list("minute", "value_min", "value_max", "value_sum", "value_count")
    )
    buckets: list[list] = []
    width_s = bucket_minutes * 60
    epoch_start = start.timestamp()
    current_index = None
    for minute, low, high, total, count in rows:
        index = int((minute.timestamp() - epoch_start) // width_s)
        if index != current_index:
            buckets.append([minute, low, high, total, count])
            current_index = index
        else:
            bucket = buckets[-1]
            bucket[1] = min(bucket[1], low)
            bucket[2] = max(bucket[2], high)
            bucket[3] += total
            bucket[4] += count
    return [(at, low, total / count, high) for at, low, high, total, count in buckets]
