"""Meters that preventive maintenance runs on, and when a schedule falls due. Pure: no Django.

Runtime and cycle counts come from the machines' own state and count messages, never from
readings typed in. A schedule's due points lie on a fixed grid of its meter (every 500 running
hours: 500, 1,000, 1,500 …), so the same telemetry always gives the same due points, however
often it is replayed, and a due point is a key a work order can be unique on.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime

from plantops.assets.states import MachineState

RUNNING = MachineState.RUNNING


def running_seconds(
    events: Iterable[tuple[datetime, str]],
    *,
    start: datetime,
    end: datetime,
    state_at_start: str | None,
) -> float:
    """Return the seconds in [start, end) that the machine was running.

    `events` are `(ts, state)` changes in time order inside the span; `state_at_start` is the
    state in force at `start` (the last change before it; None when unknown: not running).
    """
    total = 0.0
    state, since = state_at_start, start
    for ts, new_state in events:
        if ts < start or ts >= end:
            continue
        if state == RUNNING:
            total += (ts - since).total_seconds()
        state, since = new_state, ts
    if state == RUNNING:
        total += (end - since).total_seconds()
    return total


def next_due_point(*, meter: float, interval: float, lead: float, generated: int) -> int | None:
    """Return the due point (1, 2, …) whose work order is due to be generated now, or None.

    The k-th due point falls at meter k × interval; its work order is generated once the meter
    is within `lead` of it. `generated` is the highest due point already given a work order.
    A meter that has run past several due points (a machine that ran unwatched) gets one work
    order, for the latest: the skipped ones would ask for the same work again.
    """
    if interval <= 0:
        raise ValueError("a schedule's interval must be positive")
    reached = math.floor((meter + lead) / interval)
    if reached <= generated or reached < 1:
        return None
    return reached
