"""Give the demo plant its past (once): months of telemetry, alerts, work and predictions."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from plantops.demo.history import PastExists, demo_history_seed


class Command(BaseCommand):
    help = (
        "Store the demo plant's past up to now through the pipeline and services: readings and "
        "rollups, machine states and counts, alerts acknowledged and cleared, corrective, "
        "preventive and predictive work, bearing failures, predictions and OEE. Does nothing "
        "on a plant that has data already."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=float, default=90.0, help="How far back (default 90).")
        parser.add_argument(
            "--fleet-units",
            type=int,
            default=20,
            help="Simulated conveyors the first remaining-life model is fitted on (default 20).",
        )

    def handle(self, *args, **options) -> None:
        if options["days"] <= 0:
            raise CommandError("--days must be positive")
        try:
            outcome = demo_history_seed(
                days=options["days"],
                fleet_units=options["fleet_units"],
                report=lambda line: self.stdout.write(f"  {line}"),
            )
        except PastExists:
            self.stdout.write("The plant has data already: its past is what it recorded.")
            return
        self.stdout.write(f"Stored the plant's past: {outcome.summary()}.")
