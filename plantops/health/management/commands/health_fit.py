"""Fit a new version of the remaining-life estimator for an asset type and failure mode."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError, CommandParser

from plantops.assets.models import AssetType
from plantops.health import training
from plantops.health.models import FailureMode


class Command(BaseCommand):
    help = (
        "Fit the remaining-life estimator of an asset type and failure mode on its fleet's "
        "runs to failure (imported histories and recorded failures) and store it as a new version."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--asset-type", required=True, choices=AssetType.values)
        parser.add_argument("--mode", default="bearing", help="Failure mode code (bearing).")
        parser.add_argument(
            "--cap-days",
            type=float,
            default=training.DEFAULT_CAP_DAYS,
            help="Remaining life is learned up to this many plant days.",
        )

    def handle(self, *args, **options) -> None:
        mode = FailureMode.objects.filter(code=options["mode"]).first()
        if mode is None:
            known = ", ".join(FailureMode.objects.values_list("code", flat=True))
            raise CommandError(f"unknown failure mode {options['mode']!r}; known: {known}")
        started = time.perf_counter()
        try:
            model = training.health_model_fit(
                asset_type=options["asset_type"], failure_mode=mode, cap_days=options["cap_days"]
            )
        except ValueError as error:
            raise CommandError(str(error)) from None
        summary = model.summary
        self.stdout.write(
            f"fitted {model.label} on {summary.get('imported_runs', 0)} imported and "
            f"{summary.get('own_runs', 0)} own runs in {time.perf_counter() - started:.1f} s"
        )
