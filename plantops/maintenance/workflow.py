"""The work order's status flow and who may move it. Pure: no Django.

    requested → approved → scheduled → in progress ⇄ on hold → done
         └──────────┴───────────┴──────────────┴─────────→ cancelled

Operators raise requests; supervisors approve, schedule (with an assignee), cancel and may do
all a technician does; technicians start, pause, resume and complete the work they are given.
Admins may do everything. Done and cancelled are final: a fault that comes back is a new work
order, so that the history of the old one stays what happened.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    SCHEDULED = "scheduled"
    IN_PROGRESS = "in_progress"
    ON_HOLD = "on_hold"
    DONE = "done"
    CANCELLED = "cancelled"


class Role(StrEnum):
    OPERATOR = "operator"
    TECHNICIAN = "technician"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


FINAL = frozenset({Status.DONE, Status.CANCELLED})
OPEN = frozenset(Status) - FINAL
_SUPERVISING = frozenset({Role.SUPERVISOR, Role.ADMIN})
_EXECUTING = frozenset({Role.TECHNICIAN, Role.SUPERVISOR, Role.ADMIN})

# (from, to) → the roles that may make the move, and the name of the action on the tablet.
TRANSITIONS: dict[tuple[Status, Status], tuple[frozenset[Role], str]] = {
    (Status.REQUESTED, Status.APPROVED): (_SUPERVISING, "approve"),
    (Status.APPROVED, Status.SCHEDULED): (_SUPERVISING, "schedule"),
    (Status.SCHEDULED, Status.IN_PROGRESS): (_EXECUTING, "start"),
    (Status.IN_PROGRESS, Status.ON_HOLD): (_EXECUTING, "pause"),
    (Status.ON_HOLD, Status.IN_PROGRESS): (_EXECUTING, "resume"),
    (Status.IN_PROGRESS, Status.DONE): (_EXECUTING, "complete"),
    **{
        (status, Status.CANCELLED): (_SUPERVISING, "cancel")
        for status in (
            Status.REQUESTED,
            Status.APPROVED,
            Status.SCHEDULED,
            Status.IN_PROGRESS,
            Status.ON_HOLD,
        )
    },
}


class TransitionRefused(Exception):
    """A move the flow or the user's role does not allow; the message says which and why."""


@dataclass(frozen=True, slots=True)
class Move:
    """One allowed move out of a status: its action name and the status it leads to."""

    action: str
    to: Status


def check(current: Status, target: Status, role: Role, *, is_assignee: bool = False) -> str:
    """Return the action name of `current → target` for `role`; raise TransitionRefused.

    A technician moves only work orders assigned to them (`is_assignee`).
    """
    current, target, role = Status(current), Status(target), Role(role)
    if current in FINAL:
        raise TransitionRefused(
            f"The work order is {current.value.replace('_', ' ')}: it is final."
        )
    rule = TRANSITIONS.get((current, target))
    if rule is None:
        raise TransitionRefused(
            f"A work order cannot go from {current.value.replace('_', ' ')} "
            f"to {target.value.replace('_', ' ')}."
        )
    roles, action = rule
    if role not in roles:
        article = "An" if role.value[0] in "aeiou" else "A"
        raise TransitionRefused(f"{article} {role.value} may not {action} a work order.")
    if role is Role.TECHNICIAN and not is_assignee:
        raise TransitionRefused(f"Only the assigned technician may {action} this work order.")
    return action


def moves(current: Status, role: Role, *, is_assignee: bool = False) -> list[Move]:
    """Return the moves `role` may make from `current`, in the order of the flow."""
    allowed = []
    for (start, target), (roles, action) in TRANSITIONS.items():
        if start != current or Role(role) not in roles:
            continue
        if Role(role) is Role.TECHNICIAN and not is_assignee:
            continue
        allowed.append(Move(action, target))
    return allowed
