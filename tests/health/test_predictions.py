"""Fleet fitting, predictions, their alerts in the plant's words, and scoring against failures."""

from __future__ import annotations

import functools
import json
import re
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from django.utils import timezone

from plantops.alerts.models import Alert, AlertRule
from plantops.health import failures, predictions, training
from plantops.health.models import FailureEvent, FailureMode, HealthModel, HealthStep
from plantops.health.rul import RulEstimator, UnitHistory
from tests.factories import logged_in, make_asset, make_prediction, make_rule, make_user

pytestmark = pytest.mark.django_db

COLUMNS = ["vibration_rms_z", "temperature_mean_z"]
FAST = {"gbm_iter": 60, "cv_folds": 3, "windows": (5, 10), "slope_windows": (6, 12)}
T0 = datetime(2026, 10, 1, tzinfo=UTC)


def degrading_run(life_steps: int, *, seed: int, observed: int | None = None) -> np.ndarray:
    """Sensors of a machine that fails at `life_steps`: flat, then a quadratic rise, plus noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(observed or life_steps)
    wear = np.clip((t - 0.4 * life_steps) / (0.6 * life_steps), 0, None) ** 2
    return np.column_stack(
        [3 * wear + rng.normal(0, 0.15, t.size), 1.5 * wear + rng.normal(0, 0.15, t.size)]
    )


def bearing() -> FailureMode:
    return FailureMode.objects.get_or_create(
        code="bearing", defaults={"label": "Bearing degradation"}
    )[0]


def fleet(n_units: int = 14) -> list[UnitHistory]:
    rng = np.random.default_rng(7)
    units = []
    for n in range(n_units):
        life = int(rng.integers(90, 160))
        units.append(UnitHistory(f"rig-{n}", np.zeros((life, 0)), degrading_run(life, seed=n)))
    return units


@functools.cache
def fleet_estimator_bytes(cap_steps: float) -> bytes:
    options = training.PLANT_ESTIMATOR_OPTIONS | FAST
    return RulEstimator(cap=cap_steps, **options).fit(fleet()).to_bytes()


def fitted_model(cap_days: float = 5.0) -> HealthModel:
    """A fitted model as `health_model_fit` leaves it; the fit itself is made once per run."""
    cap_steps = cap_days * 24
    return HealthModel.objects.create(
        asset_type="motor",
        failure_mode=bearing(),
        version=1,
        algorithm=RulEstimator.VERSION_FORMAT,
        step_s=3600,
        cap_steps=cap_steps,
        sensor_columns=COLUMNS,
        estimator=fleet_estimator_bytes(cap_steps),
        fitted_at=T0,
    )


def run_steps(asset, sensors: np.ndarray, *, start: datetime = T0) -> datetime:
    HealthStep.objects.bulk_create(
        HealthStep(
            asset=asset,
            at=start + timedelta(hours=i + 1),
            settings_values=[],
            sensor_values=list(row),
            sensor_columns=COLUMNS,
        )
        for i, row in enumerate(sensors)
    )
    return start + timedelta(hours=len(sensors))


def test_it_fits_a_new_version_each_time_from_imported_runs_and_its_own_failures():
    for unit in fleet(6):
        training.history_import(
            asset_type="motor",
            failure_mode=bearing(),
            name=unit.unit_id,
            step_s=3600,
            settings_values=unit.settings,
            sensor_values=unit.sensors,
            settings_columns=[],
            sensor_columns=COLUMNS,
        )
    own = make_asset()
    failed_at = run_steps(own, degrading_run(120, seed=42))
    failures.failure_record(asset=own, failure_mode=bearing(), failed_at=failed_at)
    fit = functools.partial(
        training.health_model_fit,
        asset_type="motor",
        failure_mode=bearing(),
        cap_days=5.0,
        estimator_options=FAST,
    )
    first = fit()
    second = fit()
    first.refresh_from_db()
    assert (first.version, first.active, second.version, second.active) == (1, False, 2, True)
    assert (second.summary["imported_runs"], second.summary["own_runs"]) == (6, 1)
    assert second.sensor_columns == COLUMNS
    json.dumps(second.summary, allow_nan=False)


def test_a_prediction_names_its_model_and_holds_the_truth_in_its_interval():
    model = fitted_model()
    asset = make_asset()
    # A machine 100 steps into a 130-step life: 30 hours left.
    now = run_steps(asset, degrading_run(130, seed=99, observed=100))

    (prediction,) = predictions.prediction_make(asset_id=asset.pk, now=now)

    assert prediction.model == model
    assert prediction.rul_low_days <= prediction.rul_days <= prediction.rul_high_days
    assert prediction.rul_low_days <= 30 / 24 <= prediction.rul_high_days
    assert abs(prediction.rul_days - 30 / 24) < 0.75
    assert prediction.confidence == pytest.approx(0.9)
    assert prediction.inputs["steps"] == 100
    assert 0 <= prediction.health_index < 0.7
    # Nothing new has arrived: no second prediction of the same history.
    assert predictions.prediction_make(asset_id=asset.pk, now=now + timedelta(hours=1)) == []


def test_it_does_not_fit_without_a_run_to_failure():
    with pytest.raises(ValueError, match="No run to failure") as refusal:
        training.health_model_fit(asset_type="pump", failure_mode=bearing())
    assert refusal.value.code == "no_runs"


def test_a_young_machine_or_one_without_a_model_gets_no_prediction():
    fitted_model()
    young = make_asset()
    run_steps(young, degrading_run(130, seed=1, observed=3))
    pump = make_asset(asset_type="pump")
    run_steps(pump, degrading_run(130, seed=2, observed=50))
    assert predictions.prediction_make(asset_id=young.pk) == []
    assert predictions.prediction_make(asset_id=pump.pk) == []
    assert predictions.prediction_make(asset_id=987654) == []


def prediction_rule(horizon_days: float) -> AlertRule:
    return make_rule(
        name="Motors: failure predicted",
        kind="prediction",
        asset_type="motor",
        horizon_days=horizon_days,
    )


def test_a_prediction_inside_the_horizon_raises_an_alert_in_the_plants_words():
    fitted_model()
    prediction_rule(horizon_days=4)
    asset = make_asset()
    now = run_steps(asset, degrading_run(130, seed=5, observed=110))

    (prediction,) = predictions.prediction_make(asset_id=asset.pk, now=now)

    alert = Alert.objects.get(asset=asset)
    assert alert.state == "active_unack"
    assert re.fullmatch(
        rf"Bearing degradation on {asset.name}\. Predicted failure in \d+–\d+ (hours|days)\. "
        r"Confidence: 90%\.",
        alert.message,
    ), alert.message
    assert alert.evidence["prediction_id"] == prediction.pk
    assert alert.evidence["rul_high_days"] == pytest.approx(prediction.rul_high_days, abs=0.01)
    assert alert.evidence["model"] == "motor/bearing/v1"
    # The bearing fails: the run that was predicted is over, and so is its alert.
    failures.failure_record(asset=asset, failure_mode=bearing(), failed_at=now + timedelta(hours=9))
    alert.refresh_from_db()
    assert alert.state == "rtn_unack"


def test_the_horizon_is_judged_on_the_exact_interval_not_its_rounded_evidence():
    fitted_model()
    asset = make_asset()
    now = run_steps(asset, degrading_run(130, seed=5, observed=110))
    (first,) = predictions.prediction_make(asset_id=asset.pk, now=now)
    high = first.rul_high_days
    # Two minutes short of the interval's end: rounded to the hundredth of a day, the two
    # would be equal and the rule would wrongly take it.
    rule = prediction_rule(horizon_days=high - 0.0015)
    first.delete()

    (again,) = predictions.prediction_make(asset_id=asset.pk, now=now)
    assert again.rul_high_days == pytest.approx(high)
    assert not Alert.objects.filter(asset=asset).exists()

    rule.horizon_days = high
    rule.save()
    again.delete()
    predictions.prediction_make(asset_id=asset.pk, now=now)
    assert Alert.objects.get(asset=asset).evidence["rul_high_days"] == high


def test_an_interval_reaching_past_the_horizon_raises_nothing_and_a_recovered_one_returns():
    fitted_model()
    rule = prediction_rule(horizon_days=4)
    asset = make_asset()
    now = run_steps(asset, degrading_run(130, seed=5, observed=110))
    predictions.prediction_make(asset_id=asset.pk, now=now)
    assert Alert.objects.get(asset=asset).state == "active_unack"
    # The supervisor narrows the horizon: the next prediction no longer falls inside it.
    rule.horizon_days = 0.01
    rule.save()

    run_steps(asset, degrading_run(130, seed=5, observed=1), start=now)  # one more hour
    predictions.prediction_make(asset_id=asset.pk, now=now + timedelta(hours=1))

    assert Alert.objects.get(asset=asset).state == "rtn_unack"
    healthy = make_asset()
    run_steps(healthy, degrading_run(400, seed=6, observed=60))
    predictions.prediction_make(asset_id=healthy.pk)
    assert not Alert.objects.filter(asset=healthy).exists()


def test_a_recorded_failure_scores_the_predictions_made_before_it():
    model = fitted_model()
    asset = make_asset()
    # 10 days before: inside, error 0.
    early = make_prediction(asset=asset, model=model, made_at=T0, days=(8, 10, 12))
    # 4 days before: outside.
    late = make_prediction(asset=asset, model=model, made_at=T0 + timedelta(days=6), days=(5, 6, 7))
    after = make_prediction(
        asset=asset, model=model, made_at=T0 + timedelta(days=11), days=(1, 2, 3)
    )

    failures.failure_record(
        asset=asset, failure_mode=model.failure_mode, failed_at=T0 + timedelta(days=10)
    )

    early.refresh_from_db(), late.refresh_from_db(), after.refresh_from_db()
    assert (early.actual_rul_days, early.inside_interval, early.error_days) == (10, True, 0)
    assert (late.actual_rul_days, late.inside_interval, late.error_days) == (4, False, 2)
    assert after.failure is None


def test_a_repair_before_failure_scores_nothing_and_a_replayed_failure_counts_once():
    model = fitted_model()
    asset = make_asset()
    prediction = make_prediction(asset=asset, model=model, made_at=T0, days=(8, 10, 12))
    failures.failure_record(
        asset=asset,
        failure_mode=model.failure_mode,
        failed_at=T0 + timedelta(days=3),
        repaired_before_failure=True,
    )
    prediction.refresh_from_db()
    assert prediction.failure is None
    for _ in range(2):
        failures.failure_record(
            asset=asset, failure_mode=model.failure_mode, failed_at=T0 + timedelta(days=9)
        )
    # Made before the repair, in a run that ended unscored: the later failure is another run's.
    prediction.refresh_from_db()
    assert prediction.failure is None
    assert FailureEvent.objects.filter(asset=asset).count() == 2


def test_a_bearing_failure_the_machine_reports_is_recorded_and_ends_its_run():
    bearing()
    asset = make_asset()
    at_us = int(T0.timestamp() * 1_000_000)
    reported = failures.failures_from_states(
        states=[
            (asset.pk, at_us, "down", "bearing_failure"),
            (asset.pk, at_us + 10, "down", "jam"),
            (asset.pk, at_us + 20, "down", "gearbox_failure"),  # no such mode: ignored
        ]
    )
    assert reported == 2
    (failure,) = FailureEvent.objects.filter(asset=asset)
    assert (failure.failure_mode.code, failure.failed_at, failure.source) == (
        "bearing",
        T0,
        "telemetry",
    )


def test_the_model_health_page_shows_coverage_and_error_per_month():
    model = fitted_model()
    asset = make_asset()
    make_prediction(asset=asset, model=model, made_at=T0, days=(8, 10, 12))
    make_prediction(asset=asset, model=model, made_at=T0 + timedelta(days=6), days=(5, 6, 7))
    failures.failure_record(
        asset=asset, failure_mode=model.failure_mode, failed_at=T0 + timedelta(days=10)
    )

    page = (
        logged_in(make_user(role="supervisor", username="sam"))
        .get("/health/models/")
        .content.decode()
    )

    assert "Motor · Bearing degradation" in page
    assert re.search(r'data-role="coverage">50%', page)
    assert re.search(r'data-role="mae">1\.0 d', page)
    assert "motor/bearing/v1" in page


def test_operators_cannot_open_the_model_health_page():
    client = logged_in(make_user(role="operator", username="olga"))
    assert client.get("/health/models/").status_code == 403


def test_the_asset_page_shows_the_interval_and_its_history():
    model = fitted_model()
    asset = make_asset()
    make_prediction(
        asset=asset,
        model=model,
        made_at=timezone.now() - timedelta(days=1),
        days=(17.6, 19.2, 21.4),
    )
    client = logged_in(make_user(role="supervisor", username="sam"))

    page = client.get(f"/assets/{asset.pk}/").content.decode()
    panel = client.get(f"/assets/{asset.pk}/health.json").json()

    assert '<b class="rul-span">18–21 days</b>' in page
    assert panel["current"][0]["span"] == "18–21 days"
    assert [p["rul_days"] for p in panel["history"]] == [19.2]
