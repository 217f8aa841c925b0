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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from plantops.health.anomaly import DAY_S, LEARNING, AnomalyDetector, Assessment
from plantops.health.features import (
    HEALTH_FEATURES,
    AssetWindows,
    StepRows,
    aggregate_steps,
    health_matrix,
    health_vector_names,
)

# Wall-clock seconds a reading may take to reach the database after its timestamp (ingest
# batching, a worker's queue): a round does not close a step before then.
ARRIVAL_LAG_S = 10.0


# Detector checkpoints kept: every round's of the last two plant days, then the first of each
# plant day for a month, then the first of each plant week.
KEEP_EVERY_CHECKPOINT_S = 2 * DAY_S
KEEP_DAILY_CHECKPOINTS_S = 30 * DAY_S


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


def reading_until(detector: AnomalyDetector, *, now_s: float, step_s: float, lag_s: float) -> float:
    """Return the plant second before which a run at `now_s` reads every reading it needs:
    those of the windows up to `step_boundary`, and the settling time after the last."""
    settle = detector.config["settle_s"] if detector.config["speed_signal"] else 0.0
    return step_boundary(now_s, detector=detector, step_s=step_s, lag_s=lag_s) + settle


def reading_span(
    *, detector: AnomalyDetector, until_s: float, first_s: float
) -> tuple[float, float]:
    """Return `(from_s, to_s)`: the readings a round up to the step end `until_s` needs."""
    c = detector.config
    settle = c["settle_s"] if c["speed_signal"] else 0.0
    done = detector.processed_until_s
    start = first_s if done is None else done - c["window_s"] - settle
    return start, until_s + settle


def checkpoints_kept(at_s: Sequence[float], *, done_s: float, oldest_s: float) -> list[int]:
    """Return the positions, oldest first, of the detector checkpoints to keep (`at_s`: the
    step ends they judged up to) once a run has judged up to `done_s`.

    Late readings are judged again from the last checkpoint before them: the recent ones are
    all kept, older ones more thinly (`KEEP_EVERY_CHECKPOINT_S`, `KEEP_DAILY_CHECKPOINTS_S`),
    so that judging again costs little more than the late readings' own span. Each day's or
    week's first is kept: just after the baseline's daily update, it holds the fewest pending
    windows. Of those before `oldest_s` (the readings' retention: nothing before it can be
    read again) only the newest is kept.
    """
    order = sorted(range(len(at_s)), key=lambda i: at_s[i])
    kept: set[int] = set()
    first_of: dict[tuple[str, int], int] = {}
    before_oldest = [i for i in order if at_s[i] < oldest_s]
    for i in order:
        age = done_s - at_s[i]
        if at_s[i] < oldest_s:
            continue
        if age <= KEEP_EVERY_CHECKPOINT_S:
            kept.add(i)
        elif age <= KEEP_DAILY_CHECKPOINTS_S:
            first_of.setdefault(("day", math.floor(at_s[i] / DAY_S)), i)
        else:
            first_of.setdefault(("week", math.floor(at_s[i] / (7 * DAY_S))), i)
    kept.update(first_of.values())
    if before_oldest:
        kept.add(before_oldest[-1])
    return sorted(kept, key=lambda i: at_s[i])


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
    steps, which the caller stores idempotently. However the readings are cut into rounds, the
    steps are the same: a window's deviations are taken with the baseline that judged it.
    """
    c = detector.config
    settle = c["settle_s"] if c["speed_signal"] else 0.0
    previous = detector.processed_until_s
    windows = detector.windows(readings, until_s=until_s + settle)
    assessments: list[Assessment] = []
    signals: list[str] = []
    judged: list[tuple[AssetWindows, np.ndarray, list[Assessment]]] = []
    # The baseline rolls between days only (`AnomalyDetector`): judged a day at a time, each
    # day's windows are scored by the baseline that judged them.
    days = np.floor(windows.ends_s / DAY_S)
    for day in np.unique(days):
        part = windows.take(days == day)
        part_assessments = detector.assess_many(part)
        assessments.extend(part_assessments)
        if not detector.learned:
            continue
        z = detector.zscores(part)
        signals = sorted(z)
        matrix = health_matrix(z, signals, HEALTH_FEATURES)
        # A window judged while learning has no baseline of its own: it makes no step.
        learning = np.array([a.level == LEARNING for a in part_assessments], dtype=bool)
        matrix[learning] = np.nan
        judged.append((part, matrix, part_assessments))
    if not judged:
        return Round(assessments, [], None, until_s)
    rows = aggregate_steps(
        np.concatenate([part.ends_s for part, _, _ in judged]),
        np.vstack([matrix for _, matrix, _ in judged]),
        np.concatenate([np.column_stack([part.speed, part.load]) for part, _, _ in judged], axis=0),
        step_s=step_s,
        scores=np.array(
            [np.nan if a.score is None else a.score for _, _, got in judged for a in got],
            dtype=float,
        ),
    )
    # A step the previous round already closed is not made again.
    steps_from = -math.inf if previous is None else math.ceil(previous / step_s) * step_s
    keep = (rows.ends_s > steps_from) & (rows.ends_s <= until_s)
    return Round(
        assessments,
        health_vector_names(signals, HEALTH_FEATURES),
        StepRows(
            ends_s=rows.ends_s[keep],
            settings=rows.settings[keep],
            sensors=rows.sensors[keep],
            windows=rows.windows[keep],
            score=rows.score[keep],
        ),
        until_s,
    )
