"""Window features, regime bands and the regime baseline, on data with known answers. No database."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from plantops.health.baseline import RegimeBaseline
from plantops.health.features import (
    HEALTH_FEATURES,
    aggregate_steps,
    asset_windows,
    health_matrix,
    health_vector,
    health_vector_names,
    sliding_windows,
    window_feature_arrays,
    window_features,
)
from plantops.health.regimes import STOPPED, RegimeBands


def sine(amplitude: float = 2.0, *, periods: int = 50, per_period: int = 200) -> np.ndarray:
    """Return whole periods of a sine sampled evenly, so its moments are exact."""
    phase = np.arange(periods * per_period) * (2 * math.pi / per_period)
    return amplitude * np.sin(phase)


# --- one window ---------------------------------------------------------------------------------


def test_it_gives_a_sine_its_textbook_rms_crest_and_kurtosis() -> None:
    values = sine(2.0)
    features = window_features(np.arange(values.size, dtype=float), values)

    assert features.rms == pytest.approx(2.0 / math.sqrt(2), rel=1e-9)
    assert features.peak == pytest.approx(2.0, rel=1e-6)
    assert features.crest == pytest.approx(math.sqrt(2), rel=1e-6)
    assert features.kurtosis == pytest.approx(1.5, rel=1e-9)
    assert features.mean == pytest.approx(0.0, abs=1e-12)
    assert features.count == values.size


def test_it_gives_gaussian_noise_a_kurtosis_of_about_three() -> None:
    values = np.random.default_rng(3).normal(10.0, 0.5, 200_000)
    features = window_features(np.arange(values.size, dtype=float), values)

    assert features.kurtosis == pytest.approx(3.0, abs=0.05)


def test_it_measures_a_ramps_slope_per_hour_from_the_timestamps() -> None:
    times = np.sort(np.random.default_rng(1).uniform(0, 7200, 500))  # uneven, two hours
    values = 40.0 + 1.5 * times / 3600.0

    assert window_features(times, values).slope_per_h == pytest.approx(1.5, rel=1e-9)


def test_it_treats_a_constant_window_as_level_and_without_impulses() -> None:
    features = window_features(np.arange(100.0), np.full(100, 61.3))

    assert features.rms == pytest.approx(61.3)
    assert features.crest == pytest.approx(1.0)
    assert features.kurtosis == 3.0
    assert features.slope_per_h == pytest.approx(0.0, abs=1e-9)


def test_it_gives_an_all_zero_window_a_crest_of_one() -> None:
    features = window_features(np.arange(10.0), np.zeros(10))

    assert (features.rms, features.crest, features.kurtosis) == (0.0, 1.0, 3.0)


def test_it_refuses_an_empty_window() -> None:
    with pytest.raises(ValueError, match="empty window"):
        window_features(np.array([]), np.array([]))


def test_it_sees_an_impulse_in_crest_and_kurtosis() -> None:
    rng = np.random.default_rng(5)
    quiet = 1.0 + rng.normal(0, 0.04, 600)
    struck = quiet.copy()
    struck[300] += 2.0
    times = np.arange(600.0)

    before, after = window_features(times, quiet), window_features(times, struck)

    assert after.crest > before.crest * 2.5
    assert after.kurtosis > 10 * before.kurtosis


# --- sliding windows -------------------------------------------------------------------------


def test_it_cuts_windows_on_a_grid_of_whole_steps() -> None:
    times = np.arange(0.0, 3600.0, 1.0)  # one reading a second for an hour
    windows = list(sliding_windows(times, times, window_s=600, step_s=300))

    # The first window starts at the first reading; the last ends by the last reading.
    assert [end for end, _ in windows] == [600.0 + 300 * k for k in range(10)]
    assert {w.count for _, w in windows} == {600}
    # A window holds readings from its start up to, not including, its end.
    _, first = windows[0]
    assert first.mean == pytest.approx(299.5)


def test_it_agrees_with_one_window_at_a_time() -> None:
    rng = np.random.default_rng(9)
    times = np.sort(rng.uniform(0, 20_000, 5000))
    values = rng.normal(3, 1, times.size) + np.sin(times / 500)

    for end, features in sliding_windows(times, values, window_s=900, step_s=300):
        inside = (times >= end - 900) & (times < end)
        expected = window_features(times[inside], values[inside])
        for name in HEALTH_FEATURES:
            assert getattr(features, name) == pytest.approx(getattr(expected, name), rel=1e-9)


def test_it_skips_windows_in_a_gap_and_resumes_after_a_cursor() -> None:
    times = np.concatenate([np.arange(0.0, 1200.0), np.arange(3000.0, 4200.0)])
    ends, arrays = window_feature_arrays(times, times, window_s=600, step_s=600)

    assert ends.tolist() == [600.0, 1200.0, 3600.0]
    assert arrays["count"].tolist() == [600, 600, 600]

    later, _ = window_feature_arrays(times, times, window_s=600, step_s=600, after_s=1200.0)
    assert later.tolist() == [3600.0]


def test_it_handles_hundreds_of_thousands_of_readings_quickly() -> None:
    times = np.arange(0.0, 500_000.0)
    values = np.random.default_rng(2).normal(1, 0.1, times.size)

    ends, arrays = window_feature_arrays(times, values, window_s=600, step_s=300)

    assert ends.size == (500_000 - 600) // 300 + 1
    assert np.all(arrays["count"] == 600)


# --- regime bands -------------------------------------------------------------------------------


def test_it_learns_speed_bands_at_quantiles_and_load_bands_within_them() -> None:
    rng = np.random.default_rng(4)
    speed = rng.uniform(600, 1200, 4000)
    current = 2 + 8 * rng.uniform(0.3, 1.0, speed.size) * speed / 1200

    bands = RegimeBands.fit(speed, current, speed_bands=4, load_bands=3, min_samples=30)

    assert bands.speed_edges == pytest.approx([750, 900, 1050], rel=0.03)
    assert bands.n_bands == 12
    band = bands.band_of(speed, current)
    counts = np.bincount(band, minlength=12)
    assert counts.min() > 0.7 * speed.size / 12
    # Within a speed band, higher current means a higher load band.
    low, high = bands.band_of([700, 700], [3.0, 9.0])
    assert high - low == 2


def test_it_merges_bands_where_there_are_too_few_samples() -> None:
    rng = np.random.default_rng(4)
    speed = rng.uniform(600, 1200, 100)

    bands = RegimeBands.fit(speed, rng.uniform(5, 10, 100), min_samples=40)

    assert bands.n_bands == 2  # 100 windows make two speed bands of one load band each


def test_it_puts_standstill_and_windows_touching_it_in_the_stopped_regime() -> None:
    speed = np.concatenate([np.zeros(200), np.random.default_rng(1).uniform(800, 1000, 800)])
    bands = RegimeBands.fit(speed)

    assert bands.band_of([0.0, 3.0, 900.0])[:2].tolist() == [STOPPED, STOPPED]
    assert bands.band_of([900.0])[0] >= 0
    assert bands.band_of([900.0], min_speed=[0.0])[0] == STOPPED
    # Standstill is not a band: the speed bands cover only running speeds.
    assert bands.speed_range[0] >= 800


def test_it_refuses_to_learn_regimes_from_a_machine_that_never_ran() -> None:
    with pytest.raises(ValueError, match="never ran"):
        RegimeBands.fit(np.zeros(100))


def test_it_round_trips_bands_through_json() -> None:
    rng = np.random.default_rng(4)
    speed, load = rng.uniform(600, 1200, 3000), rng.uniform(4, 10, 3000)
    bands = RegimeBands.fit(speed, load)

    again = RegimeBands.from_dict(json.loads(json.dumps(bands.to_dict())))

    assert np.array_equal(again.band_of(speed, load), bands.band_of(speed, load))
    assert again.describe(0).startswith("speed ")


# --- baseline -----------------------------------------------------------------------------------


def regime_history(n: int = 3000, *, seed: int = 6) -> dict[str, np.ndarray]:
    """Return windows of a machine whose vibration goes as speed² × (0.6 + 0.4·load)."""
    rng = np.random.default_rng(seed)
    speed = rng.uniform(650, 1200, n)
    load = rng.uniform(0.3, 1.0, n)
    current = 3 + 10 * load * speed / 1200
    rms = 1.6 * (speed / 1200) ** 2 * (0.6 + 0.4 * load) * (1 + rng.normal(0, 0.01, n))
    return {"speed": speed, "current": current, "rms": rms}


def test_it_takes_the_speed_out_of_vibration_before_judging_it() -> None:
    history = regime_history()
    bands = RegimeBands.fit(history["speed"], history["current"])
    band = bands.band_of(history["speed"], history["current"])
    features = {"vibration": {"rms": history["rms"]}}

    baseline = RegimeBaseline.fit(
        features, band, history["speed"], history["current"], n_bands=bands.n_bands
    )
    z = baseline.zscores(features, band, history["speed"], history["current"])["vibration"]["rms"]

    # Vibration triples across the speed range, yet healthy windows stay within a few z …
    assert history["rms"].max() / history["rms"].min() > 2.5
    assert np.percentile(np.abs(z), 99.9) < 5
    # … and 10% more at the lowest speed stands out clearly.
    slow = np.array([700.0])
    current = np.array([3 + 10 * 0.5 * 700 / 1200])
    expected = baseline.expected("vibration", "rms", bands.band_of(slow, current), slow, current)
    worse = {"vibration": {"rms": expected * 1.10}}
    z_worse = baseline.zscores(worse, bands.band_of(slow, current), slow, current)
    assert z_worse["vibration"]["rms"][0] > 6


def test_it_lets_the_rolling_baseline_move_only_so_far_a_day() -> None:
    history = regime_history()
    bands = RegimeBands.fit(history["speed"], history["current"])
    band = bands.band_of(history["speed"], history["current"])
    features = {"vibration": {"rms": history["rms"]}}
    baseline = RegimeBaseline.fit(
        features, band, history["speed"], history["current"], n_bands=bands.n_bands
    )
    before = baseline.models["vibration"]["rms"].centre.copy()
    scale = baseline.models["vibration"]["rms"].scale.copy()

    # A day of windows (144 of ten minutes) all 30% high, as if judged normal.
    day = slice(0, 144)
    worse = {"vibration": {"rms": history["rms"][day] * 1.3}}
    baseline.update(
        worse,
        band[day],
        history["speed"][day],
        history["current"][day],
        weight=0.5,
        max_shift=0.25 / 144,
    )

    moved = baseline.models["vibration"]["rms"].centre - before
    # Even with half the weight on every window, no band moved more than 0.25 scales.
    assert np.all(moved <= 0.25 * scale + 1e-12)
    assert moved.max() > 0


def test_it_round_trips_the_baseline_through_json() -> None:
    history = regime_history()
    bands = RegimeBands.fit(history["speed"], history["current"])
    band = bands.band_of(history["speed"], history["current"])
    features = {"vibration": {"rms": history["rms"], "slope_per_h": history["rms"] - 1.0}}
    baseline = RegimeBaseline.fit(
        features, band, history["speed"], history["current"], n_bands=bands.n_bands
    )

    again = RegimeBaseline.from_dict(json.loads(json.dumps(baseline.to_dict())))

    args = (features, band, history["speed"], history["current"])
    for name in ("rms", "slope_per_h"):
        assert np.allclose(
            again.zscores(*args)["vibration"][name], baseline.zscores(*args)["vibration"][name]
        )


# --- asset windows, health vectors, steps -------------------------------------------------------


def test_it_summarises_an_assets_signals_on_one_grid_with_regime_inputs() -> None:
    times = np.arange(0.0, 7200.0)
    speed = np.where((times >= 3000) & (times < 3100), 0.0, 1000.0)
    readings = {
        "speed": (times, speed),
        "current": (times, np.full(times.size, 8.0)),
        "vibration": (times, 1.0 + 0.1 * np.sin(times)),
        "temperature": (times[::5], np.full(times[::5].size, 50.0)),
    }

    windows = asset_windows(readings, window_s=600, step_s=600, settle_s=60)

    assert sorted(windows.features) == ["temperature", "vibration"]
    assert windows.load == pytest.approx(8.0)
    # The stop at 3000–3100 s touches the windows ending at 3000 (within its settling time
    # after the end) and 3600; the last window ends a settling time before the last reading.
    touched = windows.ends_s[windows.speed_min == 0.0].tolist()
    assert touched == [3000.0, 3600.0]
    assert windows.ends_s[-1] == 6600.0


def test_it_lays_out_health_vectors_in_a_fixed_order() -> None:
    names = health_vector_names(["vibration", "temperature"], ["rms", "kurtosis"])
    z = {"vibration": {"rms": 2.0, "kurtosis": 1.0}, "temperature": {"rms": -0.5}}

    vector = health_vector(z, ["vibration", "temperature"], ["rms", "kurtosis"])

    assert names == [
        "vibration.rms",
        "vibration.kurtosis",
        "temperature.rms",
        "temperature.kurtosis",
    ]
    assert vector[:3].tolist() == [2.0, 1.0, -0.5]
    assert math.isnan(vector[3])


def test_it_averages_windows_into_steps_and_leaves_stopped_windows_out() -> None:
    ends = np.arange(1, 13) * 600.0  # two hours of ten-minute windows
    z = {"vibration": {"rms": np.arange(12.0)}}
    z["vibration"]["rms"][3] = np.nan  # a stopped window
    health = health_matrix(z, ["vibration"], ["rms"])
    regime = np.column_stack([np.full(12, 900.0), np.arange(12.0)])

    rows = aggregate_steps(ends, health, regime, step_s=3600, scores=np.arange(12.0))

    assert rows.ends_s.tolist() == [3600.0, 7200.0]
    assert rows.windows.tolist() == [5, 6]
    assert rows.sensors[:, 0].tolist() == [pytest.approx((0 + 1 + 2 + 4 + 5) / 5), 8.5]
    assert rows.settings[0].tolist() == [900.0, pytest.approx(12 / 5)]
    assert rows.score.tolist() == [5.0, 11.0]
