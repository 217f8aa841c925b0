"""Reads for the floor screens: asset tiles with their latest values and status."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db.models import Prefetch
from django.utils import timezone

from plantops.assets.models import Asset, Line, Signal
from plantops.floor.status import SignalValue, tile_status
from plantops.telemetry.models import Reading
from plantops.telemetry.payloads import datetime_to_us, us_to_datetime


def asset_tiles(
    *, asset_ids: Iterable[int] | None = None, now: datetime | None = None
) -> list[dict[str, Any]]:
    """Return one JSON-ready tile per asset (all assets, or those named), in floor order.

    Two queries whatever the number of assets: assets with their line, signals with latest.
    """
    now = now or timezone.now()
    assets = Asset.objects.select_related("line").prefetch_related(
        Prefetch("signals", queryset=Signal.objects.select_related("latest").order_by("slug"))
    )
    if asset_ids is not None:
        assets = assets.filter(pk__in=list(asset_ids))
    return [_tile(asset, now) for asset in assets]


def _tile(asset: Asset, now: datetime) -> dict[str, Any]:
    signals = []
    values = []
    for signal in asset.signals.all():
        latest = getattr(signal, "latest", None)
        age_s = (now - latest.ts).total_seconds() if latest else None
        value = SignalValue(
            value=latest.value if latest else None,
            age_s=age_s,
            expected_min=signal.expected_min,
            expected_max=signal.expected_max,
            sampling_interval_s=signal.sampling_interval_s,
        )
        values.append(value)
        signals.append(
            {
                "slug": signal.slug,
                "name": signal.name,
                "unit": signal.unit,
                "expected_min": signal.expected_min,
                "expected_max": signal.expected_max,
                "sampling_interval_s": signal.sampling_interval_s,
                "value": value.value,
                "ts": latest.ts.isoformat() if latest else None,
                "in_range": value.in_range,
                "stale": value.stale,
            }
        )
    status = tile_status(state=asset.state, signals=values)
    return {
        "id": asset.pk,
        "slug": asset.slug,
        "name": asset.name,
        "line_id": asset.line_id,
        "asset_type": asset.asset_type,
        "status": status.value,
        "status_label": status.label,
        "state": asset.state,
        "state_reason": asset.state_reason,
        "state_since": asset.state_since.isoformat() if asset.state_since else None,
        "signals": signals,
    }


def floor_lines() -> list[dict[str, Any]]:
    """Return every line, in floor order, with its asset tiles."""
    tiles_by_line: dict[int, list[dict[str, Any]]] = {}
    for tile in asset_tiles():
        tiles_by_line.setdefault(tile["line_id"], []).append(tile)
    lines = Line.objects.select_related("area", "area__site").order_by("position", "name")
    return [
        {
            "id": line.pk,
            "slug": line.slug,
            "name": line.name,
            "area": line.area.name,
            "tiles": tiles_by_line.get(line.pk, []),
        }
        for line in lines
    ]


def asset_points_since(
    *, asset_id: int, since_ms: int, not_before: datetime, limit: int = 50_000
) -> dict[str, list[tuple[int, float]]]:
    """Return each signal's `(epoch ms, value)` points after a moment, oldest first, for charts."""
    # The page holds points to the millisecond; resume strictly after the one it has.
    since = max(us_to_datetime((since_ms + 1) * 1000), not_before)
    rows = (
        Reading.objects.filter(signal__asset_id=asset_id, ts__gte=since)
        # Newest first under the cap, so a busy asset's chart never stops short of now.
        .order_by("-ts")
        .values_list("signal__slug", "ts", "value")[:limit]
    )
    points: dict[str, list[tuple[int, float]]] = {}
    for slug, ts, value in reversed(rows):
        points.setdefault(slug, []).append((datetime_to_us(ts) // 1000, value))
    return points
