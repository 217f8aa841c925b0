from django.core.management.base import BaseCommand

from plantops.assets.models import Asset, Line, Signal
from plantops.demo.services import demo_plant_seed, demo_rules_seed, demo_stores_seed


class Command(BaseCommand):
    help = (
        "Create (or bring up to date) the demo plant: 1 site, 2 areas, 4 lines, 20 assets, "
        "its alert rules, spare parts and preventive schedules."
    )

    def handle(self, *args, **options) -> None:
        site = demo_plant_seed()
        rules = demo_rules_seed()
        parts, schedules = demo_stores_seed()
        self.stdout.write(
            f"Demo plant {site.name!r}: {Line.objects.filter(area__site=site).count()} lines, "
            f"{Asset.objects.filter(line__area__site=site).count()} assets, "
            f"{Signal.objects.filter(asset__line__area__site=site).count()} signals, "
            f"{rules} alert rules, {parts} spare parts, {schedules} preventive schedules."
        )
