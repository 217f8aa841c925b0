"""Rule evaluation on batches: deadband, on/off delays, rate of change, no data, and state
carried from one batch to the next."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plantops.alerts.evaluation import (
    ConditionChange,
    RuleKind,
    RuleSpec,
    RuleState,
    evaluate,
    evaluate_no_data,
    no_data,
)
from plantops.alerts.lifecycle import AlertStatus, raise_condition, return_to_normal

S = 1_000_000  # microseconds per second
T0 = 1_795_341_600 * S  # 2026-11-22T10:00:00Z
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def series(*values: float, start_s: int = 0) -> list[tuple[int, float]]:
    """Readings once a second from T0 + start_s."""
    return [(T0 + (start_s + i) * S, v) for i, v in enumerate(values)]


def changes_of(rule: RuleSpec, readings, state: RuleState | None = None):
    return evaluate(rule, state or RuleState(), readings).changes


def test_it_raises_above_a_high_limit_and_clears_only_below_the_deadband():
    rule = RuleSpec(kind=RuleKind.HIGH, limit=100, deadband=2)
    # 98 is exactly limit - deadband: not below it, so it does not clear.
    readings = series(99, 101, 99, 98, 100.5, 97.9, 99.9, 100, 100.1)
    assert changes_of(rule, readings) == [
        (T0 + 1 * S, "raise", 101),
        (T0 + 5 * S, "clear", 97.9),
        (T0 + 8 * S, "raise", 100.1),
    ]


def test_it_treats_a_low_limit_as_the_mirror_image():
    rule = RuleSpec(kind=RuleKind.LOW, limit=10, deadband=1)
    readings = series(10, 9.9, 10.5, 11, 11.1, 9)
    assert changes_of(rule, readings) == [
        (T0 + 1 * S, "raise", 9.9),
        (T0 + 4 * S, "clear", 11.1),
        (T0 + 5 * S, "raise", 9),
    ]


def test_it_waits_for_the_on_delay_and_restarts_it_when_the_condition_breaks():
    rule = RuleSpec(kind=RuleKind.HIGH, limit=100, on_delay_s=5)
    # Over from t=0, broken at t=2, over again from t=3: five seconds later is t=8.
    readings = series(101, 102, 99, 101, 101, 101, 101, 101, 101, 101)
    assert changes_of(rule, readings) == [(T0 + 8 * S, "raise", 101)]


def test_it_waits_for_the_off_delay_and_restarts_it_when_normal_breaks():
    rule = RuleSpec(kind=RuleKind.HIGH, limit=100, deadband=1, off_delay_s=3)
    # Raised at t=0. Normal (< 99) from t=1, broken at t=2 by 99.5 (inside the deadband),
    # normal again from t=3: three seconds later is t=6.
    readings = series(105, 98, 99.5, 98, 98, 98, 98, 98)
    assert changes_of(rule, readings) == [
        (T0, "raise", 105),
        (T0 + 6 * S, "clear", 98),
    ]


def test_it_measures_rate_of_change_over_the_whole_window():
    rule = RuleSpec(kind=RuleKind.RATE, limit=1.0, deadband=0.5, window_s=10)
    # Flat at 50 until t=10, +2/s until t=20, then flat at 70. Rate at t is
    # |v(t) - v(t-10)| / 10: 1.0 at t=15 (not over), 1.2 at t=16; 0.4 at t=28 (< 0.5).
    values = [50.0] * 11 + [50.0 + 2 * i for i in range(1, 11)] + [70.0] * 10
    result = evaluate(rule, RuleState(), series(*values))
    assert [(c.ts_us, c.change) for c in result.changes] == [
        (T0 + 16 * S, "raise"),
        (T0 + 28 * S, "clear"),
    ]
    assert result.changes[0].value == pytest.approx(1.2)
    assert result.changes[1].value == pytest.approx(0.4)
    # Only the reading at the window's start and the ones after it are kept.
    assert [ts for ts, _ in result.state.history] == [T0 + t * S for t in range(20, 31)]


def test_it_judges_no_rate_until_the_readings_span_the_window():
    rule = RuleSpec(kind=RuleKind.RATE, limit=1.0, window_s=10)
    # Steep jumps, but all within 9 s of the first reading.
    assert changes_of(rule, series(0, 50, 0, 50, 0, 50, 0, 50, 0, 50)) == []
    # One more reading makes a 10 s span: |50 - 0| / 10 = 5 per second.
    assert changes_of(rule, series(0, 50, 0, 50, 0, 50, 0, 50, 0, 50, 50)) == [
        (T0 + 10 * S, "raise", 5.0)
    ]


def test_it_raises_no_data_at_the_moment_the_silence_reached_the_timeout():
    rule = RuleSpec(kind=RuleKind.NO_DATA, timeout_s=60)
    seen = T0 + 1000 * S
    quiet = evaluate_no_data(rule, RuleState(), seen, T0 + 1059 * S)
    assert quiet.changes == []
    assert not quiet.state.active
    raised = evaluate_no_data(rule, quiet.state, seen, T0 + 1090 * S)
    assert raised.changes == [(T0 + 1060 * S, "raise", 90.0)]
    still = evaluate_no_data(rule, raised.state, seen, T0 + 1200 * S)
    assert still.changes == []
    assert still.state.active
    back = evaluate_no_data(rule, still.state, T0 + 1300 * S, T0 + 1310 * S)
    assert back.changes == [(T0 + 1300 * S, "clear", 300.0)]
    assert not back.state.active


def test_it_clears_and_raises_no_data_again_when_one_reading_broke_two_silences():
    rule = RuleSpec(kind=RuleKind.NO_DATA, timeout_s=60)
    raised = evaluate_no_data(rule, RuleState(), T0, T0 + 61 * S).state
    result = evaluate_no_data(rule, raised, T0 + 100 * S, T0 + 200 * S)
    assert result.changes == [
        (T0 + 100 * S, "clear", 100.0),
        (T0 + 160 * S, "raise", 100.0),
    ]
    assert result.state.active


def test_no_data_is_true_from_the_timeout_on():
    assert not no_data(T0, T0 + 59 * S, 60)
    assert no_data(T0, T0 + 60 * S, 60)


def test_it_carries_a_pending_on_delay_across_batches_and_through_json():
    rule = RuleSpec(kind=RuleKind.HIGH, limit=100, deadband=1, on_delay_s=5)
    first = evaluate(rule, RuleState(), series(101, 101, 101, 101))
    assert first.changes == []
    assert first.state.pending_since_us == T0
    stored = RuleState.from_dict(json.loads(json.dumps(first.state.as_dict())))
    assert stored == first.state
    # The second batch arrives unsorted, with a redelivered reading and a late one.
    second_batch = [(T0 + 6 * S, 101.0), (T0 + 3 * S, 90.0), (T0 + 4 * S, 101.0), (T0 + 5 * S, 102)]
    second = evaluate(rule, stored, second_batch)
    assert second.changes == [(T0 + 5 * S, "raise", 102)]
    assert second.state.active
    assert second.state.last_ts_us == T0 + 6 * S


def test_it_carries_an_active_condition_and_its_off_delay_across_batches():
    rule = RuleSpec(kind=RuleKind.HIGH, limit=100, deadband=1, off_delay_s=2)
    first = evaluate(rule, RuleState(), series(101, 98))
    assert first.changes == [(T0, "raise", 101)]
    second = evaluate(rule, first.state, series(98, 98, start_s=2))
    assert second.changes == [(T0 + 3 * S, "clear", 98)]


def test_a_signal_oscillating_around_its_limit_raises_one_alert_with_a_deadband():
    """±0.1 % around a 100.0 limit once a second for 10 minutes, with a 1 % deadband."""
    rule = RuleSpec(kind=RuleKind.HIGH, limit=100.0, deadband=1.0)
    readings = series(*[100.1 if i % 2 == 0 else 99.9 for i in range(600)])
    assert len(_alerts_and_activations(rule, readings)[0]) <= 1
    assert _alerts_and_activations(rule, readings) == ([_dt(T0)], 1)

    # Without the deadband the same signal chatters: every other second is a new activation.
    chattering = RuleSpec(kind=RuleKind.HIGH, limit=100.0, deadband=0.0)
    assert _alerts_and_activations(chattering, readings)[1] == 300


def _alerts_and_activations(rule: RuleSpec, readings) -> tuple[list, int]:
    """Feed a signal in 50-reading batches through evaluation and the lifecycle; return the
    times alerts were opened and the number of activations."""
    state, status = RuleState(), AlertStatus()
    opened, activations = [], 0
    for i in range(0, len(readings), 50):
        result = evaluate(rule, state, readings[i : i + 50])
        state = result.state
        for change in result.changes:
            at = _dt(change.ts_us)
            t = (raise_condition if change.change == "raise" else return_to_normal)(status, at)
            status = t.status
            opened += [at] if t.opened else []
            activations += t.activated
    return opened, activations


def _dt(ts_us: int) -> datetime:
    return EPOCH + timedelta(microseconds=ts_us)


readings_strategy = st.lists(
    st.tuples(
        st.integers(min_value=T0, max_value=T0 + 120 * S),
        st.floats(min_value=80, max_value=120, allow_nan=False),
    ),
    max_size=80,
)
rules_strategy = st.one_of(
    st.builds(
        RuleSpec,
        kind=st.sampled_from([RuleKind.HIGH, RuleKind.LOW]),
        limit=st.just(100.0),
        deadband=st.sampled_from([0.0, 1.0, 5.0]),
        on_delay_s=st.sampled_from([0.0, 2.0, 7.5]),
        off_delay_s=st.sampled_from([0.0, 3.0]),
    ),
    st.builds(
        RuleSpec,
        kind=st.just(RuleKind.RATE),
        limit=st.sampled_from([0.5, 2.0]),
        deadband=st.sampled_from([0.0, 0.25]),
        window_s=st.sampled_from([1.0, 10.0]),
        on_delay_s=st.sampled_from([0.0, 2.0]),
    ),
)


@settings(max_examples=300, deadline=None)
@given(rule=rules_strategy, readings=readings_strategy, cuts=st.lists(st.integers(0, 80)))
def test_it_finds_the_same_edges_however_the_readings_are_split_into_batches(rule, readings, cuts):
    whole = evaluate(rule, RuleState(), readings)
    # Batches arrive in time order; within a batch the order does not matter.
    ordered = sorted(readings)
    bounds = sorted({0, len(ordered), *(c for c in cuts if c <= len(ordered))})
    state, changes = RuleState(), []
    for lo, hi in itertools.pairwise(bounds):
        batch = list(reversed(ordered[lo:hi]))
        result = evaluate(rule, RuleState.from_dict(json.loads(json.dumps(state.as_dict()))), batch)
        state = result.state
        changes += result.changes
    assert changes == whole.changes
    assert state == whole.state
    # Edges alternate, starting with a raise, so the lifecycle never sees a clear it refuses.
    assert [c.change for c in changes] == ["raise", "clear"] * (len(changes) // 2) + (
        ["raise"] if len(changes) % 2 else []
    )
    assert all(isinstance(c, ConditionChange) for c in changes)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"kind": "high", "limit": 1, "deadband": -1},
        {"kind": "high", "limit": float("nan")},
        {"kind": "low", "limit": 1, "on_delay_s": -1},
        {"kind": "rate", "limit": 1, "window_s": 0},
        {"kind": "rate", "limit": 0, "window_s": 10},
        {"kind": "no_data", "timeout_s": 0},
    ],
)
def test_it_refuses_a_rule_that_cannot_be_evaluated(kwargs):
    with pytest.raises(ValueError):  # noqa: PT011 - each case has its own message
        RuleSpec(**kwargs)


def test_it_keeps_no_data_and_reading_rules_apart():
    with pytest.raises(ValueError, match="evaluate_no_data"):
        evaluate(RuleSpec(kind=RuleKind.NO_DATA, timeout_s=60), RuleState(), [])
    with pytest.raises(ValueError, match="no_data rule"):
        evaluate_no_data(RuleSpec(kind=RuleKind.HIGH, limit=1), RuleState(), T0, T0)


def test_it_skips_non_finite_values():
    rule = RuleSpec(kind=RuleKind.HIGH, limit=100)
    assert changes_of(rule, series(float("nan"), float("inf"), 99, 101)) == [
        (T0 + 3 * S, "raise", 101)
    ]
