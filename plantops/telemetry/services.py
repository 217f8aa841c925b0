"""Writes for the telemetry pipeline."""

from __future__ import annotations

import base64
import logging
import sys
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg
from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connection, transaction
from django.db.backends.utils import CursorWrapper
from django.db.models import Q, QuerySet
from django.utils import timezone

from plantops.alerts.services import alerts_evaluate_readings
from plantops.assets.models import Asset, Signal
from plantops.core import realtime
from plantops.floor.selectors import asset_tiles
from plantops.oee.models import CountEvent, StateEvent
from plantops.telemetry.batches import Batch
from plantops.telemetry.models import DeadLetter, LatestReading, MinuteRollup, Reading
from plantops.telemetry.payloads import (
    Limits,
    Reason,
    TopicRegistry,
    datetime_to_us,
    parse_message,
    us_to_datetime,
)

logger = logging.getLogger(__name__)

LIVE_POINTS_PER_SIGNAL = 300
# The largest finite float8: minute sums saturate here instead of overflowing.
FLOAT_MAX = sys.float_info.max


@dataclass(frozen=True)
class StoreOutcome:
    readings: int
    states: int
    counts: int
    dead_letters: int


def batch_store(*, batch: Batch) -> StoreOutcome:
    """Store a batch in one transaction, idempotently, and push live updates after commit.

    Readings go in with one INSERT … ON CONFLICT DO NOTHING on PostgreSQL, so a redelivered
    batch stores nothing twice; dead letters are keyed by (batch id, position) for the same reason.
    """
    with transaction.atomic():
        signal_meta = _existing_signals(batch)
        _drop_rows_of_deleted_config(batch, signal_meta)
        if batch.readings:
            if connection.vendor == "postgresql":
                _store_readings_postgresql(batch.readings)
            else:
                inserted = _insert_readings(batch.readings)
                _roll_up(inserted)
                _keep_latest(batch.readings)
        if batch.states:
            StateEvent.objects.bulk_create(
                [
                    StateEvent(asset_id=a, ts=us_to_datetime(t), state=s, reason=r)
                    for a, t, s, r in batch.states
                ],
                ignore_conflicts=True,
            )
            _keep_current_state(batch.states)
        if batch.counts:
            CountEvent.objects.bulk_create(
                [
                    CountEvent(asset_id=a, ts=us_to_datetime(t), good=g, scrap=b)
                    for a, t, g, b in batch.counts
                ],
                ignore_conflicts=True,
            )
        if batch.dead_letters:
            batch_uuid = uuid.UUID(hex=batch.batch_id)
            DeadLetter.objects.bulk_create(
                [
                    DeadLetter(
                        batch_id=batch_uuid,
                        position=position,
                        topic=topic,
                        payload=excerpt,
                        reason=reason,
                        detail=detail,
                        received_at=us_to_datetime(received_us),
                        raw=base64.b64decode(replay),
                    )
                    for position, (
                        topic,
                        excerpt,
                        reason,
                        detail,
                        received_us,
                        replay,
                    ) in enumerate(batch.dead_letters, start=batch.dead_letter_offset)
                ],
                ignore_conflicts=True,
            )
        # Rules are judged in the same transaction: their memory commits with the readings.
        alerts_evaluate_readings(readings=batch.readings)
        # Built after the commit: the alert events (queued above) go out first, without
        # waiting for the tiles' queries.
        transaction.on_commit(lambda: realtime.send_now(_live_messages(batch, signal_meta)))
    return StoreOutcome(
        readings=len(batch.readings),
        states=len(batch.states),
        counts=len(batch.counts),
        dead_letters=len(batch.dead_letters),
    )


def _store_readings_postgresql(readings: list[tuple[int, int, float]]) -> int:
    """Insert readings, add the new ones to their minute rollups and keep the latest per signal.

    One statement with three array parameters, whatever the batch size: PostgreSQL unnests them,
    so the work per reading is done by the server, not by Python building a VALUES list. Only
    the rows the INSERT … ON CONFLICT DO NOTHING actually inserted reach the rollups, so a
    redelivered batch adds nothing to them. Rollup and latest rows are written in key order:
    concurrent workers lock them in the same order and cannot deadlock. Returns the number of
    readings inserted.
    """
    signal_ids, ts_us, values = zip(*readings, strict=True)
    reading = connection.ops.quote_name(Reading._meta.db_table)
    rollup = connection.ops.quote_name(MinuteRollup._meta.db_table)
    latest = connection.ops.quote_name(LatestReading._meta.db_table)
    with _server_binding_cursor() as cursor:
        cursor.execute(
            f"""
            WITH batch AS (
                SELECT signal_id, TIMESTAMPTZ 'epoch' + ts_us * INTERVAL '1 microsecond' AS ts, value
                FROM unnest(%s::bigint[], %s::bigint[], %s::double precision[])
                    AS input (signal_id, ts_us, value)
            ), inserted AS (
                INSERT INTO {reading} (signal_id, ts, value)
                SELECT signal_id, ts, value FROM batch
                ON CONFLICT DO NOTHING
                RETURNING signal_id, ts, value
            ), rolled AS (
                INSERT INTO {rollup} AS r
                    (signal_id, minute, value_min, value_max, value_sum, value_count)
                SELECT signal_id, date_trunc('minute', ts, 'UTC'), min(value), max(value),
                       LEAST(GREATEST(sum(value), -{FLOAT_MAX}), {FLOAT_MAX}), count(*)
                FROM inserted
                GROUP BY 1, 2
                ORDER BY 1, 2
                ON CONFLICT (signal_id, minute) DO UPDATE SET
                    value_min = LEAST(r.value_min, excluded.value_min),
                    value_max = GREATEST(r.value_max, excluded.value_max),
                    -- Saturating: float8 addition raises on overflow, which would refuse
                    -- a valid (if absurd) reading such as 1e308 on every retry.
                    value_sum = CASE
                        WHEN abs(r.value_sum) < {FLOAT_MAX / 2} AND abs(excluded.value_sum) < {FLOAT_MAX / 2}
                            OR sign(r.value_sum) <> sign(excluded.value_sum)
                        THEN r.value_sum + excluded.value_sum
                        ELSE sign(r.value_sum) * {FLOAT_MAX}
                    END,
                    value_count = r.value_count + excluded.value_count
            ), newest AS (
                INSERT INTO {latest} AS l (signal_id, ts, value)
                SELECT DISTINCT ON (signal_id) signal_id, ts, value
                FROM batch
                ORDER BY signal_id, ts DESC
                -- Only a newer reading replaces the latest: late or redelivered data must not
                -- turn it back.
                ON CONFLICT (signal_id) DO UPDATE SET ts = excluded.ts, value = excluded.value
                WHERE l.ts < excluded.ts
            )
            SELECT count(*) FROM inserted
            """,
            [_array_literal(signal_ids), _array_literal(ts_us), _array_literal(values)],
        )
        (count,) = cursor.fetchone()
    return count


def _array_literal(numbers: Iterable[int | float]) -> str:
    """PostgreSQL's text form of a numeric array. str() of an int or a finite float is exact."""
    return "{" + ",".join(map(str, numbers)) + "}"


def _server_binding_cursor() -> CursorWrapper:
    """A psycopg cursor that sends parameters separately from the query, wrapped like Django's.

    Django's own PostgreSQL cursors bind client-side: every parameter is adapted and quoted into
    the SQL text, which for a batch's arrays costs several times the CPU of sending three
    ready-made array literals as they are; the wrapper keeps Django's query logging and
    execute wrappers.
    """
    connection.ensure_connection()
    raw = psycopg.Cursor(connection.connection)
    if connection.queries_logged:
        return connection.make_debug_cursor(raw)
    return connection.make_cursor(raw)


def _insert_readings(readings: list[tuple[int, int, float]]) -> list[tuple[int, int, float]]:
    """Insert readings, skipping those already stored; return the ones this call inserted.

    The portable path, for SQLite (999 parameters a statement). What it returns feeds the rollups, so a redelivered batch,
    whose readings are all already there, adds nothing to them.
    """
    table = connection.ops.quote_name(Reading._meta.db_table)
    adapt = connection.ops.adapt_datetimefield_value
    by_key = {(signal_id, ts_us): value for signal_id, ts_us, value in readings}
    rows = sorted(by_key.items())
    chunk_size = 300 if connection.vendor == "sqlite" else 20_000
    inserted: list[tuple[int, int, float]] = []
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
    # PostgreSQL returns aware datetimes; SQLite returns Django's text form, in UTC.
    if isinstance(value, str):
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _roll_up(inserted: list[tuple[int, int, float]]) -> None:
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
    least, greatest = ("min", "max") if connection.vendor == "sqlite" else ("LEAST", "GREATEST")
    rows = sorted(minutes.items())  # a fixed lock order: concurrent workers cannot deadlock
    chunk_size = 150 if connection.vendor == "sqlite" else 5_000
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
                f" value_min = {least}({table}.value_min, excluded.value_min),"
                f" value_max = {greatest}({table}.value_max, excluded.value_max),"
                f" value_sum = {greatest}(-{FLOAT_MAX!r}, {least}({FLOAT_MAX!r},"
                f" {table}.value_sum + excluded.value_sum)),"
                f" value_count = {table}.value_count + excluded.value_count",
                params,
            )


def _saturating_add(a: float, b: float) -> float:
    return max(-FLOAT_MAX, min(FLOAT_MAX, a + b))


def _keep_latest(readings: list[tuple[int, int, float]]) -> None:
    newest: dict[int, tuple[int, float]] = {}
    for signal_id, ts_us, value in readings:
        known = newest.get(signal_id)
        if known is None or ts_us > known[0]:
            newest[signal_id] = (ts_us, value)
    table = connection.ops.quote_name(LatestReading._meta.db_table)
    adapt = connection.ops.adapt_datetimefield_value
    # Sorted, so concurrent workers lock the same rows in the same order and cannot deadlock.
    rows = sorted(newest.items())
    # SQLite allows 999 parameters per statement; PostgreSQL takes a batch's signals in one.
    chunk_size = 300 if connection.vendor == "sqlite" else 10_000
    for start in range(0, len(rows), chunk_size):
        chunk = rows[start : start + chunk_size]
        params: list = []
        for signal_id, (ts_us, value) in chunk:
            params.extend((signal_id, adapt(us_to_datetime(ts_us)), value))
        # Only a newer reading replaces the latest: late or redelivered data must not turn it back.
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (signal_id, ts, value) VALUES "
                + ", ".join(["(%s, %s, %s)"] * len(chunk))
                + f" ON CONFLICT (signal_id) DO UPDATE SET ts = excluded.ts, value = excluded.value"
                f" WHERE {table}.ts < excluded.ts",
                params,
            )


def _keep_current_state(states: list[tuple[int, int, str, str]]) -> None:
    newest: dict[int, tuple[int, str, str]] = {}
    for asset_id, ts_us, state, reason in states:
        known = newest.get(asset_id)
        if known is None or ts_us > known[0]:
            newest[asset_id] = (ts_us, state, reason)
    # State changes are rare (seconds to hours apart), so one UPDATE per asset is fine here.
    for asset_id, (ts_us, state, reason) in sorted(newest.items()):
        since = us_to_datetime(ts_us)
        Asset.objects.filter(
            Q(state_since__isnull=True) | Q(state_since__lt=since), pk=asset_id
        ).update(state=state, state_reason=reason, state_since=since)


def batch_store_salvaging(*, batch: Batch) -> StoreOutcome:
    """Store a batch; if the database refuses one of its rows, store the rest, halving around it.

    Connection errors propagate so the task retries the whole batch. Any other refusal would
    fail the same way on every retry; without this, one unstorable row would cost thousands.
    """
    try:
        return batch_store(batch=batch)
    except (OperationalError, InterfaceError):
        raise
    except (DatabaseError, ValueError) as error:
        if batch.size <= 1:
            logger.error("dropped a row the database refuses (%s): %s", error, batch.to_message())
            return StoreOutcome(readings=0, states=0, counts=0, dead_letters=0)
        logger.warning("batch %s refused (%s); storing it in halves", batch.batch_id, error)
        first, second = batch.halves()
        stored = [batch_store_salvaging(batch=first), batch_store_salvaging(batch=second)]
        return StoreOutcome(
            readings=sum(o.readings for o in stored),
            states=sum(o.states for o in stored),
            counts=sum(o.counts for o in stored),
            dead_letters=sum(o.dead_letters for o in stored),
        )


def _existing_signals(batch: Batch) -> dict[int, tuple[int, str]]:
    """Return signal id → (asset id, slug) for the batch's signals that still exist."""
    signal_ids = {signal_id for signal_id, _, _ in batch.readings}
    if not signal_ids:
        return {}
    rows = Signal.objects.filter(pk__in=signal_ids).values_list("pk", "asset_id", "slug")
    return {pk: (asset_id, slug) for pk, asset_id, slug in rows}


def _drop_rows_of_deleted_config(batch: Batch, signal_meta: dict[int, tuple[int, str]]) -> None:
    """Drop rows whose signal or asset was deleted after ingest resolved the topic.

    Their foreign keys would fail the whole batch on every retry; they become dead letters.
    """
    gone = [row for row in batch.readings if row[0] not in signal_meta]
    if gone:
        now_us = datetime_to_us(timezone.now())
        batch.readings = [row for row in batch.readings if row[0] in signal_meta]
        batch.dead_letters.extend(
            (
                f"signal {signal_id}",
                f"{value}",
                Reason.UNKNOWN_SIGNAL.value,
                "signal deleted before its reading was stored",
                now_us,
                "",
            )
            for signal_id, _, value in gone
        )
    asset_ids = {row[0] for row in batch.states} | {row[0] for row in batch.counts}
    if asset_ids:
        existing = set(Asset.objects.filter(pk__in=asset_ids).values_list("pk", flat=True))
        if existing != asset_ids:
            batch.states = [row for row in batch.states if row[0] in existing]
            batch.counts = [row for row in batch.counts if row[0] in existing]


def _live_messages(batch: Batch, signal_meta: dict[int, tuple[int, str]]) -> list[tuple[str, dict]]:
    """One message per asset touched by the batch, plus one floor message with their tiles."""
    by_signal: dict[int, list[tuple[int, float]]] = {}
    for signal_id, ts_us, value in batch.readings:
        series = by_signal.get(signal_id)
        if series is None:
            by_signal[signal_id] = series = []
        series.append((ts_us, value))
    # Per asset, per signal slug: the newest points in time order, timestamps in milliseconds.
    points: dict[int, dict[str, list[tuple[int, float]]]] = {}
    for signal_id, series in by_signal.items():
        meta = signal_meta.get(signal_id)
        if meta is None:
            continue
        asset_id, slug = meta
        series.sort()
        points.setdefault(asset_id, {})[slug] = [
            (ts_us // 1000, value) for ts_us, value in series[-LIVE_POINTS_PER_SIGNAL:]
        ]
    asset_ids = set(points) | {asset_id for asset_id, _, _, _ in batch.states}
    if not asset_ids:
        return []
    tiles = {tile["id"]: tile for tile in asset_tiles(asset_ids=asset_ids)}
    messages: list[tuple[str, dict]] = []
    for asset_id in sorted(asset_ids):
        series = points.get(asset_id, {})
        messages.append(
            (
                realtime.asset_group(asset_id),
                {
                    "type": "asset.update",
                    "asset": asset_id,
                    "points": series,
                    "tile": tiles.get(asset_id),
                },
            )
        )
    messages.append((realtime.FLOOR_GROUP, {"type": "floor.update", "tiles": list(tiles.values())}))
    return messages


def readings_purge(*, older_than_days: int, now: datetime | None = None) -> int:
    """Delete readings older than the retention window, a day at a time; return how many went.

    One day per statement keeps each delete short, so ingest never waits long on its locks.
    """
    cutoff = (now or timezone.now()) - timedelta(days=older_than_days)
    oldest = (
        Reading.objects.filter(ts__lt=cutoff).order_by("ts").values_list("ts", flat=True).first()
    )
    deleted = 0
    while oldest is not None and oldest < cutoff:
        upper = min(oldest + timedelta(days=1), cutoff)
        n, _ = Reading.objects.filter(ts__lt=upper).delete()
        deleted += n
        oldest = upper
    return deleted


def dead_letters_purge(*, older_than_days: int) -> int:
    """Delete dead letters older than the retention window; return how many went."""
    cutoff = timezone.now() - timedelta(days=older_than_days)
    deleted, _ = DeadLetter.objects.filter(received_at__lt=cutoff).delete()
    return deleted


@dataclass(frozen=True)
class ReplayOutcome:
    stored: int
    still_refused: int
    not_replayable: int


def dead_letters_replay(
    *, dead_letters: QuerySet[DeadLetter], registry: TopicRegistry
) -> ReplayOutcome:
    """Parse dead letters again with today's plant model; store what now passes, delete those.

    For the messages that were refused because a signal or asset was not configured yet: once
    an admin adds it, they are stored as if they had just arrived. Those still refused keep
    their record, with the new reason.
    """
    limits = Limits(
        now_us=datetime_to_us(timezone.now()),
        max_future_us=settings.TELEMETRY_MAX_FUTURE_S * 1_000_000,
        max_age_us=settings.TELEMETRY_RETENTION_DAYS * 86_400 * 1_000_000,
    )
    batch = Batch(batch_id=uuid.uuid4().hex)
    replayed: list[int] = []
    still_refused = not_replayable = 0
    for letter in dead_letters:
        raw = bytes(letter.raw)
        if not raw:
            not_replayable += 1
            continue
        result = parse_message(letter.topic, raw, registry=registry, limits=limits)
        if result.rejections:
            still_refused += 1
            first = result.rejections[0]
            DeadLetter.objects.filter(pk=letter.pk).update(
                reason=first.reason.value, detail=first.detail[:300]
            )
            continue
        batch.readings.extend(result.readings)
        batch.states.extend(result.states)
        batch.counts.extend(result.counts)
        replayed.append(letter.pk)
    with transaction.atomic():
        batch_store(batch=batch)
        DeadLetter.objects.filter(pk__in=replayed).delete()
    return ReplayOutcome(
        stored=len(replayed), still_refused=still_refused, not_replayable=not_replayable
    )
