"""The MCP tools on the plant and its signals: find assets, their latest values, and trends of
signals summarised to a few dozen points, from API v1's selectors and the readings history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from django.db.models import Prefetch, Q
from django.utils import timezone

from plantops.api import selectors as plant_selectors
from plantops.api.mcp_scope import NotShown, local, shown_asset, shown_line
from plantops.assets.models import Asset, Signal
from plantops.core.time import datetime_to_us, us_to_datetime
from plantops.telemetry.history import Aggregation, Series, signal_history

MAX_ASSETS = 100
# Signals named per asset in a list of assets; latest_values reads up to MAX_LATEST of one.
SIGNALS_PER_ASSET = 40
MAX_LATEST = 200
MAX_TREND_SIGNALS = 10
MAX_TREND_HOURS = 90 * 24
# A trend is told in at most this many points per signal, whatever the range.
TREND_POINTS = 48
# Up to this span minutes are read (360 a signal), beyond it hours.
MINUTES_UP_TO = timedelta(hours=6)


def _number(value: float) -> float | None:
    """A reading for a reader: six significant digits, None for an unknown one (NaN)."""
    return None if np.isnan(value) else float(f"{value:.6g}")


def _asset_row(asset: Asset) -> dict[str, Any]:
    line = asset.line
    zone = line.area.site.timezone
    signals = asset.signals.all()
    return {
        "id": asset.pk,
        "name": asset.name,
        "type": asset.asset_type,
        "path": asset.topic_path,
        "line": {"id": line.pk, "name": line.name},
        "area": line.area.name,
        "site": line.area.site.name,
        "time_zone": zone,
        "state": asset.state or "unknown",
        "state_reason": asset.state_reason,
        "state_since": local(asset.state_since, zone),
        "out_of_service_since": local(asset.out_of_service_since, zone),
        "no_data_since": local(asset.no_data_since, zone),
        "signals_total": len(signals),
        "signals": [
            {"id": s.pk, "slug": s.slug, "name": s.name, "unit": s.unit}
            for s in signals[:SIGNALS_PER_ASSET]
        ],
    }


def find_assets(
    user: Any, *, text: str = "", line_id: int | None = None, limit: int = 25
) -> dict[str, Any]:
    """The assets whose name, slug, type, line, area or site hold every word of `text`, in
    floor order, at most `limit`, with their state and signals (ids and units)."""
    found = plant_selectors.assets(user).select_related("line__area__site")
    if line_id is not None:
        shown_line(user, line_id)
        found = found.filter(line_id=line_id)
    for word in text.split()[:8]:
        found = found.filter(
            Q(name__icontains=word)
            | Q(slug__icontains=word)
            | Q(asset_type__iexact=word)
            | Q(line__name__icontains=word)
            | Q(line__area__name__icontains=word)
            | Q(line__area__site__name__icontains=word)
        )
    found = found.order_by(
        "line__area__site__name", "line__position", "line__name", "position", "name", "pk"
    )
    total = found.count()
    assets = list(
        found.prefetch_related(Prefetch("signals", queryset=Signal.objects.order_by("slug")))[
            : min(limit, MAX_ASSETS)
        ]
    )
    return {"total": total, "listed": len(assets), "assets": [_asset_row(a) for a in assets]}


def latest_values(user: Any, *, asset_id: int) -> dict[str, Any]:
    """The newest value of each of an asset's signals, in its unit, judged stale and in range
    as the asset's tile judges them."""
    shown_asset(user, asset_id)
    asset, latest = plant_selectors.asset_latest(user, asset_id=asset_id)
    zone = asset.line.area.site.timezone
    limits = {
        pk: (low, high)
        for pk, low, high in Signal.objects.filter(asset=asset).values_list(
            "pk", "expected_min", "expected_max"
        )
    }
    return {
        "asset": {"id": asset.pk, "name": asset.name, "line": asset.line.name},
        "time_zone": zone,
        "state": asset.state or "unknown",
        "no_data_since": local(asset.no_data_since, zone),
        "signals_total": len(latest),
        "signals": [
            {
                "id": row["signal_id"],
                "slug": row["slug"],
                "name": row["name"],
                "value": row["value"],
                "unit": row["unit"],
                "at": local(row["ts"], zone),
                "stale": row["stale"],
                "in_range": row["in_range"],
                "expected_min": limits[row["signal_id"]][0],
                "expected_max": limits[row["signal_id"]][1],
            }
            for row in latest[:MAX_LATEST]
        ],
    }


def signal_trends(
    user: Any, *, signal_ids: list[int], hours: float = 24.0, end: datetime | None = None
) -> dict[str, Any]:
    """Each signal's readings over the `hours` before `end` (now by default), summarised: its
    minimum, maximum, mean, last value and change, and at most TREND_POINTS points (minimum,
    maximum and mean of each stretch), read from the minute or hour rollups."""
    end = end or timezone.now()
    start = end - timedelta(hours=hours)
    ids = list(dict.fromkeys(signal_ids))
    shown = dict(plant_selectors.signals(user).filter(pk__in=ids).values_list("pk", "asset__name"))
    hidden = [pk for pk in ids if pk not in shown]
    if hidden:
        raise NotShown(f"There is no signal {hidden[0]} on the lines you are shown.")
    history = signal_history(
        user=user,
        signal_ids=ids,
        start=start,
        end=end,
        aggregation=Aggregation.MINUTE if end - start <= MINUTES_UP_TO else Aggregation.HOUR,
    )
    start_us, end_us = datetime_to_us(history.start), datetime_to_us(history.end)
    return {
        "read_from": history.source,
        "signals": [
            _trend(series, shown[series.signal_id], start_us, end_us) for series in history.series
        ],
    }


def _trend(series: Series, asset_name: str, start_us: int, end_us: int) -> dict[str, Any]:
    zone = series.site_timezone
    trend: dict[str, Any] = {
        "id": series.signal_id,
        "name": series.name,
        "asset": asset_name,
        "unit": series.unit,
        "time_zone": zone,
        "from": local(us_to_datetime(start_us).astimezone(UTC), zone),
        "to": local(us_to_datetime(end_us).astimezone(UTC), zone),
    }
    columns = series.columns
    counts = columns["count"]
    if not counts.sum():
        return trend | {"readings": 0, "summary": None, "points": []}
    ts = series.ts_us
    # Each bucket into one of TREND_POINTS equal stretches of the range; the buckets come in
    # time order, so each stretch is a run of them.
    stretch = np.minimum((ts - start_us) * TREND_POINTS // (end_us - start_us), TREND_POINTS - 1)
    starts = np.concatenate(([0], np.flatnonzero(np.diff(stretch)) + 1))
    low = np.minimum.reduceat(columns["min"], starts)
    high = np.maximum.reduceat(columns["max"], starts)
    n = np.add.reduceat(counts, starts)
    mean = np.add.reduceat(columns["mean"] * counts, starts) / n
    known_last = np.flatnonzero(~np.isnan(columns["last"]))
    last = columns["last"][known_last[-1]] if len(known_last) else columns["mean"][-1]
    width_us = (end_us - start_us) / TREND_POINTS
    return trend | {
        "readings": int(counts.sum()),
        "summary": {
            "min": _number(low.min()),
            "max": _number(high.max()),
            "mean": _number((columns["mean"] * counts).sum() / counts.sum()),
            "last": _number(last),
            "last_bucket_from": local(us_to_datetime(int(ts[-1])), zone),
            "change": _number(mean[-1] - mean[0]),
        },
        "points": [
            {
                "from": local(us_to_datetime(int(start_us + k * width_us)), zone),
                "min": _number(lo),
                "max": _number(hi),
                "mean": _number(avg),
                "readings": int(count),
            }
            for k, lo, hi, avg, count in zip(
                stretch[starts].tolist(), low, high, mean, n, strict=True
            )
        ],
    }
