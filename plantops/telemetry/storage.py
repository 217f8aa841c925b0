"""Writing a batch's readings: the readings, their minute rollups and the latest per signal.

PostgreSQL takes the readings by binary COPY, and their rollups and latest values in one more
statement. A redelivered batch (or one that repeats a reading) makes the COPY fail on the
primary key, which fails the batch's transaction: the batch is then stored again with
`redelivered`, by one INSERT … ON CONFLICT DO NOTHING that rolls up only the rows it actually
inserted, so storing stays idempotent and only a redelivery pays for it. (That statement costs
the server more than the COPY and the rollup statement together, even for a few hundred
readings; and a savepoint to undo the COPY alone would cost every batch two round trips.)
SQLite, the demo's database, takes INSERT … ON CONFLICT in chunks of its 999-parameter limit.

Rollup and latest rows are always written in key order: concurrent workers lock them in the
same order and cannot deadlock.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from django.db import connection

from plantops.core.db import batch_cursor
from plantops.core.time import datetime_to_us, us_to_datetime
from plantops.telemetry.columns import FLOAT_MAX, ReadingColumns
from plantops.telemetry.models import LatestReading, MinuteRollup, Reading

Rows = list[tuple[int, int, float]]


def readings_store(
    *, readings: ReadingColumns, redelivered: bool = False, keep_latest: bool = True
) -> int:
    """Store readings not stored yet, roll them up and keep the latest per signal (unless not
    `keep_latest`: history a gateway sends is never a signal's current value).

    Call inside the batch's transaction. Returns the number of readings inserted. On
    PostgreSQL, a reading stored before raises IntegrityError (and fails the transaction)
    unless `redelivered`.
    """
    if not len(readings):
        return 0
    if connection.vendor == "postgresql":
        if redelivered:
            return _insert_new_postgresql(readings, keep_latest=keep_latest)
        return _store_postgresql(readings, keep_latest=keep_latest)
    rows = readings.rows()
    inserted = _insert_readings(rows)
    _roll_up(inserted)
    if keep_latest:
        _keep_latest(rows)
    return len(inserted)


# --- PostgreSQL -----------------------------------------------------------------------------

_READING, _ROLLUP, _LATEST = (
    f'"{m._meta.db_table}"' for m in (Reading, MinuteRollup, LatestReading)
)

# Added to a stored minute: min, max, count, and a sum that saturates, since float8 addition
# raises on overflow, which would refuse a valid (if absurd) reading such as 1e308 on every
# retry.
_ROLLUP_MERGE = f"""
    ON CONFLICT (signal_id, minute) DO UPDATE SET
        value_min = LEAST(r.value_min, excluded.value_min),
        value_max = GREATEST(r.value_max, excluded.value_max),
        value_sum = CASE
            WHEN abs(r.value_sum) < {FLOAT_MAX / 2} AND abs(excluded.value_sum) < {FLOAT_MAX / 2}
                OR sign(r.value_sum) <> sign(excluded.value_sum)
            THEN r.value_sum + excluded.value_sum
            ELSE sign(r.value_sum) * {FLOAT_MAX}
        END,
        value_count = r.value_count + excluded.value_count
"""
# Only a newer reading replaces the latest: late or redelivered data must not turn it back.
_LATEST_MERGE = """
    ON CONFLICT (signal_id) DO UPDATE SET ts = excluded.ts, value = excluded.value
    WHERE l.ts < excluded.ts
"""
_US = "TIMESTAMPTZ 'epoch' + {} * INTERVAL '1 microsecond'"


def _store_postgresql(columns: ReadingColumns, *, keep_latest: bool) -> int:
    copy_sql = f"COPY {_READING} (signal_id, ts, value) FROM STDIN (FORMAT BINARY)"
    with (
        connection.wrap_database_errors,
        connection.cursor() as cursor,
        cursor.copy(copy_sql) as copy,
    ):
        copy.write(columns.copy_binary())
    _merge_rollups_and_latest(columns, keep_latest=keep_latest)
    return len(columns)


def _merge_rollups_and_latest(columns: ReadingColumns, *, keep_latest: bool) -> None:
    """Add every reading of `columns` (all newly stored) to its minute and keep the newest."""
    minutes = columns.minute_aggregates()
    newest = columns.newest_per_signal() if keep_latest else ReadingColumns.empty()
    with batch_cursor() as cursor:
        cursor.execute(
            f"""
            WITH rolled AS (
                INSERT INTO {_ROLLUP} AS r
                    (signal_id, minute, value_min, value_max, value_sum, value_count)
                SELECT signal_id, {_US.format("minute_us")}, mn, mx, total, n
                FROM unnest(%s::bigint[], %s::bigint[], %s::float8[], %s::float8[],
                            %s::float8[], %s::bigint[])
                    AS input (signal_id, minute_us, mn, mx, total, n)
                {_ROLLUP_MERGE}
            )
            INSERT INTO {_LATEST} AS l (signal_id, ts, value)
            SELECT signal_id, {_US.format("ts_us")}, value
            FROM unnest(%s::bigint[], %s::bigint[], %s::float8[]) AS input (signal_id, ts_us, value)
            {_LATEST_MERGE}
            """,
            [
                *map(
                    _array_literal,
                    (
                        minutes.signal_ids,
                        minutes.minutes_us,
                        minutes.mins,
                        minutes.maxes,
                        minutes.sums,
                        minutes.counts,
                    ),
                ),
                *map(_array_literal, (newest.signal_ids, newest.ts_us, newest.values)),
            ],
        )


def _insert_new_postgresql(columns: ReadingColumns, *, keep_latest: bool) -> int:
    """Insert the readings not stored yet, roll up only those, keep the latest; one statement.

    Three array parameters, unnested by the server: the work per reading is done there, not
    by Python building a VALUES list.
    """
    with batch_cursor() as cursor:
        cursor.execute(
            f"""
            WITH batch AS (
                SELECT signal_id, {_US.format("ts_us")} AS ts, value
                FROM unnest(%s::bigint[], %s::bigint[], %s::double precision[])
                    AS input (signal_id, ts_us, value)
            ), inserted AS (
                INSERT INTO {_READING} (signal_id, ts, value)
                SELECT signal_id, ts, value FROM batch
                ON CONFLICT DO NOTHING
                RETURNING signal_id, ts, value
            ), rolled AS (
                INSERT INTO {_ROLLUP} AS r
                    (signal_id, minute, value_min, value_max, value_sum, value_count)
                SELECT signal_id, date_trunc('minute', ts, 'UTC'), min(value), max(value),
                       LEAST(GREATEST(sum(value), -{FLOAT_MAX}), {FLOAT_MAX}), count(*)
                FROM inserted
                GROUP BY 1, 2
                ORDER BY 1, 2
                {_ROLLUP_MERGE}
            ), newest AS (
                INSERT INTO {_LATEST} AS l (signal_id, ts, value)
                SELECT DISTINCT ON (signal_id) signal_id, ts, value
                FROM batch
                WHERE %s
                ORDER BY signal_id, ts DESC
                {_LATEST_MERGE}
            )
            SELECT count(*) FROM inserted
            """,
            [
                *(_array_literal(c) for c in (columns.signal_ids, columns.ts_us, columns.values)),
                keep_latest,
            ],
        )
        (count,) = cursor.fetchone()
    return count


def _array_literal(numbers) -> str:
    """PostgreSQL's text form of a numeric array. str() of an int or a finite float is exact."""
    return "{" + ",".join(map(str, numbers.tolist())) + "}"


# --- SQLite (and any other database) --------------------------------------------------------


def _insert_readings(readings: Rows) -> Rows:
    """Insert readings, skipping those already stored; return the ones this call inserted.

    What it returns feeds the rollups, so a redelivered batch, whose readings are all already
    there, adds nothing to them.
    """
    table = connection.ops.quote_name(Reading._meta.db_table)
    adapt = connection.ops.adapt_datetimefield_value
    by_key = {(signal_id, ts_us): value for signal_id, ts_us, value in readings}
    rows = sorted(by_key.items())
    chunk_size = 300  # SQLite allows 999 parameters per statement
    inserted: Rows = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), chunk_size):
            chunk = rows[start : start + chunk_size]
            params: list = []
            for (signal_id, ts_us), value in chunk:
                params.extend((signal_id, adapt(us_to_datetime(ts_us)), value))
            cursor.execute(
                f"INSERT INTO {table} (signal_id, ts, value) VALUES "
                + ", ".join(["(%s, %s, %s)"] * len(chunk))
                + " ON CONFLICT DO NOTHING RETURNING signal_id, ts",
                params,
            )
            for signal_id, ts in cursor.fetchall():
                ts_us = datetime_to_us(_as_utc(ts))
                inserted.append((signal_id, ts_us, by_key[(signal_id, ts_us)]))
    return inserted


def _as_utc(value: datetime | str) -> datetime:
    # SQLite returns Django's text form, in UTC.
    if isinstance(value, str):
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _roll_up(inserted: Rows) -> None:
    """Add newly inserted readings to their signals' minute rollups."""
    minutes: dict[tuple[int, int], list[float]] = {}
    for signal_id, ts_us, value in inserted:
        key = (signal_id, ts_us - ts_us % 60_000_000)
        agg = minutes.get(key)
        if agg is None:
            minutes[key] = [value, value, value, 1]
        else:
            agg[0] = min(agg[0], value)
            agg[1] = max(agg[1], value)
            agg[2] = _saturating_add(agg[2], value)
            agg[3] += 1
    if not minutes:
        return
    table = connection.ops.quote_name(MinuteRollup._meta.db_table)
    adapt = connection.ops.adapt_datetimefield_value
    rows = sorted(minutes.items())
    chunk_size = 150
    with connection.cursor() as cursor:
        for start in range(0, len(rows), chunk_size):
            chunk = rows[start : start + chunk_size]
            params: list = []
            for (signal_id, minute_us), (low, high, total, count) in chunk:
                params.extend(
                    (signal_id, adapt(us_to_datetime(minute_us)), low, high, total, count)
                )
            cursor.execute(
                f"INSERT INTO {table} (signal_id, minute, value_min, value_max, value_sum, value_count) VALUES "
                + ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(chunk))
                + " ON CONFLICT (signal_id, minute) DO UPDATE SET"
                f" value_min = min({table}.value_min, excluded.value_min),"
                f" value_max = max({table}.value_max, excluded.value_max),"
                f" value_sum = max(-{FLOAT_MAX!r}, min({FLOAT_MAX!r},"
                f" {table}.value_sum + excluded.value_sum)),"
                f" value_count = {table}.value_count + excluded.value_count",
                params,
            )


def _saturating_add(a: float, b: float) -> float:
    return max(-FLOAT_MAX, min(FLOAT_MAX, a + b))


def _keep_latest(readings: Iterable[tuple[int, int, float]]) -> None:
    newest: dict[int, tuple[int, float]] = {}
    for signal_id, ts_us, value in readings:
        known = newest.get(signal_id)
        if known is None or ts_us > known[0]:
            newest[signal_id] = (ts_us, value)
    table = connection.ops.quote_name(LatestReading._meta.db_table)
    adapt = connection.ops.adapt_datetimefield_value
    rows = sorted(newest.items())
    chunk_size = 300
    for start in range(0, len(rows), chunk_size):
        chunk = rows[start : start + chunk_size]
        params: list = []
        for signal_id, (ts_us, value) in chunk:
            params.extend((signal_id, adapt(us_to_datetime(ts_us)), value))
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (signal_id, ts, value) VALUES "
                + ", ".join(["(%s, %s, %s)"] * len(chunk))
                + f" ON CONFLICT (signal_id) DO UPDATE SET ts = excluded.ts, value = excluded.value"
                f" WHERE {table}.ts < excluded.ts",
                params,
            )
