"""The ISA-18.2 lifecycle walked by hand: each row of the transition table, shelving,
suppression and re-alarm."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from plantops.alerts.lifecycle import (
    AlarmState,
    AlertStatus,
    EventKind,
    IllegalTransition,
    acknowledge,
    announce,
    expire_shelving,
    held_back,
    is_shelved,
    raise_condition,
    realarm,
    realarm_due,
    return_to_normal,
    shelve,
    suppress,
    unshelve,
)

T0 = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
HOUR = 3600.0


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def raised(seconds: float = 0) -> AlertStatus:
    return raise_condition(AlertStatus(), at(seconds)).status


def test_it_opens_a_new_alert_on_the_first_raise():
    t = raise_condition(AlertStatus(), T0)
    assert t.status.state is AlarmState.ACTIVE_UNACK
    assert (t.status.occurrences, t.status.first_at, t.status.last_at) == (1, T0, T0)
    assert t.events == (EventKind.RAISED,)
    assert (t.opened, t.activated, t.annunciate) == (True, True, True)
    assert t.status.last_annunciated_at == T0


def test_it_counts_a_raise_while_active_as_an_occurrence_not_a_new_alert():
    t = raise_condition(raised(0), at(30))
    assert t.status.state is AlarmState.ACTIVE_UNACK
    assert (t.status.occurrences, t.status.first_at, t.status.last_at) == (2, T0, at(30))
    assert (t.opened, t.activated, t.annunciate) == (False, False, False)
    assert t.status.last_annunciated_at == T0


def test_it_keeps_an_acknowledged_alert_acknowledged_on_another_raise():
    acked = acknowledge(raised(0), at(10)).status
    t = raise_condition(acked, at(20))
    assert t.status.state is AlarmState.ACTIVE_ACK
    assert t.status.occurrences == 2
    assert not t.annunciate


def test_it_keeps_a_returned_unacknowledged_alert_in_the_inbox():
    t = return_to_normal(raised(0), at(60))
    assert t.status.state is AlarmState.RTN_UNACK
    assert t.status.is_open
    assert t.events == (EventKind.RETURNED,)
    assert t.status.returned_at == at(60)


def test_it_reactivates_the_same_alert_when_it_returns_unacknowledged_and_raises_again():
    rtn = return_to_normal(raised(0), at(60)).status
    t = raise_condition(rtn, at(90))
    assert t.status.state is AlarmState.ACTIVE_UNACK
    assert (t.status.occurrences, t.status.first_at) == (2, T0)
    assert (t.opened, t.activated, t.annunciate) == (False, True, True)


def test_it_closes_when_a_returned_alert_is_acknowledged():
    rtn = return_to_normal(raised(0), at(60)).status
    t = acknowledge(rtn, at(120))
    assert t.status.state is AlarmState.NORMAL
    assert t.status.is_closed
    assert t.events == (EventKind.ACKNOWLEDGED, EventKind.CLOSED)
    assert t.event is EventKind.ACKNOWLEDGED
    assert t.closed
    assert t.status.acknowledged_at == at(120)


def test_it_closes_when_an_acknowledged_alert_returns():
    acked = acknowledge(raised(0), at(10)).status
    t = return_to_normal(acked, at(60))
    assert t.status.state is AlarmState.NORMAL
    assert t.events == (EventKind.RETURNED, EventKind.CLOSED)
    assert (t.event, t.closed) == (EventKind.RETURNED, True)


def test_it_starts_a_fresh_alert_after_one_closed():
    closed = acknowledge(return_to_normal(raised(0), at(60)).status, at(70)).status
    t = raise_condition(closed, at(500))
    assert t.opened
    assert (t.status.occurrences, t.status.first_at, t.status.last_at) == (1, at(500), at(500))
    assert t.status.acknowledged_at is None
    assert t.status.returned_at is None


@pytest.mark.parametrize(
    ("status", "action"),
    [
        (AlertStatus(), return_to_normal),
        (AlertStatus(), acknowledge),
        ("acked", acknowledge),
        ("rtn", return_to_normal),
    ],
)
def test_it_refuses_what_the_table_refuses(status, action):
    if status == "acked":
        status = acknowledge(raised(0), at(1)).status
    elif status == "rtn":
        status = return_to_normal(raised(0), at(1)).status
    with pytest.raises(IllegalTransition):
        action(status, at(5))


def test_it_shelves_up_to_the_maximum_and_refuses_longer():
    status = raised(0)
    t = shelve(status, at(0), at(2 * HOUR), 2 * HOUR, by="alice", reason="sensor being replaced")
    assert t.events == (EventKind.SHELVED,)
    assert (t.status.shelved_by, t.status.shelve_reason) == ("alice", "sensor being replaced")
    assert t.status.shelved_until == at(2 * HOUR)
    with pytest.raises(IllegalTransition, match="longer than the maximum"):
        shelve(status, at(0), at(2 * HOUR + 1), 2 * HOUR, by="alice")


@pytest.mark.parametrize("until_s", [0, -60])
def test_it_refuses_a_shelve_that_does_not_end_in_the_future(until_s):
    with pytest.raises(IllegalTransition, match="future"):
        shelve(raised(0), at(0), at(until_s), HOUR)


def test_it_refuses_to_shelve_a_closed_alert_or_shelve_twice():
    with pytest.raises(IllegalTransition, match="closed"):
        shelve(AlertStatus(), T0, at(60), HOUR)
    shelved = shelve(raised(0), at(0), at(600), HOUR).status
    with pytest.raises(IllegalTransition, match="already shelved"):
        shelve(shelved, at(1), at(60), HOUR)


def test_it_hides_a_shelved_alarm_but_still_tracks_its_condition():
    shelved = shelve(raised(0), at(0), at(HOUR), HOUR).status
    rtn = return_to_normal(shelved, at(60))
    assert rtn.status.state is AlarmState.RTN_UNACK
    again = raise_condition(rtn.status, at(120))
    assert again.status.state is AlarmState.ACTIVE_UNACK
    assert again.activated
    assert not again.annunciate
    assert again.status.last_annunciated_at == T0


def test_it_expires_shelving_on_its_own_at_shelved_until():
    shelved = shelve(raised(0), at(0), at(600), HOUR).status
    assert is_shelved(shelved, at(599))
    assert not is_shelved(shelved, at(600))
    # Any action at or after shelved_until finds the shelving gone and says so first.
    t = acknowledge(shelved, at(600))
    assert t.events == (EventKind.SHELVE_EXPIRED, EventKind.ACKNOWLEDGED)
    assert not t.status.shelved


def test_it_announces_an_active_unacknowledged_alarm_when_its_shelving_expires():
    shelved = shelve(raised(0), at(0), at(600), HOUR).status
    with pytest.raises(IllegalTransition):
        expire_shelving(shelved, at(599))
    t = expire_shelving(shelved, at(700))
    assert t.events == (EventKind.SHELVE_EXPIRED,)
    assert t.annunciate
    assert t.status.last_annunciated_at == at(700)


def test_it_announces_a_hidden_alarm_found_expired_by_a_repeated_raise():
    quiet = raise_condition(suppress(AlertStatus(), T0, True).status, T0).status
    shelved = shelve(quiet, at(1), at(60), HOUR).status
    shown = suppress(shelved, at(2), False)
    assert not shown.annunciate  # still shelved
    t = raise_condition(shown.status, at(60))
    assert t.events == (EventKind.SHELVE_EXPIRED, EventKind.RAISED)
    assert t.annunciate
    assert t.status.last_annunciated_at == at(60)


def test_it_refuses_to_unshelve_what_is_not_shelved_or_already_expired():
    with pytest.raises(IllegalTransition, match="not shelved"):
        unshelve(raised(0), at(1))
    shelved = shelve(raised(0), at(0), at(600), HOUR).status
    with pytest.raises(IllegalTransition, match="expired"):
        unshelve(shelved, at(600))
    t = unshelve(shelved, at(300))
    assert t.events == (EventKind.UNSHELVED,)
    assert t.annunciate
    assert t.status.shelved_until is None
    assert t.status.shelved_by is None


def test_it_keeps_shelving_across_a_close_so_a_recurrence_stays_quiet():
    shelved = shelve(raised(0), at(0), at(HOUR), HOUR).status
    closed = acknowledge(return_to_normal(shelved, at(10)).status, at(20)).status
    assert closed.is_closed
    assert closed.shelved
    t = raise_condition(closed, at(30))
    assert t.opened
    assert not t.annunciate
    assert t.status.last_annunciated_at is None
    assert t.status.shelved_until == at(HOUR)


def test_it_keeps_a_suppressed_alarm_quiet_and_announces_it_when_suppression_ends():
    suppressed = suppress(AlertStatus(), T0, True)
    assert suppressed.events == (EventKind.SUPPRESSED,)
    t = raise_condition(suppressed.status, at(5))
    assert t.opened
    assert t.activated
    assert not t.annunciate
    with pytest.raises(IllegalTransition, match="already suppressed"):
        suppress(t.status, at(6), True)
    lifted = suppress(t.status, at(100), False)
    assert lifted.events == (EventKind.UNSUPPRESSED,)
    assert lifted.annunciate
    assert lifted.status.last_annunciated_at == at(100)
    with pytest.raises(IllegalTransition, match="not suppressed"):
        suppress(lifted.status, at(101), False)


def test_it_realarms_an_unacknowledged_alarm_left_alone():
    status = raised(0)
    assert not realarm_due(status, at(899), 900)
    assert realarm_due(status, at(900), 900)
    with pytest.raises(IllegalTransition):
        realarm(status, at(899), 900)
    t = realarm(status, at(900), 900)
    assert t.events == (EventKind.REALARMED,)
    assert t.annunciate
    assert t.status.last_annunciated_at == at(900)
    assert not realarm_due(t.status, at(1799), 900)
    assert realarm_due(t.status, at(1800), 900)


@pytest.mark.parametrize(
    "make",
    [
        lambda: acknowledge(raised(0), at(1)).status,
        lambda: return_to_normal(raised(0), at(1)).status,
        lambda: shelve(raised(0), at(0), at(HOUR), HOUR).status,
        lambda: raise_condition(suppress(AlertStatus(), T0, True).status, T0).status,
    ],
    ids=["acknowledged", "returned", "shelved", "suppressed"],
)
def test_it_does_not_realarm_an_acknowledged_returned_or_hidden_alarm(make):
    assert not realarm_due(make(), at(2000), 900)


def test_it_refuses_naive_datetimes_and_stores_other_offsets_as_utc():
    with pytest.raises(ValueError, match="timezone-aware"):
        raise_condition(AlertStatus(), datetime(2026, 11, 22, 10, 0))  # noqa: DTZ001
    paris = timezone(timedelta(hours=1))
    t = raise_condition(AlertStatus(), datetime(2026, 11, 22, 11, 0, tzinfo=paris))
    assert t.status.first_at == T0
    assert t.status.first_at.tzinfo is UTC


def test_it_leaves_the_status_alone_when_it_refuses():
    status = acknowledge(raised(0), at(1)).status
    with pytest.raises(IllegalTransition) as refused:
        acknowledge(status, at(2))
    assert refused.value.status is status
    assert refused.value.action == "acknowledge"
    assert status.state is AlarmState.ACTIVE_ACK


def test_a_raise_from_late_data_is_recorded_but_held_back_until_announced():
    t = raise_condition(AlertStatus(), T0, announce=False)
    assert t.events == (EventKind.RAISED,)
    assert (t.opened, t.activated, t.annunciate) == (True, True, False)
    assert t.status.state is AlarmState.ACTIVE_UNACK
    assert t.status.last_annunciated_at is None
    assert held_back(t.status)
    # Held back, it is not re-alarmed: it was never announced in the first place.
    assert not realarm_due(t.status, at(HOUR), 60)

    told = announce(t.status, at(3 * HOUR))
    assert told.last_annunciated_at == at(3 * HOUR)
    assert not held_back(told)
    assert realarm_due(told, at(3 * HOUR + 60), 60)
    with pytest.raises(IllegalTransition, match="held back"):
        announce(told, at(3 * HOUR + 1))


def test_a_quiet_raise_of_a_returned_alarm_forgets_its_earlier_announcement():
    returned = return_to_normal(raised(0), at(10)).status
    t = raise_condition(returned, at(20), announce=False)
    assert t.status.occurrences == 2
    assert (t.activated, t.annunciate) == (True, False)
    assert held_back(t.status)


@pytest.mark.parametrize(
    "status",
    [
        pytest.param(return_to_normal(raised(0), at(1)).status, id="returned"),
        pytest.param(acknowledge(raised(0), at(1)).status, id="acknowledged"),
        pytest.param(
            raise_condition(suppress(AlertStatus(), T0, True).status, T0, announce=False).status,
            id="suppressed",
        ),
        pytest.param(raised(0), id="announced live"),
    ],
)
def test_only_an_active_unacknowledged_visible_alarm_never_told_is_held_back(status):
    assert not held_back(status)
    with pytest.raises(IllegalTransition):
        announce(status, at(60))
