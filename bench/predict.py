#!/usr/bin/env python
"""Prediction alerts on simulated fleets with bearing faults of known failure time.

The production chain, end to end but for the database: the simulator's physics makes each
machine's readings (one every 60 plant seconds), `health.monitor.monitor_round` turns them
into hourly health steps day by day as the Celery task does, `RulEstimator` (fitted on a
training fleet) predicts every 6 plant hours, and the prediction rule's own decision
(`alerts.conditions.external_rule_applies`, horizon 14 days) says when an alert is raised.

Fleets (seeds never used in development or tests): 30 training machines that fail
(seeds 71000+), 12 test machines that fail (72000+), 8 healthy test machines watched for
60 days after learning (73000+). Learning is the production default, 14 days. Fault lives
are drawn from 10–40 days.

Reported:
- lead time of the first correct prediction alert: raised while the failure is within the
  rule's horizon, measured to the failure; the median over the failing machines;
- false alerts per asset-month: alerts on healthy machines, and alerts on failing machines
  raised while the failure was still further away than the horizon;
- coverage of the 90% intervals of every prediction with a true remaining life under the
  cap (30 days), against the nominal 0.9;
- the anomaly detector's alarms in the same run (an early warning without a remaining life);
- the baseline in the same run: a static vibration limit at the signal's expected maximum
  (the demo plant's "vibration high" rule, three readings in a row), its lead time and false
  alerts per asset-month.

Last line: `median_lead_days=… false_per_asset_month=… cov90=… baseline_lead_days=…
baseline_false_per_asset_month=… lead_ratio=… anomaly_lead_days=… anomaly_lead_ratio=…`
(ratios: against the static limit's median lead). The prediction alert's lead is bounded by
its horizon by design: it says when, not only that something is wrong. Exits 1 when a target is missed (lead ≥ 7
days, ≤ 1 false alert per asset-month, coverage within 0.05 of 0.9).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SECRET_KEY", "bench")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "plantops.settings")

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402

from plantops.alerts.conditions import external_rule_applies  # noqa: E402
from plantops.alerts.models import AlertRule  # noqa: E402
from plantops.demo import fleet  # noqa: E402
from plantops.demo.plant import SIGNALS_BY_TYPE  # noqa: E402
from plantops.health.anomaly import AnomalyDetector  # noqa: E402
from plantops.health.models import FailureMode, HealthModel, Prediction  # noqa: E402
from plantops.health.predictions import PREDICTION_CONFIDENCE, prediction_condition  # noqa: E402
from plantops.health.rul import RulEstimator, UnitHistory  # noqa: E402
from plantops.health.training import PLANT_ESTIMATOR_OPTIONS  # noqa: E402
from plantops.simulator.physics import AssetSpec, SignalSpec  # noqa: E402

DAY_S = 86_400.0
STEP_S = 3600.0
SAMPLE_S = 60.0
LEARNING_DAYS = 14.0
CAP_DAYS = 30.0
HORIZON_DAYS = 14.0
PREDICT_EVERY_STEPS = 6
HEALTHY_WATCH_DAYS = 60.0
TRAIN_SEEDS = range(71_000, 71_030)
FAILING_SEEDS = range(72_000, 72_012)
HEALTHY_SEEDS = range(73_000, 73_008)
TARGET_LEAD_DAYS = 7.0
TARGET_FALSE_PER_MONTH = 1.0
TARGET_COVERAGE_GAP = 0.05

SPEC = AssetSpec(
    "conveyor",
    tuple(SignalSpec(slug, low, high) for slug, _, _, low, high, _ in SIGNALS_BY_TYPE["conveyor"]),
)
VIBRATION_LIMIT = next(
    high for slug, *_, high, _ in SIGNALS_BY_TYPE["conveyor"] if slug == "vibration"
)


def detector() -> AnomalyDetector:
    return AnomalyDetector(learning_s=LEARNING_DAYS * DAY_S)


def failing(seed: int, *, keep_readings: bool = True) -> fleet.SimulatedRun | None:
    runs = fleet.failing_fleet(
        SPEC,
        seeds=[seed],
        detector_factory=detector,
        step_s=STEP_S,
        sample_s=SAMPLE_S,
        learning_days=LEARNING_DAYS,
        keep_readings=keep_readings,
    )
    return runs[0] if runs else None


def healthy(seed: int) -> fleet.SimulatedRun:
    return fleet.simulate_run(
        SPEC,
        seed=seed,
        detector_factory=detector,
        step_s=STEP_S,
        sample_s=SAMPLE_S,
        days=LEARNING_DAYS + 2 + HEALTHY_WATCH_DAYS,
        keep_readings=True,
    )


def static_alerts(times: np.ndarray, values: np.ndarray, after_s: float) -> list[float]:
    """Rising edges of the static limit: three readings in a row above it, after `after_s`."""
    above = values > VIBRATION_LIMIT
    run_length = np.convolve(above.astype(int), np.ones(3, dtype=int), "full")[: above.size]
    active = run_length >= 3
    edges = np.flatnonzero(active & ~np.r_[False, active[:-1]])
    return [float(times[i]) for i in edges if times[i] >= after_s]


def predicted_alerts(estimator: RulEstimator, run: fleet.SimulatedRun):
    """Yield `(at_s, (low, central, high) days, alert active)` every few steps of a run."""
    mode = FailureMode(code="bearing", label="Bearing degradation")
    model = HealthModel(asset_type="conveyor", failure_mode=mode, version=1)
    rule = AlertRule(kind="prediction", asset_type="conveyor", horizon_days=HORIZON_DAYS)
    per_step_days = STEP_S / DAY_S
    for end in range(PREDICT_EVERY_STEPS, run.step_ends_s.size + 1, PREDICT_EVERY_STEPS):
        unit = UnitHistory(f"seed-{run.seed}", run.settings[:end], run.sensors[:end], failed=False)
        result = estimator.predict(unit, confidences=(PREDICTION_CONFIDENCE,))
        interval = result.interval(PREDICTION_CONFIDENCE)
        at_s = float(run.step_ends_s[end - 1])
        prediction = Prediction(
            failure_mode=mode,
            model=model,
            made_at=datetime.fromtimestamp(at_s, tz=UTC),
            rul_low_days=max(interval.low, 0) * per_step_days,
            rul_days=max(result.central, 0) * per_step_days,
            rul_high_days=max(interval.high, 0) * per_step_days,
            confidence=interval.confidence,
            health_index=result.health_index,
            inputs={},
        )
        condition = prediction_condition(prediction, asset_name="Conveyor")
        active = external_rule_applies(rule, asset_type="conveyor", condition=condition)
        yield at_s, (prediction.rul_low_days, prediction.rul_days, prediction.rul_high_days), active


def anomaly_alarms(run: fleet.SimulatedRun) -> list[float]:
    """When the detector's level rose to alarm (a stop in between judges nothing)."""
    return rising([(a.at_s, a.level == "alarm") for a in run.assessments if a.level != "stopped"])


def rising(flags: list[tuple[float, bool]]) -> list[float]:
    edges, before = [], False
    for at, active in flags:
        if active and not before:
            edges.append(at)
        before = active
    return edges


def main() -> int:
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=2) as pool:
        train_runs = [r for r in pool.map(_train_run, TRAIN_SEEDS) if r is not None]
        failing_runs = [r for r in pool.map(failing, FAILING_SEEDS) if r is not None]
        healthy_runs = list(pool.map(healthy, HEALTHY_SEEDS))
    print(
        f"simulated and monitored {len(train_runs)} training, {len(failing_runs)} failing and "
        f"{len(healthy_runs)} healthy machines in {time.perf_counter() - started:.0f} s"
    )
    fit_started = time.perf_counter()
    estimator = RulEstimator(cap=CAP_DAYS * DAY_S / STEP_S, **PLANT_ESTIMATOR_OPTIONS).fit(
        [UnitHistory(f"train-{r.seed}", r.settings, r.sensors) for r in train_runs]
    )
    print(f"fitted {RulEstimator.VERSION_FORMAT} in {time.perf_counter() - fit_started:.0f} s")

    leads, baseline_leads, anomaly_leads = [], [], []
    anomaly_false = 0
    false_alerts = baseline_false = 0
    watched_days = 0.0
    inside = judged = 0
    for run in failing_runs:
        horizon_from = run.failed_at_s - HORIZON_DAYS * DAY_S
        flags = []
        for at, (low, _, high), active in predicted_alerts(estimator, run):
            flags.append((at, active))
            true_days = (run.failed_at_s - at) / DAY_S
            if true_days < CAP_DAYS:
                judged += 1
                inside += low <= true_days <= high
        edges = rising(flags)
        correct = [at for at in edges if at >= horizon_from]
        false_alerts += len([at for at in edges if at < horizon_from])
        leads.append((run.failed_at_s - correct[0]) / DAY_S if correct else 0.0)
        times, values = run.readings["vibration"]
        static = static_alerts(times, values, after_s=run.learned_at_s or 0.0)
        baseline_false += len([at for at in static if at < run.fault_start_s])
        baseline_leads.append(
            (run.failed_at_s - min(at for at in static if at >= run.fault_start_s)) / DAY_S
            if any(at >= run.fault_start_s for at in static)
            else 0.0
        )
        watched_days += (run.failed_at_s - (run.learned_at_s or 0.0)) / DAY_S
        alarms = anomaly_alarms(run)
        anomaly_false += len([at for at in alarms if at < run.fault_start_s])
        anomaly_leads.append(
            next(((run.failed_at_s - at) / DAY_S for at in alarms if at >= run.fault_start_s), 0.0)
        )
        print(
            f"  failing seed {run.seed}: fault life "
            f"{(run.failed_at_s - run.fault_start_s) / DAY_S:.1f} d, first correct alert "
            f"{leads[-1]:.1f} d before failure; anomaly alarm {anomaly_leads[-1]:.1f} d, "
            f"static limit {baseline_leads[-1]:.1f} d"
        )
    for run in healthy_runs:
        flags = [(at, active) for at, _, active in predicted_alerts(estimator, run)]
        false_alerts += len(rising(flags))
        times, values = run.readings["vibration"]
        baseline_false += len(static_alerts(times, values, after_s=run.learned_at_s or 0.0))
        anomaly_false += len(anomaly_alarms(run))
        watched_days += (float(times[-1]) - (run.learned_at_s or 0.0)) / DAY_S

    if not leads:
        print("no failing machine got past learning: nothing to measure")
        return 1
    months = watched_days / 30.0
    median_lead = statistics.median(leads)
    baseline_lead = statistics.median(baseline_leads)
    false_per_month = false_alerts / months
    baseline_false_per_month = baseline_false / months
    coverage = inside / judged if judged else float("nan")
    ratio = median_lead / baseline_lead if baseline_lead else float("inf")
    print(f"watched {months:.1f} asset-months after learning")
    print(f"prediction alerts: median lead {median_lead:.1f} d, {false_alerts} false alerts")
    anomaly_lead = statistics.median(anomaly_leads)
    print(
        f"anomaly alarms (no remaining life, an early warning): median lead "
        f"{anomaly_lead:.1f} d, {anomaly_false} false"
    )
    print(f"static vibration limit: median lead {baseline_lead:.1f} d, {baseline_false} false")
    print(f"90% intervals: {inside}/{judged} hold the true remaining life")
    print(
        f"median_lead_days={median_lead:.1f} false_per_asset_month={false_per_month:.2f} "
        f"cov90={coverage:.3f} baseline_lead_days={baseline_lead:.1f} "
        f"baseline_false_per_asset_month={baseline_false_per_month:.2f} lead_ratio={ratio:.2f} "
        f"anomaly_lead_days={anomaly_lead:.1f} "
        f"anomaly_lead_ratio={anomaly_lead / baseline_lead if baseline_lead else float('inf'):.2f}"
    )
    missed = (
        median_lead < TARGET_LEAD_DAYS
        or false_per_month > TARGET_FALSE_PER_MONTH
        or not abs(coverage - PREDICTION_CONFIDENCE) <= TARGET_COVERAGE_GAP
    )
    return 1 if missed else 0


def _train_run(seed: int) -> fleet.SimulatedRun | None:
    return failing(seed, keep_readings=False)


if __name__ == "__main__":
    sys.exit(main())
