"""The `reporting` views for Grafana and BI tools, on real plant data, and the read-only role
that may read them and nothing else, logged in as over its own connection."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.utils import ConnectionHandler

from plantops.core.time import datetime_to_us
from plantops.maintenance import services as maintenance
from plantops.maintenance.models import FailureCode, Part
from plantops.oee import selectors as oee_selectors
from plantops.pipeline.services import batch_store
from tests.factories import make_alert, make_asset, make_batch, make_user, make_work_order
from tests.oee.test_selectors import AFTER, MONDAY, press, run_the_shift

T0 = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
VIEWS = (
    "assets",
    "signals",
    "readings_minute",
    "readings_hour",
    "oee_hourly",
    "oee_downtime_hourly",
    "alerts",
    "alert_events",
    "work_orders",
    "work_order_parts",
)
PASSWORD = "a-long-reporting-password"


def rows(sql: str, params: list | None = None) -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [column.name for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def code(kind: str, value: str, label: str) -> FailureCode:
    """A failure code of the seeded taxonomy (made again after a transactional test's flush)."""
    return FailureCode.objects.get_or_create(kind=kind, code=value, defaults={"label": label})[0]


def a_plant() -> dict:
    """A little of everything the views show, made through the plant's own services."""
    motor = make_asset(signals=("vibration",))
    site = motor.line.area.site
    site.timezone = "Europe/Berlin"
    site.save()
    vibration = motor.signals.get()
    batch_store(
        batch=make_batch(
            readings=[
                (vibration.pk, datetime_to_us(T0 + timedelta(seconds=s)), v)
                for s, v in ((0, 2.0), (30, 4.0), (61, 10.0))
            ]
        )
    )
    alert = make_alert(asset=motor)
    sam = make_user(role="supervisor", username="sam-reporting")
    tom = make_user(role="technician", username="tom-reporting")
    work = make_work_order(by=sam, asset=motor, assignee=tom, started=True, title="Bearing")
    bearing = Part.objects.create(number="6205-2rs-r", name="Ball bearing", stock=4)
    maintenance.workorder_complete(
        work_order=work,
        user=tom,
        problem=code("problem", "vib", "Vibration"),
        remedy=code("remedy", "replace", "Replace"),
        actual_minutes=45,
        parts=[(bearing, 2)],
    )
    line_press = press()
    run_the_shift(line_press)
    oee_selectors.line_oee(line_press.line, MONDAY, AFTER)  # keeps the closed hours' snapshots
    return {"motor": motor, "signal": vibration, "alert": alert, "work": work, "press": line_press}


@pytest.mark.django_db
def test_the_views_show_the_plants_data():
    plant = a_plant()
    motor, signal = plant["motor"], plant["signal"]

    (asset,) = rows("SELECT * FROM reporting.assets WHERE asset_id = %s", [motor.pk])
    assert (asset["asset"], asset["line"], asset["site_timezone"]) == (
        motor.name,
        motor.line.name,
        "Europe/Berlin",
    )
    # (The alert's own reading, now, is in a later minute.)
    minutes = rows(
        "SELECT * FROM reporting.readings_minute WHERE signal_id = %s AND time < %s ORDER BY time",
        [signal.pk, T0 + timedelta(hours=1)],
    )
    assert [(m["time"], m["value_min"], m["value_max"], m["value_mean"]) for m in minutes] == [
        (T0, 2.0, 4.0, 3.0),
        (T0 + timedelta(minutes=1), 10.0, 10.0, 10.0),
    ]
    assert (minutes[0]["value_last"], minutes[0]["value_count"], minutes[0]["unit"]) == (
        4.0,
        2,
        "mm/s",
    )
    (hour,) = rows(
        "SELECT * FROM reporting.readings_hour WHERE signal_id = %s AND time = %s", [signal.pk, T0]
    )
    assert (hour["time"], hour["value_count"], hour["value_last"]) == (T0, 3, 10.0)

    eight = rows(
        "SELECT * FROM reporting.oee_hourly WHERE asset_id = %s AND time = %s",
        [plant["press"].pk, MONDAY.replace(hour=8)],
    )[0]
    assert (eight["availability"], eight["breakdowns"], eight["counts_for_line_oee"]) == (
        0.25,
        1,
        True,
    )
    line = rows(
        "SELECT sum(run_s) / sum(planned_s) AS availability, sum(total_count) AS parts"
        " FROM reporting.oee_hourly WHERE line_id = %s AND counts_for_line_oee",
        [plant["press"].line_id],
    )[0]
    assert (line["availability"], line["parts"]) == (0.9, 729)
    (down,) = rows(
        "SELECT * FROM reporting.oee_downtime_hourly WHERE asset_id = %s AND time = %s",
        [plant["press"].pk, MONDAY.replace(hour=8)],
    )
    assert (down["reason_code"], down["reason"], down["seconds"]) == ("", "Not explained yet", 2700)

    (alert,) = rows("SELECT * FROM reporting.alerts WHERE asset_id = %s", [motor.pk])
    assert (alert["alert_id"], alert["state"], alert["rule"]) == (
        plant["alert"].pk,
        "active_unack",
        "Vibration high rule",
    )
    events = rows("SELECT * FROM reporting.alert_events WHERE alert_id = %s", [alert["alert_id"]])
    assert [(e["kind"], e["activated"], e["asset"]) for e in events] == [
        ("raised", True, motor.name)
    ]

    (work,) = rows("SELECT * FROM reporting.work_orders WHERE asset_id = %s", [motor.pk])
    assert (work["number"], work["status"], work["assignee"], work["actual_minutes"]) == (
        f"WO-{plant['work'].pk}",
        "done",
        "tom-reporting",
        45,
    )
    assert (work["problem_code"], work["remedy"], work["requested_by"]) == (
        "vib",
        "Replace",
        "sam-reporting",
    )
    (part,) = rows(
        "SELECT * FROM reporting.work_order_parts WHERE work_order_id = %s", [plant["work"].pk]
    )
    assert (part["part_number"], part["quantity"], part["used_by"]) == (
        "6205-2rs-r",
        2,
        "tom-reporting",
    )


def _as_role(role: str) -> psycopg.Connection:
    settings = connection.settings_dict
    return psycopg.connect(
        host=settings["HOST"] or "127.0.0.1",
        port=settings["PORT"] or 5432,
        dbname=settings["NAME"],
        user=role,
        password=PASSWORD,
        # Each check is a transaction of its own, so that it may first ask to be read-write.
        autocommit=True,
    )


def _refused(db: psycopg.Connection, sql: str, *, read_write: bool = False) -> str:
    """The error class PostgreSQL answers `sql` with, as the role."""
    try:
        with db.transaction():
            if read_write:
                db.execute("SET TRANSACTION READ WRITE")
            db.execute(sql)
    except psycopg.Error as error:
        return type(error).__name__
    return "allowed"


@pytest.mark.django_db(transaction=True)
def test_the_role_reads_every_view_and_is_refused_every_table(capsys):
    a_plant()
    # Roles are the whole server's: one of this test database's own, dropped at the end.
    role = f"reporting_{connection.settings_dict['NAME']}"[:63].lower()
    call_command("reporting_role", password=PASSWORD, role=role)
    call_command("reporting_role", password=PASSWORD, role=role, statement_timeout="15s")
    said = capsys.readouterr().out
    try:
        with connection.cursor() as cursor:  # a view a later migration makes
            cursor.execute("CREATE VIEW reporting.later AS SELECT 1 AS one")
        with _as_role(role) as db:
            later = db.execute("SELECT one FROM reporting.later").fetchone()[0]
            counts = {
                view: db.execute(f"SELECT count(*) FROM reporting.{view}").fetchone()[0]
                for view in VIEWS
            }
            # Read-only by default, a short statement timeout, and the views found by name.
            settings = [
                db.execute(f"SHOW {name}").fetchone()[0]
                for name in ("default_transaction_read_only", "statement_timeout", "search_path")
            ]
            by_name = db.execute("SELECT count(*) FROM work_orders").fetchone()[0]
            refused = {
                "a table": _refused(db, "SELECT * FROM public.assets_asset"),
                "passwords": _refused(db, "SELECT password FROM public.auth_user"),
                "readings": _refused(db, "SELECT * FROM public.telemetry_reading"),
                "a write, read-write": _refused(
                    db, "DELETE FROM public.alerts_alert", read_write=True
                ),
                "a view write, read-write": _refused(
                    db, "UPDATE reporting.work_order_parts SET quantity = 0", read_write=True
                ),
                "a table of its own": _refused(
                    db, "CREATE TABLE public.mine (a int)", read_write=True
                ),
                "a view of its own": _refused(
                    db, "CREATE VIEW reporting.mine AS SELECT 1", read_write=True
                ),
            }
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP VIEW IF EXISTS reporting.later")
            cursor.execute(f'DROP OWNED BY "{role}"')
            cursor.execute(f'DROP ROLE "{role}"')

    assert f"Created role {role}" in said
    assert f"Updated role {role}" in said
    assert all(counts[view] > 0 for view in VIEWS), counts
    assert settings == ["on", "15s", "reporting"]
    assert (by_name, later) == (1, 1)
    assert refused == {
        "a table": "InsufficientPrivilege",
        "passwords": "InsufficientPrivilege",
        "readings": "InsufficientPrivilege",
        "a write, read-write": "InsufficientPrivilege",
        # Before the privilege is asked: no view can be written through (each joins tables).
        "a view write, read-write": "ObjectNotInPrerequisiteState",
        "a table of its own": "InsufficientPrivilege",
        "a view of its own": "InsufficientPrivilege",
    }


@pytest.mark.django_db
def test_the_password_is_hashed_before_it_is_sent():
    role = f"reporting_hash_{connection.settings_dict['NAME']}"[:63].lower()

    call_command("reporting_role", password=PASSWORD, role=role)  # rolled back with the test

    (stored,) = rows("SELECT rolpassword FROM pg_authid WHERE rolname = %s", [role])
    assert stored["rolpassword"].startswith("SCRAM-SHA-256$4096:")
    assert PASSWORD not in stored["rolpassword"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"password": "short"}, "password: At least 16"),
        ({"password": PASSWORD, "role": "Robert'); DROP"}, "role: Lower-case"),
        ({"password": PASSWORD, "statement_timeout": "1; DROP"}, "statement_timeout"),
        ({}, "Give --password"),
    ],
)
def test_the_command_refuses_a_weak_password_and_odd_names(options, words, monkeypatch):
    monkeypatch.delenv("PLANTOPS_REPORTING_PASSWORD", raising=False)

    with pytest.raises(CommandError, match=words.replace("(", r"\(").replace(")", r"\)")):
        call_command("reporting_role", **options)


def test_on_sqlite_the_migration_makes_nothing(django_db_blocker):
    migration = importlib.import_module("plantops.api.migrations.0001_reporting_views")
    sqlite = ConnectionHandler({"default": {"ENGINE": "django.db.backends.sqlite3"}})["default"]
    sqlite.settings_dict["NAME"] = ":memory:"

    with django_db_blocker.unblock(), sqlite.schema_editor() as editor:
        migration.create_views(None, editor)
        migration.drop_views(None, editor)
        with sqlite.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM sqlite_master")
            made = cursor.fetchone()[0]
    sqlite.close()

    assert made == 0
