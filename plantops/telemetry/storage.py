"""Writing a batch's readings: the readings, their minute and hour rollups and the latest per
signal.

PostgreSQL takes the readings by binary COPY, and their rollups and latest values in one more
statement. A redelivered batch (or one that repeats a reading) makes the COPY fail on the
primary key, which fails the batch's transaction: the batch is then stored again with
`redelivered`, by one INSERT … ON CONFLICT DO NOTHING that rolls up only the rows it actually
inserted, so storing stays idempotent and only a redelivery pays for it. (That statement costs
the server more than the COPY and the rollup statement together, even for a few hundred
readings; and a savepoint to undo the COPY alone would cost every batch two round trips.)
SQLite, the demo's database, takes the readings, their rollups (aggregated by numpy, as for
PostgreSQL) and latest values by `executemany`; a batch that repeats a stored reading rolls
back to a savepoint and is inserted again by INSERT … ON CONFLICT in chunks of its
999-parameter limit.

Rollup and latest rows are always written in key order: concurrent workers lock them in the
same order and cannot deadlock.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

import numpy as np
from django.db import IntegrityError, connection, transaction

from plantops.core.db import batch_cursor
from plantops.core.time import datetime_to_us, us_to_datetime
from plantops.telemetry.columns import FLOAT_MAX, PeriodAggregates, ReadingColumns
from plantops.telemetry.models import HourRollup, LatestReading, MinuteRollup, Reading

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
    inserted = _insert_readings(readings)
    _roll_up(inserted.minute_aggregates(), model=MinuteRollup, key="minute")
    _roll_up(inserted.hour_aggregates(), model=HourRollup, key="hour")
    if keep_latest:
        _keep_latest(readings.newest_per_signal())
    return len(inserted)


# --- PostgreSQL -----------------------------------------------------------------------------

_READING, _ROLLUP, _HOURLY, _LATEST = (
    f'"{m._meta.db_table}"' for m in (Reading, MinuteRollup, HourRollup, LatestReading)
)


def _rollup_merge(key: str) -> str:
    """What a minute's or hour's new readings add to its stored row.

    Min, max, count, and a sum that saturates, since float8 addition raises on overflow, which
    would refuse a valid (if absurd) reading such as 1e308 on every retry. The last value only
    moves forward in time: late readings of the period leave a newer one in place. An hour's
    packed minutes no longer hold all of it: emptied, to be packed again (`minute_packs`).
    """
    unpack = ",\n        minutes = NULL" if key == "hour" else ""
    return f"""
    ON CONFLICT (signal_id, {key}) DO UPDATE SET
        value_min = LEAST(r.value_min, excluded.value_min),
        value_max = GREATEST(r.value_max, excluded.value_max),
        value_sum = CASE
            WHEN abs(r.value_sum) < {FLOAT_MAX / 2} AND abs(excluded.value_sum) < {FLOAT_MAX / 2}
                OR sign(r.value_sum) <> sign(excluded.value_sum)
            THEN r.value_sum + excluded.value_sum
            ELSE sign(r.value_sum) * {FLOAT_MAX}
        END,
        value_count = r.value_count + excluded.value_count,
        last_ts = GREATEST(r.last_ts, excluded.last_ts),
        value_last = CASE WHEN r.last_ts IS NULL OR excluded.last_ts > r.last_ts
            THEN excluded.value_last ELSE r.value_last END{unpack}
"""


_ROLLUP_COLUMNS = "value_min, value_max, value_sum, value_count, last_ts, value_last"
_AGGREGATE_ARRAYS = """unnest(%s::bigint[], %s::bigint[], %s::float8[], %s::float8[],
                            %s::float8[], %s::bigint[], %s::bigint[], %s::float8[])
                    AS input (signal_id, start_us, mn, mx, total, n, last_us, last)"""
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
    """Add every reading of `columns` (all newly stored) to its minute and hour, and keep the
    newest."""
    minutes, hours = columns.minute_aggregates(), columns.hour_aggregates()
    newest = columns.newest_per_signal() if keep_latest else ReadingColumns.empty()
    rolled_up = f"""SELECT signal_id, {_US.format("start_us")}, mn, mx, total, n,
                    {_US.format("last_us")}, last
                FROM {_AGGREGATE_ARRAYS}"""
    with batch_cursor() as cursor:
        cursor.execute(
            f"""
            WITH rolled AS (
                INSERT INTO {_ROLLUP} AS r (signal_id, minute, {_ROLLUP_COLUMNS})
                {rolled_up}
                {_rollup_merge("minute")}
            ), hourly AS (
                INSERT INTO {_HOURLY} AS r (signal_id, hour, {_ROLLUP_COLUMNS})
                {rolled_up}
                {_rollup_merge("hour")}
            )
            INSERT INTO {_LATEST} AS l (signal_id, ts, value)
            SELECT signal_id, {_US.format("ts_us")}, value
            FROM unnest(%s::bigint[], %s::bigint[], %s::float8[]) AS input (signal_id, ts_us, value)
            {_LATEST_MERGE}
            """,
            [
                *(
                    _array_literal(column)
                    for period in (minutes, hours)
                    for column in (
                        period.signal_ids,
                        period.starts_us,
                        period.mins,
                        period.maxes,
                        period.sums,
                        period.counts,
                        period.last_ts_us,
                        period.lasts,
                    )
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
                INSERT INTO {_ROLLUP} AS r (signal_id, minute, {_ROLLUP_COLUMNS})
                {_rolled_up_sql("minute")}
                {_rollup_merge("minute")}
            ), hourly AS (
                INSERT INTO {_HOURLY} AS r (signal_id, hour, {_ROLLUP_COLUMNS})
                {_rolled_up_sql("hour")}
                {_rollup_merge("hour")}
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


def _rolled_up_sql(period: str) -> str:
    """The minutes' or hours' aggregates of the readings a statement's `inserted` returned."""
    return f"""SELECT signal_id, date_trunc('{period}', ts, 'UTC'), min(value), max(value),
                       LEAST(GREATEST(sum(value), -{FLOAT_MAX}), {FLOAT_MAX}), count(*),
                       max(ts), (array_agg(value ORDER BY ts DESC))[1]
                FROM inserted
                GROUP BY 1, 2
                ORDER BY 1, 2"""


def _array_literal(numbers) -> str:
    """PostgreSQL's text form of a numeric array. str() of an int or a finite float is exact."""
    return "{" + ",".join(map(str, numbers.tolist())) + "}"


# --- SQLite (and any other database) --------------------------------------------------------


def _insert_readings(readings: ReadingColumns) -> ReadingColumns:
    """Insert readings, skipping those already stored; return the ones this call inserted.

    What it returns feeds the rollups, so a redelivered batch, whose readings are all already
    there, adds nothing to them. New readings (the usual case) go in by one `executemany`; a
    batch that repeats a stored reading fails it, rolls back to its savepoint and inserts
    chunk by chunk, each statement returning what it inserted.
    """
    unique = _last_of_each_key(readings)
    adapt = _adapted_times(unique.ts_us.tolist())
    signal_ids, ts_us, values = (
        unique.signal_ids.tolist(),
        unique.ts_us.tolist(),
        unique.values.tolist(),
    )
    table = connection.ops.quote_name(Reading._meta.db_table)
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {table} (signal_id, ts, value) VALUES (%s, %s, %s)",
                [(s, adapt[t], v) for s, t, v in zip(signal_ids, ts_us, values, strict=True)],
            )
        return unique
    except IntegrityError:
        pass
    by_key = {(s, t): v for s, t, v in zip(signal_ids, ts_us, values, strict=True)}
    rows = list(by_key.items())
    chunk_size = 300  # SQLite allows 999 parameters per statement
    inserted: Rows = []
    parsed: dict[object, int] = {}
    with connection.cursor() as cursor:
        for start in range(0, len(rows), chunk_size):
            chunk = rows[start : start + chunk_size]
            params: list = []
            for (signal_id, moment_us), value in chunk:
                params.extend((signal_id, adapt[moment_us], value))
            cursor.execute(
                f"INSERT INTO {table} (signal_id, ts, value) VALUES "
                + ", ".join(["(%s, %s, %s)"] * len(chunk))
                + " ON CONFLICT DO NOTHING RETURNING signal_id, ts",
                params,
            )
            for signal_id, ts in cursor.fetchall():
                moment_us = parsed.get(ts)
                if moment_us is None:
                    moment_us = parsed[ts] = datetime_to_us(_as_utc(ts))
                inserted.append((signal_id, moment_us, by_key[(signal_id, moment_us)]))
    return ReadingColumns.from_rows(inserted)


def _last_of_each_key(readings: ReadingColumns) -> ReadingColumns:
    """The readings with one per (signal, ts), in key order: of a repeated key, the one that
    arrived last."""
    order = np.lexsort((readings.ts_us, readings.signal_ids))
    signal_ids, ts_us = readings.signal_ids[order], readings.ts_us[order]
    last = np.ones(len(order), dtype=bool)
    last[:-1] = (signal_ids[1:] != signal_ids[:-1]) | (ts_us[1:] != ts_us[:-1])
    keep = order[last]
    return ReadingColumns(
        signal_ids=readings.signal_ids[keep],
        ts_us=readings.ts_us[keep],
        values=readings.values[keep],
    )


def _adapted_times(times_us: Iterable[int]) -> dict[int, object]:
    """Each distinct moment in the database's form: a batch's readings share few moments (all
    of an asset's signals are sampled together), and converting one per reading cost more
    than inserting it."""
    adapt = connection.ops.adapt_datetimefield_value
    return {ts_us: adapt(us_to_datetime(ts_us)) for ts_us in set(times_us)}


def _as_utc(value: datetime | str) -> datetime:
    # SQLite returns Django's text form, in UTC.
    if isinstance(value, str):
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _roll_up(periods: PeriodAggregates, *, model: type, key: str) -> None:
    """Add newly inserted readings' aggregates to their signals' minute (or hour) rollups."""
    if not len(periods):
        return
    table = connection.ops.quote_name(model._meta.db_table)
    starts_us, last_ts_us = periods.starts_us.tolist(), periods.last_ts_us.tolist()
    adapt = _adapted_times(starts_us + last_ts_us)
    rows = [
        (signal_id, adapt[start_us], low, high, total, count, adapt[last_us], last)
        for signal_id, start_us, low, high, total, count, last_us, last in zip(
            periods.signal_ids.tolist(),
            starts_us,
            periods.mins.tolist(),
            periods.maxes.tolist(),
            periods.sums.tolist(),
            periods.counts.tolist(),
            last_ts_us,
            periods.lasts.tolist(),
            strict=True,
        )
    ]
    # SQLite keeps datetimes as text of one format, which sorts as the times do. Rows come in
    # key order (`PeriodAggregates`).
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {table} (signal_id, {key}, value_min, value_max, value_sum,"
            " value_count, last_ts, value_last) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
            f" ON CONFLICT (signal_id, {key}) DO UPDATE SET"
            f" value_min = min({table}.value_min, excluded.value_min),"
            f" value_max = max({table}.value_max, excluded.value_max),"
            f" value_sum = max(-{FLOAT_MAX!r}, min({FLOAT_MAX!r},"
            f" {table}.value_sum + excluded.value_sum)),"
            f" value_count = {table}.value_count + excluded.value_count,"
            f" value_last = CASE WHEN {table}.last_ts IS NULL"
            f" OR excluded.last_ts > {table}.last_ts"
            f" THEN excluded.value_last ELSE {table}.value_last END,"
            f" last_ts = CASE WHEN {table}.last_ts IS NULL"
            f" OR excluded.last_ts > {table}.last_ts"
            f" THEN excluded.last_ts ELSE {table}.last_ts END"
            + (", minutes = NULL" if key == "hour" else ""),
            rows,
        )


def _keep_latest(newest: ReadingColumns) -> None:
    """Keep each signal's newest reading (`newest`: one per signal, in signal order)."""
    table = connection.ops.quote_name(LatestReading._meta.db_table)
    ts_us = newest.ts_us.tolist()
    adapt = _adapted_times(ts_us)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {table} (signal_id, ts, value) VALUES (%s, %s, %s)"
            f" ON CONFLICT (signal_id) DO UPDATE SET ts = excluded.ts, value = excluded.value"
            f" WHERE {table}.ts < excluded.ts",
            [
                (signal_id, adapt[moment_us], value)
                for signal_id, moment_us, value in zip(
                    newest.signal_ids.tolist(), ts_us, newest.values.tolist(), strict=True
                )
            ],
        )
