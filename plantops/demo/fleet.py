"""Simulated fleets that run to failure: training data for a new plant, and a benchmark.

Pure (numpy and the simulator's physics, no Django). A unit is one simulated machine: it
runs healthy, then a bearing fault starts and grows along its P-F curve until the bearing
fails. Its readings go through `monitor.monitor_round` day by day, exactly as the Celery task
takes an asset's readings, so the per-step health rows are what production makes.

A plant without failures of its own yet starts from such a fleet (`manage.py
health_simulate_fleet`); its own recorded failures join the fleet as they happen.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from plantops.health.anomaly import AnomalyDetector, Assessment
from plantops.health.monitor import monitor_round
from plantops.simulator.physics import AssetSpec, SimulatedAsset

DAY_S = 86_400.0
ROUND_S = DAY_S


@dataclass(frozen=True, eq=False)
class SimulatedRun:
    """One unit's monitored history: per-step rows, the judged windows and when it failed.

    `fault_start_s` and `failed_at_s` are None for a healthy unit; times are seconds from
    the unit's start.
    """

    seed: int
    step_names: list[str]
    step_ends_s: np.ndarray
    settings: np.ndarray
    sensors: np.ndarray
    assessments: list[Assessment]
    fault_start_s: float | None
    failed_at_s: float | None
    learned_at_s: float | None
    readings: dict[str, tuple[np.ndarray, np.ndarray]] | None = None


def simulate_readings(
    spec: AssetSpec,
    *,
    seed: int,
    days: float,
    sample_s: float,
    fault_start_days: float | None = None,
    fault_life_days: float | None = None,
) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], float | None, float | None]:
    """Return `({signal: (times_s, values)}, fault_start_s, failed_at_s)` of one machine.

    Readings every `sample_s` simulated seconds for `days`, or until the bearing fails.
    """
    machine = SimulatedAsset(spec, random.Random(seed))
    n = int(days * DAY_S / sample_s)
    slugs = [signal.slug for signal in spec.signals]
    times = np.empty(n)
    values = {slug: np.empty(n) for slug in slugs}
    fault_start_s = failed_at_s = None
    taken = 0
    for i in range(n):
        if (
            fault_life_days is not None
            and machine.bearing_fault is None
            and machine.time_s >= (fault_start_days or 0.0) * DAY_S
        ):
            fault_start_s = machine.time_s
            machine.inject_bearing_fault(fault_life_days)
        result = machine.step(sample_s)
        times[i] = machine.time_s
        for slug in slugs:
            values[slug][i] = result.readings[slug]
        taken = i + 1
        if machine.failed:
            failed_at_s = machine.bearing_fault.fails_at_s
            break
    return (
        {slug: (times[:taken], values[slug][:taken]) for slug in slugs},
        fault_start_s,
        failed_at_s,
    )


def monitor_history(
    readings: dict[str, tuple[np.ndarray, np.ndarray]],
    detector: AnomalyDetector,
    *,
    step_s: float,
    round_s: float = ROUND_S,
) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray, list[Assessment]]:
    """Run `monitor_round` over a history in rounds of `round_s`; return the steps' names,
    ends, settings and sensors (NaN deviations as 0: at the baseline) and every assessment."""
    last = max(float(t[-1]) for t, _ in readings.values() if t.size)
    names: list[str] = []
    ends, settings, sensors, assessments = [], [], [], []
    until = step_s
    while until <= last:
        until = min(until + round_s, last)
        boundary = np.floor(until / step_s) * step_s
        start = (detector.processed_until_s or 0.0) - 2 * detector.config["window_s"]
        part = {}
        for slug, (t, v) in readings.items():
            lo, hi = np.searchsorted(t, [start, boundary + 2 * detector.config["settle_s"]])
            part[slug] = (t[lo:hi], v[lo:hi])
        done = monitor_round(detector, part, until_s=float(boundary), step_s=step_s)
        assessments.extend(done.assessments)
        if done.steps is not None and done.steps.ends_s.size:
            names = done.step_names
            ends.append(done.steps.ends_s)
            settings.append(done.steps.settings)
            sensors.append(done.steps.sensors)
        if until >= last:
            break
    if not ends:
        return names, np.empty(0), np.empty((0, 2)), np.empty((0, len(names))), assessments
    return (
        names,
        np.concatenate(ends),
        np.nan_to_num(np.concatenate(settings)),
        np.nan_to_num(np.concatenate(sensors)),
        assessments,
    )


def simulate_run(
    spec: AssetSpec,
    *,
    seed: int,
    detector_factory: Callable[[], AnomalyDetector],
    step_s: float,
    sample_s: float,
    days: float,
    fault_start_days: float | None = None,
    fault_life_days: float | None = None,
    keep_readings: bool = False,
) -> SimulatedRun:
    """Simulate one unit and monitor it; see `SimulatedRun` (its readings too, if asked)."""
    readings, fault_start_s, failed_at_s = simulate_readings(
        spec,
        seed=seed,
        days=days,
        sample_s=sample_s,
        fault_start_days=fault_start_days,
        fault_life_days=fault_life_days,
    )
    detector = detector_factory()
    names, ends, settings, sensors, assessments = monitor_history(readings, detector, step_s=step_s)
    learned = next((a.at_s for a in assessments if a.level != "learning"), None)
    return SimulatedRun(
        seed=seed,
        step_names=names,
        step_ends_s=ends,
        settings=settings,
        sensors=sensors,
        assessments=assessments,
        fault_start_s=fault_start_s,
        failed_at_s=failed_at_s,
        learned_at_s=learned,
        readings=readings if keep_readings else None,
    )


def failing_fleet(
    spec: AssetSpec,
    *,
    seeds: Sequence[int],
    detector_factory: Callable[[], AnomalyDetector],
    step_s: float,
    sample_s: float,
    learning_days: float,
    healthy_days: tuple[float, float] = (0.0, 10.0),
    life_days: tuple[float, float] = (10.0, 40.0),
    keep_readings: bool = False,
) -> list[SimulatedRun]:
    """Units that each run healthy for a while after learning, then fail of a bearing fault.

    Each unit's healthy time and fault life are drawn from its seed, so a fleet replays.
    Units that never got past learning, or did not fail, are left out.
    """
    runs = []
    for seed in seeds:
        rng = random.Random(seed * 7919)
        start = learning_days + rng.uniform(*healthy_days)
        life = rng.uniform(*life_days)
        run = simulate_run(
            spec,
            seed=seed,
            detector_factory=detector_factory,
            step_s=step_s,
            sample_s=sample_s,
            days=start + life + 1.0,
            fault_start_days=start,
            fault_life_days=life,
            keep_readings=keep_readings,
        )
        if run.failed_at_s is not None and run.step_ends_s.size:
            runs.append(run)
    return runs
