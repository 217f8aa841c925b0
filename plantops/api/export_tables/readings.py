"""The readings export: raw readings or minute or hour aggregates, read a window at a time."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from math import ceil
from typing import Any

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404

from plantops.api.export_tables.shared import require_range, site_zone, stamp
from plantops.api.exports import Column, Table
from plantops.assets.models import Asset, Signal
from plantops.assets.scope import shown_line_ids
from plantops.core.refusals import require_permission
from plantops.telemetry.history import MAX_SIGNALS, VIEW_READINGS, Aggregation, signal_history
from plantops.telemetry.history import REFUSAL as READINGS_REFUSAL

# The most rows one CSV export may be estimated at (some 500 MB of CSV): a bound on how long
# one request holds a worker, not on memory, which stays flat.
MAX_CSV_ROWS = 10_000_000
# Points of one signal read from the history at a time: a few megabytes of arrays and rows.
READINGS_WINDOW = 50_000
_BUCKET_S = {Aggregation.MINUTE: 60, Aggregation.HOUR: 3600}
_AGGREGATES = ("min", "max", "mean", "last", "count")


def readings_table(
    user: Any,
    *,
    signal_ids: Sequence[int] | None,
    asset_id: int | None,
    start: datetime,
    end: datetime,
    aggregation: Aggregation,
    max_rows: int = MAX_CSV_ROWS,
) -> Table:
    """Raw readings, or minute or hour aggregates, of some signals (or of every signal of an
    asset) with `start <= time < end`: signal after signal, each in time order. Read through
    `signal_history` a window at a time, so any range streams.

    Refused as the readings are; an operator is shown the signals of their own lines (404 for
    another line's asset; another line's signal is not one they know). A ValidationError names
    the parameter, also for an export estimated at more than `max_rows` rows."""
    require_permission(user, VIEW_READINGS, READINGS_REFUSAL)
    if (asset_id is None) == (not signal_ids):
        raise ValidationError({"signal_id": "Give signal_id (one or more) or asset_id."})
    require_range(start, end)
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    shown = shown_line_ids(user)
    signals = (
        Signal.objects.all() if shown is None else Signal.objects.filter(asset__line_id__in=shown)
    )
    if asset_id is not None:
        assets = Asset.objects.all() if shown is None else Asset.objects.filter(line_id__in=shown)
        asset = get_object_or_404(assets, pk=asset_id)
        ids = list(signals.filter(asset=asset).order_by("slug").values_list("pk", flat=True))
    else:
        ids = list(dict.fromkeys(signal_ids or ()))
    if len(ids) > MAX_SIGNALS:
        raise ValidationError({"signal_id": f"At most {MAX_SIGNALS} signals; {len(ids)} given."})
    found = {
        row[0]: row
        for row in signals.filter(pk__in=ids).values_list(
            "pk",
            "asset__line__name",
            "asset__name",
            "slug",
            "unit",
            "asset__line__area__site__timezone",
            "sampling_interval_s",
        )
    }
    missing = [pk for pk in ids if pk not in found]
    if missing:
        raise ValidationError({"signal_id": f"No signal {', '.join(map(str, missing))}."})
    infos = [found[pk] for pk in ids]
    span_s = (end - start).total_seconds()
    if aggregation is Aggregation.RAW:
        estimate = sum(ceil(span_s / max(info[6], 0.001)) for info in infos)
    else:
        estimate = len(infos) * (ceil(span_s / _BUCKET_S[aggregation]) + 1)
    if estimate > max_rows:
        raise ValidationError(
            {
                "to": f"About {estimate:,} rows; one export holds at most {max_rows:,}. Ask "
                "for a shorter range, fewer signals or a coarser aggregation."
            }
        )
    names = ["value"] if aggregation is Aggregation.RAW else list(_AGGREGATES)
    columns = [
        Column("signal id", "number"),
        Column("line"),
        Column("asset"),
        Column("signal"),
        Column("unit"),
        Column("time (UTC)" if aggregation is Aggregation.RAW else "bucket start (UTC)", "time"),
        Column("site time", "time"),
        Column("site time zone"),
        *(Column(name, "number") for name in names),
    ]
    rows = _reading_rows(user, infos, start, end, aggregation, names)
    name = f"readings-{aggregation.value}-{stamp(start)}-{stamp(end)}"
    return Table(name, columns, rows)


def _reading_rows(
    user: Any,
    infos: list[tuple],
    start: datetime,
    end: datetime,
    aggregation: Aggregation,
    names: list[str],
) -> Iterator[list]:
    for info in infos:
        if aggregation is Aggregation.RAW:
            window = timedelta(seconds=READINGS_WINDOW * max(info[6], 0.001))
        else:
            window = timedelta(seconds=(READINGS_WINDOW - 1) * _BUCKET_S[aggregation])
        at = start
        while at < end:
            upto = min(at + window, end)
            yield from _window_rows(user, info, at, upto, aggregation, names)
            at = upto


def _window_rows(
    user: Any,
    info: tuple,
    start: datetime,
    end: datetime,
    aggregation: Aggregation,
    names: list[str],
) -> Iterator[list]:
    pk, line, asset, slug, unit, zone, _ = info
    try:
        history = signal_history(
            user=user, signal_ids=[pk], start=start, end=end, aggregation=aggregation
        )
    except ValidationError:
        # A signal sending far faster than its sampling interval says: read it in halves.
        if aggregation is not Aggregation.RAW or end - start < timedelta(seconds=2):
            raise
        middle = start + (end - start) / 2
        yield from _window_rows(user, info, start, middle, aggregation, names)
        yield from _window_rows(user, info, middle, end, aggregation, names)
        return
    series = history.series[0]
    times = series.ts_us.astype("datetime64[us]").tolist()
    values = [series.columns[name].tolist() for name in names]
    in_site = site_zone(zone)
    for moment, *point in zip(times, *values, strict=True):
        moment = moment.replace(tzinfo=UTC)
        yield [pk, line, asset, slug, unit, moment, moment.astimezone(in_site), zone, *point]
