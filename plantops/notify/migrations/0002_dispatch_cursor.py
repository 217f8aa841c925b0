"""Start notifying from now: the events already recorded when notifications are installed
page nobody."""

from django.db import migrations
from django.db.models import Max


def start_at_newest(apps, schema_editor):
    AlertEvent = apps.get_model("alerts", "AlertEvent")
    DispatchCursor = apps.get_model("notify", "DispatchCursor")
    newest = AlertEvent.objects.aggregate(newest=Max("id"))["newest"] or 0
    DispatchCursor.objects.update_or_create(name="alert-events", defaults={"last_id": newest})


class Migration(migrations.Migration):
    dependencies = [("notify", "0001_initial")]

    operations = [migrations.RunPython(start_at_newest, migrations.RunPython.noop)]
