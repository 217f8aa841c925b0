"""TimescaleDB is used when the database has it and never required."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from plantops.telemetry import timescale
from plantops.telemetry.models import Reading


class Catalog:
    """A cursor answering the catalog queries as a server with the given setup would."""

    def __init__(self, *, created: bool, on_server: bool, preload: str) -> None:
        self.answers = {
            "pg_extension": (1,) if created else None,
            "pg_available_extensions": (1,) if on_server else None,
            "shared_preload_libraries": (preload,),
        }
        self.executed: list[str] = []

    def execute(self, sql: str, params=None) -> None:
        self.executed.append(sql)
        self.last = next((a for key, a in self.answers.items() if key in sql), None)

    def fetchone(self):
        return self.last


@pytest.mark.parametrize(
    ("created", "on_server", "preload", "usable"),
    [
        (True, True, "", True),
        (False, True, "pg_stat_statements,timescaledb", True),
        # Installed but not preloaded: CREATE EXTENSION would fail the migration.
        (False, True, "pg_stat_statements", False),
        (False, False, "", False),
    ],
)
def test_it_uses_timescaledb_only_when_the_server_can_load_it(created, on_server, preload, usable):
    catalog = Catalog(created=created, on_server=on_server, preload=preload)
    assert timescale.usable(catalog) is usable
    assert timescale.make_readings_hypertable(catalog) is usable
    assert any("create_hypertable" in sql for sql in catalog.executed) is usable


def has_timescaledb() -> bool:
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        return timescale.usable(cursor)


@pytest.mark.django_db
def test_without_timescaledb_readings_stay_one_plain_table():
    if has_timescaledb():
        pytest.skip("this database has TimescaleDB")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            assert not timescale.is_hypertable(cursor)


@pytest.mark.django_db
def test_with_timescaledb_readings_are_a_hypertable_and_retention_drops_chunks():
    if not has_timescaledb():
        pytest.skip("TimescaleDB is not installed on this PostgreSQL server")
    from plantops.telemetry.services import readings_purge
    from tests.factories import make_asset

    signal = make_asset().signals.get(slug="vibration")
    now = datetime.now(UTC)
    ages_days = [0.5, 3, 20, 21]
    Reading.objects.bulk_create(
        [Reading(signal=signal, ts=now - timedelta(days=age), value=age) for age in ages_days]
    )
    with connection.cursor() as cursor:
        assert timescale.is_hypertable(cursor)
    readings_purge(older_than_days=10, now=now)
    assert sorted(Reading.objects.values_list("value", flat=True)) == [0.5, 3]
