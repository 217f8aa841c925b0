"""Writes for the telemetry pipeline."""

from __future__ import annotations

import base64
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from plantops.alerts.services import alerts_evaluate_readings
from plantops.assets.models import Asset, Signal
from plantops.core import realtime
from plantops.floor.selectors import asset_tiles
from plantops.health.services import failures_from_states
from plantops.oee.models import CountEvent, StateEvent
from plantops.oee.services import oee_hours_forget, oee_push_soon
from plantops.telemetry import timescale
from plantops.telemetry.batches import Batch
from plantops.telemetry.columns import ReadingColumns
from plantops.telemetry.models import DeadLetter, Reading
from plantops.telemetry.payloads import (
    Limits,
    Reason,
    TopicRegistry,
    datetime_to_us,
    parse_message,
    us_to_datetime,
)
from plantops.telemetry.storage import readings_store

logger = logging.getLogger(__name__)

LIVE_POINTS_PER_SIGNAL = 300


@dataclass(frozen=True)
class StoreOutcome:
    readings: int
    states: int
    counts: int
    dead_letters: int


def batch_store(*, batch: Batch) -> StoreOutcome:
    """Store a batch in one transaction, idempotently, and push live updates after commit.

    A redelivered batch stores nothing twice: readings are unique per (signal, ts) (see
    `storage`), events per (asset, ts), dead letters per (batch id, position).
    """
    with transaction.atomic():
        signal_ids = batch.reading_columns().distinct_signal_ids()
        signal_meta = _existing_signals(signal_ids)
        if len(signal_meta) < len(signal_ids):
            _drop_readings_of_deleted_signals(batch, signal_meta)
        columns = batch.reading_columns()
        _drop_events_of_deleted_assets(batch)
        readings_store(rows=batch.readings, columns=columns)
        if batch.states:
            StateEvent.objects.bulk_create(
                [
                    StateEvent(asset_id=a, ts=us_to_datetime(t), state=s, reason=r)
                    for a, t, s, r in batch.states
                ],
                ignore_conflicts=True,
            )
            _keep_current_state(batch.states)
            failures_from_states(states=batch.states)
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
        if batch.states or batch.counts:
            touched = {a for a, *_ in batch.states} | {a for a, *_ in batch.counts}
            # Each asset's line (for the OEE screens) and what it makes now (for its counts).
            facts = {
                pk: (line_id, product_id)
                for pk, line_id, product_id in Asset.objects.filter(pk__in=touched).values_list(
                    "pk", "line_id", "current_product_id"
                )
            }
            if batch.counts:
                CountEvent.objects.bulk_create(
                    [
                        CountEvent(
                            asset_id=a,
                            ts=us_to_datetime(t),
                            good=g,
                            scrap=b,
                            product_id=facts.get(a, (None, None))[1],
                        )
                        for a, t, g, b in batch.counts
                    ],
                    ignore_conflicts=True,
                )
            # Late states and counts change hours whose OEE snapshots were already made.
            oee_hours_forget(
                states=[(a, t) for a, t, _, _ in batch.states],
                counts=[(a, t) for a, t, _, _ in batch.counts],
            )
            line_ids = {line_id for line_id, _ in facts.values()}
            transaction.on_commit(lambda: oee_push_soon(line_ids=line_ids))
        # Rules are judged in the same transaction: their memory commits with the readings.
        alerts_evaluate_readings(readings=batch.readings)
        # Built after the commit: the alert events (queued above) go out first, without
        # waiting for the tiles' queries.
        transaction.on_commit(
            lambda: realtime.send_now(_live_messages(batch, columns, signal_meta))
        )
    return StoreOutcome(
        readings=len(batch.readings),
        states=len(batch.states),
        counts=len(batch.counts),
        dead_letters=len(batch.dead_letters),
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


def _existing_signals(signal_ids: list[int]) -> dict[int, tuple[int, str]]:
    """Return signal id → (asset id, slug) for those of the signals that still exist."""
    if not signal_ids:
        return {}
    rows = Signal.objects.filter(pk__in=signal_ids).values_list("pk", "asset_id", "slug")
    return {pk: (asset_id, slug) for pk, asset_id, slug in rows}


def _drop_readings_of_deleted_signals(
    batch: Batch, signal_meta: dict[int, tuple[int, str]]
) -> None:
    """Turn readings whose signal was deleted after ingest resolved the topic into dead letters.

    Nothing would ever show them, and the signal's id is never reused.
    """
    now_us = datetime_to_us(timezone.now())
    batch.dead_letters.extend(
        (
            f"signal {signal_id}",
            f"{value}",
            Reason.UNKNOWN_SIGNAL.value,
            "signal deleted before its reading was stored",
            now_us,
            "",
        )
        for signal_id, _, value in batch.readings
        if signal_id not in signal_meta
    )
    batch.readings = [row for row in batch.readings if row[0] in signal_meta]


def _drop_events_of_deleted_assets(batch: Batch) -> None:
    """Drop states and counts whose asset was deleted: their foreign keys would fail the whole
    batch on every retry."""
    asset_ids = {row[0] for row in batch.states} | {row[0] for row in batch.counts}
    if asset_ids:
        existing = set(Asset.objects.filter(pk__in=asset_ids).values_list("pk", flat=True))
        if existing != asset_ids:
            batch.states = [row for row in batch.states if row[0] in existing]
            batch.counts = [row for row in batch.counts if row[0] in existing]


def _live_messages(
    batch: Batch, columns: ReadingColumns, signal_meta: dict[int, tuple[int, str]]
) -> list[tuple[str, dict]]:
    """One message per asset touched by the batch, plus one floor message with their tiles."""
    # Per asset, per signal slug: the newest points in time order, timestamps in milliseconds.
    points: dict[int, dict[str, list[tuple[int, float]]]] = {}
    for signal_id, series in columns.series_per_signal(limit=LIVE_POINTS_PER_SIGNAL).items():
        meta = signal_meta.get(signal_id)
        if meta is not None:
            asset_id, slug = meta
            points.setdefault(asset_id, {})[slug] = series
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
    """Delete readings older than the retention window, a day at a time; return how many rows
    were deleted.

    One day per statement keeps each delete short, so ingest never waits long on its locks. On
    a TimescaleDB hypertable the chunks wholly past the window are dropped first (logged, not
    counted: dropping a chunk does not count its rows), leaving only the chunk that straddles
    the cutoff to delete from.
    """
    cutoff = (now or timezone.now()) - timedelta(days=older_than_days)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            if timescale.is_hypertable(cursor):
                dropped = timescale.drop_chunks_before(cursor, cutoff)
                logger.info("retention dropped %d chunks of readings before %s", dropped, cutoff)
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
