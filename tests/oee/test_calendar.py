"""Shift calendars: breaks, midnight, holidays and daylight saving. No database."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from plantops.oee.calendar import ShiftPattern, planned_shifts, planned_windows

BERLIN = ZoneInfo("Europe/Berlin")
US = 1_000_000


def us(year: int, month: int, day: int, hour: int = 0, minute: int = 0, tz=UTC) -> int:
    return int(datetime(year, month, day, hour, minute, tzinfo=tz).timestamp()) * US


EARLY = ShiftPattern("Early", time(6), time(14), breaks=((time(10), time(10, 30)),))
NIGHT = ShiftPattern(
    "Night", time(22), time(6), weekdays=frozenset(range(5)), breaks=((time(0), time(0, 30)),)
)


def test_a_day_shift_loses_its_break():
    (shift,) = planned_shifts([EARLY], tz=UTC, start_us=us(2026, 11, 23), end_us=us(2026, 11, 24))
    assert (shift.start_us, shift.end_us) == (us(2026, 11, 23, 6), us(2026, 11, 23, 14))
    assert shift.windows == (
        (us(2026, 11, 23, 6), us(2026, 11, 23, 10)),
        (us(2026, 11, 23, 10, 30), us(2026, 11, 23, 14)),
    )
    assert shift.planned_s == 7.5 * 3600


def test_a_night_shift_crosses_midnight_with_its_break_after_midnight():
    shifts = planned_shifts([NIGHT], tz=UTC, start_us=us(2026, 11, 23), end_us=us(2026, 11, 24))
    # Sunday's night shift does not run (Monday to Friday), Monday's starts at 22:00.
    (monday,) = shifts
    assert monday.day == date(2026, 11, 23)
    assert monday.windows == (
        (us(2026, 11, 23, 22), us(2026, 11, 24, 0)),
        (us(2026, 11, 24, 0, 30), us(2026, 11, 24, 6)),
    )
    # Clipped to Monday, only its first two hours are Monday's planned time.
    assert planned_windows(shifts, us(2026, 11, 23), us(2026, 11, 24)) == [
        (us(2026, 11, 23, 22), us(2026, 11, 24, 0))
    ]


def test_no_shift_starts_on_a_holiday():
    shifts = planned_shifts(
        [EARLY, NIGHT],
        tz=UTC,
        start_us=us(2026, 12, 24),
        end_us=us(2026, 12, 26),
        holidays=[date(2026, 12, 25)],
    )
    assert [(s.name, s.day.isoformat()) for s in shifts] == [
        ("Night", "2026-12-23"),  # Wednesday night, ending on the 24th
        ("Early", "2026-12-24"),
        ("Night", "2026-12-24"),
    ]


def test_night_shifts_over_the_daylight_saving_changes_last_7_and_9_real_hours():
    spring = planned_shifts(
        [NIGHT], tz=BERLIN, start_us=us(2026, 3, 26, 12), end_us=us(2026, 3, 27, 12)
    )
    # Thursday 26 March 2026 22:00 CET to Friday 06:00 CET: no change, 8 h less the break.
    assert spring[0].planned_s == 7.5 * 3600
    (change,) = planned_shifts(
        [ShiftPattern("Night", time(22), time(6), breaks=((time(0), time(0, 30)),))],
        tz=BERLIN,
        start_us=us(2026, 3, 28, 12),
        end_us=us(2026, 3, 29, 2),
    )
    # Saturday 28 March 22:00 CET (21:00 UTC) to Sunday 06:00 CEST (04:00 UTC): 7 h real.
    assert (change.start_us, change.end_us) == (us(2026, 3, 28, 21), us(2026, 3, 29, 4))
    assert change.planned_s == 6.5 * 3600
    (autumn,) = planned_shifts(
        [ShiftPattern("Night", time(22), time(6))],
        tz=BERLIN,
        start_us=us(2026, 10, 24, 12),
        end_us=us(2026, 10, 25, 2),
    )
    # Saturday 24 October 22:00 CEST (20:00 UTC) to Sunday 06:00 CET (05:00 UTC): 9 h real.
    assert (autumn.start_us, autumn.end_us) == (us(2026, 10, 24, 20), us(2026, 10, 25, 5))
    assert autumn.planned_s == 9 * 3600
