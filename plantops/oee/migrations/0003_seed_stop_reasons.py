"""The stop reasons a plant starts with; admins add their own and retire these."""

from django.db import migrations

REASONS = [
    ("jam", "Jam", "equipment"),
    ("motor-fault", "Motor or drive fault", "equipment"),
    ("tooling", "Tooling worn or broken", "equipment"),
    ("sensor-fault", "Sensor fault", "equipment"),
    ("no-material", "No material (starved)", "material"),
    ("blocked", "Blocked downstream", "material"),
    ("quality-check", "Quality check", "quality"),
    ("adjustment", "Adjustment after defects", "quality"),
    ("no-operator", "No operator", "people"),
    ("cleaning", "Cleaning", "other"),
    ("other", "Other", "other"),
]


def seed(apps, schema_editor) -> None:
    StopReason = apps.get_model("oee", "StopReason")
    for code, label, category in REASONS:
        StopReason.objects.get_or_create(code=code, defaults={"label": label, "category": category})


class Migration(migrations.Migration):
    dependencies = [("oee", "0002_stop_reasons_scrap_entries_and_hourly_oee")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
