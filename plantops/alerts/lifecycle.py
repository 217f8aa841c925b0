"""The ISA-18.2 alarm state machine: frozen statuses and pure transition functions.

Pure: no Django, no database. One `AlertStatus` describes one alarm, i.e. one rule on one
asset. Every transition function takes the current status and an aware UTC time and either
returns a `Transition` (the new status plus the events that happened, in order) or raises
`IllegalTransition`, leaving the caller's status as it was.

States: NORMAL (closed), ACTIVE_UNACK, ACTIVE_ACK and RTN_UNACK (returned to normal but not
acknowledged: still open, in the inbox). A raise while open counts an occurrence, never a
second alert. Shelving and suppression only hide annunciation; the condition state is tracked
as if they were not there, and both survive a close. Every function first applies shelve
expiry (`shelve_expired` then leads the events), so an expired shelve never hides an alarm.
A raise from delayed data may be held back (`announce=False`) and announced later.

See docs/alert-lifecycle.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from plantops.core.refusals import Refused


class AlarmState(StrEnum):
    NORMAL = "normal"
    ACTIVE_UNACK = "active_unack"
    ACTIVE_ACK = "active_ack"
    RTN_UNACK = "rtn_unack"


class EventKind(StrEnum):
    RAISED = "raised"
    RETURNED = "returned"
    ACKNOWLEDGED = "acknowledged"
    SHELVED = "shelved"
    UNSHELVED = "unshelved"
    SUPPRESSED = "suppressed"
    UNSUPPRESSED = "unsuppressed"
    SHELVE_EXPIRED = "shelve_expired"
    REALARMED = "realarmed"
    CLOSED = "closed"


class Priority(StrEnum):
    """Alarm priority, most urgent first (see `kpis.priority_mix` for the ISA-18.2 targets)."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class IllegalTransition(Refused):
    """An action the lifecycle refuses. Nothing changes: keep the status you had.

    `status` is the status the action was judged against (shelve expiry applied), `why` the
    reason in words an operator can read.
    """

    def __init__(self, action: str, status: AlertStatus, why: str) -> None:
        super().__init__(f"cannot {action} an alert in state {status.state.value}: {why}")
        self.action = action
        self.status = status
        self.why = why


_OPEN_ACTIVE = frozenset({AlarmState.ACTIVE_UNACK, AlarmState.ACTIVE_ACK})
_UNACKNOWLEDGED = frozenset({AlarmState.ACTIVE_UNACK, AlarmState.RTN_UNACK})


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertStatus:
    """Where one alarm stands. `AlertStatus()` is an alarm that has never been raised.

    `first_at`/`last_at` are the first and latest raise of the current alert (None only before
    the first raise); `occurrences` counts those raises. `last_annunciated_at` is when the
    operator was last told (raise, re-alarm, becoming visible again, or `announce`); it is None
    while the alarm was raised only while hidden or held back. All datetimes are aware UTC.
    """

    state: AlarmState = AlarmState.NORMAL
    occurrences: int = 0
    first_at: datetime | None = None
    last_at: datetime | None = None
    returned_at: datetime | None = None
    acknowledged_at: datetime | None = None
    last_annunciated_at: datetime | None = None
    shelved_at: datetime | None = None
    shelved_until: datetime | None = None
    shelved_by: str | None = None
    shelve_reason: str | None = None
    suppressed: bool = False
    suppressed_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        """True while the alert belongs in the inbox: active, or returned but unacknowledged."""
        return self.state is not AlarmState.NORMAL

    @property
    def is_closed(self) -> bool:
        return self.state is AlarmState.NORMAL

    @property
    def active(self) -> bool:
        """True while the condition itself holds (acknowledged or not)."""
        return self.state in _OPEN_ACTIVE

    @property
    def acknowledged(self) -> bool:
        return self.state not in _UNACKNOWLEDGED

    @property
    def shelved(self) -> bool:
        """True when shelving is recorded; use `is_shelved(status, at)` to honour expiry."""
        return self.shelved_until is not None

    @property
    def hidden(self) -> bool:
        """True when annunciation is held back by shelving or suppression."""
        return self.shelved or self.suppressed


@dataclass(frozen=True, slots=True)
class Transition:
    """The outcome of one accepted action.

    `events` lists what happened, in order, never empty; `shelve_expired` comes first when the
    action found the shelving expired, `closed` last when the alert closed. `opened` is True
    when a raise started a new alert (the previous one was closed or there was none): store it
    as a new alert record. `activated` is True when the condition went from inactive to active
    (an activation for the alarm KPIs; a raise while already active is only an occurrence).
    `annunciate` is True when the operator must be told now (sound, highlight).
    """

    status: AlertStatus
    events: tuple[EventKind, ...]
    opened: bool = False
    activated: bool = False
    annunciate: bool = False

    @property
    def event(self) -> EventKind:
        """The event of the action itself: `acknowledged` for (acknowledged, closed)."""
        return next(e for e in reversed(self.events) if e is not EventKind.CLOSED)

    @property
    def closed(self) -> bool:
        """True when this action closed the alert."""
        return EventKind.CLOSED in self.events


def raise_condition(status: AlertStatus, at: datetime, *, announce: bool = True) -> Transition:
    """Return the status after the alarm condition became (or was reported) active at `at`.

    `announce=False` records the raise without telling the operator now: it came from delayed
    data and may already have returned. The alarm is then *held back* (`held_back`) until
    `announce` tells the operator, like an alarm raised while hidden.
    """
    at = _utc(at, "at")
    status, before, revealed = _expired(status, at)
    opened = status.is_closed
    activated = not status.active
    if opened:
        # A closed alert is history: the new one starts its own count and times, but keeps
        # shelving and suppression, which belong to the alarm rather than to one alert.
        status = replace(
            status,
            occurrences=0,
            first_at=at,
            last_at=None,
            returned_at=None,
            acknowledged_at=None,
            last_annunciated_at=None,
        )
    new_state = (
        AlarmState.ACTIVE_ACK if status.state is AlarmState.ACTIVE_ACK else AlarmState.ACTIVE_UNACK
    )
    announce_raise = activated and not status.hidden and announce
    if announce_raise:
        told = at
    elif activated and not announce:
        told = None  # held back: `held_back` finds it, and re-alarm waits for `announce`
    else:
        told = status.last_annunciated_at
    status = replace(
        status,
        state=new_state,
        occurrences=status.occurrences + 1,
        last_at=_later(status.last_at, at),
        last_annunciated_at=told,
    )
    # A shelve that expired just now also announces an alarm that was active all along.
    annunciate = announce_raise or (announce and revealed and _audible(status))
    return Transition(
        status,
        (*before, EventKind.RAISED),
        opened=opened,
        activated=activated,
        annunciate=annunciate,
    )


def return_to_normal(status: AlertStatus, at: datetime) -> Transition:
    """Return the status after the alarm condition cleared at `at`."""
    at = _utc(at, "at")
    status, before, _ = _expired(status, at)
    if not status.active:
        raise IllegalTransition("return to normal", status, "the condition is not active")
    if status.state is AlarmState.ACTIVE_ACK:
        status = replace(status, state=AlarmState.NORMAL, returned_at=at)
        return Transition(status, (*before, EventKind.RETURNED, EventKind.CLOSED))
    # ISA-18.2: returned-to-normal but unacknowledged stays in the inbox.
    status = replace(status, state=AlarmState.RTN_UNACK, returned_at=at)
    return Transition(status, (*before, EventKind.RETURNED))


def acknowledge(status: AlertStatus, at: datetime) -> Transition:
    """Return the status after an operator acknowledged the alert at `at`."""
    at = _utc(at, "at")
    status, before, _ = _expired(status, at)
    if status.acknowledged:
        why = "it is closed" if status.is_closed else "it is already acknowledged"
        raise IllegalTransition("acknowledge", status, why)
    if status.state is AlarmState.RTN_UNACK:
        status = replace(status, state=AlarmState.NORMAL, acknowledged_at=at)
        return Transition(status, (*before, EventKind.ACKNOWLEDGED, EventKind.CLOSED))
    status = replace(status, state=AlarmState.ACTIVE_ACK, acknowledged_at=at)
    return Transition(status, (*before, EventKind.ACKNOWLEDGED))


def shelve(
    status: AlertStatus,
    at: datetime,
    until: datetime,
    max_s: float,
    *,
    by: str = "",
    reason: str = "",
) -> Transition:
    """Return the status shelved from `at` to `until`; refused beyond `max_s` seconds.

    `max_s` is the caller's limit for whoever shelves (an operator's is shorter than a
    supervisor's); an already shelved alert must be unshelved first, so every shelving is
    recorded with its own who, why and until.
    """
    at = _utc(at, "at")
    until = _utc(until, "until")
    if not (math.isfinite(max_s) and max_s > 0):
        raise ValueError(f"max_s must be a positive number of seconds, not {max_s!r}")
    status, before, _ = _expired(status, at)
    if status.is_closed:
        raise IllegalTransition("shelve", status, "it is closed")
    if status.shelved:
        raise IllegalTransition(
            "shelve", status, f"it is already shelved until {status.shelved_until:%Y-%m-%d %H:%M}Z"
        )
    duration_s = (until - at).total_seconds()
    if duration_s <= 0:
        raise IllegalTransition("shelve", status, "the shelve time must end in the future")
    if duration_s > max_s:
        raise IllegalTransition(
            "shelve", status, f"{duration_s:.0f} s is longer than the maximum of {max_s:.0f} s"
        )
    status = replace(
        status, shelved_at=at, shelved_until=until, shelved_by=by, shelve_reason=reason
    )
    return Transition(status, (*before, EventKind.SHELVED))


def unshelve(status: AlertStatus, at: datetime) -> Transition:
    """Return the status with its shelving lifted by hand at `at`."""
    at = _utc(at, "at")
    status, before, _ = _expired(status, at)
    if not status.shelved:
        why = "its shelving already expired" if before else "it is not shelved"
        raise IllegalTransition("unshelve", status, why)
    return _revealed(_unshelved(status), at, (*before, EventKind.UNSHELVED))


def expire_shelving(status: AlertStatus, at: datetime) -> Transition:
    """Return the status with its shelving ended because `at` reached `shelved_until`."""
    at = _utc(at, "at")
    if status.shelved_until is None:
        raise IllegalTransition("expire the shelving of", status, "it is not shelved")
    if at < status.shelved_until:
        raise IllegalTransition(
            "expire the shelving of", status, f"it is shelved until {status.shelved_until}"
        )
    return _revealed(_unshelved(status), at, (EventKind.SHELVE_EXPIRED,))


def suppress(status: AlertStatus, at: datetime, on: bool) -> Transition:
    """Return the status with suppression switched on or off at `at` (planned stop, out of
    service). Set it before `raise_condition` so an alarm raised during a stop stays quiet."""
    at = _utc(at, "at")
    status, before, _ = _expired(status, at)
    if status.suppressed == on:
        why = "it is already suppressed" if on else "it is not suppressed"
        raise IllegalTransition("suppress" if on else "unsuppress", status, why)
    if on:
        status = replace(status, suppressed=True, suppressed_at=at)
        return Transition(status, (*before, EventKind.SUPPRESSED))
    status = replace(status, suppressed=False, suppressed_at=None)
    return _revealed(status, at, (*before, EventKind.UNSUPPRESSED))


def held_back(status: AlertStatus) -> bool:
    """Return True when an active, unacknowledged, visible alarm was raised without telling the
    operator (`raise_condition(..., announce=False)`) and has not been announced since."""
    return _audible(status) and status.last_annunciated_at is None


def announce(status: AlertStatus, at: datetime) -> AlertStatus:
    """Return the status after the operator was told at `at` of an alarm held back; refused
    unless `held_back`. No event: the raise is already recorded, at its own time."""
    at = _utc(at, "at")
    if not held_back(status):
        raise IllegalTransition("announce", status, "it is not an active alarm held back")
    return replace(status, last_annunciated_at=at)


def realarm_due(status: AlertStatus, at: datetime, realarm_after_s: float) -> bool:
    """Return True when an active, unacknowledged, visible alarm has gone unannounced for
    `realarm_after_s` seconds. A returned alarm is not re-announced: it waits in the inbox."""
    at = _utc(at, "at")
    _positive(realarm_after_s, "realarm_after_s")
    status, _, _ = _expired(status, at)
    return (
        status.state is AlarmState.ACTIVE_UNACK
        and not status.hidden
        and status.last_annunciated_at is not None
        and (at - status.last_annunciated_at).total_seconds() >= realarm_after_s
    )


def realarm(status: AlertStatus, at: datetime, realarm_after_s: float) -> Transition:
    """Return the status re-announced at `at`; refused unless `realarm_due`."""
    at = _utc(at, "at")
    if not realarm_due(status, at, realarm_after_s):
        raise IllegalTransition(
            "re-alarm",
            status,
            f"it is not active, unacknowledged and quiet for {realarm_after_s} s",
        )
    status, before, _ = _expired(status, at)
    status = replace(status, last_annunciated_at=at)
    return Transition(status, (*before, EventKind.REALARMED), annunciate=True)


def is_shelved(status: AlertStatus, at: datetime) -> bool:
    """Return True when the status is shelved at `at` (expiry honoured)."""
    at = _utc(at, "at")
    return status.shelved_until is not None and at < status.shelved_until


def _expired(status: AlertStatus, at: datetime) -> tuple[AlertStatus, tuple[EventKind, ...], bool]:
    """The status with due shelving removed, the events that caused (none or one), and whether
    an active unacknowledged alarm became visible (its `last_annunciated_at` is then `at`)."""
    if status.shelved_until is not None and at >= status.shelved_until:
        revealed = _revealed(_unshelved(status), at, (EventKind.SHELVE_EXPIRED,))
        return revealed.status, revealed.events, revealed.annunciate
    return status, (), False


def _unshelved(status: AlertStatus) -> AlertStatus:
    return replace(status, shelved_at=None, shelved_until=None, shelved_by=None, shelve_reason=None)


def _revealed(status: AlertStatus, at: datetime, events: tuple[EventKind, ...]) -> Transition:
    """A transition that lifted a hiding; an active unacknowledged alarm is announced again."""
    annunciate = _audible(status)
    if annunciate:
        status = replace(status, last_annunciated_at=at)
    return Transition(status, events, annunciate=annunciate)


def _audible(status: AlertStatus) -> bool:
    """True when the status is one the operator must hear about: active, unacknowledged, shown."""
    return status.state is AlarmState.ACTIVE_UNACK and not status.hidden


def _later(current: datetime | None, at: datetime) -> datetime:
    return at if current is None or at > current else current


def _positive(value: float, name: str) -> None:
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive number of seconds, not {value!r}")


def _utc(value: datetime, name: str) -> datetime:
    """The same instant in UTC; naive datetimes are refused, never guessed."""
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, not {type(value).__name__}")
    offset = value.utcoffset()
    if offset is None:
        raise ValueError(f"{name} must be timezone-aware (UTC), got naive {value.isoformat()}")
    return value if offset == timedelta(0) and value.tzinfo is UTC else value.astimezone(UTC)
