"""Every allowed and every refused move of the work-order flow, for each role."""

from __future__ import annotations

import itertools

import pytest

from plantops.core.refusals import Refused
from plantops.maintenance.workflow import FINAL, TRANSITIONS, Role, Status, check, moves

ALLOWED = {
    (Status.REQUESTED, Status.APPROVED): ("approve", {Role.SUPERVISOR, Role.ADMIN}),
    (Status.APPROVED, Status.SCHEDULED): ("schedule", {Role.SUPERVISOR, Role.ADMIN}),
    (Status.SCHEDULED, Status.IN_PROGRESS): (
        "start",
        {Role.TECHNICIAN, Role.SUPERVISOR, Role.ADMIN},
    ),
    (Status.IN_PROGRESS, Status.ON_HOLD): ("pause", {Role.TECHNICIAN, Role.SUPERVISOR, Role.ADMIN}),
    (Status.ON_HOLD, Status.IN_PROGRESS): (
        "resume",
        {Role.TECHNICIAN, Role.SUPERVISOR, Role.ADMIN},
    ),
    (Status.IN_PROGRESS, Status.DONE): (
        "complete",
        {Role.TECHNICIAN, Role.SUPERVISOR, Role.ADMIN},
    ),
    **{
        (s, Status.CANCELLED): ("cancel", {Role.SUPERVISOR, Role.ADMIN})
        for s in Status
        if s not in FINAL
    },
}


@pytest.mark.parametrize(
    ("current", "target", "role"), list(itertools.product(Status, Status, Role))
)
def test_every_move_is_allowed_exactly_as_the_flow_says(current, target, role):
    expected = ALLOWED.get((current, target))
    if expected is not None and role in expected[1]:
        assert check(current, target, role, is_assignee=True) == expected[0]
    else:
        with pytest.raises(Refused):
            check(current, target, role, is_assignee=True)


def test_the_table_holds_nothing_else():
    assert set(TRANSITIONS) == set(ALLOWED)


def test_a_technician_moves_only_their_own_work_orders():
    with pytest.raises(Refused, match="assigned technician"):
        check(Status.SCHEDULED, Status.IN_PROGRESS, Role.TECHNICIAN, is_assignee=False)
    assert moves(Status.SCHEDULED, Role.TECHNICIAN) == []
    assert [m.action for m in moves(Status.IN_PROGRESS, Role.TECHNICIAN, is_assignee=True)] == [
        "pause",
        "complete",
    ]


def test_the_refusals_say_why():
    with pytest.raises(Refused, match="it is final"):
        check(Status.DONE, Status.IN_PROGRESS, Role.ADMIN)
    with pytest.raises(Refused, match="from requested to done"):
        check(Status.REQUESTED, Status.DONE, Role.ADMIN)
    with pytest.raises(Refused, match="An operator may not approve"):
        check(Status.REQUESTED, Status.APPROVED, Role.OPERATOR)


def test_an_operator_can_only_watch():
    assert all(moves(status, Role.OPERATOR) == [] for status in Status)
