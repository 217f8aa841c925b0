"""The work order's status flow and who may move it. Pure: no Django.

    requested → approved → scheduled → in progress ⇄ on hold → done
         └──────────┴───────────┴──────────────┴─────────→ cancelled

Operators raise requests; supervisors approve, schedule (with an assignee), cancel and may do
all a technician does; technicians start, pause, resume and complete the work they are given.
Admins may do everything. Done and cancelled are final: a fault that comes back is a new work
order, so that the history of the old one stays what happened.

No models and no database; only Django's gettext, so that refusals and action names are in
the user's language.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from django.utils.translation import gettext, pgettext, pgettext_lazy

from plantops.core.refusals import Refused


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


# The action as a button says it, and as a sentence needs it ("may not %(action)s a work order").
ACTION_LABELS = {
    "approve": pgettext_lazy("work order action", "Approve"),
    "schedule": pgettext_lazy("work order action", "Schedule"),
    "start": pgettext_lazy("work order action", "Start"),
    "pause": pgettext_lazy("work order action", "Pause"),
    "resume": pgettext_lazy("work order action", "Resume"),
    "complete": pgettext_lazy("work order action", "Complete"),
    "cancel": pgettext_lazy("work order action", "Cancel"),
}
ACTION_VERBS = {
    "approve": pgettext_lazy("work order action, in a sentence", "approve"),
    "schedule": pgettext_lazy("work order action, in a sentence", "schedule"),
    "start": pgettext_lazy("work order action, in a sentence", "start"),
    "pause": pgettext_lazy("work order action, in a sentence", "pause"),
    "resume": pgettext_lazy("work order action, in a sentence", "resume"),
    "complete": pgettext_lazy("work order action, in a sentence", "complete"),
    "cancel": pgettext_lazy("work order action, in a sentence", "cancel"),
}


def _status_words(status: Status) -> str:
    return pgettext("work order status", status.value.replace("_", " "))


def _may_not(role: Role, action: str) -> str:
    verb = ACTION_VERBS.get(action, action)
    if role is Role.OPERATOR:
        return gettext("An operator may not %(action)s a work order.") % {"action": verb}
    if role is Role.TECHNICIAN:
        return gettext("A technician may not %(action)s a work order.") % {"action": verb}
    if role is Role.SUPERVISOR:
        return gettext("A supervisor may not %(action)s a work order.") % {"action": verb}
    return gettext("An admin may not %(action)s a work order.") % {"action": verb}


@dataclass(frozen=True, slots=True)
class Move:
    """One allowed move out of a status: its action name and the status it leads to."""

    action: str
    to: Status

    @property
    def label(self) -> str:
        """The action as its button says it ("Approve"), in the active language."""
        return str(ACTION_LABELS.get(self.action, self.action))


def check(current: Status, target: Status, role: Role, *, is_assignee: bool = False) -> str:
    """Return the action name of `current → target` for `role`; raise Refused.

    A technician moves only work orders assigned to them (`is_assignee`).
    """
    current, target, role = Status(current), Status(target), Role(role)
    if current in FINAL:
        raise Refused(
            gettext("The work order is %(status)s: it is final.")
            % {"status": _status_words(current)}
        )
    rule = TRANSITIONS.get((current, target))
    if rule is None:
        raise Refused(
            gettext("A work order cannot go from %(current)s to %(target)s.")
            % {"current": _status_words(current), "target": _status_words(target)}
        )
    roles, action = rule
    if role not in roles:
        raise Refused(_may_not(role, action))
    if role is Role.TECHNICIAN and not is_assignee:
        raise Refused(
            gettext("Only the assigned technician may %(action)s this work order.")
            % {"action": ACTION_VERBS.get(action, action)}
        )
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


# --- who may do what to one work order ------------------------------------------------------


class User(Protocol):
    """What the permissions read of a user: Django's user, without importing Django."""

    pk: Any
    is_superuser: bool

    def has_perm(self, perm: str) -> bool: ...


class WorkOrderLike(Protocol):
    status: str
    assignee_id: Any
    requested_by_id: Any


def role_of(user: User) -> Role:
    """The user's maintenance role: the strongest their groups give them."""
    if getattr(user, "is_superuser", False):
        return Role.ADMIN
    if user.has_perm("maintenance.supervise_workorder"):
        return Role.SUPERVISOR
    if user.has_perm("maintenance.execute_workorder"):
        return Role.TECHNICIAN
    return Role.OPERATOR


def is_assignee(work_order: WorkOrderLike, user: User) -> bool:
    return work_order.assignee_id is not None and work_order.assignee_id == user.pk


def may_execute(work_order: WorkOrderLike, user: User) -> bool:
    """Ticking the checklist and taking parts: whoever may start or complete the work."""
    role = role_of(user)
    if role is Role.OPERATOR:
        return False
    return role is not Role.TECHNICIAN or is_assignee(work_order, user)


def may_add_to(work_order: WorkOrderLike, user: User) -> bool:
    """Notes and photos: the assigned technician, supervisors and admins on open work, and
    the operator who raised a request while it waits."""
    if work_order.status in FINAL:
        return False
    role = role_of(user)
    if role in _SUPERVISING:
        return True
    if role is Role.TECHNICIAN:
        return is_assignee(work_order, user)
    return work_order.requested_by_id == user.pk
