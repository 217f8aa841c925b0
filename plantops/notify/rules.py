"""The decisions of who is told and when, on plain values. Pure: no Django, no database.

- Priority: a recipient asks for alerts "from a priority up" (critical > high > medium > low).
- Quiet hours: a span of local time, crossing midnight when it ends at or before it starts.
- Escalation: tier 1 is told at the raise; tier n after (n - 1) steps unacknowledged.
- Flood: more than `FLOOD_THRESHOLD` activations of a line within `FLOOD_WINDOW` (the alarm
  KPIs' own definition, `alerts.kpis`); it ends once the window holds no more than that.
- Repeats: an alarm raised again within `repeat_window` of a raise that was notified is not
  notified again (a chattering alarm pages once per window, not on each re-raise).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, timedelta

from plantops.alerts.kpis import FLOOD_THRESHOLD, FLOOD_WINDOW
from plantops.alerts.lifecycle import AlarmState, Priority

_RANK = {Priority.CRITICAL: 4, Priority.HIGH: 3, Priority.MEDIUM: 2, Priority.LOW: 1}

# States that still wait for someone to acknowledge them: escalation continues.
AWAITING_ACK = frozenset({AlarmState.ACTIVE_UNACK.value, AlarmState.RTN_UNACK.value})


def rank(priority: str) -> int:
    """4 for critical down to 1 for low: sort by `-rank` for the most urgent first."""
    return _RANK[Priority(priority)]


def at_least(priority: str, minimum: str) -> bool:
    """True when `priority` is `minimum` or more urgent."""
    return _RANK[Priority(priority)] >= _RANK[Priority(minimum)]


def in_quiet_hours(local: time, start: time | None, end: time | None) -> bool:
    """True when the local time of day lies in [start, end), which may cross midnight."""
    if start is None or end is None or start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end


def quiet_blocks(
    local: time,
    start: time | None,
    end: time | None,
    *,
    priority: str,
    allows_critical: bool,
) -> bool:
    """True when quiet hours hold this message back."""
    if not in_quiet_hours(local, start, end):
        return False
    return not (allows_critical and priority == Priority.CRITICAL)


def tiers_due(raised_at: datetime, now: datetime, step: timedelta | None) -> int:
    """How many tiers have been told by `now` of an alarm raised at `raised_at` and still
    unacknowledged: 1 at once, then one more per `step` (None: no escalation)."""
    if step is None or step <= timedelta(0) or now < raised_at:
        return 1
    return 1 + int((now - raised_at) / step)


def still_escalating(*, state: str, shelved: bool, suppressed: bool) -> bool:
    """True while an alarm waits for an acknowledgement and nobody has taken it off the
    list: acknowledging, shelving, suppression, or returning once acknowledged stop it."""
    return state in AWAITING_ACK and not shelved and not suppressed


def flooding(activations: Sequence[datetime], at: datetime) -> bool:
    """True when the line's activations within the flood window ending at `at` (inclusive)
    are more than the flood threshold."""
    since = at - FLOOD_WINDOW
    return sum(1 for t in activations if since < t <= at) > FLOOD_THRESHOLD


def flood_over(activations: Sequence[datetime], now: datetime) -> bool:
    """True when the window ending now no longer holds a flood's worth of activations."""
    return not flooding(activations, now)


def repeats(notified_raises: Sequence[datetime], at: datetime, window: timedelta) -> bool:
    """True when a raise at `at` repeats one already notified within `window` before it."""
    return any(at - window < t <= at for t in notified_raises)
