"""Readings as a TimescaleDB hypertable of daily chunks, when the database has TimescaleDB.

Never required: without the extension (or on SQLite) nothing changes. See
plantops/telemetry/timescale.py for when the extension counts as usable.
"""

from django.db import migrations

from plantops.telemetry import timescale


def use_timescaledb(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        timescale.make_readings_hypertable(cursor)


class Migration(migrations.Migration):
    dependencies = [("telemetry", "0004_reading_without_per_row_checks")]

    # A hypertable cannot be turned back into a plain table in place; unapplying leaves it.
    operations = [migrations.RunPython(use_timescaledb, migrations.RunPython.noop)]
