"""Import simulated runs to failure for an asset type, so a new plant has a fleet to learn from."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from plantops.assets.models import AssetType
from plantops.demo.services import fleet_simulate_import
from plantops.health.models import FailureMode, HealthModel
from plantops.health.training import health_model_fit


class Command(BaseCommand):
    help = (
        "Simulate machines of an asset type that run until a bearing fails, monitor them as "
        "PlantOps monitors its assets, import the histories and (with --fit) fit the estimator."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--asset-type", required=True, choices=AssetType.values)
        parser.add_argument("--units", type=int, default=30, help="Machines to simulate.")
        parser.add_argument("--seed", type=int, default=5000, help="Seed of the first machine.")
        parser.add_argument(
            "--sample-s",
            type=float,
            help="Plant seconds between readings (default: one wall-clock second of plant time).",
        )
        parser.add_argument(
            "--life-days",
            default="10:40",
            help="Range of fault lives, LOW:HIGH plant days (default 10:40).",
        )
        parser.add_argument("--fit", action="store_true", help="Fit a new model version after.")
        parser.add_argument(
            "--if-missing",
            action="store_true",
            help="Do nothing when the type already has a fitted model (for start-up scripts).",
        )

    def handle(self, *args, **options) -> None:
        asset_type = options["asset_type"]
        mode = FailureMode.objects.filter(code="bearing").first()
        if mode is None:
            raise CommandError("the failure mode 'bearing' is missing: run migrate first")
        if (
            options["if_missing"]
            and HealthModel.objects.filter(
                asset_type=asset_type, failure_mode=mode, active=True
            ).exists()
        ):
            self.stdout.write(f"{asset_type}: a fitted model is in use; nothing simulated")
            return
        if options["units"] < 2:
            raise CommandError("--units must be at least 2: a fleet needs more than one machine")
        sample_s = options["sample_s"] or settings.PLANT_TIME_SCALE
        try:
            low, high = (float(part) for part in options["life_days"].split(":"))
        except ValueError:
            raise CommandError("--life-days is LOW:HIGH in days, e.g. 10:40") from None
        if not 0 < low <= high:
            raise CommandError("--life-days needs 0 < LOW <= HIGH")
        started = time.perf_counter()
        imported = fleet_simulate_import(
            asset_type=asset_type,
            failure_mode=mode,
            seeds=range(options["seed"], options["seed"] + options["units"]),
            sample_s=sample_s,
            life_days=(low, high),
        )
        self.stdout.write(
            f"{asset_type}: imported {imported} simulated runs to failure "
            f"in {time.perf_counter() - started:.1f} s"
        )
        if options["fit"]:
            model = health_model_fit(asset_type=asset_type, failure_mode=mode)
            self.stdout.write(f"fitted {model.label} in {time.perf_counter() - started:.1f} s")
