"""End to end: the simulator with a bearing fault → MQTT → ingest → worker → health steps →
a prediction row → a prediction alert on the asset page."""

from __future__ import annotations

import sys
import time

import pytest

from plantops.alerts.models import Alert
from plantops.demo.services import fleet_simulate_import
from plantops.health import monitoring
from plantops.health.models import FailureMode, HealthStep, Prediction
from plantops.health.predictions import prediction_make
from plantops.health.training import MIN_PREDICTION_STEPS, health_model_fit
from plantops.telemetry.models import Reading
from tests.conftest import wait_for, wait_until_flowing
from tests.factories import logged_in, make_asset, make_rule, make_user

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

# Plant time runs 7,200 times faster than the wall clock: a plant hour every half second, and
# a three-day fault life in 36 seconds. Readings every 0.025 s are every 3 plant minutes.
SPEEDUP = 7200
INTERVAL_S = 0.025
FAST = {"gbm_iter": 60, "cv_folds": 3}


def test_a_simulated_bearing_fault_ends_in_a_prediction_alert_on_the_asset_page(
    processes, publisher, settings, monkeypatch
):
    settings.PLANT_TIME_SCALE = SPEEDUP
    settings.HEALTH_LEARNING_DAYS = 1.0
    monkeypatch.setattr(monitoring, "ARRIVAL_LAG_S", 1.0)
    asset = make_asset(
        signals=("vibration", "temperature", "current", "speed"), asset_type="conveyor"
    )
    bearing = FailureMode.objects.get_or_create(
        code="bearing", defaults={"label": "Bearing degradation"}
    )[0]
    # A new plant's fleet: simulated conveyors like this one, run to failure and monitored
    # as it will be, sampled as the simulator below samples.
    imported = fleet_simulate_import(
        asset_type="conveyor",
        failure_mode=bearing,
        seeds=range(900, 910),
        sample_s=SPEEDUP * INTERVAL_S,
        life_days=(3.0, 6.0),
    )
    assert imported == 10
    model = health_model_fit(
        asset_type="conveyor", failure_mode=bearing, cap_days=8.0, estimator_options=FAST
    )
    make_rule(
        name="Conveyors: failure predicted",
        kind="prediction",
        asset_type="conveyor",
        horizon_days=3.0,
    )

    processes.worker()
    processes.ingest()
    wait_until_flowing(publisher, asset)
    processes.start(
        "simulator",
        sys.executable,
        "manage.py",
        "simulate_plant",
        "--assets",
        asset.topic_path,
        "--speedup",
        str(SPEEDUP),
        "--interval",
        str(INTERVAL_S),
        "--fault",
        # Healthy while the detector learns (a plant day and a half), then three days to failure.
        f"{asset.topic_path}:bearing:3@2",
        "--seed",
        "5",
        "--duration",
        "75",
    )

    def alerted() -> bool:
        # What beat does every few minutes on a real plant.
        monitoring.health_update_asset(asset_id=asset.pk)
        prediction_make(asset_id=asset.pk)
        time.sleep(1.0)
        return Alert.objects.filter(asset=asset, rule__kind="prediction").exists()

    wait_for(alerted, timeout=110, what="a prediction alert")

    assert Reading.objects.filter(signal__asset=asset).count() > 1000
    assert HealthStep.objects.filter(asset=asset).count() >= MIN_PREDICTION_STEPS
    prediction = Prediction.objects.filter(asset=asset).latest("made_at")
    assert prediction.model == model
    assert prediction.rul_high_days <= 3.0
    alert = Alert.objects.get(asset=asset, rule__kind="prediction")
    assert alert.message.startswith(f"Bearing degradation on {asset.name}. Predicted failure in ")
    client = logged_in(make_user(role="operator", username="pat"))
    page = client.get(f"/assets/{asset.pk}/").content.decode()
    assert alert.message in page
    assert f'<b class="rul-span">{prediction.span_text()}</b>' in page
