"""Stripe locks: a derivation waits for an asset's writers in flight, and writers after it wait
for it, each on its own connection as the worker and the beat are."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection, connections, transaction

from plantops.core.stripes import STRIPES, Data, stripe_take, stripes_share
from tests.conftest import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


class Holder(threading.Thread):
    """Takes a lock in a transaction of its own connection and holds it until released."""

    def __init__(self, take: Callable[[], None]) -> None:
        super().__init__(daemon=True)
        self.take = take
        self.holding = threading.Event()
        self.release = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            with transaction.atomic():
                self.take()
                self.holding.set()
                self.release.wait(30)
        except BaseException as error:  # reported by the test
            self.error = error
        finally:
            connections.close_all()


def waiting_on_stripe(data: Data, asset_id: int) -> int:
    """How many transactions of this database wait for the asset's stripe."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            " AND classid = %s AND objid = %s",
            [int(data), asset_id % STRIPES],
        )
        return cursor.fetchone()[0]


def finish(*holders: Holder) -> None:
    for holder in holders:
        holder.release.set()
        holder.join(30)
        assert holder.error is None


def test_a_derivation_waits_for_the_writers_in_flight_and_later_writers_wait_for_it():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite lets one writer in at a time")
    writer = Holder(lambda: stripes_share(data=Data.READINGS, asset_ids=[7, 8]))
    other_writer = Holder(lambda: stripes_share(data=Data.READINGS, asset_ids=[7]))
    writer.start()
    other_writer.start()
    wait_for(lambda: writer.holding.is_set() and other_writer.holding.is_set(), what="writers")

    derivation = Holder(lambda: stripe_take(data=Data.READINGS, asset_id=7 + STRIPES))
    derivation.start()
    wait_for(lambda: waiting_on_stripe(Data.READINGS, 7), what="the derivation to wait")
    assert not derivation.holding.is_set()

    finish(writer)
    assert not derivation.holding.is_set()  # the other writer is still in flight
    finish(other_writer)
    wait_for(derivation.holding.is_set, what="the derivation to take the stripe")

    late_writer = Holder(lambda: stripes_share(data=Data.READINGS, asset_ids=[7]))
    unrelated = Holder(lambda: stripes_share(data=Data.MACHINE_EVENTS, asset_ids=[7]))
    late_writer.start()
    unrelated.start()
    wait_for(unrelated.holding.is_set, what="a writer of other data")
    wait_for(lambda: waiting_on_stripe(Data.READINGS, 7), what="the late writer to wait")
    assert not late_writer.holding.is_set()
    finish(derivation)
    wait_for(late_writer.holding.is_set, what="the late writer")
    finish(late_writer, unrelated)


def test_a_stripe_lock_outside_a_transaction_is_refused():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite lets one writer in at a time")
    with pytest.raises(RuntimeError, match="transaction"):
        stripe_take(data=Data.READINGS, asset_id=1)
