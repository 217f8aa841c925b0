import json

from django.core.management.base import BaseCommand

from plantops.pipeline.selectors import pipeline_stats


class Command(BaseCommand):
    help = "Print the telemetry pipeline's counters (readings stored, dead letters by reason, …)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--json", action="store_true", help="One JSON object, for scripts.")

    def handle(self, *args, **options) -> None:
        stats = pipeline_stats()
        if options["json"]:
            self.stdout.write(json.dumps(stats, sort_keys=True))
            return
        width = max(len(key) for key in stats)
        for key, value in stats.items():
            if isinstance(value, dict):
                value = ", ".join(f"{k}: {v}" for k, v in value.items()) or "none"
            self.stdout.write(f"{key.ljust(width)}  {value}")
