"""One round of health monitoring on an asset's readings: judge new windows, make whole steps.

Pure (numpy, no Django). `monitor_round` takes the detector and the readings `reading_span`
names, up to a step end `until_s` (`step_boundary`), and returns a `Round`: the assessments of
the new windows and the health-feature rows of the steps they completed, each step made once
from all of its windows. Times are plant seconds since the epoch. The Celery task
(`monitoring.py`), the fleet simulator (`plantops/demo/fleet.py`) and `bench/predict.py` all
run this one function, so the estimator is fitted on rows made exactly as the ones it predicts
from.

See docs/health-model.md.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from plantops.health.anomaly import AnomalyDetector, Assessment
from plantops.health.features import StepRows, asset_windows

# Wall-clock seconds a reading may take to reach the database after its timestamp (ingest
# batching, a worker's queue): a round does not close a step before then.
ARRIVAL_LAG_S = 10.0


@dataclass(frozen=True, eq=False)
class Round:
    """What a round judged and made: the new windows' assessments, and the complete steps."""

    assessments: list[Assessment]
    step_names: list[str]
    steps: StepRows | None
    until_s: float


def step_boundary(now_s: float, *, detector: AnomalyDetector, step_s: float, lag_s: float) -> float:
    """Return the last step end that the readings up to `now_s` (arriving `lag_s` late, in
    plant seconds) cover."""
    settle = detector.config["settle_s"] if detector.config["speed_signal"] else 0.0
    return math.floor((now_s - settle - lag_s) / step_s) * step_s


def reading_span(
    *, detector: AnomalyDetector, until_s: float, first_s: float
) -> tuple[float, float]:
    """Return `(from_s, to_s)`: the readings a round up to the step end `until_s` needs."""
    c = detector.config
    settle = c["settle_s"] if c["speed_signal"] else 0.0
    done = detector.processed_until_s
    start = first_s if done is None else done - c["window_s"] - settle
    return start, until_s + settle


def monitor_round(
    detector: AnomalyDetector,
    readings: Mapping[str, tuple[np.ndarray, np.ndarray]],
    *,
    until_s: float,
    step_s: float,
) -> Round:
    """Judge the windows up to the step end `until_s` and make the steps they complete.

    `readings` (`{signal: (times_s, values)}`) must cover `reading_span(...)`. The detector's
    state moves on; running the same readings again judges nothing twice and makes the same
    steps, which the caller stores idempotently.
    """
    c = detector.config
    settle = c["settle_s"] if c["speed_signal"] else 0.0
    previous = detector.processed_until_s
    assessments = detector.update(readings, until_s=until_s + settle)
    if not detector.learned or not assessments:
        return Round(assessments, [], None, until_s)
    # The steps whose windows were judged in this round: from the step of the first new
    # window on. A step the previous round already closed is not made again.
    first_end = assessments[0].at_s
    steps_from = math.ceil(first_end / step_s) * step_s - step_s
    if previous is not None:
        steps_from = max(steps_from, math.ceil(previous / step_s) * step_s)
    windows = asset_windows(
        readings,
        window_s=c["window_s"],
        step_s=c["step_s"],
        after_s=steps_from,
        until_s=until_s + settle,
        speed_signal=c["speed_signal"] or "",
        load_signal=c["load_signal"],
        min_count=c["min_count"],
        settle_s=c["settle_s"],
    )
    if not len(windows):
        return Round(assessments, [], None, until_s)
    names, rows = detector.health_steps(windows, assessments, step_s=step_s)
    keep = (rows.ends_s > steps_from) & (rows.ends_s <= until_s)
    return Round(
        assessments,
        names,
        StepRows(
            ends_s=rows.ends_s[keep],
            settings=rows.settings[keep],
            sensors=rows.sensors[keep],
            windows=rows.windows[keep],
            score=rows.score[keep],
        ),
        until_s,
    )
