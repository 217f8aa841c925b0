"""Property-based: any sequence of lifecycle actions against an independent model of ISA-18.2.

The model below is written from the transition table, not from the implementation: for every
action it says whether the action is legal, which events it yields and what the status becomes.
The machine then checks that the implementation agrees and that no illegal combination of
fields is ever reached.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from plantops.alerts.lifecycle import (
    AlarmState,
    AlertStatus,
    EventKind,
    IllegalTransition,
    Transition,
    acknowledge,
    expire_shelving,
    is_shelved,
    raise_condition,
    realarm,
    realarm_due,
    return_to_normal,
    shelve,
    suppress,
    unshelve,
)

T0 = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)
MAX_SHELVE_S = 2 * 3600
REALARM_S = 900

N, AU, AA, RU = (
    AlarmState.NORMAL,
    AlarmState.ACTIVE_UNACK,
    AlarmState.ACTIVE_ACK,
    AlarmState.RTN_UNACK,
)


@dataclass(frozen=True)
class Model:
    state: AlarmState = N
    occurrences: int = 0
    shelved_until: datetime | None = None
    suppressed: bool = False
    last_annunciated_at: datetime | None = None

    @property
    def hidden(self) -> bool:
        return self.shelved_until is not None or self.suppressed

    def audible(self) -> bool:
        return self.state is AU and not self.hidden


@dataclass(frozen=True)
class Outcome:
    """What the model expects: None for a refused action."""

    model: Model
    events: tuple[EventKind, ...]
    annunciate: bool


def expire(m: Model, now: datetime) -> tuple[Model, tuple[EventKind, ...], bool]:
    if m.shelved_until is not None and now >= m.shelved_until:
        m = replace(m, shelved_until=None)
        if m.audible():
            return replace(m, last_annunciated_at=now), (EventKind.SHELVE_EXPIRED,), True
        return m, (EventKind.SHELVE_EXPIRED,), False
    return m, (), False


def model_raise(m: Model, now: datetime) -> Outcome:
    m, ev, revealed = expire(m, now)
    activated = m.state in (N, RU)
    if m.state is N:
        m = replace(m, occurrences=0, last_annunciated_at=None)
    m = replace(m, state=AA if m.state is AA else AU, occurrences=m.occurrences + 1)
    if activated and not m.hidden:
        return Outcome(replace(m, last_annunciated_at=now), (*ev, EventKind.RAISED), True)
    return Outcome(m, (*ev, EventKind.RAISED), revealed and m.audible())


def model_return(m: Model, now: datetime) -> Outcome | None:
    m, ev, _ = expire(m, now)
    if m.state is AU:
        return Outcome(replace(m, state=RU), (*ev, EventKind.RETURNED), False)
    if m.state is AA:
        return Outcome(replace(m, state=N), (*ev, EventKind.RETURNED, EventKind.CLOSED), False)
    return None


def model_ack(m: Model, now: datetime) -> Outcome | None:
    m, ev, _ = expire(m, now)
    if m.state is AU:
        return Outcome(replace(m, state=AA), (*ev, EventKind.ACKNOWLEDGED), False)
    if m.state is RU:
        return Outcome(replace(m, state=N), (*ev, EventKind.ACKNOWLEDGED, EventKind.CLOSED), False)
    return None


def model_shelve(m: Model, now: datetime, duration_s: int) -> Outcome | None:
    m, ev, _ = expire(m, now)
    if m.state is N or m.shelved_until is not None or not 0 < duration_s <= MAX_SHELVE_S:
        return None
    until = now + timedelta(seconds=duration_s)
    return Outcome(replace(m, shelved_until=until), (*ev, EventKind.SHELVED), False)


def model_unshelve(m: Model, now: datetime) -> Outcome | None:
    m, ev, _ = expire(m, now)
    if m.shelved_until is None:
        return None
    m = replace(m, shelved_until=None)
    return reveal(m, now, (*ev, EventKind.UNSHELVED))


def model_expire_shelving(m: Model, now: datetime) -> Outcome | None:
    if m.shelved_until is None or now < m.shelved_until:
        return None
    m, ev, announced = expire(m, now)
    return Outcome(m, ev, announced)


def model_suppress(m: Model, now: datetime, on: bool) -> Outcome | None:
    m, ev, _ = expire(m, now)
    if m.suppressed == on:
        return None
    m = replace(m, suppressed=on)
    if on:
        return Outcome(m, (*ev, EventKind.SUPPRESSED), False)
    return reveal(m, now, (*ev, EventKind.UNSUPPRESSED))


def model_realarm(m: Model, now: datetime) -> Outcome | None:
    m, ev, _ = expire(m, now)
    due = (
        m.audible()
        and m.last_annunciated_at is not None
        and now - m.last_annunciated_at >= timedelta(seconds=REALARM_S)
    )
    if not due:
        return None
    return Outcome(replace(m, last_annunciated_at=now), (*ev, EventKind.REALARMED), True)


def reveal(m: Model, now: datetime, events: tuple[EventKind, ...]) -> Outcome:
    if m.audible():
        return Outcome(replace(m, last_annunciated_at=now), events, True)
    return Outcome(m, events, False)


class AlertLifecycle(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.now = T0
        self.last_action_at = T0
        self.status = AlertStatus()
        self.model = Model()

    def attempt(self, expected: Outcome | None, act) -> Transition | None:
        before = self.status
        snapshot = copy.copy(before)
        try:
            t = act(before)
        except IllegalTransition:
            assert expected is None, f"refused, but the model allows it: {expected}"
            assert before == snapshot, "a refused action changed the status"
            return None
        assert expected is not None, f"allowed, but the model refuses it: {t}"
        assert t.events == expected.events
        assert t.annunciate == expected.annunciate
        self.status = t.status
        self.model = expected.model
        self.last_action_at = self.now
        return t

    @rule(
        seconds=st.one_of(
            st.sampled_from([0, 1, REALARM_S]), st.integers(min_value=0, max_value=3 * 3600)
        )
    )
    def advance_time(self, seconds: int) -> None:
        self.now += timedelta(seconds=seconds)

    @precondition(lambda self: self.status.shelved_until is not None)
    @rule(extra_s=st.one_of(st.just(0), st.integers(min_value=0, max_value=600)))
    def advance_past_shelving(self, extra_s: int) -> None:
        until = self.status.shelved_until
        assert until is not None
        self.now = max(self.now, until + timedelta(seconds=extra_s))
        # Shelving always expires once time passes shelved_until, without anyone acting.
        assert not is_shelved(self.status, self.now)

    @rule()
    def raise_it(self) -> None:
        was_closed = self.status.is_closed
        t = self.attempt(model_raise(self.model, self.now), lambda s: raise_condition(s, self.now))
        assert t is not None
        assert t.opened == was_closed
        if t.opened:
            assert t.status.first_at == self.now

    @rule()
    def return_it(self) -> None:
        self.attempt(model_return(self.model, self.now), lambda s: return_to_normal(s, self.now))

    @rule()
    def acknowledge_it(self) -> None:
        self.attempt(model_ack(self.model, self.now), lambda s: acknowledge(s, self.now))

    @rule(
        duration_s=st.one_of(
            st.sampled_from([0, 1, MAX_SHELVE_S, MAX_SHELVE_S + 1]),
            st.integers(min_value=-60, max_value=MAX_SHELVE_S + 3600),
        )
    )
    def shelve_it(self, duration_s: int) -> None:
        until = self.now + timedelta(seconds=duration_s)
        self.attempt(
            model_shelve(self.model, self.now, duration_s),
            lambda s: shelve(s, self.now, until, MAX_SHELVE_S, by="alice", reason="test"),
        )

    @rule()
    def unshelve_it(self) -> None:
        self.attempt(model_unshelve(self.model, self.now), lambda s: unshelve(s, self.now))

    @rule(on=st.booleans())
    def suppress_it(self, on: bool) -> None:
        self.attempt(model_suppress(self.model, self.now, on), lambda s: suppress(s, self.now, on))

    @rule()
    def expire_it(self) -> None:
        self.attempt(
            model_expire_shelving(self.model, self.now), lambda s: expire_shelving(s, self.now)
        )

    @rule()
    def realarm_it(self) -> None:
        expected = model_realarm(self.model, self.now)
        assert realarm_due(self.status, self.now, REALARM_S) == (expected is not None)
        self.attempt(expected, lambda s: realarm(s, self.now, REALARM_S))

    @invariant()
    def it_matches_the_model(self) -> None:
        s, m = self.status, self.model
        assert s.state is m.state
        assert s.occurrences == m.occurrences
        assert s.shelved_until == m.shelved_until
        assert s.suppressed == m.suppressed
        assert s.last_annunciated_at == m.last_annunciated_at

    @invariant()
    def it_never_reaches_an_illegal_combination(self) -> None:
        s = self.status
        assert s.is_open == (s.state is not AlarmState.NORMAL)
        assert s.is_closed == (not s.is_open)
        if s.is_open:
            assert s.occurrences >= 1
            assert s.first_at is not None
            assert s.last_at is not None
            assert s.first_at <= s.last_at <= self.last_action_at
        if s.occurrences == 0:
            assert s.state is AlarmState.NORMAL
            assert s.first_at is None
        # Closed only when returned and acknowledged.
        if s.is_closed and s.occurrences:
            assert s.acknowledged_at is not None
            assert s.returned_at is not None
            assert s.acknowledged
        shelving = (s.shelved_at, s.shelved_until, s.shelved_by, s.shelve_reason)
        assert all(f is None for f in shelving) or all(f is not None for f in shelving)
        if s.shelved_until is not None:
            assert s.shelved_at is not None
            assert 0 < (s.shelved_until - s.shelved_at).total_seconds() <= MAX_SHELVE_S
            # Every action applies expiry first, so a stored shelve outlives the last action.
            assert s.shelved_until > self.last_action_at
        assert s.suppressed == (s.suppressed_at is not None)
        if s.state is AlarmState.ACTIVE_UNACK and not s.hidden:
            assert s.last_annunciated_at is not None

    @invariant()
    def it_never_holds_a_shelve_past_its_time(self) -> None:
        until = self.status.shelved_until
        assert is_shelved(self.status, self.now) == (until is not None and self.now < until)


AlertLifecycle.TestCase.settings = settings(max_examples=300, stateful_step_count=40, deadline=None)
TestAlertLifecycle = AlertLifecycle.TestCase
