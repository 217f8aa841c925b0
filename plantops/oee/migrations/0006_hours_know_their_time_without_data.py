from django.db import migrations, models


def forget_snapshots(apps, schema_editor) -> None:
    # Snapshots are a cache of what the events say: those made before time without data was
    # its own loss counted it as lost availability; they are made again on first read and by
    # the beat.
    apps.get_model("oee", "OeeHour").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("oee", "0005_counts_remember_their_product"),
    ]

    operations = [
        migrations.RunPython(forget_snapshots, migrations.RunPython.noop),
        migrations.AddField(
            model_name="oeehour",
            name="no_data_s",
            field=models.FloatField(default=0.0, help_text="Planned time with no state known."),
        ),
    ]
