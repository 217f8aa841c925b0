"""A failure taxonomy in the style of ISO 14224 (failure modes, causes, maintenance
activities) for rotating equipment; admins add their own codes."""

from django.db import migrations

CODES = [
    # (kind, code, label, health failure mode)
    ("problem", "vib", "Vibration", "bearing"),
    ("problem", "ohe", "Overheating", None),
    ("problem", "noi", "Noise", "bearing"),
    ("problem", "elu", "External leakage", "seal"),
    ("problem", "brd", "Breakdown", None),
    ("problem", "fts", "Fail to start on demand", "winding"),
    ("problem", "air", "Abnormal instrument reading", None),
    ("problem", "std", "Structural deficiency", None),
    ("problem", "pdo", "Parameter deviation", None),
    ("cause", "wear", "Wear", None),
    ("cause", "fatigue", "Fatigue", None),
    ("cause", "lubrication", "Lubrication: too little, too much or wrong", None),
    ("cause", "contamination", "Contamination", None),
    ("cause", "misalignment", "Misalignment", None),
    ("cause", "looseness", "Looseness", None),
    ("cause", "overload", "Overload", None),
    ("cause", "electrical", "Electrical failure", None),
    ("cause", "operating-error", "Operating error", None),
    ("cause", "design", "Design deficiency", None),
    ("cause", "unknown", "Cause unknown", None),
    ("remedy", "replace", "Replace", None),
    ("remedy", "repair", "Repair", None),
    ("remedy", "adjust", "Adjust or align", None),
    ("remedy", "lubricate", "Lubricate", None),
    ("remedy", "clean", "Clean", None),
    ("remedy", "inspect", "Inspect or check", None),
    ("remedy", "overhaul", "Overhaul", None),
    ("remedy", "modify", "Modify", None),
]


def seed(apps, schema_editor):
    FailureCode = apps.get_model("maintenance", "FailureCode")
    FailureMode = apps.get_model("health", "FailureMode")
    modes = {m.code: m for m in FailureMode.objects.all()}
    for kind, code, label, mode in CODES:
        FailureCode.objects.get_or_create(
            kind=kind, code=code, defaults={"label": label, "failure_mode": modes.get(mode)}
        )


class Migration(migrations.Migration):
    dependencies = [
        ("maintenance", "0001_initial"),
        ("health", "0002_seed_failure_modes"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
