import django.db.models.deletion
from django.db import migrations, models


def store_packs_uncompressed(apps, schema_editor):
    """A pack (about 2.9 kB) goes out of line, uncompressed: the hour rows hourly reads scan
    stay small, and reading a pack is a copy, not a decompression. Packs of floats barely
    compress anyway."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "ALTER TABLE telemetry_hourrollup ALTER COLUMN minutes SET STORAGE EXTERNAL"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("assets", "0008_line_oee_target"),
        ("telemetry", "0009_hour_rollups_and_last_values"),
    ]

    operations = [
        migrations.AddField(
            model_name="hourrollup",
            name="minutes",
            field=models.BinaryField(editable=False, null=True),
        ),
        migrations.RunPython(store_packs_uncompressed, migrations.RunPython.noop),
        # The primary key (signal, minute) serves every read by signal.
        migrations.AlterField(
            model_name="minuterollup",
            name="signal",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="assets.signal",
            ),
        ),
    ]
