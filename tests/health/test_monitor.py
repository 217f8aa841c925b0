"""Monitoring rounds, pure: the steps are the same however the readings are cut into rounds."""

from __future__ import annotations

import numpy as np
import pytest

from plantops.demo import fleet
from plantops.demo.plant import SIGNALS_BY_TYPE
from plantops.health.anomaly import AnomalyDetector
from plantops.simulator.physics import AssetSpec, SignalSpec

SPEC = AssetSpec(
    "conveyor",
    tuple(SignalSpec(slug, low, high) for slug, _, _, low, high, _ in SIGNALS_BY_TYPE["conveyor"]),
)
HOUR_S = 3600.0


@pytest.fixture(scope="module")
def four_days():
    readings, _, _ = fleet.simulate_readings(
        SPEC, seed=11, days=4, sample_s=60, fault_start_days=2.5, fault_life_days=3.0
    )
    return readings


def monitored(readings, round_s: float):
    detector = AnomalyDetector(learning_s=86_400.0)
    names, ends, settings, sensors, assessments = fleet.monitor_history(
        readings, detector, step_s=HOUR_S, round_s=round_s
    )
    return names, ends, settings, sensors, [a.to_dict() for a in assessments], detector.to_dict()


def same(a, b) -> bool:
    """Equal, floats to a few units in the last place: numpy sums a window read in another
    round from differently aligned memory, by another SIMD path, in another order."""
    if isinstance(a, float) and isinstance(b, float):
        return a == pytest.approx(b, rel=1e-12, abs=1e-300)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def test_hourly_rounds_and_rounds_of_days_make_the_same_steps_and_judgements(four_days):
    hourly = monitored(four_days, HOUR_S)
    for round_s in (5 * HOUR_S, 2 * 86_400.0):
        names, ends, settings, sensors, assessments, state = monitored(four_days, round_s)
        assert names == hourly[0]
        np.testing.assert_array_equal(ends, hourly[1])
        np.testing.assert_allclose(settings, hourly[2], rtol=1e-12, atol=0)
        np.testing.assert_allclose(sensors, hourly[3], rtol=1e-12, atol=0)
        assert same(assessments, hourly[4])
        assert same(state, hourly[5])
    # Learning takes a day and 200 running windows; every hour after it is a step.
    assert 40 <= len(hourly[1]) <= 60
    assert hourly[1][0] > 86_400.0


def test_a_learning_detector_goes_back_to_what_it_had_learned_by_a_moment(four_days):
    def learned_until(hours: float) -> AnomalyDetector:
        detector = AnomalyDetector(learning_s=86_400.0)
        part = {
            slug: (t[t < hours * HOUR_S + 60], v[t < hours * HOUR_S + 60])
            for slug, (t, v) in four_days.items()
        }
        fleet.monitor_history(part, detector, step_s=HOUR_S, round_s=HOUR_S)
        return detector

    twelve = learned_until(12)
    six = twelve.learning_rewound(6 * HOUR_S)

    assert not twelve.learned
    assert six is not None
    assert six.to_dict() == learned_until(6).to_dict()
    assert twelve.learning_rewound(0.0) is None  # before its first window: start afresh
    assert learned_until(60).learning_rewound(6 * HOUR_S) is None  # learned: checkpoints tell
