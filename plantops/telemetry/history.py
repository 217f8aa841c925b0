"""Reads of signals' history for API clients: raw readings, or minute or hour aggregates from
the rollups, as columns (numpy arrays) a response is encoded from without a Python object per
point; and who may read them.

The rollups are written in the same transaction as the readings they summarise, so they cover
every stored reading up to now: there is no recent tail to fill in from raw readings. Raw
readings go after `TELEMETRY_RETENTION_DAYS`; the rollups stay.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from math import ceil
from typing import Any

import numpy as np
import psycopg
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import ExpressionWrapper, F, FloatField, Model

from plantops.assets.models import Signal
from plantops.assets.scope import shown_line_ids
from plantops.core.refusals import require_permission
from plantops.core.time import datetime_to_us
from plantops.telemetry.columns import PG_EPOCH_OFFSET_US
from plantops.telemetry.minute_packs import unpack
from plantops.telemetry.models import HourRollup, MinuteRollup, Reading

# Whoever may open an asset page, where the same history is charted, may read it.
VIEW_READINGS = "assets.view_asset"
REFUSAL = "Your role may not see readings."
# One response: 7 days of minutes of 24 signals (about 20 MB of JSON). Past it a client asks for
# a coarser aggregation or a shorter range.
MAX_POINTS = 250_000
MAX_SIGNALS = 100


class Aggregation(StrEnum):
    RAW = "raw"
    MINUTE = "minute"
    HOUR = "hour"


@dataclass(frozen=True, slots=True)
class _Source:
    model: type[Model]
    time_field: str
    width_s: int
    description: str


_SOURCES = {
    Aggregation.RAW: _Source(Reading, "ts", 0, "readings"),
    Aggregation.MINUTE: _Source(MinuteRollup, "minute", 60, "minute rollups"),
    Aggregation.HOUR: _Source(HourRollup, "hour", 3600, "hour rollups"),
}
AGGREGATE_COLUMNS = ("min", "max", "mean", "last", "count")
HOUR = timedelta(hours=1)
_HOURS, _MINUTES = (
    connection.ops.quote_name(model._meta.db_table) for model in (HourRollup, MinuteRollup)
)


@dataclass(frozen=True, slots=True)
class Series:
    """One signal's points: `ts_us` (microseconds since the Unix epoch, UTC) and, by name, the
    columns beside it (`value` for raw readings; `min`, `max`, `mean`, `last`, `count` for
    aggregates, `last` NaN where unknown)."""

    signal_id: int
    slug: str
    name: str
    unit: str
    asset_id: int
    site_timezone: str
    ts_us: np.ndarray
    columns: dict[str, np.ndarray]


@dataclass(frozen=True, slots=True)
class History:
    aggregation: Aggregation
    source: str
    start: datetime
    end: datetime
    series: list[Series]


def signal_history(
    *,
    user: Any,
    signal_ids: Iterable[int],
    start: datetime,
    end: datetime,
    aggregation: Aggregation,
) -> History:
    """Return the signals' points with `start <= time < end`, in the order the ids were given.

    Aggregates are whole UTC minutes or hours, each read from its rollup and stamped with its
    start; a bucket belongs to the range when it starts within it. Refuses a user who may not
    see the plant; an operator reads only their own lines' signals (another line's is unknown
    to them). Raises ValidationError, naming the parameter, for an unknown signal, a range
    that is not one, or more points than `MAX_POINTS`.
    """
    require_permission(user, VIEW_READINGS, REFUSAL)
    aggregation = Aggregation(aggregation)
    ids = list(dict.fromkeys(signal_ids))
    _check_request(ids, start, end)
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    shown = shown_line_ids(user)
    found = Signal.objects.filter(pk__in=ids)
    if shown is not None:  # an operator reads their own lines' signals
        found = found.filter(asset__line_id__in=shown)
    signals = {
        row[0]: row
        for row in found.values_list(
            "pk",
            "slug",
            "name",
            "unit",
            "asset_id",
            "asset__line__area__site__timezone",
            "sampling_interval_s",
        )
    }
    missing = [pk for pk in ids if pk not in signals]
    if missing:
        raise ValidationError({"signal_id": f"No signal {', '.join(map(str, missing))}."})
    source = _SOURCES[aggregation]
    _check_size([signals[pk][6] for pk in ids], start, end, aggregation, source)
    if connection.vendor != "postgresql":
        columns = _read_portable(ids, start, end, aggregation, source)
    elif aggregation is Aggregation.MINUTE:
        columns = _read_minutes_postgresql(ids, start, end)
    else:
        columns = _read_postgresql(ids, start, end, aggregation, source)
    if aggregation is Aggregation.RAW and sum(len(ts) for ts, _ in columns.values()) > MAX_POINTS:
        raise ValidationError(
            {
                "aggregation": f"These signals sent more than {MAX_POINTS:,} readings in the "
                "range, more than one response holds: ask for aggregation=minute or hour, "
                "or a shorter range."
            }
        )
    empty = _empty_columns(aggregation)
    series = []
    for pk in ids:
        _, slug, name, unit, asset_id, site_timezone, _ = signals[pk]
        ts_us, named = columns.get(pk, (np.empty(0, np.int64), empty))
        series.append(Series(pk, slug, name, unit, asset_id, site_timezone, ts_us, named))
    return History(aggregation, source.description, start, end, series)


def _check_request(ids: list[int], start: datetime, end: datetime) -> None:
    errors = {}
    if not ids:
        errors["signal_id"] = "Name at least one signal: signal_id=1&signal_id=2."
    elif len(ids) > MAX_SIGNALS:
        errors["signal_id"] = f"At most {MAX_SIGNALS} signals per request; {len(ids)} given."
    for field, at in (("from", start), ("to", end)):
        if at.utcoffset() is None:
            errors[field] = (
                f"Give {field} with its UTC offset (2026-11-22T10:00:00Z or +01:00): "
                "without one it could be the local time of any site."
            )
    if not errors and end <= start:
        errors["to"] = "to must be after from."
    if errors:
        raise ValidationError(errors)


def _check_size(
    intervals_s: list[float],
    start: datetime,
    end: datetime,
    aggregation: Aggregation,
    source: _Source,
) -> None:
    """Refuse, before reading, a request whose points would not fit in one response.

    Raw readings are counted at each signal's nominal sampling interval; a signal that sends
    faster is caught after the read, which is bounded per signal.
    """
    span_s = (end - start).total_seconds()
    if aggregation is Aggregation.RAW:
        # The admin refuses intervals under a millisecond; the database does not.
        estimate = sum(ceil(span_s / max(interval, 0.001)) for interval in intervals_s)
    else:
        estimate = len(intervals_s) * (ceil(span_s / source.width_s) + 1)
    if estimate <= MAX_POINTS:
        return
    coarser = {
        Aggregation.RAW: "aggregation=minute or hour, or a shorter range",
        Aggregation.MINUTE: "aggregation=hour, or a shorter range",
        Aggregation.HOUR: "a shorter range, or fewer signals",
    }[aggregation]
    raise ValidationError(
        {
            "aggregation": f"{aggregation} points of {len(intervals_s)} signals over "
            f"{span_s / 86_400:.3g} days are about {estimate:,}; one response holds at most "
            f"{MAX_POINTS:,}. Ask for {coarser}."
        }
    )


def _empty_columns(aggregation: Aggregation) -> dict[str, np.ndarray]:
    if aggregation is Aggregation.RAW:
        return {"value": np.empty(0, np.float64)}
    return {
        name: np.empty(0, np.int64 if name == "count" else np.float64) for name in AGGREGATE_COLUMNS
    }


Columns = dict[int, tuple[np.ndarray, dict[str, np.ndarray]]]


# An array as PostgreSQL's array_send writes it: a 20-byte header (one dimension, its flags,
# element type, length and lower bound), then each element as a big-endian length and value.
_ARRAY_HEADER_BYTES = 20
_ELEMENT = {
    "int8": np.dtype([("length", ">i4"), ("value", ">i8")]),
    "float8": np.dtype([("length", ">i4"), ("value", ">f8")]),
}


def _array(blob: bytes, kind: str) -> np.ndarray:
    return np.frombuffer(blob, dtype=_ELEMENT[kind], offset=_ARRAY_HEADER_BYTES)["value"]


def _read_postgresql(
    ids: list[int], start: datetime, end: datetime, aggregation: Aggregation, source: _Source
) -> Columns:
    """One statement: per signal, an index range scan in time order, each column aggregated
    into one array and sent in PostgreSQL's binary array format, which numpy reads as it is.

    A row per signal instead of one per point: 200,000 rows would cost the driver more than
    the query, and text results would double the bytes. Arrays cost the server less than
    packing each point into a record (a send call and a concatenation per value).
    """
    table = connection.ops.quote_name(source.model._meta.db_table)
    at = source.time_field
    if aggregation is Aggregation.RAW:
        columns = {"value": ("value", "float8")}
        limit = f"LIMIT {MAX_POINTS + 1}"  # an int of ours; enough to know it is too many
    else:
        columns = {
            "min": ("value_min", "float8"),
            "max": ("value_max", "float8"),
            "mean": ("value_sum / value_count", "float8"),
            "last": ("COALESCE(value_last, 'NaN')", "float8"),
            "count": ("value_count::bigint", "int8"),
        }
        limit = ""
    # Times go as PostgreSQL keeps them: microseconds since 2000-01-01 UTC, 8 bytes each.
    sent = [at, *(expression for expression, _ in columns.values())]
    arrays = ", ".join(f"array_send(array_agg({expression}))" for expression in sent)
    sql = f"""
        SELECT s.id, points.*
        FROM unnest(%s::bigint[]) AS s (id)
        CROSS JOIN LATERAL (
            SELECT {arrays}
            FROM (
                SELECT * FROM {table}
                WHERE signal_id = s.id AND {at} >= %s AND {at} < %s
                ORDER BY {at} {limit}
            ) AS in_time_order
        ) AS points
    """
    rows = _fetch_binary(sql, [ids, start, end])
    result: Columns = {}
    for signal_id, times, *blobs in rows:
        if times is None:  # no points in the range
            continue
        ts_us = _array(times, "int8").astype(np.int64) + PG_EPOCH_OFFSET_US
        named = {
            name: _array(blob, kind).astype(np.int64 if kind == "int8" else np.float64)
            for (name, (_, kind)), blob in zip(columns.items(), blobs, strict=True)
        }
        result[signal_id] = _in_time_order(ts_us, named)
    return result


def _read_minutes_postgresql(ids: list[int], start: datetime, end: datetime) -> Columns:
    """Minutes from the packs of the hours wholly in the range, and from the minute rollups
    for the rest (the range's ends, the open hour, hours written since their packing): one
    statement, so one snapshot of both.

    A week of packed hours is 168 values per signal, against 10,080 rows aggregated into
    arrays.
    """
    first_hour = _hour_floor(start) + (timedelta(0) if start == _hour_floor(start) else HOUR)
    past_last_hour = _hour_floor(end)  # an hour is wholly in the range when it ends by `end`
    rollup = {
        "minute": "minute",
        "min": "value_min",
        "max": "value_max",
        "mean": "value_sum / value_count",
        "last": "COALESCE(value_last, 'NaN')",
        "count": "value_count::bigint",
    }
    arrays = ", ".join(
        f"array_send(array_agg({expression} ORDER BY minute))" for expression in rollup.values()
    )
    # Per signal: its packs with their hours, then the gaps around them (before the first
    # packed hour, between packed hours, after the last), each read as a range of the minute
    # rollups' primary key.
    sql = f"""
        SELECT w.signal_id, packed.packs, loose.*
        FROM unnest(%(ids)s::bigint[]) AS w (signal_id)
        CROSS JOIN LATERAL (
            SELECT string_agg(minutes, ''::bytea ORDER BY hour) AS packs,
                array_agg(hour ORDER BY hour) AS hours
            FROM {_HOURS}
            WHERE signal_id = w.signal_id AND hour >= %(first_hour)s
                AND hour < %(past_last_hour)s AND minutes IS NOT NULL
        ) AS packed
        CROSS JOIN LATERAL (
            SELECT {arrays}
            FROM (
                SELECT hour + interval '1 hour' AS gap_start,
                    COALESCE(lead(hour) OVER (ORDER BY hour), %(end)s) AS gap_end
                FROM unnest(packed.hours) AS hour
                UNION ALL
                SELECT %(start)s, COALESCE(packed.hours[1], %(end)s)
            ) AS gap
            CROSS JOIN LATERAL (
                SELECT * FROM {_MINUTES}
                WHERE signal_id = w.signal_id
                    AND minute >= gap.gap_start AND minute < gap.gap_end
                OFFSET 0  -- kept a range read per gap, not merged into a join of all minutes
            ) AS minutes
            WHERE gap.gap_start < gap.gap_end
        ) AS loose
    """
    params = {
        "ids": ids,
        "start": start,
        "end": end,
        "first_hour": first_hour,
        "past_last_hour": past_last_hour,
    }
    rows = _fetch_binary(sql, params)
    result: Columns = {}
    for signal_id, packs, times, *blobs in rows:
        parts: list[tuple[np.ndarray, dict[str, np.ndarray]]] = []
        if packs:
            records = unpack(packs)
            count = records["count"].astype(np.int64)
            parts.append(
                (
                    records["minute"].astype(np.int64),
                    {
                        "min": records["min"].astype(np.float64),
                        "max": records["max"].astype(np.float64),
                        "mean": records["sum"].astype(np.float64) / count,
                        "last": records["last"].astype(np.float64),
                        "count": count,
                    },
                )
            )
        if times is not None:
            named = {
                name: _array(blob, kind).astype(np.int64 if kind == "int8" else np.float64)
                for name, kind, blob in zip(
                    AGGREGATE_COLUMNS,
                    ("float8", "float8", "float8", "float8", "int8"),
                    blobs,
                    strict=True,
                )
            }
            parts.append((_array(times, "int8").astype(np.int64), named))
        if not parts:
            continue
        ts_pg = np.concatenate([ts for ts, _ in parts])
        named = {
            name: np.concatenate([columns[name] for _, columns in parts])
            for name in AGGREGATE_COLUMNS
        }
        result[signal_id] = _in_time_order(ts_pg + PG_EPOCH_OFFSET_US, named)
    return result


def _hour_floor(at: datetime) -> datetime:
    return at.replace(minute=0, second=0, microsecond=0)


def _fetch_binary(sql: str, params: list | dict) -> list[tuple]:
    """Run `sql` on Django's connection, in its transaction, with binary results.

    A cursor of the driver's own with server-side parameters, since Django's client-side
    cursors cannot take binary results. Without JIT compilation: these reads are costed high
    (a signal's range is estimated from all its rows) and compiling them took longer than
    running them, 0.2 to 0.8 s a call when a prepared statement's generic plan was compiled.
    """
    connection.ensure_connection()
    with (
        transaction.atomic(),
        connection.wrap_database_errors,
        psycopg.Cursor(connection.connection) as cursor,
    ):
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(sql, params, binary=True, prepare=False)
        return cursor.fetchall()


def _in_time_order(
    ts_us: np.ndarray, named: dict[str, np.ndarray]
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    # array_agg keeps the order of its input, the ordered subquery's, but minutes come as
    # packs followed by the minutes around them: sorted here when they interleave (a stable
    # sort of a few sorted runs is about linear).
    if len(ts_us) > 1 and not (np.diff(ts_us) > 0).all():
        order = np.argsort(ts_us, kind="stable")
        return ts_us[order], {name: column[order] for name, column in named.items()}
    return ts_us, named


def _read_portable(
    ids: list[int], start: datetime, end: datetime, aggregation: Aggregation, source: _Source
) -> Columns:
    """The same read through the ORM, a row per point: for SQLite, the demo's database."""
    at = source.time_field
    points = source.model.objects.filter(
        signal_id__in=ids, **{f"{at}__gte": start, f"{at}__lt": end}
    ).order_by("signal_id", at)
    if aggregation is Aggregation.RAW:
        rows = list(points.values_list("signal_id", at, "value")[: MAX_POINTS + 1])
        names = ["value"]
    else:
        mean = ExpressionWrapper(F("value_sum") / F("value_count"), output_field=FloatField())
        rows = list(
            points.annotate(value_mean=mean).values_list(
                "signal_id",
                at,
                "value_min",
                "value_max",
                "value_mean",
                "value_last",
                "value_count",
            )
        )
        names = list(AGGREGATE_COLUMNS)
    by_signal: dict[int, list[tuple]] = {}
    for row in rows:
        by_signal.setdefault(row[0], []).append(row)
    result: Columns = {}
    for signal_id, signal_rows in by_signal.items():
        _, times, *values = zip(*signal_rows, strict=True)
        ts_us = np.array([datetime_to_us(t) for t in times], dtype=np.int64)
        named = {
            name: np.array(
                [np.nan if v is None else v for v in column],
                dtype=np.int64 if name == "count" else np.float64,
            )
            for name, column in zip(names, values, strict=True)
        }
        result[signal_id] = (ts_us, named)
    return result
