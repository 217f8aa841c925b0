"""The failure modes PlantOps knows out of the box; admins add their own."""

from django.db import migrations

FAILURE_MODES = [
    ("bearing", "Bearing degradation"),
    ("misalignment", "Shaft misalignment"),
    ("imbalance", "Rotor imbalance"),
    ("winding", "Motor winding insulation failure"),
    ("seal", "Seal leak"),
    ("belt", "Belt wear"),
    ("hpc", "High-pressure compressor degradation"),
    ("fan", "Fan degradation"),
]


def seed(apps, schema_editor):
    FailureMode = apps.get_model("health", "FailureMode")
    for code, label in FAILURE_MODES:
        FailureMode.objects.get_or_create(code=code, defaults={"label": label})


class Migration(migrations.Migration):
    dependencies = [("health", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
