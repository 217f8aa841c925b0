"""The RUL estimator on synthetic fleets whose degradation and failure times are known."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest

from plantops.health.rul import RulEstimator, RulInterval, RulPrediction, UnitHistory

CAP = 60.0
# Small models so that the whole file runs in seconds.
FAST = {
    "cap": CAP,
    "cv_folds": 3,
    "gbm_iter": 50,
    "gbm_learning_rate": 0.15,
    "gbm_min_leaf": 20,
    "halflives": (3.0, 10.0),
    "windows": (10,),
    "slope_windows": (15,),
}


def make_unit(
    rng: np.random.Generator,
    unit_id: str,
    length: int,
    *,
    regimes: int = 1,
    failed: bool = True,
) -> UnitHistory:
    """A machine whose wear grows exponentially to 1 at its last step (its failure).

    Sensor 0 rises with wear, sensor 1 falls, sensor 2 is noise, sensor 3 is constant. With two
    regimes, a setting switches at random between 0 and 10 and shifts and scales the sensors.
    """
    t = np.arange(length, dtype=np.float64)
    wear = np.exp((t - (length - 1)) / 18.0) + rng.uniform(0, 0.05)
    noise = rng.normal(0, 0.04, size=(length, 3))
    sensors = np.column_stack(
        [
            1.0 + 2.0 * wear + noise[:, 0],
            5.0 - 1.5 * wear + noise[:, 1],
            noise[:, 2],
            np.full(length, 7.0),
        ]
    )
    if regimes == 1:
        settings = rng.normal(0, 0.001, size=(length, 1))
    else:
        regime = rng.integers(0, regimes, size=length)
        settings = (10.0 * regime + rng.normal(0, 0.01, size=length))[:, None]
        sensors[:, 0] = sensors[:, 0] * (1 + regime) + 4.0 * regime
        sensors[:, 1] = sensors[:, 1] - 3.0 * regime
        sensors[:, 2] = sensors[:, 2] + 2.0 * regime
    return UnitHistory(unit_id=unit_id, settings=settings, sensors=sensors, failed=failed)


def make_fleet(seed: int, n: int, *, regimes: int = 1) -> list[UnitHistory]:
    rng = np.random.default_rng(seed)
    return [make_unit(rng, f"m{i}", int(rng.integers(90, 180)), regimes=regimes) for i in range(n)]


def cut(
    units: list[UnitHistory], seed: int, per_unit: int = 3
) -> tuple[list[UnitHistory], np.ndarray]:
    """Each unit cut at random steps (at least 20 observed), and the capped true RUL there."""
    rng = np.random.default_rng(seed)
    out, truth = [], []
    for unit in units:
        for _ in range(per_unit):
            n = int(rng.integers(20, unit.n_steps))
            out.append(UnitHistory(unit.unit_id, unit.settings[:n], unit.sensors[:n], failed=False))
            truth.append(min(unit.n_steps - n, CAP))
    return out, np.asarray(truth)


def rmse_on(estimator: RulEstimator, units: list[UnitHistory], truth: np.ndarray) -> float:
    central = np.array([p.central for p in estimator.predict_many(units)])
    return float(np.sqrt(np.mean((central - truth) ** 2)))


@pytest.fixture(scope="module")
def fleet() -> list[UnitHistory]:
    return make_fleet(1, 30)


@pytest.fixture(scope="module")
def fitted(fleet: list[UnitHistory]) -> RulEstimator:
    return RulEstimator(seed=0, **FAST).fit(fleet)


@pytest.fixture(scope="module")
def test_cuts() -> tuple[list[UnitHistory], np.ndarray]:
    return cut(make_fleet(2, 40), seed=3)


def test_predictions_near_the_truth(fitted, test_cuts) -> None:
    units, truth = test_cuts
    # A predictor that knows nothing (the mean) scores about 20 here.
    assert rmse_on(fitted, units, truth) < 7.0


def test_near_failure_predicts_little_life_left(fitted) -> None:
    rng = np.random.default_rng(7)
    unit = make_unit(rng, "x", 150)
    for left in (0, 5, 10):
        n = unit.n_steps - left
        short = UnitHistory("x", unit.settings[:n], unit.sensors[:n], failed=False)
        assert abs(fitted.predict(short).central - left) < 8.0


def test_intervals_cover_at_about_the_nominal_rate(fitted, test_cuts) -> None:
    units, truth = test_cuts
    predictions = fitted.predict_many(units)
    for confidence, lowest, highest in ((0.8, 0.65, 0.95), (0.9, 0.78, 1.0)):
        inside = [
            p.interval(confidence).low <= t <= p.interval(confidence).high
            for p, t in zip(predictions, truth, strict=True)
        ]
        assert lowest <= np.mean(inside) <= highest, confidence
    for p in predictions:
        i80, i90 = p.interval(0.8), p.interval(0.9)
        assert 0.0 <= i90.low <= i80.low <= p.central <= i80.high <= i90.high <= CAP


def test_intervals_are_wider_far_from_failure(fitted) -> None:
    rng = np.random.default_rng(8)
    unit = make_unit(rng, "x", 170)
    early = fitted.predict(UnitHistory("x", unit.settings[:135], unit.sensors[:135], failed=False))
    late = fitted.predict(unit)
    width = lambda p: p.interval(0.9).high - p.interval(0.9).low  # noqa: E731
    assert width(late) < width(early)


def test_health_index_falls_towards_failure(fitted) -> None:
    rng = np.random.default_rng(9)
    unit = make_unit(rng, "x", 160)
    steps = [20, 80, 120, 140, 155, 160]
    index = [
        fitted.predict(
            UnitHistory("x", unit.settings[:n], unit.sensors[:n], failed=False)
        ).health_index
        for n in steps
    ]
    assert index[0] > 0.8
    assert index[-1] < 0.2
    assert all(a >= b - 0.1 for a, b in itertools.pairwise(index))
    assert all(0.0 <= h <= 1.0 for h in index)


def test_drivers_are_the_degrading_sensors(fitted) -> None:
    rng = np.random.default_rng(10)
    prediction = fitted.predict(make_unit(rng, "x", 140))
    sensors = [index for index, _ in prediction.drivers]
    assert set(sensors[:2]) == {0, 1}
    assert 3 not in sensors  # the constant one is not used
    deviations = [d for _, d in prediction.drivers]
    assert deviations == sorted(deviations, reverse=True)
    assert deviations[0] > 3.0


def test_two_regimes_are_as_predictable_as_one() -> None:
    one = RulEstimator(seed=0, **FAST).fit(make_fleet(11, 24))
    two = RulEstimator(seed=0, **FAST).fit(make_fleet(11, 24, regimes=2))
    blind = RulEstimator(seed=0, max_regimes=1, **FAST).fit(make_fleet(11, 24, regimes=2))
    assert one.fit_summary["n_regimes"] == 1
    assert two.fit_summary["n_regimes"] == 2
    rmse_one = rmse_on(one, *cut(make_fleet(12, 30), seed=4))
    rmse_two = rmse_on(two, *cut(make_fleet(12, 30, regimes=2), seed=4))
    rmse_blind = rmse_on(blind, *cut(make_fleet(12, 30, regimes=2), seed=4))
    assert rmse_two < 1.25 * rmse_one + 1.0
    assert rmse_blind > rmse_two


def test_short_histories_still_predict(fitted, fleet) -> None:
    unit = fleet[0]
    for n in range(1, 6):
        p = fitted.predict(
            UnitHistory("s", unit.settings[:n], unit.sensors[:n], failed=False),
            confidences=(0.5, 0.95),
        )
        assert 0.0 <= p.central <= CAP
        assert [i.confidence for i in p.intervals] == [0.5, 0.95]
        assert p.interval(0.95).low <= p.interval(0.5).low <= p.interval(0.5).high
        assert np.isfinite([p.health_index, *(d for _, d in p.drivers)]).all()


def test_round_trip_gives_identical_predictions(fitted, test_cuts) -> None:
    units, _ = test_cuts
    restored = RulEstimator.from_bytes(fitted.to_bytes())
    assert restored.fit_summary == fitted.fit_summary
    assert restored.predict_many(units[:20]) == fitted.predict_many(units[:20])


def test_same_seed_same_model(fleet) -> None:
    a = RulEstimator(seed=5, **FAST).fit(fleet[:8])
    b = RulEstimator(seed=5, **FAST).fit(fleet[:8])
    assert a.predict_many(fleet[8:14]) == b.predict_many(fleet[8:14])


def test_fit_summary_is_json_ready(fitted) -> None:
    import json

    summary = json.loads(json.dumps(fitted.fit_summary))
    assert summary["n_units"] == 30
    assert summary["n_samples"] == sum(u.n_steps for u in make_fleet(1, 30))
    assert summary["format"] == RulEstimator.VERSION_FORMAT
    assert summary["sensors_used"] == [0, 1]
    # (2 sensors + the health index) × (2 means + 1 rolling mean + 1 slope + change) + steps
    assert len(summary["feature_names"]) == 3 * 5 + 1
    assert summary["cv_rmse"] > 0
    assert summary["fit_seconds"] > 0
    assert summary["calibration_bins"][0]["residual_quantiles"].keys() >= {"0.05", "0.95"}


def test_prediction_interval_lookup() -> None:
    p = RulPrediction(
        central=10.0,
        intervals=(RulInterval(5.0, 15.0, 0.8), RulInterval(3.0, 18.0, 0.9)),
        health_index=0.1,
        drivers=(),
    )
    assert p.interval(0.9) == RulInterval(3.0, 18.0, 0.9)
    with pytest.raises(KeyError, match=r"0\.95"):
        p.interval(0.95)


def test_censored_units_are_skipped_in_fit(fleet) -> None:
    running = [dataclasses.replace(u, failed=False) for u in fleet[:3]]
    est = RulEstimator(seed=0, **FAST).fit(fleet[3:12] + running)
    assert est.fit_summary["n_units"] == 9
    assert est.fit_summary["n_censored_skipped"] == 3


def test_bad_input_raises_clear_errors(fitted, fleet) -> None:
    with pytest.raises(ValueError, match="at least 2 run-to-failure units"):
        RulEstimator(**FAST).fit([dataclasses.replace(u, failed=False) for u in fleet[:4]])
    with pytest.raises(ValueError, match="at least 2 run-to-failure units"):
        RulEstimator(**FAST).fit([])
    with pytest.raises(ValueError, match="settings have 3 steps but sensors have 4"):
        UnitHistory("u", np.zeros((3, 1)), np.zeros((4, 2)))
    with pytest.raises(ValueError, match="NaN"):
        UnitHistory("u", np.zeros((3, 1)), np.array([[1.0], [np.nan], [2.0]]))
    with pytest.raises(ValueError, match="2-D"):
        UnitHistory("u", np.zeros((3, 1)), np.zeros((3, 2, 2)))
    with pytest.raises(ValueError, match="expected 1 settings and 4 sensors"):
        RulEstimator(**FAST).fit([fleet[0], UnitHistory("odd", np.zeros((5, 1)), np.zeros((5, 3)))])
    with pytest.raises(ValueError, match="expected 1 settings and 4 sensors"):
        fitted.predict(UnitHistory("odd", np.zeros((5, 2)), np.zeros((5, 4))))
    with pytest.raises(ValueError, match="no steps"):
        fitted.predict(UnitHistory("empty", np.zeros((0, 1)), np.zeros((0, 4))))
    with pytest.raises(ValueError, match="not fitted"):
        RulEstimator().predict(fleet[0])
    with pytest.raises(ValueError, match="confidence"):
        fitted.predict(fleet[0], confidences=(1.5,))
    with pytest.raises(ValueError, match="constant"):
        RulEstimator(**FAST).fit(
            [UnitHistory(f"c{i}", np.zeros((30, 0)), np.ones((30, 2))) for i in range(4)]
        )
    with pytest.raises(ValueError, match="cap must be positive"):
        RulEstimator(cap=0)


def test_stored_blob_of_another_format_is_refused(fitted) -> None:
    with pytest.raises(ValueError, match="not a stored RUL estimator"):
        RulEstimator.from_bytes(b"not a pickle")
    import pickle

    with pytest.raises(ValueError, match="format 'other/1'"):
        RulEstimator.from_bytes(pickle.dumps({"format": "other/1", "state": {}}))


def test_settings_may_have_no_columns() -> None:
    rng = np.random.default_rng(13)
    units = [
        dataclasses.replace(u, settings=np.empty((u.n_steps, 0)))
        for u in (make_unit(rng, f"n{i}", int(rng.integers(90, 160))) for i in range(12))
    ]
    est = RulEstimator(seed=0, **FAST).fit(units)
    assert est.fit_summary["n_regimes"] == 1
    assert 0.0 <= est.predict(units[0]).central <= 8.0


def test_per_step_calibration_covers_every_step_of_a_run_at_the_nominal_rate(fleet) -> None:
    estimator = RulEstimator(seed=0, calibrate_per="step", **FAST).fit(fleet)
    inside = []
    for unit in make_fleet(4, 12):
        for end in range(10, unit.n_steps + 1, 10):
            truth = min(unit.n_steps - end, CAP)
            prefix = UnitHistory(unit.unit_id, unit.settings[:end], unit.sensors[:end], False)
            interval = estimator.predict(prefix, confidences=(0.9,)).interval(0.9)
            inside.append(interval.low <= truth <= interval.high)
    assert 0.8 <= np.mean(inside) <= 0.98
    with pytest.raises(ValueError, match="calibrate_per"):
        RulEstimator(calibrate_per="engine")
