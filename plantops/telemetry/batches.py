"""The unit of work between ingest and worker: one Celery message per batch. Pure: no Django.

Ingest accumulates parsed messages into a `BatchBuilder` and hands the batch on when it is
full or old enough; only then are the MQTT messages in it acknowledged.
"""

from __future__ import annotations

import base64
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from plantops.telemetry.columns import ReadingColumns
from plantops.telemetry.payloads import ParseResult, storable


@dataclass(slots=True)
class Batch:
    batch_id: str
    readings: list[tuple[int, int, float]] = field(default_factory=list)
    states: list[tuple[int, int, str, str]] = field(default_factory=list)
    counts: list[tuple[int, int, int, int]] = field(default_factory=list)
    # (topic, payload excerpt, reason, detail, received at in µs, replayable message in base64)
    dead_letters: list[tuple[str, str, str, str, int, str]] = field(default_factory=list)
    # Position of the first dead letter within the batch as ingest built it; halves keep
    # their dead letters' original positions, so storing them stays idempotent.
    dead_letter_offset: int = 0
    # When ingest received the batch's first message (µs since the epoch): for batch latency.
    first_received_us: int = 0
    # The readings as columns, with the list they were made from: a new list, or one whose
    # length changed, has them made again.
    _columns: tuple[list, ReadingColumns] | None = field(default=None, repr=False, compare=False)

    def reading_columns(self) -> ReadingColumns:
        """The readings as columns (made once per readings list)."""
        cached = self._columns
        if cached is None or cached[0] is not self.readings or len(cached[1]) != len(self.readings):
            cached = self._columns = (self.readings, ReadingColumns.from_rows(self.readings))
        return cached[1]

    def to_message(self) -> dict[str, Any]:
        """The batch as a JSON-safe Celery message; readings travel as packed columns."""
        return {
            "batch_id": self.batch_id,
            "reading_columns": self.reading_columns().pack(),
            "states": self.states,
            "counts": self.counts,
            "dead_letters": self.dead_letters,
            "first_received_us": self.first_received_us,
        }

    @classmethod
    def from_message(cls, message: dict[str, Any]) -> Batch:
        """The inverse of `to_message`; also reads the list form of batches queued before the
        readings were packed."""
        packed = message.get("reading_columns")
        columns = ReadingColumns.unpack(packed) if packed is not None else None
        readings = columns.rows() if columns is not None else _readings(message.get("readings", ()))
        return cls(
            batch_id=str(message["batch_id"]),
            readings=readings,
            _columns=(readings, columns) if columns is not None else None,
            states=[(int(a), int(t), str(s), str(r)) for a, t, s, r in message.get("states", ())],
            counts=[(int(a), int(t), int(g), int(b)) for a, t, g, b in message.get("counts", ())],
            dead_letters=[_dead_letter(d) for d in message.get("dead_letters", ())],
            first_received_us=int(message.get("first_received_us", 0)),
        )

    def halves(self) -> tuple[Batch, Batch]:
        """Split into two smaller batches with the same id: rows in order, cut at the middle."""
        rows = (
            [("readings", row) for row in self.readings]
            + [("states", row) for row in self.states]
            + [("counts", row) for row in self.counts]
            + [("dead_letters", row) for row in self.dead_letters]
        )
        middle = max(1, len(rows) // 2)
        first = Batch(self.batch_id, dead_letter_offset=self.dead_letter_offset)
        second = Batch(self.batch_id)
        for kind, row in rows[:middle]:
            getattr(first, kind).append(row)
        for kind, row in rows[middle:]:
            getattr(second, kind).append(row)
        second.dead_letter_offset = self.dead_letter_offset + len(first.dead_letters)
        return first, second

    @property
    def size(self) -> int:
        return len(self.readings) + len(self.states) + len(self.counts) + len(self.dead_letters)


def _readings(rows: list) -> list[tuple[int, int, float]]:
    """(signal id, µs, value) rows, typed: column-wise, since a batch holds thousands."""
    if not rows:
        return []
    signal_ids, ts_us, values = zip(*rows, strict=True)
    return list(zip(map(int, signal_ids), map(int, ts_us), map(float, values), strict=True))


def _dead_letter(row: list) -> tuple[str, str, str, str, int, str]:
    topic, excerpt, reason, detail, received_us, *rest = row
    # Batches queued before replay existed carry five fields.
    return (topic, excerpt, reason, detail, int(received_us), rest[0] if rest else "")


class BatchBuilder:
    """Collects parsed messages and the MQTT message ids to acknowledge once handed on."""

    def __init__(self, *, max_items: int, max_age_s: float, clock=time.monotonic) -> None:
        self.max_items = max_items
        self.max_age_s = max_age_s
        self._clock = clock
        self._reset()

    def _reset(self) -> None:
        self.batch = Batch(batch_id=uuid.uuid4().hex)
        self.pending_acks: list[int] = []
        self.started_at: float | None = None

    def add(self, *, topic: str, result: ParseResult, received_us: int, ack_id: int | None) -> None:
        if self.started_at is None:
            self.started_at = self._clock()
            self.batch.first_received_us = received_us
        batch = self.batch
        batch.readings.extend(result.readings)
        batch.states.extend(result.states)
        batch.counts.extend(result.counts)
        for rejection in result.rejections:
            batch.dead_letters.append(
                (
                    storable(topic[:512]),
                    rejection.excerpt,
                    rejection.reason.value,
                    storable(rejection.detail[:300]),
                    received_us,
                    base64.b64encode(rejection.replay).decode("ascii"),
                )
            )
        if ack_id is not None:
            self.pending_acks.append(ack_id)

    def oldest_age_s(self) -> float:
        """Seconds since the oldest message still waiting in this batch (and unacked) arrived."""
        return 0.0 if self.started_at is None else self._clock() - self.started_at

    @property
    def empty(self) -> bool:
        return self.started_at is None

    def due(self) -> bool:
        if self.started_at is None:
            return False
        return (
            self.batch.size >= self.max_items or self._clock() - self.started_at >= self.max_age_s
        )

    def seconds_until_due(self, *, idle: float) -> float:
        """How long the batch may wait for more messages: until its age is reached, or `idle`
        when it is empty (no batch, nothing to hand on)."""
        if self.started_at is None:
            return idle
        return max(0.0, self.started_at + self.max_age_s - self._clock())

    def take(self) -> tuple[Batch, list[int]]:
        """Return the batch and the ack ids it covers, and start a new one."""
        taken = (self.batch, self.pending_acks)
        self._reset()
        return taken
