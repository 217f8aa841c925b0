"""The unit of work between ingest and worker: one Celery message per batch. Pure: no Django.

Ingest accumulates parsed messages into a `BatchBuilder` and hands the batch on when it is
full or old enough; only then are the MQTT messages in it acknowledged. A batch's readings are columns (`ReadingColumns`) from the moment it is taken
until they are stored: they cross Redis packed and the worker never turns them into rows.
"""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from plantops.telemetry.columns import ReadingColumns
from plantops.telemetry.payloads import CountReport, ParseResult, StateReport, storable
from plantops.telemetry.sparkplug_wire import SparkplugEvent


class DeadLetterRecord(NamedTuple):
    """A refused message (or one refused item of it), as it travels to the dead-letter table."""

    topic: str
    excerpt: str
    reason: str
    detail: str
    received_us: int
    # The message that reproduces what was refused, base64 (JSON-safe); empty when too large.
    replay: str = ""

    @classmethod
    def of(cls, row: list | tuple) -> DeadLetterRecord:
        topic, excerpt, reason, detail, received_us, *rest = row
        # Batches queued before replay existed carry five fields.
        return cls(topic, excerpt, reason, detail, int(received_us), rest[0] if rest else "")


@dataclass(slots=True)
class Batch:
    batch_id: str
    readings: ReadingColumns = field(default_factory=ReadingColumns.empty)
    states: list[StateReport] = field(default_factory=list)
    counts: list[CountReport] = field(default_factory=list)
    dead_letters: list[DeadLetterRecord] = field(default_factory=list)
    # Position of the first dead letter within the batch as ingest built it; halves keep
    # their dead letters' original positions, so storing them stays idempotent.
    dead_letter_offset: int = 0
    # When ingest received the batch's first message (µs since the epoch): for batch latency.
    first_received_us: int = 0
    # Readings flagged as history by their gateway: stored, never a signal's current value.
    history: ReadingColumns = field(default_factory=ReadingColumns.empty)
    # Sparkplug B births, deaths and unmapped metrics seen, for the worker to record.
    sparkplug: list[SparkplugEvent] = field(default_factory=list)

    @classmethod
    def of(
        cls,
        *,
        readings: Iterable[tuple[int, int, float]] = (),
        states: Iterable[tuple[int, int, str, str]] = (),
        counts: Iterable[tuple[int, int, int, int]] = (),
        batch_id: str | None = None,
    ) -> Batch:
        """A batch made of rows, with a new id (for replays, the simulator and tests)."""
        return cls(
            batch_id=batch_id or uuid.uuid4().hex,
            readings=ReadingColumns.from_rows(list(readings)),
            states=[StateReport(*row) for row in states],
            counts=[CountReport(*row) for row in counts],
        )

    def to_message(self) -> dict[str, Any]:
        """The batch as a JSON-safe Celery message; readings travel as packed columns."""
        message = {
            "batch_id": self.batch_id,
            "reading_columns": self.readings.pack(),
            "states": self.states,
            "counts": self.counts,
            "dead_letters": self.dead_letters,
            "first_received_us": self.first_received_us,
        }
        if len(self.history):
            message["history_columns"] = self.history.pack()
        if self.sparkplug:
            message["sparkplug"] = self.sparkplug
        return message

    @classmethod
    def from_message(cls, message: dict[str, Any]) -> Batch:
        """The inverse of `to_message`; also reads the list form of batches queued before the
        readings were packed."""
        packed = message.get("reading_columns")
        readings = (
            ReadingColumns.unpack(packed)
            if packed is not None
            else ReadingColumns.from_rows(_typed_readings(message.get("readings", ())))
        )
        return cls(
            batch_id=str(message["batch_id"]),
            readings=readings,
            states=[StateReport(int(a), int(t), str(s), str(r)) for a, t, s, r in message["states"]]
            if message.get("states")
            else [],
            counts=[CountReport(int(a), int(t), int(g), int(b)) for a, t, g, b in message["counts"]]
            if message.get("counts")
            else [],
            dead_letters=[DeadLetterRecord.of(d) for d in message.get("dead_letters", ())],
            first_received_us=int(message.get("first_received_us", 0)),
            history=ReadingColumns.unpack(message["history_columns"])
            if "history_columns" in message
            else ReadingColumns.empty(),
            sparkplug=[SparkplugEvent.of(event) for event in message.get("sparkplug", ())],
        )

    def halves(self) -> tuple[Batch, Batch]:
        """Split into two smaller batches with the same id, cut at the middle of its rows
        taken in order: readings, history, states, counts, Sparkplug events, dead letters."""
        middle = max(1, self.size // 2)
        first = Batch(self.batch_id, dead_letter_offset=self.dead_letter_offset)
        second = Batch(self.batch_id)
        left = middle
        for name in ("readings", "history", "states", "counts", "sparkplug", "dead_letters"):
            rows = getattr(self, name)
            cut = min(left, len(rows))
            setattr(first, name, rows[:cut])
            setattr(second, name, rows[cut:])
            left -= cut
        second.dead_letter_offset = self.dead_letter_offset + len(first.dead_letters)
        return first, second

    @property
    def size(self) -> int:
        return (
            len(self.readings)
            + len(self.history)
            + len(self.states)
            + len(self.counts)
            + len(self.sparkplug)
            + len(self.dead_letters)
        )


def _typed_readings(rows: Iterable) -> list[tuple[int, int, float]]:
    return [(int(s), int(t), float(v)) for s, t, v in rows]


# An urgent batch (`hurry`) is handed on at most this long after the one before it, so that
# a flood of crossings still makes batches of many readings.
HURRY_GAP_S = 0.02


class BatchBuilder:
    """Collects parsed messages and the MQTT message ids to acknowledge once handed on.

    A batch is due when it is full (`max_items`), when its first message is `max_age_s` old, or
    when it holds a reading that must not wait (`hurry`, see `urgency`) and the last batch was
    taken at least `HURRY_GAP_S` ago. (Handing a batch on when the stream pauses was tried:
    on a steady stream it makes no fewer batches for the same wait, and a message arriving in
    the pause delays it.)
    """

    def __init__(self, *, max_items: int, max_age_s: float, clock=time.monotonic) -> None:
        self.max_items = max_items
        self.max_age_s = max_age_s
        self._clock = clock
        self._taken_at = float("-inf")
        self._reset()

    def _reset(self) -> None:
        self.batch_id = uuid.uuid4().hex
        self.readings: list[tuple[int, int, float]] = []
        self.history: list[tuple[int, int, float]] = []
        self.sparkplug: list[SparkplugEvent] = []
        self.states: list[StateReport] = []
        self.counts: list[CountReport] = []
        self.dead_letters: list[DeadLetterRecord] = []
        self.pending_acks: list[int] = []
        self.started_at: float | None = None
        self.first_received_us = 0
        self.size = 0
        self.hurried = False

    def add(
        self,
        *,
        topic: str,
        result: ParseResult,
        received_us: int,
        ack_id: int | None,
        sparkplug: list[SparkplugEvent] | None = None,
    ) -> None:
        if self.started_at is None:
            self.started_at = self._clock()
            self.first_received_us = received_us
        self.readings.extend(result.readings)
        if result.history:
            self.history.extend(result.history)
        if sparkplug:
            self.sparkplug.extend(sparkplug)
        self.states.extend(result.states)
        self.counts.extend(result.counts)
        for rejection in result.rejections:
            self.dead_letters.append(
                DeadLetterRecord(
                    storable(topic[:512]),
                    rejection.excerpt,
                    rejection.reason.value,
                    storable(rejection.detail[:300]),
                    received_us,
                    base64.b64encode(rejection.replay).decode("ascii"),
                )
            )
        self.size += (
            len(result.readings)
            + len(result.history)
            + len(result.states)
            + len(result.counts)
            + len(result.rejections)
            + (len(sparkplug) if sparkplug else 0)
        )
        if ack_id is not None:
            self.pending_acks.append(ack_id)

    def oldest_age_s(self) -> float:
        """Seconds since the oldest message still waiting in this batch (and unacked) arrived."""
        return 0.0 if self.started_at is None else self._clock() - self.started_at

    @property
    def empty(self) -> bool:
        return self.started_at is None

    @property
    def full(self) -> bool:
        return self.size >= self.max_items

    def hurry(self) -> None:
        """Hand this batch on as soon as `HURRY_GAP_S` allows: it holds a reading that must
        not wait for the batch to fill."""
        self.hurried = True

    def due(self) -> bool:
        if self.started_at is None:
            return False
        now = self._clock()
        return (
            self.full
            or now - self.started_at >= self.max_age_s
            or (self.hurried and now - self._taken_at >= HURRY_GAP_S)
        )

    def seconds_until_due(self, *, idle: float) -> float:
        """How long the batch may wait for more messages: until its age is reached, or `idle`
        when it is empty (no batch, nothing to hand on)."""
        if self.started_at is None:
            return idle
        due_at = self.started_at + self.max_age_s
        if self.hurried:
            due_at = min(due_at, self._taken_at + HURRY_GAP_S)
        return max(0.0, due_at - self._clock())

    def take(self) -> tuple[Batch, list[int]]:
        """Return the batch and the ack ids it covers, and start a new one."""
        batch = Batch(
            batch_id=self.batch_id,
            readings=ReadingColumns.from_rows(self.readings),
            states=self.states,
            counts=self.counts,
            dead_letters=self.dead_letters,
            first_received_us=self.first_received_us,
            history=ReadingColumns.from_rows(self.history),
            sparkplug=self.sparkplug,
        )
        acks = self.pending_acks
        self._taken_at = self._clock()
        self._reset()
        return batch, acks
