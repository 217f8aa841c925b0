"""The regime-aware anomaly detector, on the simulator's physics and on made-up windows. No database.

The varying-speed case: a healthy motor whose speed wanders over its whole range for days
raises nothing, a static limit on its raw vibration does, and the same motor (same seed) with
a bearing fault is alarmed on early in the fault's P-F interval.
"""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

from plantops.health.anomaly import AnomalyDetector, Assessment
from plantops.health.features import AssetWindows, asset_windows
from plantops.health.regimes import STOPPED
from plantops.simulator.physics import AssetSpec, SignalSpec, SimulatedAsset

DAY_S = 86_400.0
LEARNING_DAYS = 14
DAYS = 24
FAULT_LIFE_DAYS = 10.0
# Alarm within this share of the P-F interval; the anomaly module documents it.
DETECTION_BOUND_OF_LIFE = 0.25
SAMPLE_S = 20.0  # coarser than the plant's 1 s to keep the test fast
SEED = 7
# The demo conveyor's drive motor: signals and expected ranges.
CONVEYOR_SIGNALS = (
    SignalSpec("vibration", expected_min=0.0, expected_max=4.5),
    SignalSpec("temperature", expected_min=10.0, expected_max=75.0),
    SignalSpec("current", expected_min=0.0, expected_max=18.0),
    SignalSpec("speed", expected_min=0.0, expected_max=1500.0),
)

Readings = dict[str, tuple[np.ndarray, np.ndarray]]


def simulate(*, fault_after_days: float | None = None) -> Readings:
    """Return `DAYS` of a conveyor motor's readings, its setpoint and load wandering freely."""
    motor = SimulatedAsset(AssetSpec("conveyor-1", CONVEYOR_SIGNALS), random.Random(SEED))
    n = round(DAYS * DAY_S / SAMPLE_S)
    times = np.empty(n)
    values = {signal.slug: np.empty(n) for signal in CONVEYOR_SIGNALS}
    for i in range(n):
        due = fault_after_days is not None and motor.time_s >= fault_after_days * DAY_S
        if due and motor.bearing_fault is None:
            motor.inject_bearing_fault(FAULT_LIFE_DAYS)
        readings = motor.step(SAMPLE_S).readings
        times[i] = motor.time_s
        for slug, value in readings.items():
            values[slug][i] = value
    return {slug: (times, v) for slug, v in values.items()}


@pytest.fixture(scope="module")
def healthy() -> Readings:
    return simulate()


@pytest.fixture(scope="module")
def faulty() -> Readings:
    return simulate(fault_after_days=LEARNING_DAYS)


def judge(readings: Readings) -> list[Assessment]:
    detector = AnomalyDetector(learning_s=LEARNING_DAYS * DAY_S)
    return detector.update(readings)


def after_learning(assessments: list[Assessment]) -> list[Assessment]:
    """The assessments after the last learning one (learning starts at the first window)."""
    last = max(i for i, a in enumerate(assessments) if a.level == "learning")
    return assessments[last + 1 :]


# --- the varying-speed case -------------------------------------------------------------------


def test_it_raises_nothing_on_a_healthy_motor_whose_speed_roams_its_whole_range(
    healthy: Readings,
) -> None:
    speed = healthy["speed"][1]
    running = speed[speed > 0]
    vibration = healthy["vibration"][1][speed > 0]
    # The motor really does run over its range: 0.55–1.0 of rated (1200 rpm) …
    assert np.percentile(running, 1) < 0.6 * 1200
    assert np.percentile(running, 99) > 0.95 * 1200
    # … so its healthy vibration varies threefold.
    assert np.percentile(vibration, 99) / np.percentile(vibration, 1) > 3

    judged = after_learning(judge(healthy))

    assert {a.level for a in judged} == {"normal", "stopped"}
    assert sum(a.level == "normal" for a in judged) > 0.5 * len(judged)
    assert all(a.evidence == [] for a in judged)


def test_it_shows_a_static_limit_on_raw_vibration_fires_on_the_same_healthy_motor(
    healthy: Readings,
) -> None:
    times, vibration = healthy["vibration"]
    learning = times <= LEARNING_DAYS * DAY_S
    # The alarm limit set the usual way: the 99.9th percentile of the learning period's
    # readings, alarmed on any reading above it.
    limit = np.percentile(vibration[learning], 99.9)

    trips = np.count_nonzero(vibration[~learning] > limit)

    # More than once a day on the motor the detector finds healthy (the test above).
    assert trips > DAYS - LEARNING_DAYS


def test_it_alarms_on_a_bearing_fault_early_in_its_pf_interval_with_vibration_as_evidence(
    faulty: Readings,
) -> None:
    onset_s = LEARNING_DAYS * DAY_S
    judged = after_learning(judge(faulty))

    raised = [a for a in judged if a.level in ("warning", "alarm")]
    first_alarm = next(a for a in judged if a.level == "alarm")

    assert raised[0].at_s > onset_s
    assert first_alarm.at_s - onset_s <= DETECTION_BOUND_OF_LIFE * FAULT_LIFE_DAYS * DAY_S
    evidence = first_alarm.evidence
    assert evidence[0]["signal"] == "vibration"
    assert [e["z"] for e in evidence] == sorted((e["z"] for e in evidence), reverse=True)
    assert evidence[0]["value"] > evidence[0]["baseline"]
    assert first_alarm.score == pytest.approx(evidence[0]["z"])
    json.dumps(first_alarm.to_dict())


def test_it_judges_the_same_when_fed_every_few_hours_through_stored_state(
    faulty: Readings,
) -> None:
    whole = AnomalyDetector(learning_s=LEARNING_DAYS * DAY_S).update(faulty)

    stored = AnomalyDetector(learning_s=LEARNING_DAYS * DAY_S).to_dict()
    times = faulty["speed"][0]
    in_parts: list[Assessment] = []
    for until_s in np.arange(1, 4 * DAYS + 1) * (DAY_S / 4):
        detector = AnomalyDetector.from_dict(json.loads(json.dumps(stored, allow_nan=False)))
        # What a task reads: everything the next window and its settling time need.
        since_s = (detector.processed_until_s or 0.0) - 3600.0
        part = {
            s: (t[(t >= since_s) & (t < until_s)], v[(t >= since_s) & (t < until_s)])
            for s, (t, v) in faulty.items()
        }
        in_parts += detector.update(part, until_s=min(until_s, float(times[-1])))
        # Reading the same stretch again judges nothing twice.
        assert detector.update(part, until_s=min(until_s, float(times[-1]))) == []
        stored = detector.to_dict()

    assert [a.at_s for a in in_parts] == [a.at_s for a in whole]
    assert [a.level for a in in_parts] == [a.level for a in whole]
    assert [a.score for a in in_parts] == pytest.approx([a.score for a in whole], nan_ok=True)


def test_it_turns_windows_into_hourly_health_steps_for_the_remaining_life_estimator(
    healthy: Readings,
) -> None:
    detector = AnomalyDetector(learning_s=LEARNING_DAYS * DAY_S)
    assessments = detector.update(healthy)
    windows = asset_windows(healthy, window_s=600, step_s=600)

    names, rows = detector.health_steps(windows, assessments, step_s=3600)

    assert names[:2] == ["temperature.mean", "temperature.rms"]
    assert "vibration.kurtosis" in names
    assert rows.sensors.shape == (rows.ends_s.size, len(names))
    assert rows.settings.shape == (rows.ends_s.size, 2)  # mean speed and current
    assert np.all(np.diff(rows.ends_s) >= 3600)
    # A healthy machine's deviations stay small on average over an hour.
    rms = rows.sensors[:, names.index("vibration.rms")]
    assert np.nanmedian(np.abs(rms)) < 1.5


# --- levels, persistence and hysteresis on made-up windows --------------------------------------


def windows_of(
    rms: list[float] | np.ndarray, *, start_s: float, speed: float = 1000.0
) -> AssetWindows:
    """Return ten-minute windows of a machine at one speed with the given vibration RMS."""
    rms = np.asarray(rms, dtype=float)
    n = rms.size
    speeds = np.full(n, speed)
    return AssetWindows(
        ends_s=start_s + 600.0 * np.arange(1, n + 1),
        speed=speeds,
        speed_min=np.where(np.isnan(rms), 0.0, speeds),
        load=np.full(n, 8.0),
        features={"vibration": {"rms": np.nan_to_num(rms, nan=0.05)}},
    )


@pytest.fixture
def learned() -> AnomalyDetector:
    """A detector that has learned two days of a steady machine: RMS 1.0 ± 2%."""
    detector = AnomalyDetector(learning_s=2 * DAY_S)
    rms = 1.0 + np.random.default_rng(1).normal(0, 0.02, 288)
    detector.assess_many(windows_of(rms, start_s=0.0))
    detector.assess_many(windows_of([1.0], start_s=2 * DAY_S))
    assert detector.learned
    return detector


def levels(detector: AnomalyDetector, rms: list[float]) -> list[str]:
    start = detector.processed_until_s or 0.0
    return [a.level for a in detector.assess_many(windows_of(rms, start_s=start))]


def test_it_ignores_an_isolated_spike(learned: AnomalyDetector) -> None:
    assert levels(learned, [1.0, 2.0, 2.0, 1.0, 1.0]) == ["normal"] * 5


def test_it_raises_a_level_only_after_three_windows_in_a_row(learned: AnomalyDetector) -> None:
    # +25% is well past the alarm threshold at a 2% scale.
    assert levels(learned, [1.25, 1.25, 1.25, 1.25]) == ["normal", "normal", "alarm", "alarm"]


def test_it_neither_confirms_nor_forgets_while_stopped(learned: AnomalyDetector) -> None:
    nan = float("nan")
    assert levels(learned, [1.25, 1.25, nan, 1.25]) == ["normal", "normal", "stopped", "alarm"]


def test_it_returns_to_normal_only_after_a_quiet_spell(learned: AnomalyDetector) -> None:
    levels(learned, [1.25] * 3)

    after = levels(learned, [1.0] * 13)

    # Six quiet windows step alarm down to warning, six more warning down to normal.
    assert after == ["alarm"] * 5 + ["warning"] * 6 + ["normal"] * 2


def test_it_reports_the_regime_band_and_no_band_while_stopped(learned: AnomalyDetector) -> None:
    start = learned.processed_until_s or 0.0
    running, stopped = learned.assess_many(windows_of([1.0, float("nan")], start_s=start))

    assert running.band is not None
    assert running.band >= 0
    assert (stopped.band, stopped.score) == (STOPPED, None)


def test_it_learns_for_as_long_as_it_is_told_and_then_until_it_has_enough() -> None:
    detector = AnomalyDetector(learning_s=DAY_S, min_learning_windows=200)
    first_day = detector.assess_many(windows_of([1.0] * 144, start_s=0.0))
    later = detector.assess_many(windows_of([1.0] * 60, start_s=DAY_S))

    assert {a.level for a in first_day} == {"learning"}
    # A day's 144 windows are too few: it goes on learning until it has 200.
    assert [a.level for a in later] == ["learning"] * 56 + ["normal"] * 4


def test_it_refuses_thresholds_in_the_wrong_order() -> None:
    with pytest.raises(ValueError, match="warning_z < alarm_z"):
        AnomalyDetector(warning_z=8, alarm_z=5)
