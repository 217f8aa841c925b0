"""Who is told and when, on plain values: priorities, quiet hours, tiers, floods, repeats.
No database."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from plantops.notify import rules

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
STEP = timedelta(minutes=5)
PRIORITIES = ["low", "medium", "high", "critical"]


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


# --- priority -----------------------------------------------------------------------------


@pytest.mark.parametrize("minimum", PRIORITIES)
@pytest.mark.parametrize("priority", PRIORITIES)
def test_a_priority_passes_a_minimum_of_itself_or_below(priority, minimum):
    expected = PRIORITIES.index(priority) >= PRIORITIES.index(minimum)
    assert rules.at_least(priority, minimum) is expected


def test_critical_passes_every_minimum_and_low_only_its_own():
    assert all(rules.at_least("critical", m) for m in PRIORITIES)
    assert [m for m in PRIORITIES if rules.at_least("low", m)] == ["low"]


def test_an_unknown_priority_is_an_error_not_a_silent_pass():
    with pytest.raises(ValueError, match="urgent"):
        rules.at_least("urgent", "low")


# --- quiet hours --------------------------------------------------------------------------


def test_quiet_hours_within_one_day_include_the_start_and_exclude_the_end():
    start, end = time(12, 0), time(13, 0)
    assert not rules.in_quiet_hours(time(11, 59), start, end)
    assert rules.in_quiet_hours(time(12, 0), start, end)
    assert rules.in_quiet_hours(time(12, 59), start, end)
    assert not rules.in_quiet_hours(time(13, 0), start, end)


def test_quiet_hours_ending_before_they_start_cross_midnight():
    start, end = time(22, 0), time(6, 0)
    assert not rules.in_quiet_hours(time(21, 59), start, end)
    assert rules.in_quiet_hours(time(22, 0), start, end)
    assert rules.in_quiet_hours(time(23, 59, 59), start, end)
    assert rules.in_quiet_hours(time(0, 0), start, end)
    assert rules.in_quiet_hours(time(5, 59), start, end)
    assert not rules.in_quiet_hours(time(6, 0), start, end)
    assert not rules.in_quiet_hours(time(12, 0), start, end)


def test_no_quiet_hours_or_an_empty_span_is_never_quiet():
    assert not rules.in_quiet_hours(time(3, 0), None, None)
    assert not rules.in_quiet_hours(time(3, 0), time(22, 0), None)
    assert not rules.in_quiet_hours(time(3, 0), None, time(6, 0))
    assert not rules.in_quiet_hours(time(3, 0), time(3, 0), time(3, 0))


def test_quiet_hours_hold_back_everything_below_critical():
    night = (time(22, 0), time(6, 0))
    for priority in ("low", "medium", "high"):
        assert rules.quiet_blocks(time(2, 0), *night, priority=priority, allows_critical=True)


def test_a_critical_alert_comes_through_quiet_hours_when_they_allow_it():
    night = (time(22, 0), time(6, 0))
    assert not rules.quiet_blocks(time(2, 0), *night, priority="critical", allows_critical=True)
    assert rules.quiet_blocks(time(2, 0), *night, priority="critical", allows_critical=False)


def test_outside_quiet_hours_nothing_is_held_back():
    night = (time(22, 0), time(6, 0))
    for priority in PRIORITIES:
        assert not rules.quiet_blocks(time(12, 0), *night, priority=priority, allows_critical=False)


# --- escalation tiers ---------------------------------------------------------------------


def test_tier_one_is_told_at_the_raise_and_one_more_tier_per_step():
    assert rules.tiers_due(T0, T0, STEP) == 1
    assert rules.tiers_due(T0, at(299), STEP) == 1
    assert rules.tiers_due(T0, at(300), STEP) == 2
    assert rules.tiers_due(T0, at(599), STEP) == 2
    assert rules.tiers_due(T0, at(600), STEP) == 3
    assert rules.tiers_due(T0, at(3600), STEP) == 13


def test_without_a_step_only_tier_one_is_told():
    assert rules.tiers_due(T0, at(86_400), None) == 1
    assert rules.tiers_due(T0, at(86_400), timedelta(0)) == 1


def test_a_clock_behind_the_raise_tells_tier_one_only():
    assert rules.tiers_due(T0, at(-600), STEP) == 1


@pytest.mark.parametrize(
    ("state", "shelved", "suppressed", "expected"),
    [
        ("active_unack", False, False, True),
        ("rtn_unack", False, False, True),
        ("active_ack", False, False, False),
        ("normal", False, False, False),
        ("active_unack", True, False, False),
        ("active_unack", False, True, False),
    ],
)
def test_escalation_continues_only_while_the_alarm_waits_for_an_acknowledgement(
    state, shelved, suppressed, expected
):
    assert rules.still_escalating(state=state, shelved=shelved, suppressed=suppressed) is expected


# --- floods -------------------------------------------------------------------------------


def activations(n: int, *, every_s: float = 30.0) -> list[datetime]:
    return [at(i * every_s) for i in range(n)]


def test_ten_activations_in_ten_minutes_are_no_flood():
    ten = activations(10)
    assert not rules.flooding(ten, ten[-1])


def test_the_eleventh_activation_in_ten_minutes_makes_a_flood():
    eleven = activations(11)
    assert rules.flooding(eleven, eleven[-1])
    assert not rules.flooding(eleven, eleven[-2])  # before the eleventh: ten so far


def test_activations_older_than_the_window_do_not_count():
    # Eleven activations a minute apart: at the last, the first is exactly ten minutes old
    # and so outside the window (which is open at its start).
    spread = activations(11, every_s=60.0)
    assert not rules.flooding(spread, spread[-1])
    assert not rules.flooding(spread, spread[-1] - timedelta(seconds=1))
    assert rules.flooding([*spread, spread[-1]], spread[-1])


def test_activations_after_the_moment_do_not_count():
    eleven = activations(11)
    assert not rules.flooding(eleven, at(-1))


def test_a_flood_is_over_once_the_last_ten_minutes_hold_ten_or_fewer():
    eleven = activations(11)  # 0 s … 300 s
    assert not rules.flood_over(eleven, eleven[-1])
    # Ten minutes after the first activation, it falls out of the window: ten are left.
    assert rules.flood_over(eleven, at(600))
    assert not rules.flood_over(eleven, at(599))
    assert rules.flood_over([], at(0))


# --- repeats (chattering) -----------------------------------------------------------------


def test_a_raise_within_the_window_of_a_notified_raise_is_a_repeat():
    window = timedelta(minutes=10)
    assert rules.repeats([T0], at(1), window)
    assert rules.repeats([T0], at(599), window)
    assert rules.repeats([T0], T0, window)


def test_a_raise_after_the_window_is_not_a_repeat():
    window = timedelta(minutes=10)
    assert not rules.repeats([T0], at(600), window)
    assert not rules.repeats([T0], at(3600), window)
    assert not rules.repeats([], T0, window)


def test_a_raise_before_the_notified_one_is_not_its_repeat():
    assert not rules.repeats([T0], at(-1), timedelta(minutes=10))


def test_a_zero_window_never_repeats():
    assert not rules.repeats([T0], T0, timedelta(0))
