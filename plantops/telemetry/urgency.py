"""Readings that must not wait for their batch: a value crossing a limit. Pure: no Django.

A batch waits up to `INGEST_BATCH_MAX_AGE_S` to fill, which spreads a batch's fixed cost over
many readings. A reading that leaves its signal's band (the tightest high and low limits of the
rules that watch it) may raise an alert, and an alert must not wait for a batch to fill: ingest
hands its batch on at once. Only the crossing hurries, not every reading beyond the limit, so a
machine that stays in alarm, or a flood of them, does not turn batching off; a value must come
back inside by the rule's deadband before another crossing counts.

This is a hint about latency, never a judgement: the worker judges every reading against the
rules whatever the batch. A band loaded before a rule was edited hurries a little too often or
too seldom until the next reload. Rate-of-change rules have no band: their alerts come at the
batches' pace.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Band:
    """Inside [low, high] a reading is ordinary; `deadband` is how far back inside it must
    come before leaving again counts as a new crossing."""

    low: float = float("-inf")
    high: float = float("inf")
    deadband: float = 0.0


class CrossingWatch:
    """Remembers, per signal, whether its last reading seen here was outside its band."""

    def __init__(self) -> None:
        self._outside: set[int] = set()

    def crossed(self, readings: Iterable[tuple[int, int, float]], bands: dict[int, Band]) -> bool:
        """Whether any of these readings (in arrival order) leaves its signal's band."""
        crossed = False
        outside = self._outside
        for signal_id, _, value in readings:
            band = bands.get(signal_id)
            if band is None:
                continue
            if value > band.high or value < band.low:
                if signal_id not in outside:
                    outside.add(signal_id)
                    crossed = True
            elif band.low + band.deadband <= value <= band.high - band.deadband:
                outside.discard(signal_id)
        return crossed
