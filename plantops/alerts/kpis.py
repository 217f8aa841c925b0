"""Alarm-management KPIs (EEMUA 191, ISA-18.2 § 16) from activations and alert spans.

Pure: no Django, no database. The period is the half-open `[start, end)`; all datetimes are
aware UTC. An alarm is one rule on one asset, named `(key, asset)`; a position is an operator
position (a line).

- Rate: activations per 10 minutes per position, average and peak (buckets from `start`).
- Flood: more than 10 activations of a position in a 10-minute window opening at one of them;
  overlapping or touching windows merge into one period, cut to `[start, end)`.
- Bad actors: the 10 alarms with the most activations, and their share of all activations.
- Chattering: 3 or more activations of an alarm within 60 s (t₃ - t₁ < 60 s).
- Stale: raised more than 24 h before `end` and not cleared by `end`.
- Priority mix against 5 % high, 15 % medium, 80 % low; critical counts as high and is also
  reported on its own.

See docs/alert-lifecycle.md.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from plantops.alerts.lifecycle import Priority

RATE_WINDOW = timedelta(minutes=10)
FLOOD_WINDOW = timedelta(minutes=10)
FLOOD_THRESHOLD = 10  # more than this many in FLOOD_WINDOW is a flood
CHATTER_WINDOW = timedelta(seconds=60)
CHATTER_COUNT = 3
STALE_AFTER = timedelta(hours=24)
BAD_ACTORS = 10

# ISA-18.2 recommended distribution of alarm priorities, in percent.
PRIORITY_TARGETS: dict[str, float] = {"high": 5.0, "medium": 15.0, "low": 80.0}
_BUCKET_OF = {
    Priority.CRITICAL: "high",
    Priority.HIGH: "high",
    Priority.MEDIUM: "medium",
    Priority.LOW: "low",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Activation:
    """One transition of an alarm into active: `key` is the rule's key, `position` the
    operator position (the line slug)."""

    at: datetime
    key: str
    asset: str
    position: str
    priority: Priority

    def __post_init__(self) -> None:
        _require_utc(self.at, "at")
        object.__setattr__(self, "priority", Priority(self.priority))


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertSpan:
    """One alert from raise to clear; `cleared_at` is None while it is still active."""

    key: str
    asset: str
    position: str
    priority: Priority
    raised_at: datetime
    cleared_at: datetime | None = None

    def __post_init__(self) -> None:
        _require_utc(self.raised_at, "raised_at")
        if self.cleared_at is not None:
            _require_utc(self.cleared_at, "cleared_at")
        object.__setattr__(self, "priority", Priority(self.priority))


@dataclass(frozen=True, slots=True)
class PositionRate:
    position: str
    activations: int
    average_per_10min: float
    peak_per_10min: int
    peak_at: datetime | None  # start of the busiest bucket; None without activations


@dataclass(frozen=True, slots=True)
class FloodReport:
    """Flood periods of one position, merged and cut to the period, and their share of it."""

    intervals: tuple[tuple[datetime, datetime], ...]
    flood_seconds: float
    percent_of_period: float


@dataclass(frozen=True, slots=True)
class BadActor:
    key: str
    asset: str
    position: str
    activations: int
    percent_of_all: float


@dataclass(frozen=True, slots=True)
class ChatteringAlarm:
    key: str
    asset: str
    position: str
    activations: int  # in the whole period
    most_in_60s: int
    first_burst_at: datetime


@dataclass(frozen=True, slots=True)
class StaleAlarm:
    key: str
    asset: str
    position: str
    priority: Priority
    raised_at: datetime
    active_for: timedelta


@dataclass(frozen=True, slots=True)
class PriorityBucket:
    name: str  # "high" (critical + high), "medium", "low"
    count: int
    percent: float
    target_percent: float


@dataclass(frozen=True, slots=True)
class PriorityMix:
    counts: dict[Priority, int]
    total: int
    critical_percent: float
    buckets: tuple[PriorityBucket, ...]


@dataclass(frozen=True, slots=True)
class AlarmKpis:
    start: datetime
    end: datetime
    activations: int
    rates: tuple[PositionRate, ...]
    floods: dict[str, FloodReport]
    bad_actors: tuple[BadActor, ...]
    chattering: tuple[ChatteringAlarm, ...]
    stale: tuple[StaleAlarm, ...]
    priority_mix: PriorityMix


def alarm_kpis(
    activations: Iterable[Activation],
    spans: Iterable[AlertSpan],
    *,
    start: datetime,
    end: datetime,
) -> AlarmKpis:
    """Return every KPI for the period `[start, end)`; activations outside it are ignored."""
    _check_period(start, end)
    within = _within(activations, start, end)
    by_position: dict[str, list[Activation]] = defaultdict(list)
    for activation in within:
        by_position[activation.position].append(activation)
    return AlarmKpis(
        start=start,
        end=end,
        activations=len(within),
        rates=rates_per_position(within, start=start, end=end),
        floods={
            position: flood_periods(items, start=start, end=end)
            for position, items in sorted(by_position.items())
        },
        bad_actors=bad_actors(within, start=start, end=end),
        chattering=chattering_alarms(within, start=start, end=end),
        stale=stale_alarms(spans, end=end),
        priority_mix=priority_mix(a.priority for a in within),
    )


def rates_per_position(
    activations: Iterable[Activation], *, start: datetime, end: datetime
) -> tuple[PositionRate, ...]:
    """Return activations per 10 minutes for each position that had any, sorted by position."""
    _check_period(start, end)
    windows = (end - start) / RATE_WINDOW
    buckets: dict[str, Counter[int]] = defaultdict(Counter)
    for activation in _within(activations, start, end):
        buckets[activation.position][(activation.at - start) // RATE_WINDOW] += 1
    rates = []
    for position, counts in sorted(buckets.items()):
        # Earliest bucket wins a tie, so the reported peak time is stable.
        peak_bucket, peak = max(counts.items(), key=lambda item: (item[1], -item[0]))
        total = sum(counts.values())
        rates.append(
            PositionRate(
                position=position,
                activations=total,
                average_per_10min=total / windows,
                peak_per_10min=peak,
                peak_at=start + peak_bucket * RATE_WINDOW,
            )
        )
    return tuple(rates)


def activation_series(
    activations: Iterable[Activation], *, start: datetime, end: datetime
) -> tuple[tuple[datetime, ...], dict[str, tuple[int, ...]]]:
    """Return the starts of the 10-minute buckets of `[start, end)` and, per position, the
    activations in each: the rate chart. Every position with an activation gets every bucket."""
    _check_period(start, end)
    n = -(-(end - start) // RATE_WINDOW)  # a last, shorter bucket counts as one
    counts: dict[str, list[int]] = defaultdict(lambda: [0] * n)
    for activation in _within(activations, start, end):
        counts[activation.position][(activation.at - start) // RATE_WINDOW] += 1
    starts = tuple(start + i * RATE_WINDOW for i in range(n))
    return starts, {position: tuple(c) for position, c in sorted(counts.items())}


def flood_periods(
    activations: Iterable[Activation], *, start: datetime, end: datetime
) -> FloodReport:
    """Return the flood periods in the given activations (pass one position's) and the share
    of `[start, end)` they cover."""
    _check_period(start, end)
    times = sorted(a.at for a in _within(activations, start, end))
    merged: list[list[datetime]] = []
    last = 0
    for first, opened_at in enumerate(times):
        # `last` only moves forward: the activations within the window of times[first].
        last = max(last, first)
        while last + 1 < len(times) and times[last + 1] < opened_at + FLOOD_WINDOW:
            last += 1
        if last - first + 1 <= FLOOD_THRESHOLD:
            continue
        closes_at = min(opened_at + FLOOD_WINDOW, end)
        if merged and opened_at <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], closes_at)
        else:
            merged.append([opened_at, closes_at])
    flood_seconds = sum((b - a).total_seconds() for a, b in merged)
    return FloodReport(
        intervals=tuple((a, b) for a, b in merged),
        flood_seconds=flood_seconds,
        percent_of_period=100.0 * flood_seconds / (end - start).total_seconds(),
    )


def bad_actors(
    activations: Iterable[Activation], *, start: datetime, end: datetime, top: int = BAD_ACTORS
) -> tuple[BadActor, ...]:
    """Return the `top` alarms by activation count, most first (ties by key, then asset)."""
    _check_period(start, end)
    within = _within(activations, start, end)
    counts: Counter[tuple[str, str]] = Counter((a.key, a.asset) for a in within)
    position = {(a.key, a.asset): a.position for a in within}
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:top]
    return tuple(
        BadActor(
            key=key,
            asset=asset,
            position=position[key, asset],
            activations=n,
            percent_of_all=100.0 * n / len(within),
        )
        for (key, asset), n in ranked
    )


def chattering_alarms(
    activations: Iterable[Activation], *, start: datetime, end: datetime
) -> tuple[ChatteringAlarm, ...]:
    """Return the alarms with 3 or more activations within 60 s, worst first."""
    _check_period(start, end)
    per_alarm: dict[tuple[str, str], list[Activation]] = defaultdict(list)
    for activation in _within(activations, start, end):
        per_alarm[activation.key, activation.asset].append(activation)
    found = []
    for (key, asset), items in per_alarm.items():
        times = sorted(a.at for a in items)
        most, first_burst_at, last = 0, None, 0
        for first, opened_at in enumerate(times):
            last = max(last, first)
            while last + 1 < len(times) and times[last + 1] < opened_at + CHATTER_WINDOW:
                last += 1
            n = last - first + 1
            if n >= CHATTER_COUNT and first_burst_at is None:
                first_burst_at = opened_at
            most = max(most, n)
        if first_burst_at is not None:
            found.append(
                ChatteringAlarm(
                    key=key,
                    asset=asset,
                    position=items[0].position,
                    activations=len(times),
                    most_in_60s=most,
                    first_burst_at=first_burst_at,
                )
            )
    found.sort(key=lambda c: (-c.most_in_60s, -c.activations, c.key, c.asset))
    return tuple(found)


def stale_alarms(spans: Iterable[AlertSpan], *, end: datetime) -> tuple[StaleAlarm, ...]:
    """Return the alerts still active at `end` that were raised more than 24 h before it,
    longest first."""
    _require_utc(end, "end")
    stale = [
        StaleAlarm(
            key=span.key,
            asset=span.asset,
            position=span.position,
            priority=span.priority,
            raised_at=span.raised_at,
            active_for=end - span.raised_at,
        )
        for span in spans
        if end - span.raised_at > STALE_AFTER and (span.cleared_at is None or span.cleared_at > end)
    ]
    stale.sort(key=lambda s: (s.raised_at, s.key, s.asset))
    return tuple(stale)


def priority_mix(priorities: Iterable[Priority | str]) -> PriorityMix:
    """Return the share of each priority against the 5/15/80 % target (critical counts as high).

    Pass the priorities of the period's activations for the annunciated mix (EEMUA 191), or
    of the configured rules for the configured mix (ISA-18.2); the arithmetic is the same.
    """
    counts: Counter[Priority] = Counter(Priority(p) for p in priorities)
    total = sum(counts.values())
    bucket_counts: Counter[str] = Counter()
    for priority, n in counts.items():
        bucket_counts[_BUCKET_OF[priority]] += n
    return PriorityMix(
        counts={p: counts.get(p, 0) for p in Priority},
        total=total,
        critical_percent=_percent(counts.get(Priority.CRITICAL, 0), total),
        buckets=tuple(
            PriorityBucket(
                name=name,
                count=bucket_counts.get(name, 0),
                percent=_percent(bucket_counts.get(name, 0), total),
                target_percent=target,
            )
            for name, target in PRIORITY_TARGETS.items()
        ),
    )


def _percent(n: int, total: int) -> float:
    return 100.0 * n / total if total else 0.0


def _within(activations: Iterable[Activation], start: datetime, end: datetime) -> list[Activation]:
    return [a for a in activations if start <= a.at < end]


def _check_period(start: datetime, end: datetime) -> None:
    _require_utc(start, "start")
    _require_utc(end, "end")
    if end <= start:
        raise ValueError(f"the period must not be empty: start {start} is not before end {end}")


def _require_utc(value: datetime, name: str) -> None:
    offset = value.utcoffset()
    if offset is None:
        raise ValueError(f"{name} must be timezone-aware (UTC), got naive {value.isoformat()}")
    if offset != timedelta(0):
        raise ValueError(f"{name} must be in UTC, got offset {offset}")
