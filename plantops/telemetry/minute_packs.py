"""A closed hour's minute rollups packed in its hour rollup (`HourRollup.minutes`), so a week
of minutes is read as 168 values per signal instead of 10,080 rows.

A pack is the hour's minutes in time order, each a fixed record of PostgreSQL's binary send
functions (big-endian): the minute (`timestamptz_send`: microseconds since 2000-01-01 UTC),
min, max, sum, count and last value (NaN where unknown). numpy reads a run of packs as one
array of records, without a Python object per minute.

The rollup statement empties an hour's pack whenever it writes the hour, so a pack never
misses a minute; `packs_make` packs closed hours again. Reads take an hour from its pack only
when it has one, and its minutes from the minute rollups otherwise: a pack is an index of
the minutes, never their only copy. PostgreSQL only; SQLite (the demo) reads the minutes.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import numpy as np
from django.db import connection, transaction

from plantops.telemetry.models import HourRollup, MinuteRollup

PACK_RECORD = np.dtype(
    [
        ("minute", ">i8"),
        ("min", ">f8"),
        ("max", ">f8"),
        ("sum", ">f8"),
        ("count", ">i8"),
        ("last", ">f8"),
    ]
)
PACK_SQL = (
    "string_agg(timestamptz_send(minute) || float8send(value_min) || float8send(value_max)"
    " || float8send(value_sum) || int8send(value_count::bigint)"
    " || float8send(COALESCE(value_last, 'NaN')), ''::bytea ORDER BY minute)"
)
# Data of an hour that just closed may still be on its way in buffered batches; packing it
# at once would mostly be undone.
SETTLE = timedelta(minutes=10)
PACKS_PER_TRANSACTION = 2_000

_HOURS, _MINUTES = (
    connection.ops.quote_name(model._meta.db_table) for model in (HourRollup, MinuteRollup)
)


def unpack(blob: bytes) -> np.ndarray:
    """The records of a run of packs (one pack or several concatenated)."""
    return np.frombuffer(blob, dtype=PACK_RECORD)


def packs_make(*, now: datetime, limit: int = PACKS_PER_TRANSACTION) -> int:
    """Pack up to `limit` closed hours that have no pack; return how many were packed.

    Hours being written right now are skipped. The hours are locked first and their minutes
    read by a later statement, so a writer either committed before (its minutes are read) or
    waits for the lock and then empties the pack it finds: a pack never misses a minute.
    An hour without minutes (none should be) gets an empty pack rather than being retried.
    """
    if connection.vendor != "postgresql":
        return 0
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT signal_id, hour FROM {_HOURS}
                WHERE minutes IS NULL AND hour < %s
                ORDER BY signal_id, hour
                LIMIT %s
                FOR UPDATE SKIP LOCKED""",
            [now - SETTLE - timedelta(hours=1), limit],
        )
        due = cursor.fetchall()
        if not due:
            return 0
        signal_ids, hours = zip(*due, strict=True)
        cursor.execute(
            f"""UPDATE {_HOURS} AS h SET minutes = packed.minutes
                FROM unnest(%s::bigint[], %s::timestamptz[]) AS due (signal_id, hour)
                CROSS JOIN LATERAL (
                    SELECT COALESCE({PACK_SQL}, '') AS minutes FROM {_MINUTES}
                    WHERE signal_id = due.signal_id
                        AND minute >= due.hour AND minute < due.hour + interval '1 hour'
                ) AS packed
                WHERE h.signal_id = due.signal_id AND h.hour = due.hour""",
            [list(signal_ids), list(hours)],
        )
    return len(due)


def packs_make_all(*, now: datetime, budget_s: float = 60.0) -> int:
    """Pack closed hours a transaction at a time until none is left or `budget_s` is spent
    (a first run on months of rollups continues at the next beat)."""
    began, total = time.monotonic(), 0
    while time.monotonic() - began < budget_s:
        packed = packs_make(now=now)
        total += packed
        if packed == 0:
            break
    return total
