"""Writes for telemetry: a batch's readings and dead letters, and their retention.

The batch as a whole (readings with the machines' states and counts, alerts, the live push)
is stored by `pipeline.services.batch_store`; these are telemetry's own steps in it.
"""

from __future__ import annotations

import base64
import logging
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from django.db import connection
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify

from plantops.assets.models import Asset, Signal
from plantops.core.kept import Kept
from plantops.core.time import now_us, us_to_datetime
from plantops.telemetry import timescale
from plantops.telemetry.batches import Batch, DeadLetterRecord
from plantops.telemetry.models import DeadLetter, Reading, SparkplugMetric, SparkplugSource
from plantops.telemetry.payloads import Reason
from plantops.telemetry.sparkplug_wire import EventKind, SeenMetric, SparkplugEvent

logger = logging.getLogger(__name__)

# Signal id → (asset id, slug).
SignalMeta = dict[int, tuple[int, str]]
SIGNALS_TTL_S = 10.0


class KnownSignals(Kept):
    """Which signals exist, with their asset and slug, kept for `SIGNALS_TTL_S`: every batch
    needs them, and a signal is added or deleted rarely (an id is never reused)."""

    def clear(self) -> None:
        super().clear()
        self.meta: dict[int, tuple[int, str] | None] = {}

    def of(self, signal_ids: list[int]) -> SignalMeta:
        self.fresh()
        missing = [pk for pk in signal_ids if pk not in self.meta]
        if missing:
            self.meta.update(dict.fromkeys(missing))
            rows = Signal.objects.filter(pk__in=missing).values_list("pk", "asset_id", "slug")
            self.meta.update((pk, (asset_id, slug)) for pk, asset_id, slug in rows)
        return {pk: meta for pk in signal_ids if (meta := self.meta[pk]) is not None}


known_signals = KnownSignals(ttl_s=SIGNALS_TTL_S)


def signals_changed(**kwargs: Any) -> None:
    """Forget the kept signals (connected to saves and deletes of signals)."""
    known_signals.clear()


def batch_drop_unknown(*, batch: Batch, fresh: bool = False) -> SignalMeta:
    """Take out of the batch what refers to plant deleted since ingest resolved its topics;
    return the batch's remaining signals, id → (asset id, slug).

    Readings of a deleted signal become dead letters (nothing would ever show them, and the
    signal's id is never reused); states and counts of a deleted asset are dropped, since their
    foreign keys would fail the whole batch on every retry. The signals are those kept in this
    process (`known_signals`), or read now if `fresh`: a signal deleted in another process in
    the last `SIGNALS_TTL_S` fails the batch's rollups on their foreign key, and the batch is
    stored again with `fresh`.
    """
    if fresh:
        known_signals.clear()
    signal_ids = batch.readings.distinct_signal_ids()
    if len(batch.history):
        signal_ids = sorted({*signal_ids, *batch.history.distinct_signal_ids()})
    signals = known_signals.of(signal_ids)
    if len(signals) < len(signal_ids):
        received_us = now_us()
        for name in ("readings", "history"):
            columns = getattr(batch, name)
            gone = np.isin(columns.signal_ids, list(signals), invert=True)
            batch.dead_letters.extend(
                DeadLetterRecord(
                    f"signal {signal_id}",
                    f"{value}",
                    Reason.UNKNOWN_SIGNAL.value,
                    "signal deleted before its reading was stored",
                    received_us,
                )
                for signal_id, _, value in columns[gone].rows()
            )
            setattr(batch, name, columns[~gone])
    asset_ids = {row.asset_id for row in batch.states} | {row.asset_id for row in batch.counts}
    if asset_ids:
        existing = set(Asset.objects.filter(pk__in=asset_ids).values_list("pk", flat=True))
        if existing != asset_ids:
            batch.states = [row for row in batch.states if row.asset_id in existing]
            batch.counts = [row for row in batch.counts if row.asset_id in existing]
    return signals


# (asset id, gone since or None when back, why)
GatewayChange = tuple[int, datetime | None, str]


def sparkplug_events_record(*, events: list[SparkplugEvent]) -> list[GatewayChange]:
    """Record Sparkplug births, deaths and metrics seen; return the mapped assets whose
    gateway came or went.

    Each source keeps its last birth and death: of two that arrive out of order (two workers),
    the later one in time decides whether it is online. A node's death takes its devices with it.
    """
    changes: dict[int, GatewayChange] = {}
    for event in events:
        at = us_to_datetime(event.ts_us)
        source, _ = SparkplugSource.objects.select_for_update().get_or_create(
            group_id=event.group, edge_node_id=event.node, device_id=event.device
        )
        if event.kind == EventKind.BIRTH:
            if source.last_death_at is None or at >= source.last_death_at:
                source.online = True
                if source.asset_id is not None:
                    changes[source.asset_id] = (source.asset_id, None, "")
            if source.last_birth_at is None or at > source.last_birth_at:
                source.last_birth_at = at
            source.save(update_fields=["online", "last_birth_at"])
            _metrics_seen(source, event.metrics, birth=True)
        elif event.kind == EventKind.DEATH:
            gone = [source]
            if not event.device:
                gone += SparkplugSource.objects.select_for_update().filter(
                    group_id=event.group, edge_node_id=event.node, device_id__gt=""
                )
            for each in gone:
                if each.last_birth_at is not None and at < each.last_birth_at:
                    continue  # a birth after it began a new session
                each.online = False
                each.last_death_at = at
                each.save(update_fields=["online", "last_death_at"])
                if each.asset_id is not None:
                    why = f"Sparkplug {source} went offline"
                    changes[each.asset_id] = (each.asset_id, at, why)
        else:
            _metrics_seen(source, event.metrics, birth=False)
    return list(changes.values())


def _metrics_seen(source: SparkplugSource, metrics: list[SeenMetric], *, birth: bool) -> None:
    """Keep each metric's datatype, alias and last value; a new name becomes a candidate."""
    if not metrics:
        return
    fields = ["datatype", "last_value", "last_seen_at"] + (["alias"] if birth else [])
    SparkplugMetric.objects.bulk_create(
        [
            SparkplugMetric(
                source=source,
                name=metric.name[:255],
                datatype=min(max(0, metric.datatype), 32767),
                alias=metric.alias if metric.alias >= 0 else None,
                last_value=metric.value[:200],
                last_seen_at=us_to_datetime(metric.ts_us),
            )
            for metric in {metric.name: metric for metric in metrics}.values()
        ],
        update_conflicts=True,
        unique_fields=["source", "name"],
        update_fields=fields,
    )


def dead_letters_store(*, batch: Batch) -> int:
    """Store the batch's dead letters, each once however often the batch is redelivered (they
    are unique per batch id and position); return how many the batch has."""
    if not batch.dead_letters:
        return 0
    batch_uuid = uuid.UUID(hex=batch.batch_id)
    DeadLetter.objects.bulk_create(
        [
            DeadLetter(
                batch_id=batch_uuid,
                position=position,
                topic=letter.topic,
                payload=letter.excerpt,
                reason=letter.reason,
                detail=letter.detail,
                received_at=us_to_datetime(letter.received_us),
                raw=base64.b64decode(letter.replay),
            )
            for position, letter in enumerate(batch.dead_letters, start=batch.dead_letter_offset)
        ],
        ignore_conflicts=True,
    )
    return len(batch.dead_letters)


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


def sparkplug_metrics_map_by_name(*, metrics: Iterable[SparkplugMetric]) -> tuple[int, list[str]]:
    """Map each metric to the signal of its source's asset with the same name or slug; return
    how many were mapped, and the names with no such signal (or no asset chosen)."""
    mapped, missing = 0, []
    for metric in metrics:
        asset_id = metric.source.asset_id
        signal = (
            Signal.objects.filter(asset_id=asset_id)
            .filter(Q(slug=slugify(metric.name)) | Q(name__iexact=metric.name))
            .first()
            if asset_id is not None
            else None
        )
        if signal is None:
            missing.append(f"{metric.source} {metric.name}")
            continue
        metric.target, metric.signal = SparkplugMetric.Target.SIGNAL, signal
        metric.save(update_fields=["target", "signal"])
        mapped += 1
    return mapped, missing
