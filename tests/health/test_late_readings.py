"""Health monitoring with a gateway's backlog: windows already judged are judged again when
late readings fill them, and the steps, levels and predictions end as with readings on time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from plantops.assets.models import Signal
from plantops.core.time import datetime_to_us
from plantops.demo import fleet
from plantops.demo.plant import SIGNALS_BY_TYPE
from plantops.health import training
from plantops.health.features import HEALTH_FEATURES, health_vector_names
from plantops.health.models import (
    AssetHealth,
    FailureMode,
    HealthCheckpoint,
    HealthModel,
    HealthStep,
    LateReadings,
    Prediction,
)
from plantops.health.monitor import DAY_S, checkpoints_kept
from plantops.health.monitoring import health_update_asset
from plantops.health.predictions import prediction_make
from plantops.health.rul import RulEstimator, UnitHistory
from plantops.pipeline.services import batch_store
from plantops.simulator.physics import AssetSpec, SignalSpec
from plantops.telemetry.batches import Batch
from tests.factories import make_asset

pytestmark = pytest.mark.django_db

SPEC = AssetSpec(
    "conveyor",
    tuple(SignalSpec(slug, low, high) for slug, _, _, low, high, _ in SIGNALS_BY_TYPE["conveyor"]),
)
START = datetime(2026, 11, 20, tzinfo=UTC)
HOURS = 84
# The vibration and temperature sensors' gateway; speed and current come from the PLC's.
SENSORS = ("vibration", "temperature")
# A run at each hour's end sees the step just ended: the arrival lag and settling time later.
AFTER_THE_HOUR = timedelta(seconds=70)


def hours(n: float) -> datetime:
    return START + timedelta(hours=n)


@pytest.fixture(scope="module")
def plant_readings() -> list[tuple[str, datetime, float]]:
    """Three and a half days of a conveyor whose bearing starts to fail on the third."""
    readings, _, _ = fleet.simulate_readings(
        SPEC, seed=11, days=HOURS / 24, sample_s=60, fault_start_days=2.0, fault_life_days=3.0
    )
    return sorted(
        (slug, START + timedelta(seconds=float(t)), float(v))
        for slug, (times, values) in readings.items()
        for t, v in zip(times, values, strict=True)
    )


@pytest.fixture
def bearing_model() -> HealthModel:
    """A remaining-life estimator for motors, fitted on runs of the steps monitoring makes."""
    columns = health_vector_names(sorted(SENSORS), HEALTH_FEATURES)
    rng = np.random.default_rng(5)
    units = []
    for n in range(12):
        life = int(rng.integers(60, 120))
        wear = np.clip((np.arange(life) - 0.4 * life) / (0.6 * life), 0, None) ** 2
        sensors = np.column_stack(
            [k * wear + rng.normal(0, 0.3, life) for k in np.linspace(0.5, 4, len(columns))]
        )
        settings = np.column_stack([rng.normal(1500, 50, life), rng.normal(20, 2, life)])
        units.append(UnitHistory(f"rig-{n}", settings, sensors))
    options = training.PLANT_ESTIMATOR_OPTIONS | {"gbm_iter": 40, "cv_folds": 3}
    estimator = RulEstimator(cap=72, **options).fit(units)
    mode, _ = FailureMode.objects.get_or_create(code="bearing", defaults={"label": "Bearing"})
    return HealthModel.objects.create(
        asset_type="motor",
        failure_mode=mode,
        version=1,
        algorithm=RulEstimator.VERSION_FORMAT,
        step_s=3600,
        cap_steps=72,
        sensor_columns=columns,
        estimator=estimator.to_bytes(),
        fitted_at=START,
    )


def batch(ids: dict[str, int], rows) -> Batch:
    return Batch.of(readings=[(ids[slug], datetime_to_us(at), value) for slug, at, value in rows])


def monitored(plant_readings, *, cut_off=None, back=None):
    """An asset whose readings arrive each hour and are monitored (and predicted) at once; with
    `cut_off`, its sensors' readings of that span arrive in one burst at the hour `back`.
    Return the asset and the burst."""
    asset = make_asset(signals=("vibration", "temperature", "current", "speed"))
    ids = dict(Signal.objects.filter(asset=asset).values_list("slug", "pk"))

    def late(row) -> bool:
        return cut_off is not None and row[0] in SENSORS and cut_off[0] <= row[1] < cut_off[1]

    burst = batch(ids, [row for row in plant_readings if late(row)])
    sent = START
    for h in range(1, HOURS + 1):
        now = hours(h) + AFTER_THE_HOUR
        if back is not None and hours(h) == back:
            batch_store(batch=burst)
        batch_store(
            batch=batch(ids, [r for r in plant_readings if sent <= r[1] < now and not late(r)])
        )
        sent = now
        health_update_asset(asset_id=asset.pk, now=now)
        prediction_make(asset_id=asset.pk, now=now)
    return asset, burst


def steps(asset) -> list[tuple]:
    return list(
        HealthStep.objects.filter(asset=asset)
        .order_by("at")
        .values_list(
            "at", "settings_values", "sensor_values", "sensor_columns", "anomaly_score", "level"
        )
    )


def health(asset) -> tuple:
    row = AssetHealth.objects.get(asset=asset)
    return (
        row.detector,
        row.processed_until,
        row.read_until,
        row.level,
        row.score,
        row.evidence,
        row.judged_at,
    )


def predictions(asset) -> dict[datetime, tuple]:
    return {
        p.made_at: (p.rul_low_days, p.rul_days, p.rul_high_days, p.health_index, p.inputs)
        for p in Prediction.objects.filter(asset=asset)
    }


def test_a_backlog_of_sensor_readings_is_judged_again_and_ends_as_on_time(
    plant_readings, bearing_model, settings
):
    settings.HEALTH_LEARNING_DAYS = 1.0
    on_time, _ = monitored(plant_readings)
    cut_off, burst = monitored(plant_readings, cut_off=(hours(50.5), hours(66)), back=hours(70))

    assert len(burst.readings) == 2 * 60 * 15.5
    assert steps(cut_off) == steps(on_time)
    assert len(steps(on_time)) > 30
    assert health(cut_off) == health(on_time)
    assert health(on_time)[3] == "alarm"
    # Made before the cut-off or after the backlog, each prediction is the one made on time;
    # none is made up for the hours the sensors were silent.
    live, late = predictions(on_time), predictions(cut_off)
    assert late
    assert all(late[at] == live[at] for at in late)
    assert set(live) - set(late) == {hours(h) + AFTER_THE_HOUR for h in range(51, 67)}
    assert max(late) == max(live)
    assert not LateReadings.objects.exists()


def test_the_same_backlog_delivered_twice_judges_nothing_again(
    plant_readings, bearing_model, settings
):
    settings.HEALTH_LEARNING_DAYS = 1.0
    cut_off, burst = monitored(plant_readings, cut_off=(hours(50.5), hours(66)), back=hours(70))
    before = steps(cut_off), health(cut_off), predictions(cut_off)

    batch_store(batch=Batch.from_message(burst.to_message()))
    stored = health_update_asset(asset_id=cut_off.pk, now=hours(HOURS) + AFTER_THE_HOUR)

    assert stored == 0
    assert not LateReadings.objects.exists()
    assert (steps(cut_off), health(cut_off), predictions(cut_off)) == before


@pytest.mark.parametrize(
    ("cut_off", "back"),
    [
        ((hours(10), hours(16)), hours(20)),  # back while it still learns
        ((hours(20), hours(30)), hours(48)),  # back once it has learned
    ],
)
def test_a_backlog_from_while_the_detector_was_learning_has_it_learn_again(
    plant_readings, settings, cut_off, back
):
    settings.HEALTH_LEARNING_DAYS = 1.0
    on_time, _ = monitored(plant_readings)
    cut_off, _ = monitored(plant_readings, cut_off=cut_off, back=back)

    assert steps(cut_off) == steps(on_time)
    assert health(cut_off) == health(on_time)


def test_checkpoints_are_all_kept_for_two_days_then_one_a_day_then_one_a_week():
    hour = 3600.0
    ats = [k * hour for k in range(1, 24 * 6 + 1)]  # six days of hourly checkpoints
    done = ats[-1]
    kept = [ats[i] for i in checkpoints_kept(ats, done_s=done, oldest_s=DAY_S + 5 * hour)]

    recent = [at for at in ats if at >= done - 2 * DAY_S]
    assert kept[-len(recent) :] == recent
    # Before that, each day's first; and of those before the oldest reading, only the newest.
    assert kept[: -len(recent)] == [DAY_S + 4 * hour, DAY_S + 5 * hour, 2 * DAY_S, 3 * DAY_S]
    assert checkpoints_kept([], done_s=done, oldest_s=0.0) == []

    days = [d * DAY_S + 6 * hour for d in range(70)]  # ten weeks, a checkpoint a day
    kept = [days[i] for i in checkpoints_kept(days, done_s=days[-1], oldest_s=0.0)]
    assert kept[-31:] == days[-31:]
    assert [at // (7 * DAY_S) for at in kept[:-31]] == list(range(6))


def test_checkpoints_are_stored_while_monitoring_and_thinned(plant_readings, settings):
    settings.HEALTH_LEARNING_DAYS = 1.0
    asset, _ = monitored(plant_readings)
    ats = list(HealthCheckpoint.objects.filter(asset=asset).values_list("at", flat=True))
    assert ats[-1] == hours(HOURS)
    assert len(ats) == len(set(ats)) <= 2 * 24 + 3
