"""Live or late delivery of a rule's edges, without a database: which edges are late, which
raises are told now, which are held back until the signal's data has caught up."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plantops.alerts.delivery import Delivery, EdgeDelivery, delay_text, plan

S = 1_000_000
NOW = 1_796_000_000 * S
LATE_AFTER = 60 * S
HOUR = 3600 * S


def planned(changes, *, held=False, newest=None):
    return plan(
        changes,
        held=held,
        newest_us=newest if newest is not None else (changes[-1][0] if changes else None),
        now_us=NOW,
        late_after_us=LATE_AFTER,
    )


def test_a_live_raise_is_told_at_once_and_says_nothing_of_a_delay():
    result = planned([(NOW - 2 * S, "raise")])
    assert result.edges == [EdgeDelivery(Delivery.LIVE, None, True)]
    assert (result.announce_held, result.held) == (False, False)


def test_a_reading_exactly_at_the_threshold_is_still_live():
    assert planned([(NOW - LATE_AFTER, "raise")]).edges[0].delivery is Delivery.LIVE
    assert planned([(NOW - LATE_AFTER - 1, "raise")]).edges[0].delivery is Delivery.LATE


def test_a_backlog_that_raised_and_returned_is_recorded_late_and_pages_nobody():
    result = planned([(NOW - 3 * HOUR, "raise"), (NOW - 3 * HOUR + 600 * S, "clear")])
    assert result.edges == [
        EdgeDelivery(Delivery.LATE, 3 * HOUR, False),
        EdgeDelivery(Delivery.LATE, 3 * HOUR - 600 * S, False),
    ]
    assert (result.announce_held, result.held) == (False, False)


def test_a_late_raise_still_active_while_the_data_is_still_old_is_held_back():
    result = planned([(NOW - 3 * HOUR, "raise")], newest=NOW - 2 * HOUR)
    assert result.edges == [EdgeDelivery(Delivery.LATE, 3 * HOUR, False)]
    assert result.held


def test_a_late_raise_still_active_when_the_data_has_caught_up_is_told_now():
    # The backlog and the first live readings in one batch: the condition holds now.
    result = planned([(NOW - 3 * HOUR, "raise")], newest=NOW - S)
    assert result.edges == [EdgeDelivery(Delivery.LATE, 3 * HOUR, True)]
    assert not result.held


def test_a_held_raise_released_by_a_clear_in_a_later_batch_was_never_told():
    result = planned([(NOW - 2 * HOUR, "clear")], held=True)
    assert result.edges == [EdgeDelivery(Delivery.LATE, 2 * HOUR, False)]
    assert (result.announce_held, result.held) == (False, False)


def test_a_held_raise_stays_held_while_the_backlog_goes_on_without_an_edge():
    result = planned([], held=True, newest=NOW - HOUR)
    assert (result.edges, result.announce_held, result.held) == ([], False, True)


def test_a_held_raise_is_told_once_the_signal_has_caught_up_still_active():
    result = planned([], held=True, newest=NOW - 3 * S)
    assert (result.edges, result.announce_held, result.held) == ([], True, False)


def test_a_live_clear_after_a_held_raise_ends_the_hold_quietly():
    result = planned([(NOW - S, "clear")], held=True)
    assert result.edges == [EdgeDelivery(Delivery.LIVE, None, False)]
    assert (result.announce_held, result.held) == (False, False)


def test_only_the_last_raise_of_a_late_batch_may_be_told():
    result = planned(
        [(NOW - 3 * HOUR, "raise"), (NOW - 2 * HOUR, "clear"), (NOW - 10 * S, "raise")]
    )
    assert [edge.announce for edge in result.edges] == [False, False, True]
    assert [edge.delivery for edge in result.edges] == [Delivery.LATE, Delivery.LATE, Delivery.LIVE]


edges_strategy = st.lists(st.integers(min_value=0, max_value=4 * 3600), max_size=12, unique=True)


@settings(max_examples=300, deadline=None)
@given(ages_s=edges_strategy, cuts=st.lists(st.integers(0, 12)), tail_s=st.integers(0, 4 * 3600))
def test_a_raise_is_told_at_most_once_and_only_while_it_still_holds(ages_s, cuts, tail_s):
    """Edges alternate raise/clear in time order, split into batches however ingest cut them;
    then a batch without an edge whose newest reading is `tail_s` old (or the last edge's)."""
    times = sorted(NOW - age * S for age in ages_s)
    changes = [(ts, "raise" if i % 2 == 0 else "clear") for i, ts in enumerate(times)]
    bounds = sorted({0, len(changes), *(c for c in cuts if c <= len(changes))})
    held, told = False, []
    for lo, hi in itertools.pairwise(bounds):
        batch = changes[lo:hi]
        result = planned(batch, held=held)
        told += [ts for (ts, _), edge in zip(batch, result.edges, strict=True) if edge.announce]
        assert not result.announce_held  # a batch's first edge after a held raise is its clear
        held = result.held
    newest = max([NOW - tail_s * S, *times])
    result = planned([], held=held, newest=newest)
    if result.announce_held:
        told.append(changes[-1][0])
    held = result.held

    for ts, change in changes:
        returned = any(t > ts for t, c in changes if c == "clear")
        if change == "raise" and NOW - ts <= LATE_AFTER:
            assert ts in told  # a live raise is told as it happens
        if change == "raise" and NOW - ts > LATE_AFTER and returned:
            assert ts not in told  # over before anyone could act: recorded, not paged
    assert len(told) == len(set(told))
    if len(changes) % 2:  # still active at the end
        last_raise = changes[-1][0]
        caught_up = NOW - newest <= LATE_AFTER
        assert (last_raise in told) == (NOW - last_raise <= LATE_AFTER or caught_up)
        assert held == (last_raise not in told)
    else:
        assert not held


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0 s"),
        (59.9, "59 s"),
        (60, "1 min"),
        (3599, "59 min"),
        (3600, "1 h"),
        (3 * 3600 + 10 * 60 + 59, "3 h 10 min"),
        (86_400, "1 d"),
        (2 * 86_400 + 4 * 3600 + 120, "2 d 4 h"),
        (-5, "0 s"),
    ],
)
def test_a_delay_reads_in_the_largest_units_that_matter(seconds, text):
    assert delay_text(seconds) == text
