"""Meters that preventive maintenance runs on, and when a schedule falls due. Pure: no Django.

Runtime and cycle counts come from the machines' own state and count messages, never from
readings typed in. A schedule's due points lie on a fixed grid of its meter (every 500 running
hours: 500, 1,000, 1,500 …), so the same telemetry always gives the same due points, however
often it is replayed, and a due point is a key a work order can be unique on.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime, timedelta

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


def running_reached(
    events: Iterable[tuple[datetime, str]],
    *,
    start: datetime,
    end: datetime,
    state_at_start: str | None,
    seconds: float,
) -> datetime | None:
    """Return the moment in [start, end] by which the machine had run `seconds` since `start`,
    or None if it had not by `end`. `events` and `state_at_start` as for `running_seconds`."""
    if seconds <= 0:
        return start
    total = 0.0
    state, since = state_at_start, start
    for ts, new_state in events:
        if ts < start or ts >= end:
            continue
        if state == RUNNING:
            span = (ts - since).total_seconds()
            if total + span >= seconds:
                return since + timedelta(seconds=seconds - total)
            total += span
        state, since = new_state, ts
    if state == RUNNING and total + (end - since).total_seconds() >= seconds:
        return since + timedelta(seconds=seconds - total)
    return None


def count_reached(
    counts: Iterable[tuple[datetime, int]], *, parts: float
) -> tuple[datetime, float, float] | None:
    """Return the first count `(ts, parts made)`, in time order, with which the parts made
    reach `parts`: its moment, and the parts made before it and with it; None if they never
    do."""
    made = 0.0
    for ts, count in counts:
        if made + count >= parts:
            return ts, made, made + count
        made += count
    return None


def due_moment(
    *, reached_at: datetime, meter: float, due_meter: float, started_at: datetime
) -> datetime:
    """Return when a meter that stood at `meter` at `reached_at` will reach `due_meter`, at the
    rate it has run since `started_at` (at once if it has run nothing yet, or is past it)."""
    elapsed = (reached_at - started_at).total_seconds()
    if meter <= 0 or elapsed <= 0 or due_meter <= meter:
        return reached_at
    return reached_at + timedelta(seconds=(due_meter - meter) * elapsed / meter)


def next_due_point(*, meter: float, interval: float, lead: float, generated: int) -> int | None:
    """Return the due point (1, 2, …) whose work order is due to be generated now, or None.

    The k-th due point falls at meter k × interval; its work order is generated once the meter
    is within `lead` of it. `generated` is the highest due point already given a work order.
    A schedule's first work order is for the latest point reached: one set up with its start in
    the past must not ask for the same work many times over. After that every due point gets
    its own, in order, as a run at each point's moment would have made it — also when the
    events that bring several due arrive at once, late (a gateway's backlog).
    """
    if interval <= 0:
        raise ValueError("a schedule's interval must be positive")
    reached = math.floor((meter + lead) / interval)
    if reached <= generated or reached < 1:
        return None
    return reached if generated == 0 else generated + 1
