"""Live or late: how a rule's edges reach the people on the floor. Pure: no database.

An edge (a raise or a clear, at the time of the reading that completed it) is *late* when it is
judged more than `late_after_us` after that time: a gateway cut off from the server forwarding
its backlog, a batch replayed from the dead letters, a worker catching up after an outage.
A late edge is recorded exactly as a live one, at its own time; only its delivery differs:

- its event says `late` and how long after the reading it was judged;
- a late raise is *held back* (recorded, shown, but nobody is paged) while the signal's newest
  judged reading is itself late: its data may already have returned to normal further on.
  A clear that follows releases it (raise and return in one go, quietly); once the signal has
  caught up (its newest judged reading is live) a raise still active is announced then.

`plan` makes that decision for one (rule, signal) per batch; the caller remembers `held`
between batches. See docs/alert-lifecycle.md. Its one use of Django is gettext, which words a
delay in the active language.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from django.utils.translation import gettext

_US = 1_000_000


class Delivery(StrEnum):
    LIVE = "live"
    LATE = "late"


@dataclass(frozen=True, slots=True)
class EdgeDelivery:
    """How one edge is delivered: `delay_us` is how long after its reading it was judged (None
    when live); `announce` is True for a raise the operator is told of now."""

    delivery: Delivery
    delay_us: int | None = None
    announce: bool = False


@dataclass(frozen=True, slots=True)
class Plan:
    """One `EdgeDelivery` per edge, in the edges' order; `announce_held` is True when a raise
    held back by an earlier batch is to be announced now; `held` is True when a raise is still
    held back after these edges (remember it for the next batch)."""

    edges: list[EdgeDelivery]
    announce_held: bool = False
    held: bool = False


def plan(
    changes: Sequence[tuple[int, str]],
    *,
    held: bool,
    newest_us: int | None,
    now_us: int,
    late_after_us: int,
) -> Plan:
    """Return how to deliver a (rule, signal)'s edges `(ts_us, "raise" | "clear")`, oldest
    first, judged at `now_us`; `held` says whether a raise was held back before them and
    `newest_us` is the newest reading judged for the signal (after these edges)."""
    caught_up = newest_us is not None and now_us - newest_us <= late_after_us
    edges: list[EdgeDelivery] = []
    held_here: int | None = None  # the index of a raise of these edges still held back
    for ts_us, change in changes:
        delay_us = now_us - ts_us
        late = delay_us > late_after_us
        if not late:
            edges.append(EdgeDelivery(Delivery.LIVE, None, change == "raise"))
            held, held_here = False, None
            continue
        edges.append(EdgeDelivery(Delivery.LATE, delay_us, False))
        if change == "raise":
            held, held_here = True, len(edges) - 1
        else:
            held, held_here = False, None
    announce_held = False
    if held and caught_up:
        if held_here is not None:
            edges[held_here] = dataclasses.replace(edges[held_here], announce=True)
        else:
            announce_held = True
        held = False
    return Plan(edges, announce_held=announce_held, held=held)


def is_late(ts_us: int, *, now_us: int, late_after_us: int) -> bool:
    """Return True when a reading at `ts_us` judged at `now_us` is late."""
    return now_us - ts_us > late_after_us


def delay_text(delay_s: float) -> str:
    """Return a delay as a person reads it: "45 s", "12 min", "3 h 10 min", "2 d 4 h"."""
    seconds = max(0, int(delay_s))
    if seconds < 60:
        return gettext("%(seconds)s s") % {"seconds": seconds}
    minutes = seconds // 60
    if minutes < 60:
        return gettext("%(minutes)s min") % {"minutes": minutes}
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        if minutes:
            return gettext("%(hours)s h %(minutes)s min") % {"hours": hours, "minutes": minutes}
        return gettext("%(hours)s h") % {"hours": hours}
    days, hours = divmod(hours, 24)
    if hours:
        return gettext("%(days)s d %(hours)s h") % {"days": days, "hours": hours}
    return gettext("%(days)s d") % {"days": days}
