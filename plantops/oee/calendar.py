"""Shift calendars → planned production windows in UTC. Pure: no Django, no database.

A shift is written as a plant writes it, in local wall-clock time: "Night, 22:00 to 06:00,
Monday to Friday, break 02:00 to 02:30". A shift belongs to the day it starts on; an end at or
before the start means it ends the next day. Breaks are planned stops inside the shift.
Holidays are dates (local) on which no shift starts.

Daylight saving: local times are turned into instants with the site's time zone, so a night
shift over the autumn change is 9 hours of real time and over the spring change 7; durations
are never computed on the wall clock. A local time that does not exist (inside the spring gap)
is read with the offset before the change, one that exists twice (autumn) as its first
occurrence, as zoneinfo does with fold=0.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

US = 1_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class ShiftPattern:
    name: str
    start: time
    end: time
    # Days the shift starts on, 0 = Monday … 6 = Sunday.
    weekdays: frozenset[int] = frozenset(range(7))
    breaks: tuple[tuple[time, time], ...] = ()


@dataclass(frozen=True, slots=True)
class PlannedShift:
    """One occurrence of a shift: its bounds and its production windows (breaks taken out)."""

    name: str
    day: date
    start_us: int
    end_us: int
    windows: tuple[tuple[int, int], ...] = field(default=())

    @property
    def planned_s(self) -> float:
        return sum(end - start for start, end in self.windows) / US


def _instant_us(day: date, at: time, tz: ZoneInfo) -> int:
    return (datetime.combine(day, at, tzinfo=tz) - _EPOCH) // _ONE_US


def _occurrence(pattern: ShiftPattern, day: date, tz: ZoneInfo) -> PlannedShift:
    end_day = day + timedelta(days=1) if pattern.end <= pattern.start else day
    start_us = _instant_us(day, pattern.start, tz)
    end_us = _instant_us(end_day, pattern.end, tz)
    breaks = []
    for break_start, break_end in pattern.breaks:
        # A break's times lie within the shift: after midnight in a night shift means next day.
        b_day = day if break_start >= pattern.start else end_day
        b_end_day = b_day if break_end > break_start else b_day + timedelta(days=1)
        breaks.append((_instant_us(b_day, break_start, tz), _instant_us(b_end_day, break_end, tz)))
    return PlannedShift(
        name=pattern.name,
        day=day,
        start_us=start_us,
        end_us=end_us,
        windows=tuple(_subtract((start_us, end_us), breaks)),
    )


def _subtract(span: tuple[int, int], holes: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    pieces = [span]
    for hole_start, hole_end in sorted(holes):
        next_pieces = []
        for start, end in pieces:
            if hole_end <= start or hole_start >= end:
                next_pieces.append((start, end))
                continue
            if hole_start > start:
                next_pieces.append((start, hole_start))
            if hole_end < end:
                next_pieces.append((hole_end, end))
        pieces = next_pieces
    return pieces


def planned_shifts(
    patterns: Sequence[ShiftPattern],
    *,
    tz: ZoneInfo,
    start_us: int,
    end_us: int,
    holidays: Iterable[date] = (),
) -> list[PlannedShift]:
    """Every shift occurrence that overlaps [start_us, end_us), in time order, unclipped."""
    days_off = set(holidays)
    first = datetime.fromtimestamp(start_us / US, tz).date() - timedelta(days=1)
    last = datetime.fromtimestamp(end_us / US, tz).date()
    shifts = []
    day = first
    while day <= last:
        if day not in days_off:
            for pattern in patterns:
                if day.weekday() in pattern.weekdays:
                    shift = _occurrence(pattern, day, tz)
                    if shift.end_us > start_us and shift.start_us < end_us:
                        shifts.append(shift)
        day += timedelta(days=1)
    return sorted(shifts, key=lambda s: (s.start_us, s.name))


def clip(windows: Iterable[tuple[int, int]], start_us: int, end_us: int) -> list[tuple[int, int]]:
    """The parts of `windows` inside [start_us, end_us)."""
    return [
        (max(s, start_us), min(e, end_us)) for s, e in windows if min(e, end_us) > max(s, start_us)
    ]


def planned_windows(
    shifts: Iterable[PlannedShift], start_us: int, end_us: int
) -> list[tuple[int, int]]:
    """All production windows of `shifts`, clipped to [start_us, end_us)."""
    return clip((w for shift in shifts for w in shift.windows), start_us, end_us)
