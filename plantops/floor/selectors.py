"""Reads for the floor screens: asset tiles with their latest values and status, and trends."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_noop

from plantops.assets.models import Asset, Line, Signal
from plantops.assets.states import MachineState
from plantops.core.time import datetime_to_us, us_to_datetime
from plantops.floor.status import STALE_INTERVALS, STALE_MIN_S, SignalValue, tile_status
from plantops.oee.reasons import reason_labels
from plantops.telemetry.models import Reading
from plantops.telemetry.selectors import rollup_buckets

ASSET_FIELDS = (
    "id",
    "slug",
    "name",
    "line_id",
    "asset_type",
    "state",
    "state_reason",
    "state_since",
    "no_data_since",
    "no_data_reason",
)
SIGNAL_FIELDS = (
    "asset_id",
    "slug",
    "name",
    "unit",
    "expected_min",
    "expected_max",
    "sampling_interval_s",
    "latest__ts",
    "latest__value",
)


def asset_tiles(
    *, asset_ids: Iterable[int] | None = None, now: datetime | None = None
) -> list[dict[str, Any]]:
    """Return one JSON-ready tile per asset (all assets, or those named), in floor order.

    Two queries whatever the number of assets (assets; signals with their latest value), and
    a third for the words of the machines' reason codes while any reports one, read as plain
    rows: the worker builds the tiles of every asset a batch touches, so no model instances.
    """
    now = now or timezone.now()
    assets = Asset.objects.values_list(*ASSET_FIELDS)
    signals = Signal.objects.order_by("asset_id", "slug").values_list(*SIGNAL_FIELDS)
    if asset_ids is not None:
        ids = list(asset_ids)
        assets = assets.filter(pk__in=ids)
        signals = signals.filter(asset_id__in=ids)
    by_asset: dict[int, list[tuple]] = {}
    for row in signals:
        by_asset.setdefault(row[0], []).append(row)
    rows = list(assets)
    # A machine's reason code ("minor_stop") is shown in words, as on the OEE screens.
    labels = reason_labels(row[6] for row in rows if row[6] and row[8] is None)
    return [_tile(row, by_asset.get(row[0], ()), now, labels) for row in rows]


def _tile(
    asset: tuple, signal_rows: Iterable[tuple], now: datetime, labels: dict[str, str]
) -> dict[str, Any]:
    (
        asset_id,
        slug,
        name,
        line_id,
        asset_type,
        state,
        state_reason,
        state_since,
        gone_since,
        why,
    ) = asset
    signals = []
    values = []
    for _, s_slug, s_name, unit, low, high, interval, ts, latest in signal_rows:
        value = SignalValue(
            value=latest,
            age_s=(now - ts).total_seconds() if ts is not None else None,
            expected_min=low,
            expected_max=high,
            sampling_interval_s=interval,
        )
        values.append(value)
        signals.append(
            {
                "slug": s_slug,
                "name": s_name,
                "unit": unit,
                "expected_min": low,
                "expected_max": high,
                "sampling_interval_s": interval,
                "value": latest,
                "ts": ts.isoformat() if ts is not None else None,
                "in_range": value.in_range,
                "stale": value.stale,
            }
        )
    status = tile_status(state=state, signals=values, gateway_gone=gone_since is not None)
    state_reason = why if gone_since is not None else labels.get(state_reason, state_reason)
    return {
        "id": asset_id,
        "slug": slug,
        "name": name,
        "line_id": line_id,
        "asset_type": asset_type,
        "status": status.value,
        "status_label": status.label,
        "state": state,
        # English, translated where it is shown (the page's template, live.js).
        "state_label": MachineState(state).label if state in _STATES else state,
        "state_reason": state_reason,
        "state_since": state_since.isoformat() if state_since else None,
        "signals": signals,
    }


_STATES = frozenset(MachineState)


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


@dataclass(frozen=True, slots=True)
class TrendRange:
    """A span of history an asset page can chart, and the bucket its rollups are merged into."""

    key: str
    label: str
    span: timedelta
    bucket: timedelta


# At most span / bucket + 1 buckets (the first one starts before the span does): ≤ 1,441 each,
# so a chart never draws more than about 1,500 points however busy the signal.
TREND_RANGES = {
    trend_range.key: trend_range
    for trend_range in (
        TrendRange("8h", gettext_noop("8 h"), timedelta(hours=8), timedelta(minutes=1)),
        TrendRange("24h", gettext_noop("24 h"), timedelta(hours=24), timedelta(minutes=1)),
        TrendRange("7d", gettext_noop("7 days"), timedelta(days=7), timedelta(minutes=10)),
        TrendRange("30d", gettext_noop("30 days"), timedelta(days=30), timedelta(minutes=30)),
    )
}

# The range buttons of the asset page: the live hour of raw readings, then the trends.
CHART_RANGE_CHOICES = [
    {"key": "live", "label": gettext_noop("Live")},
    *({"key": r.key, "label": r.label} for r in TREND_RANGES.values()),
]


class UnknownTrendRange(ValueError):
    pass


def trend_range(key: str) -> TrendRange:
    """Return the trend range named `key` ("24h"), or raise UnknownTrendRange saying which exist."""
    try:
        return TREND_RANGES[key]
    except KeyError:
        choices = ", ".join(TREND_RANGES)
        shown = repr(key) if key else "nothing"
        raise UnknownTrendRange(
            f"Unknown range {shown}: use one of {choices} (live data comes over the socket)."
        ) from None


def asset_trend(
    *, asset_id: int, trend_range: TrendRange, now: datetime | None = None
) -> dict[str, Any]:
    """Return an asset's signals as `(epoch ms, min, mean, max)` buckets up to now, for charts.

    Read from the minute rollups, merged in the database. Buckets are aligned to the Unix epoch
    and the first one starts at or before `now - span`, so none is cut short. Where a signal
    that should have reported did not, one `(epoch ms, None, None, None)` bucket marks the gap,
    so the chart breaks its line there instead of bridging the silence. Two queries.
    """
    now = now or timezone.now()
    bucket_s = int(trend_range.bucket.total_seconds())
    first_s = int((now - trend_range.span).timestamp()) // bucket_s * bucket_s
    start = datetime.fromtimestamp(first_s, tz=UTC)
    signals = list(
        Signal.objects.filter(asset_id=asset_id)
        .order_by("slug")
        .values_list("pk", "slug", "sampling_interval_s")
    )
    rollups = rollup_buckets(
        signal_ids=[pk for pk, _, _ in signals], start=start, end=now, bucket_s=bucket_s
    )
    series: dict[str, list[tuple[int, float | None, float | None, float | None]]] = {}
    for pk, slug, sampling_interval_s in signals:
        # The tiles' "stale" rule: a slow signal's empty buckets between readings are no gap.
        gap_ms = 1000 * max(bucket_s, STALE_MIN_S, STALE_INTERVALS * sampling_interval_s)
        points = series[slug] = []
        previous_ms = None
        for at, low, mean, high in rollups.get(pk, []):
            at_ms = int(at.timestamp()) * 1000
            if previous_ms is not None and at_ms - previous_ms > gap_ms:
                points.append((previous_ms + bucket_s * 1000, None, None, None))
            points.append((at_ms, low, mean, high))
            previous_ms = at_ms
    return {
        "range": trend_range.key,
        "label": trend_range.label,
        "start_ms": first_s * 1000,
        "end_ms": int(now.timestamp() * 1000),
        "bucket_ms": bucket_s * 1000,
        "signals": series,
    }
