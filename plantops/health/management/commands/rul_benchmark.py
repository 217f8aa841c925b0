"""Score the RUL estimator on NASA C-MAPSS run-to-failure data (no database needed)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from django.core.management.base import BaseCommand, CommandError, CommandParser

from plantops.health import cmapss
from plantops.health.rul import RulEstimator, UnitHistory

# Held-out engines keep at least this many cycles when cut, as in the official test files.
MIN_OBSERVED = 30
CONFIDENCES = (0.8, 0.9)


class Command(BaseCommand):
    help = (
        "Fit the RUL estimator on a C-MAPSS train file and score it on a test file with its "
        "truth file (--test, --truth), or on engines held out of the train file (--holdout). "
        "The last line is 'rmse=… score=… cov80=… cov90=… width90=… fit_s=…'."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--train", required=True, help="C-MAPSS train file (run to failure)")
        parser.add_argument("--test", help="C-MAPSS test file (series that stop before failure)")
        parser.add_argument("--truth", help="the test file's RUL file, one value per engine")
        parser.add_argument(
            "--holdout",
            type=float,
            help="instead of a test file: the fraction of train engines to hold out, each cut "
            f"at a random cycle (at least {MIN_OBSERVED} observed) and scored at its last one",
        )
        parser.add_argument("--cap", type=float, default=125.0, help="RUL cap in cycles")
        parser.add_argument("--seed", type=int, default=0, help="seed of the split and the model")

    def handle(self, *args, **options) -> None:
        cap: float = options["cap"]
        seed: int = options["seed"]
        holdout: float | None = options["holdout"]
        if not cap > 0:
            raise CommandError("--cap must be positive")
        train_units = _read_units(options["train"], failed=True)

        if holdout is not None:
            if options["test"] or options["truth"]:
                raise CommandError(
                    "--holdout scores engines of --train: leave out --test and --truth"
                )
            if not 0 < holdout < 1:
                raise CommandError("--holdout must be a fraction between 0 and 1")
            train_units, test_units, true_rul = _holdout(train_units, holdout, seed)
            source = f"{len(test_units)} engines held out of {options['train']} (seed {seed})"
        else:
            if not options["test"] or not options["truth"]:
                raise CommandError("give --test and --truth, or --holdout FRACTION")
            test_units = _read_units(options["test"], failed=False)
            true_rul = _read_truth(options["truth"])
            if true_rul.size != len(test_units):
                raise CommandError(
                    f"{options['truth']} has {true_rul.size} values but {options['test']} has "
                    f"{len(test_units)} engines"
                )
            source = f"{len(test_units)} engines of {options['test']}"

        self.stdout.write(
            f"Fitting on {len(train_units)} engines "
            f"({sum(u.n_steps for u in train_units)} cycles), cap {cap:g}, seed {seed}…"
        )
        started = time.perf_counter()
        try:
            estimator = RulEstimator(cap=cap, seed=seed).fit(train_units)
        except ValueError as exc:
            raise CommandError(f"cannot fit: {exc}") from exc
        fit_s = time.perf_counter() - started
        try:
            predictions = estimator.predict_many(test_units, confidences=CONFIDENCES)
        except ValueError as exc:
            raise CommandError(f"cannot predict: {exc}") from exc

        truth = np.minimum(true_rul, cap)
        central = np.array([p.central for p in predictions])
        rmse = cmapss.rmse(central, truth)
        score = cmapss.phm08_score(central, truth)
        cov = {c: cmapss.interval_coverage(predictions, truth, c) for c in CONFIDENCES}
        width = {c: cmapss.interval_mean_width(predictions, c) for c in CONFIDENCES}
        summary = estimator.fit_summary

        self.stdout.write(f"Scored on {source}, true RUL capped at {cap:g}")
        self.stdout.write(
            f"  regimes {summary['n_regimes']}, sensors used {summary['sensors_used']}, "
            f"cross-validated RMSE over all training cycles {summary['cv_rmse']:.2f}"
        )
        self.stdout.write(f"  RMSE            {rmse:.2f}")
        self.stdout.write(f"  PHM08 score     {score:.1f}")
        for c in CONFIDENCES:
            self.stdout.write(
                f"  {c:.0%} interval    coverage {cov[c]:.2f}, mean width {width[c]:.1f}"
            )
        self.stdout.write(f"  fit time        {fit_s:.1f} s")
        self.stdout.write(
            f"rmse={rmse:.2f} score={score:.1f} cov80={cov[0.8]:.2f} cov90={cov[0.9]:.2f} "
            f"width90={width[0.9]:.1f} fit_s={fit_s:.1f}"
        )


def _read_units(path: str, *, failed: bool) -> list[UnitHistory]:
    if not Path(path).is_file():
        raise CommandError(f"{path}: no such file")
    try:
        return cmapss.read_units(path, failed=failed)
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"{path}: cannot read: {exc}") from exc
    except ValueError as exc:
        raise CommandError(str(exc)) from exc


def _read_truth(path: str) -> np.ndarray:
    if not Path(path).is_file():
        raise CommandError(f"{path}: no such file")
    try:
        return cmapss.read_truth(path)
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"{path}: cannot read: {exc}") from exc
    except ValueError as exc:
        raise CommandError(str(exc)) from exc


def _holdout(
    units: list[UnitHistory], fraction: float, seed: int
) -> tuple[list[UnitHistory], list[UnitHistory], np.ndarray]:
    """Train units, held-out units cut at a random cycle, and the true RUL after each cut."""
    rng = np.random.default_rng(seed)
    n_test = round(fraction * len(units))
    if n_test < 1 or len(units) - n_test < 2:
        raise CommandError(
            f"--holdout {fraction:g} of {len(units)} engines leaves no engine to score or fewer "
            "than 2 to fit on"
        )
    order = rng.permutation(len(units))
    held = sorted(order[:n_test])
    train = [units[i] for i in sorted(order[n_test:])]
    tests, truth = [], []
    for i in held:
        unit = units[i]
        length = unit.n_steps
        if length < 2:
            raise CommandError(f"engine {unit.unit_id} has fewer than 2 cycles: cannot cut it")
        observed = int(rng.integers(min(MIN_OBSERVED, length - 1), length))
        tests.append(cmapss.truncate_unit(unit, observed))
        truth.append(length - observed)
    return train, tests, np.asarray(truth, dtype=np.float64)
