"""Readings without per-row checks, and a BRIN index on time for PostgreSQL.

The foreign key's trigger and the separate signal index cost more per reading than the insert
(the primary key (signal, ts) already leads with the signal). BRIN keeps one summary per 128
pages, so it costs almost nothing to maintain and lets the retention purge find old rows
without scanning the table; SQLite has no BRIN and the demo's table is small.
"""

import django.db.models.deletion
from django.db import migrations, models


BRIN = "telemetry_reading_ts_brin"


def create_brin(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {BRIN} ON telemetry_reading USING brin (ts)"
        )


def drop_brin(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {BRIN}")


class Migration(migrations.Migration):
    dependencies = [
        ("assets", "0001_plant_model"),
        ("telemetry", "0003_minute_rollups"),
    ]

    operations = [
        migrations.AlterField(
            model_name="reading",
            name="signal",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="assets.signal",
            ),
        ),
        migrations.RunPython(create_brin, drop_brin),
    ]
