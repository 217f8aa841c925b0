"""Locks that keep what is derived from an asset's data from missing a write still in flight.

A batch writes an asset's readings or machine events; a derivation (an OEE hour's snapshot, a
preventive meter, a health monitoring round) reads them and stores its result with the point
it has read to. Under READ COMMITTED, the derivation does not see a batch that has not committed
yet, and that batch may have looked at the point before the derivation moved it: its late data
would then be neither read nor noticed. So writers hold a shared lock on the asset from before
they look until they commit, and a derivation takes it alone before it reads: it waits for the
writers in flight, and the writers after it see where it has read to.

The locks are PostgreSQL advisory locks held to the end of the transaction, one per stripe of
asset ids (`STRIPES`), so that a batch of many assets holds a bounded number. SQLite, the
demo's database, lets one writer in at a time and needs none.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

from django.db import connection

# Assets per lock: a batch holds at most this many locks per kind, whatever its size.
STRIPES = 64


class Data(enum.IntEnum):
    """What is being written: each kind has locks of its own."""

    MACHINE_EVENTS = 7101  # states and counts: OEE snapshots, preventive meters
    READINGS = 7102  # readings: health monitoring


def stripes_share(*, data: Data, asset_ids: Iterable[int]) -> None:
    """Hold the assets' stripes shared with other writers until the transaction ends."""
    _lock(data, asset_ids, "pg_advisory_xact_lock_shared")


def stripe_take(*, data: Data, asset_id: int) -> None:
    """Wait for the asset's writers in flight, then hold its stripe alone until the
    transaction ends. Take one stripe per transaction: two would wait on each other's writers."""
    _lock(data, [asset_id], "pg_advisory_xact_lock")


def _lock(data: Data, asset_ids: Iterable[int], function: str) -> None:
    if connection.vendor != "postgresql":
        return
    if not connection.in_atomic_block:
        raise RuntimeError("a stripe lock is held to the end of a transaction: open one first")
    stripes = sorted({int(pk) % STRIPES for pk in asset_ids})
    if not stripes:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count({function}(%s::int, stripe)) FROM unnest(%s::int[]) AS stripe",
            [int(data), stripes],
        )
