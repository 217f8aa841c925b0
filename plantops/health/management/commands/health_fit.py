"""Fit a new version of the remaining-life estimator for an asset type and failure mode."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from plantops.assets.models import AssetType
from plantops.core.refusals import Refused
from plantops.health import fit_runs, training
from plantops.health.models import FailureMode, FitRun, FitStatus


class Command(BaseCommand):
    help = (
        "Fit the remaining-life estimator of an asset type and failure mode on its fleet's "
        "runs to failure (imported histories and recorded failures) and store it as a new "
        "version. The fit runs here, and the model-health page shows its progress."
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
        try:
            run = fit_runs.fit_run_create(
                asset_type=options["asset_type"], failure_mode=mode, cap_days=options["cap_days"]
            )
        except Refused as refusal:
            raise CommandError(str(refusal)) from None
        run = fit_runs.fit_run_execute(run_id=run.pk, observer=self._told)
        if run is None or run.status != FitStatus.SUCCEEDED:
            raise CommandError(run.error if run else "the fit was taken up elsewhere")
        result = run.result
        elapsed = (run.finished_at - run.started_at).total_seconds()
        self.stdout.write(
            f"fitted {result['label']} on {result['imported_runs']} imported and "
            f"{result['own_runs']} own runs in {elapsed:.1f} s"
        )

    def _told(self, run: FitRun) -> None:
        self.stdout.write(f"{run.percent:3d} %  {run.stage_text}")
