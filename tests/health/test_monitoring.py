"""The monitoring task on stored readings: learning, hourly steps, anomaly levels and alerts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from plantops.alerts.models import Alert
from plantops.assets.models import Signal
from plantops.demo import fleet
from plantops.demo.plant import SIGNALS_BY_TYPE
from plantops.health.models import AssetHealth, HealthStep
from plantops.health.monitoring import health_update_asset
from plantops.health.selectors import monitored_asset_ids
from plantops.simulator.physics import AssetSpec, SignalSpec
from plantops.telemetry.models import Reading
from tests.factories import make_asset, make_rule

pytestmark = pytest.mark.django_db

SPEC = AssetSpec(
    "conveyor",
    tuple(SignalSpec(slug, low, high) for slug, _, _, low, high, _ in SIGNALS_BY_TYPE["conveyor"]),
)
# A whole hour, so that steps line up with the simulation's own clock.
START = datetime(2026, 11, 20, tzinfo=UTC)


def conveyor_with_history(*, days: float, fault_start_days=None, fault_life_days=None):
    asset = make_asset(signals=("vibration", "temperature", "current", "speed"))
    ids = dict(Signal.objects.filter(asset=asset).values_list("slug", "pk"))
    readings, _, failed_at_s = fleet.simulate_readings(
        SPEC,
        seed=11,
        days=days,
        sample_s=60,
        fault_start_days=fault_start_days,
        fault_life_days=fault_life_days,
    )
    Reading.objects.bulk_create(
        Reading(signal_id=ids[slug], ts=START + timedelta(seconds=float(t)), value=float(v))
        for slug, (times, values) in readings.items()
        for t, v in zip(times, values, strict=True)
    )
    return asset, failed_at_s


def test_it_learns_then_stores_each_hour_once_however_often_it_runs(settings):
    settings.HEALTH_LEARNING_DAYS = 1.0
    asset, _ = conveyor_with_history(days=3)
    end = START + timedelta(days=3)

    # The beat runs it every few minutes; here every 6 hours, then twice at the end.
    stored = sum(
        health_update_asset(asset_id=asset.pk, now=START + timedelta(hours=h))
        for h in range(6, 73, 6)
    )
    again = health_update_asset(asset_id=asset.pk, now=end)

    health = AssetHealth.objects.get(asset=asset)
    steps = list(HealthStep.objects.filter(asset=asset).order_by("at"))
    assert again == 0
    assert stored == len(steps) >= 24  # learning takes 200 running windows: about 1.75 days
    assert health.level == "normal"
    ats = [s.at for s in steps]
    assert len(set(ats)) == len(ats)
    assert all(at.minute == at.second == 0 for at in ats)
    assert steps[-1].at <= end
    assert "vibration.rms" in steps[-1].sensor_columns
    assert len(steps[-1].settings_values) == 2  # speed and current, the regime


def test_a_developing_bearing_fault_raises_the_anomaly_alert_with_its_evidence(settings):
    settings.HEALTH_LEARNING_DAYS = 1.0
    make_rule(name="Motors: anomaly", kind="anomaly", asset_type="motor", priority="medium")
    asset, _ = conveyor_with_history(days=5, fault_start_days=1.5, fault_life_days=3.5)

    for h in range(12, 5 * 24 + 1, 12):
        health_update_asset(asset_id=asset.pk, now=START + timedelta(hours=h))

    health = AssetHealth.objects.get(asset=asset)
    assert health.level == "alarm"
    assert health.evidence[0]["signal"] == "vibration"
    alert = Alert.objects.get(asset=asset)
    assert alert.state == "active_unack"
    assert alert.occurrences == 1  # the conveyor's stops in between judge nothing
    assert alert.message.startswith(f"{asset.name}: vibration ")
    assert "its normal at this speed and load" in alert.message
    assert alert.evidence["signals"][0]["signal"] == "vibration"
    scores = [s.anomaly_score for s in HealthStep.objects.filter(asset=asset).order_by("at")]
    assert np.nanmax([s for s in scores if s is not None]) >= 8


def test_an_asset_without_signals_to_judge_or_gone_is_left_alone():
    speed_only = make_asset(signals=("speed",))
    assert health_update_asset(asset_id=speed_only.pk) == 0
    assert health_update_asset(asset_id=123456) == 0
    assert speed_only.pk not in monitored_asset_ids()


def test_a_long_silence_is_crossed_run_by_run_not_read_again(settings):
    settings.HEALTH_LEARNING_DAYS = 1.0
    asset, _ = conveyor_with_history(days=3)
    health_update_asset(asset_id=asset.pk, now=START + timedelta(days=3))
    later = START + timedelta(days=90)  # the machine has been silent for 87 days

    health_update_asset(asset_id=asset.pk, now=later)
    first = AssetHealth.objects.get(asset=asset).processed_until
    health_update_asset(asset_id=asset.pk, now=later)
    second = AssetHealth.objects.get(asset=asset).processed_until

    assert START + timedelta(days=3) < first < second <= later
