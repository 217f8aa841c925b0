"""The simulated machine's physics, stepped directly in simulated time. No database."""

from __future__ import annotations

import itertools
import random
import statistics

import pytest

from plantops.demo.plant import SIGNALS_BY_TYPE
from plantops.simulator.physics import (
    BEARING_FAILURE_REASON,
    STOP_KINDS,
    AssetSpec,
    SignalSpec,
    SimulatedAsset,
    StepResult,
    parse_fault,
)

DAY_S = 86_400.0
PRESS_VIBRATION_MAX = 7.1  # mm/s, the demo press's expected max


def make_machine(
    asset_type: str = "press",
    *,
    seed: int = 1,
    ideal_cycle_time_s: float | None = None,
    extra_signals: tuple[SignalSpec, ...] = (),
    **options,
) -> SimulatedAsset:
    """Return a simulated asset with the demo plant's signals for its type."""
    signals = tuple(
        SignalSpec(slug, expected_min=low, expected_max=high)
        for slug, _name, _unit, low, high, _interval in SIGNALS_BY_TYPE[asset_type]
    )
    spec = AssetSpec(
        slug=f"{asset_type}-1",
        signals=signals + extra_signals,
        ideal_cycle_time_s=ideal_cycle_time_s,
    )
    return SimulatedAsset(spec, random.Random(seed), **options)


def run(machine: SimulatedAsset, *, seconds: float, step_s: float) -> list[StepResult]:
    return [machine.step(step_s) for _ in range(round(seconds / step_s))]


def mean_vibration(speed_fraction: float, load: float, *, seed: int = 1) -> float:
    press = make_machine(seed=seed, mean_time_between_stops_s=0)
    press.hold_operating_point(speed_fraction, load)
    run(press, seconds=60, step_s=1)  # let the drive ramp to the held speed
    return statistics.mean(r.readings["vibration"] for r in run(press, seconds=600, step_s=1))


def stops_of(results: list[StepResult]) -> list[tuple[float, float, str, str]]:
    """Return `(start, end, state, reason)` of every completed stop in a run."""
    changes = [change for result in results for change in result.state_changes]
    return [
        (stop.at_s, restart.at_s, stop.state, stop.reason)
        for stop, restart in itertools.pairwise(changes)
        if stop.state != "running" and restart.state == "running"
    ]


def running_time_s(results: list[StepResult], end_s: float) -> float:
    changes = [change for result in results for change in result.state_changes]
    total = 0.0
    running_since: float | None = 0.0  # every machine starts running at 0
    for change in changes:
        if change.state == "running":
            running_since = change.at_s
        elif running_since is not None:
            total += change.at_s - running_since
            running_since = None
    if running_since is not None:
        total += end_s - running_since
    return total


def test_it_vibrates_more_at_higher_speed_and_load():
    slow = mean_vibration(0.6, 0.4)
    fast = mean_vibration(0.95, 0.4)
    fast_loaded = mean_vibration(0.95, 1.0)

    # Vibration goes with speed squared: (0.95 / 0.6)² ≈ 2.5, less the constant background.
    assert fast > 2.0 * slow
    # …and with load: (0.6 + 0.4) / (0.6 + 0.16) ≈ 1.3.
    assert fast_loaded > 1.2 * fast


@pytest.mark.parametrize("seed", range(5))
def test_it_vibrates_at_35_to_45_percent_of_expected_max_at_rated_speed_and_full_load(seed):
    share = mean_vibration(1.0, 1.0, seed=seed) / PRESS_VIBRATION_MAX

    # 35–45% healthy, plus about 1.5% of background from the floor.
    assert 0.35 <= share <= 0.47


def test_it_draws_rated_current_at_rated_speed_and_full_load_and_less_when_lighter():
    def mean_current(speed_fraction: float, load: float) -> float:
        press = make_machine(mean_time_between_stops_s=0)
        press.hold_operating_point(speed_fraction, load)
        run(press, seconds=60, step_s=1)
        return statistics.mean(r.readings["current"] for r in run(press, seconds=300, step_s=1))

    rated = 0.75 * 95.0  # the demo press's current expected max is 95 A
    assert mean_current(1.0, 1.0) == pytest.approx(rated, rel=0.02)
    assert mean_current(0.6, 0.3) < 0.5 * rated
    assert mean_current(0.6, 0.3) > 0.3 * rated  # never below the no-load current


def test_it_heats_up_gradually_toward_its_target_temperature():
    press = make_machine(mean_time_between_stops_s=0, warm_start=False)
    press.hold_operating_point(1.0, 1.0)
    run(press, seconds=60, step_s=1)
    start_c = press.temperature_c
    target_c = press.thermal_target_c()
    gap = target_c - start_c
    assert gap > 10

    press.step(60)
    assert press.temperature_c - start_c < 0.1 * gap  # not in one step

    press.step(20 * 60 - 60)  # one time constant after `start_c`
    assert (press.temperature_c - start_c) / gap == pytest.approx(1 - 0.368, abs=0.03)

    press.step(6 * 20 * 60)
    assert press.temperature_c == pytest.approx(target_c, abs=0.01 * gap)


def test_it_integrates_the_thermal_lag_the_same_in_one_long_step_as_in_many_short_ones():
    one_step, many_steps = (
        make_machine(mean_time_between_stops_s=0, warm_start=False) for _ in "ab"
    )
    for press in (one_step, many_steps):
        press.hold_operating_point(0.8, 0.7)

    one_step.step(1800)
    run(many_steps, seconds=1800, step_s=1)

    assert one_step.temperature_c == pytest.approx(many_steps.temperature_c, abs=0.1)


def test_it_stops_turning_stops_vibrating_and_cools_while_down():
    press = make_machine(seed=3)
    results = run(press, seconds=3 * DAY_S, step_s=10)
    long_down_stops = [
        (start, end)
        for start, end, state, _reason in stops_of(results)
        if state == "down" and end - start >= 600
    ]
    assert long_down_stops

    # Readings at the end of each 10 s step, by the simulated time they were taken.
    readings_at = {(index + 1) * 10.0: r.readings for index, r in enumerate(results)}
    for start, end in long_down_stops:
        settled = [readings for at_s, readings in readings_at.items() if start + 60 <= at_s < end]
        assert all(r["speed"] == 0.0 for r in settled)
        assert all(r["vibration"] < 0.05 * PRESS_VIBRATION_MAX for r in settled)
        assert settled[-1]["temperature"] < settled[0]["temperature"]


def test_it_fails_with_a_bearing_failure_at_the_configured_day_and_not_before():
    press = make_machine(seed=4)
    press.inject_bearing_fault(days=3)

    results = run(press, seconds=4 * DAY_S, step_s=60)
    changes = [change for result in results for change in result.state_changes]
    failures = [change for change in changes if change.reason == BEARING_FAILURE_REASON]

    assert [failure.at_s for failure in failures] == [pytest.approx(3 * DAY_S)]
    assert failures[0].state == "down"
    assert changes[-1] == failures[0]  # and it stays down: nothing follows the failure
    assert (press.state, press.reason) == ("down", BEARING_FAILURE_REASON)
    assert results[-1].readings["speed"] == 0.0


def test_it_shows_bearing_wear_hardly_at_first_then_above_expected_max_well_before_failure():
    life_days = 10
    healthy, faulty = make_machine(seed=5), make_machine(seed=5)
    faulty.inject_bearing_fault(days=life_days)
    ratios: list[tuple[float, float]] = []  # (share of life, faulty / healthy vibration)
    vibration: list[tuple[float, float]] = []  # (share of life, faulty vibration while running)
    heat: list[tuple[float, float]] = []  # (share of life, faulty − healthy temperature)
    for _ in range(round(life_days * DAY_S / 60) - 1):
        twin, result = healthy.step(60), faulty.step(60)
        # The fault changes no random draw, so the twins stop and start together.
        assert twin.state_changes == result.state_changes
        life = faulty.time_s / (life_days * DAY_S)
        heat.append((life, faulty.temperature_c - healthy.temperature_c))
        if faulty.state == "running" and faulty.speed_fraction > 0.5:
            ratios.append((life, result.readings["vibration"] / twin.readings["vibration"]))
            vibration.append((life, result.readings["vibration"]))

    def median(series: list[tuple[float, float]], low: float, high: float) -> float:
        return statistics.median(value for life, value in series if low <= life < high)

    assert median(ratios, 0.0, 0.2) < 1.1
    assert median(ratios, 0.95, 1.0) > 10
    assert median(vibration, 0.85, 0.9) > PRESS_VIBRATION_MAX
    assert max(value for life, value in heat if life < 0.2) < 0.5
    # Up to 15 °C of friction heat, plus the losses of the extra current the friction draws.
    assert 8 < max(value for life, value in heat if life >= 0.95) < 20


def test_it_adds_more_impulsive_spikes_as_the_bearing_wears():
    healthy, faulty = make_machine(seed=6), make_machine(seed=6)
    faulty.inject_bearing_fault(days=5)
    spikes = {"early": 0, "late": 0}
    for _ in range(round(5 * DAY_S / 60) - 1):
        twin, result = healthy.step(60), faulty.step(60)
        if faulty.state != "running" or faulty.speed_fraction < 0.5:
            continue
        expected = twin.readings["vibration"] * (1 + 20 * faulty.fault_severity)
        # A spike adds half to twice the level: far beyond the 4% measurement noise.
        if result.readings["vibration"] > 1.4 * expected:
            life = faulty.time_s / (5 * DAY_S)
            if 0.4 <= life < 0.6:
                spikes["early"] += 1
            elif 0.8 <= life < 1.0:
                spikes["late"] += 1

    assert spikes["late"] > 3 * spikes["early"]
    assert spikes["late"] > 50


def test_it_replays_exactly_with_the_same_seed_and_differs_with_another():
    def trace(seed: int) -> list[StepResult]:
        press = make_machine(seed=seed, ideal_cycle_time_s=3.0)
        press.inject_bearing_fault(days=1)
        return run(press, seconds=DAY_S, step_s=30)

    assert trace(7) == trace(7)
    assert trace(7) != trace(8)


def test_it_never_counts_more_scrap_than_parts_and_scraps_a_few_percent():
    press = make_machine(seed=8, ideal_cycle_time_s=3.0)
    results = run(press, seconds=3 * DAY_S, step_s=60)
    good = sum(r.good for r in results)
    scrap = sum(r.scrap for r in results)

    assert all(r.good >= 0 and 0 <= r.scrap <= r.good + r.scrap for r in results)
    assert 0.005 < scrap / (good + scrap) < 0.035
    # Parts accrue at speed fraction / ideal cycle time while running, at 55–100% of rated.
    running_s = running_time_s(results, 3 * DAY_S)
    assert 0.5 * running_s / 3.0 < good + scrap <= running_s / 3.0


def test_it_counts_no_parts_for_an_asset_without_an_ideal_cycle_time():
    pump = make_machine("pump")
    results = run(pump, seconds=DAY_S, step_s=60)

    assert sum(r.good + r.scrap for r in results) == 0


def test_it_stops_at_the_configured_mean_rate_over_a_long_run():
    days = 30
    press = make_machine(seed=9, mean_time_between_stops_s=1800)
    results = run(press, seconds=days * DAY_S, step_s=60)
    stops = stops_of(results)

    # A Poisson process in running time: about running time / mean time between stops.
    rate_per_mean = len(stops) * 1800 / running_time_s(results, days * DAY_S)
    assert rate_per_mean == pytest.approx(1.0, abs=0.1)

    reasons = [reason for _start, _end, _state, reason in stops]
    assert statistics.mode(reasons) == "minor_stop"
    states = {reason: state for _start, _end, state, reason in stops}
    assert states["tool_change"] == "changeover"
    assert states["starved"] == "idle"
    assert set(reasons) <= {kind.reason for kind in STOP_KINDS}
    minor = [end - start for start, end, _state, reason in stops if reason == "minor_stop"]
    assert min(minor) >= 30
    assert max(minor) <= 120
    longest = max(end - start for start, end, _state, _reason in stops)
    assert 5 * 60 < longest <= 30 * 60


def test_it_draws_a_mean_time_between_stops_of_40_to_60_minutes_by_default():
    means = [make_machine(seed=seed).mean_time_between_stops_s for seed in range(20)]

    assert all(40 * 60 <= mean <= 60 * 60 for mean in means)


def test_it_keeps_signals_it_does_not_model_inside_their_expected_range():
    press = make_machine(
        extra_signals=(SignalSpec("pressure", expected_min=0.0, expected_max=250.0),)
    )
    values = [r.readings["pressure"] for r in run(press, seconds=DAY_S, step_s=60)]

    assert all(50.0 <= value <= 200.0 for value in values)
    assert statistics.pstdev(values) > 1.0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("press-1", "expected <asset-slug>:bearing:<days>"),
        ("press-1:bearing:2@-1", "start after must be a positive number"),
        ("press-1:bearing:2@later", "start after 'later' is not a number"),
        ("press-1:gearbox:2", "unknown fault mode 'gearbox'"),
        ("press-1:bearing:0", "days must be a positive number"),
        ("press-1:bearing:-3", "days must be a positive number"),
        ("press-1:bearing:soon", "days 'soon' is not a number"),
        (":bearing:2", "expected <asset-slug>:bearing:<days>"),
    ],
)
def test_it_refuses_a_malformed_fault(text, message):
    with pytest.raises(ValueError, match=message):
        parse_fault(text)


def test_it_reads_a_fault_as_asset_mode_and_days():
    assert parse_fault("riverside/press-shop/press-line-1/press-1:bearing:0.5") == (
        "riverside/press-shop/press-line-1/press-1",
        "bearing",
        0.5,
        0.0,
    )
    assert parse_fault("press-1:bearing:10@2.5") == ("press-1", "bearing", 10.0, 2.5)


def test_a_fault_that_starts_later_leaves_the_machine_healthy_until_then():
    machine = SimulatedAsset(AssetSpec("m", (SignalSpec("vibration", 0, 4.5),)), random.Random(1))
    fault = machine.inject_bearing_fault(4, after_days=2)
    machine.step(1.5 * 86_400)
    assert machine.fault_severity == 0.0
    machine.step(86_400)
    assert 0 < machine.fault_severity < 0.02
    assert fault.fails_at_s == 6 * 86_400


def test_a_failed_bearing_once_replaced_runs_again_and_wears_no_more():
    press = make_machine(seed=4)
    press.inject_bearing_fault(days=1)
    run(press, seconds=1.5 * DAY_S, step_s=60)
    assert press.failed

    change = press.repair()

    assert (change.state, change.at_s) == ("running", pytest.approx(1.5 * DAY_S))
    assert (press.failed, press.fault_severity) == (False, 0.0)
    later = [c for result in run(press, seconds=DAY_S, step_s=60) for c in result.state_changes]
    assert later  # it stops and starts again as a healthy machine does
    assert BEARING_FAILURE_REASON not in {c.reason for c in later}


def test_a_bearing_replaced_before_it_fails_stops_the_machine_for_the_work():
    press = make_machine(seed=4)
    press.inject_bearing_fault(days=10)
    while press.state != "running":
        press.step(60)

    change = press.repair(stop_s=5400)

    assert (change.state, change.reason) == ("planned_stop", "maintenance")
    changes = [c for result in run(press, seconds=5460, step_s=60) for c in result.state_changes]
    assert (changes[0].state, changes[0].at_s) == ("running", pytest.approx(change.at_s + 5400))
    assert press.bearing_fault is None
