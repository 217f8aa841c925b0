"""One batch, one transaction: each domain stores its part of what the machines sent.

In order, inside the transaction: telemetry stores the readings and dead letters (and health
notes readings older than its monitoring had read, to judge their windows again); OEE records
the state and count events (and forgets the hour snapshots they make stale), and preventive
maintenance has the meters read past them counted again; the assets keep their current state;
health records the failures machines report; the alert rules are judged on the readings, so
their memory commits with them. After the commit, the alert events go out
first, then the floor's live update. See docs/pipeline.md.

A redelivered batch stores nothing twice: readings are unique per (signal, ts), events per
(asset, ts), dead letters per (batch id, position), and the rules skip what they have judged.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db import (
    DatabaseError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    transaction,
)
from django.db.models import QuerySet
from django.utils import timezone

from plantops.alerts.conditions import alerts_evaluate_batch
from plantops.assets.services import asset_gateways_keep, asset_states_keep
from plantops.core.time import datetime_to_us
from plantops.floor.live import batch_push
from plantops.health.failures import failures_from_states
from plantops.health.late import health_late_readings_note
from plantops.maintenance.preventive import preventive_events_arrived
from plantops.oee.services import machine_events_record
from plantops.telemetry import services as telemetry
from plantops.telemetry.batches import Batch
from plantops.telemetry.columns import ReadingColumns
from plantops.telemetry.models import DeadLetter
from plantops.telemetry.payloads import Limits, TopicRegistry, parse_message
from plantops.telemetry.storage import readings_store

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoreOutcome:
    readings: int
    states: int
    counts: int
    dead_letters: int

    def __add__(self, other: StoreOutcome) -> StoreOutcome:
        return StoreOutcome(
            self.readings + other.readings,
            self.states + other.states,
            self.counts + other.counts,
            self.dead_letters + other.dead_letters,
        )


NOTHING = StoreOutcome(0, 0, 0, 0)


def batch_store(*, batch: Batch, push: bool = True) -> StoreOutcome:
    """Store a batch in one transaction, idempotently; push live updates after commit (unless
    not `push`: a past written in bulk, which no screen shows live)."""
    try:
        return _store(batch, again=False, push=push)
    except IntegrityError:
        # A redelivered batch, whose readings are stored already; or a signal deleted by
        # another process since this one last read them. Both are rare: the first try takes
        # neither into account, because they cost every batch.
        return _store(batch, again=True, push=push)


def _store(batch: Batch, *, again: bool, push: bool) -> StoreOutcome:
    with transaction.atomic():
        signals = telemetry.batch_drop_unknown(batch=batch, fresh=again)
        stored = readings_store(readings=batch.readings, redelivered=again)
        stored += readings_store(readings=batch.history, redelivered=again, keep_latest=False)
        if stored:  # a redelivery that stored nothing new has nothing to judge again
            health_late_readings_note(readings=batch.readings, signals=signals)
            health_late_readings_note(readings=batch.history, signals=signals)
        telemetry.dead_letters_store(batch=batch)
        gateways = telemetry.sparkplug_events_record(events=batch.sparkplug)
        asset_gateways_keep(changes=gateways)
        machine_events_record(states=batch.states, counts=batch.counts, push=push)
        preventive_events_arrived(states=batch.states, counts=batch.counts)
        asset_states_keep(states=batch.states)
        failures_from_states(states=batch.states)
        # The readings, and the machine states' suppression of alerts, in time order.
        alerts_evaluate_batch(
            readings=batch.readings.joined(batch.history) if len(batch.history) else batch.readings,
            states=batch.states,
        )
        # Registered after the alerts' own push: their events reach the tablets first, without
        # waiting for the tiles' queries.
        readings = batch.readings
        state_assets = {row.asset_id for row in batch.states} | {row[0] for row in gateways}
        if push:
            transaction.on_commit(
                lambda: batch_push(readings=readings, signals=signals, asset_ids=state_assets)
            )
    return StoreOutcome(
        readings=len(batch.readings) + len(batch.history),
        states=len(batch.states),
        counts=len(batch.counts),
        dead_letters=len(batch.dead_letters),
    )


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
            return NOTHING
        logger.warning("batch %s refused (%s); storing it in halves", batch.batch_id, error)
        first, second = batch.halves()
        return batch_store_salvaging(batch=first) + batch_store_salvaging(batch=second)


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
    readings: list[tuple[int, int, float]] = []
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
        readings.extend(result.readings)
        batch.states.extend(result.states)
        batch.counts.extend(result.counts)
        replayed.append(letter.pk)
    batch.readings = ReadingColumns.from_rows(readings)
    with transaction.atomic():
        batch_store(batch=batch)
        DeadLetter.objects.filter(pk__in=replayed).delete()
    return ReplayOutcome(
        stored=len(replayed), still_refused=still_refused, not_replayable=not_replayable
    )
