"""OEE maths on hand-computed cases. No database.

Every expected figure below is worked out by hand in the comments, from the ISO 22400-2
definitions in plantops/oee/calculation.py.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from plantops.oee.calculation import Count, Oee, Params, combine, oee_of, spans_from_events

DAY = datetime(2026, 11, 23, tzinfo=UTC)


def at(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    moment = DAY.replace(hour=int(hours) % 24, minute=int(minutes))
    return int(moment.timestamp() * 1_000_000) + (86_400_000_000 if int(hours) >= 24 else 0)


def window(start: str, end: str) -> tuple[int, int]:
    return (at(start), at(end))


def shift_with_break() -> dict:
    # Shift 06:00-14:00 with a break 10:00-10:30: planned 8 h - 0.5 h = 27,000 s.
    planned = [window("06:00", "10:00"), window("10:30", "14:00")]
    events = [
        (at("06:00"), "running", ""),
        (at("08:00"), "down", "jam"),  # 45 min breakdown
        (at("08:45"), "running", ""),
    ]
    counts = [
        Count(at("07:00"), good=200, scrap=5),
        Count(at("08:50"), good=100, scrap=4),  # 5 min after the restart: start-up rejects
        Count(at("12:00"), good=400, scrap=20),
    ]
    return {"planned": planned, "events": events, "counts": counts}


def compute(case: dict, *, end: str = "14:00", **params) -> Oee:
    spans = spans_from_events(case["events"], start_us=at("06:00"), end_us=at(end))
    return oee_of(
        spans=spans,
        counts=case["counts"],
        planned=case["planned"],
        params=Params(ideal_cycle_s=params.pop("ideal_cycle_s", 30.0), **params),
    )


def test_a_shift_with_a_break_and_a_breakdown():
    result = compute(shift_with_break())
    assert result.planned_s == 27_000
    # Running in planned time: 06:00-08:00 (7,200) + 08:45-10:00 (4,500) + 10:30-14:00 (12,600).
    assert result.run_s == 24_300
    assert result.availability == pytest.approx(0.9)
    # 729 parts at 30 s ideal = 21,870 s of ideal time over 24,300 s of running.
    assert result.total_count == 729
    assert result.performance == pytest.approx(0.9)
    assert result.quality == pytest.approx(700 / 729)
    # 0.9 × 0.9 × 700/729 = 567/729.
    assert result.oee == pytest.approx(567 / 729)
    losses = result.loss_figures()
    assert losses == {
        "breakdowns_s": 2_700,
        "setup_changeover_s": 0,
        "small_stops_s": 0,
        "reduced_speed_s": 2_430,  # 24,300 - 21,870
        "startup_rejects": 4,
        "production_rejects": 25,
        "no_data_s": 0,
    }
    assert result.downtime_by_reason == {"jam": 2_700}
    # One breakdown: MTBF is run time per breakdown, MTTR breakdown time per breakdown.
    assert (result.losses.breakdowns, result.mtbf_s, result.mttr_s) == (1, 24_300, 2_700)


def test_a_stop_spanning_the_shift_boundary_is_split_between_the_shifts_and_stays_a_breakdown():
    events = [(at("06:00"), "running", ""), (at("13:50"), "down", ""), (at("14:10"), "running", "")]
    case_a = {"planned": [window("06:00", "14:00")], "events": events, "counts": []}
    case_b = {"planned": [window("14:00", "22:00")], "events": events, "counts": []}
    # Only 10 minutes of the 20-minute stop fall in each shift; with a 15-minute threshold a
    # 10-minute stop would be small, but this stop is 20 minutes long: a breakdown in both.
    first = compute(case_a, end="22:00", small_stop_s=900)
    second = compute(case_b, end="22:00", small_stop_s=900)
    assert first.losses.breakdowns_s == second.losses.breakdowns_s == 600
    assert first.losses.small_stops_s == second.losses.small_stops_s == 0
    assert (first.run_s, second.run_s) == (28_200, 28_200)
    day = combine([first, second])
    assert day.planned_s == 57_600
    assert day.losses.breakdowns_s == 1_200
    assert day.availability == pytest.approx(56_400 / 57_600)
    # Counted once, in the shift where it began.
    assert (first.losses.breakdowns, second.losses.breakdowns, day.losses.breakdowns) == (1, 0, 1)


def test_micro_stops_and_idling_are_small_stops_and_a_long_stop_is_a_breakdown():
    events = [(at("06:00"), "running", "")]
    minute = 60_000_000
    t = at("07:00")
    for _ in range(5):  # five 60 s stops, each followed by 10 minutes running
        events += [(t, "down", "micro"), (t + minute, "running", "")]
        t += 11 * minute
    events += [(t, "down", "motor"), (t + 3 * minute, "running", "")]  # 180 s: a breakdown
    t += 13 * minute
    events += [(t, "idle", "starved"), (t + 100_000_000, "running", "")]  # 100 s waiting
    case = {"planned": [window("06:00", "14:00")], "events": events, "counts": []}
    result = compute(case, small_stop_s=120)
    assert result.losses.small_stops_s == 5 * 60 + 100
    assert result.losses.breakdowns_s == 180
    assert result.losses.breakdowns == 1  # micro-stops are not failures
    assert result.run_s == 28_800 - 300 - 180 - 100
    assert result.downtime_by_reason == {"micro": 300, "motor": 180, "starved": 100}


def test_a_changeover_is_setup_loss_and_its_first_scrap_start_up_rejects():
    events = [
        (at("06:00"), "running", ""),
        (at("10:00"), "changeover", "product B"),
        (at("10:20"), "running", ""),
    ]
    counts = [
        Count(at("09:00"), good=100, scrap=2),
        Count(at("10:25"), good=10, scrap=6),  # within 600 s of the restart
        Count(at("10:31"), good=50, scrap=1),  # 11 minutes after: a production reject
    ]
    case = {"planned": [window("06:00", "14:00")], "events": events, "counts": counts}
    result = compute(case)
    assert result.losses.changeover_s == 1_200
    assert (result.losses.startup_rejects, result.losses.production_rejects) == (6, 3)
    assert result.availability == pytest.approx(27_600 / 28_800)
    # The changeover is not a stop waiting for a reason: it is not in the down-time Pareto.
    assert result.downtime_by_reason == {}


def test_zero_planned_time_is_a_clear_no_plan_result_not_a_division_error():
    events = [(at("06:00"), "running", "")]
    counts = [Count(at("07:00"), good=10, scrap=0)]
    result = compute({"planned": [], "events": events, "counts": counts})
    assert not result.has_plan
    assert (result.planned_s, result.run_s, result.total_count) == (0, 0, 0)
    assert (result.availability, result.performance, result.quality, result.oee) == (None,) * 4
    assert (result.mtbf_s, result.mttr_s) == (None, None)
    # A machine-reported planned stop over the whole shift leaves no plan either.
    whole = {"planned": [window("06:00", "14:00")], "events": [(at("05:00"), "planned_stop", "")]}
    assert compute({**whole, "counts": []}).oee is None


def test_counts_arriving_before_the_state_that_explains_them_give_the_same_result():
    case = shift_with_break()
    expected = compute(case)
    shuffled = dict(case)
    shuffled["events"] = random.Random(3).sample(case["events"], k=len(case["events"]))
    shuffled["counts"] = list(reversed(case["counts"]))
    again = compute(shuffled)
    assert (again.run_s, again.total_count, again.oee) == (
        expected.run_s,
        expected.total_count,
        expected.oee,
    )
    assert again.losses == expected.losses


def test_running_and_parts_outside_planned_time_are_neither_output_nor_loss():
    events = [(at("05:00"), "running", "")]
    counts = [Count(at("05:30"), good=50, scrap=5), Count(at("07:00"), good=100, scrap=0)]
    case = {"planned": [window("06:00", "14:00")], "events": events, "counts": counts}
    result = compute(case, ideal_cycle_s=240)
    assert (result.run_s, result.total_count, result.good_count) == (28_800, 100, 100)
    assert result.performance == pytest.approx(100 * 240 / 28_800)


def test_a_line_weighs_its_assets_by_time_and_parts_not_by_averaging_percentages():
    fast = Oee(planned_s=1_000, run_s=1_000, ideal_run_s=500, total_count=100, good_count=100)
    slow = Oee(planned_s=1_000, run_s=500, ideal_run_s=500, total_count=10, good_count=5)
    line = combine([fast, slow])
    assert line.availability == pytest.approx(1_500 / 2_000)
    assert line.performance == pytest.approx(1_000 / 1_500)
    assert line.quality == pytest.approx(105 / 110)
    assert line.oee == pytest.approx(0.75 * (2 / 3) * (105 / 110))


def test_without_an_ideal_cycle_time_performance_and_oee_are_unknown():
    result = compute(shift_with_break(), ideal_cycle_s=None)
    assert result.availability == pytest.approx(0.9)
    assert (result.performance, result.oee) == (None, None)
    assert combine([result, compute(shift_with_break())]).oee is None


def test_a_state_repeated_every_minute_is_one_span_and_its_stop_keeps_its_length():
    minute = 60_000_000
    t = at("07:00")
    events = [(at("06:00"), "running", "")]
    events += [(t + i * minute, "down", "jam" if i == 2 else "") for i in range(6)]
    events += [(t + 6 * minute + i * minute, "running", "") for i in range(10)]
    spans = spans_from_events(events, start_us=at("06:00"), end_us=at("08:00"))
    assert [(s.state, s.seconds, s.reason) for s in spans] == [
        ("running", 3_600, ""),
        ("down", 360, "jam"),  # the first reason given in the run
        ("running", 3_240, ""),
    ]
    case = {"planned": [window("06:00", "08:00")], "events": events, "counts": []}
    result = compute(case, end="08:00", small_stop_s=120)
    # Six minutes down, reported minute by minute: a breakdown, not six small stops.
    assert (result.losses.breakdowns_s, result.losses.small_stops_s) == (360, 0)


def test_parts_of_a_product_take_its_own_ideal_cycle_time():
    case = shift_with_break()
    # The last count was product B, which this machine makes at 20 s instead of its own 30 s.
    case["counts"] = [
        *case["counts"][:2],
        Count(at("12:00"), good=400, scrap=20, ideal_cycle_s=20.0),
    ]
    result = compute(case)
    # (205 + 104) × 30 + 420 × 20 = 9,270 + 8,400 = 17,670 s of ideal time over 24,300 s.
    assert result.performance == pytest.approx(17_670 / 24_300)
    # A product with no cycle time on a machine without one leaves performance unknown.
    unknown = compute({**case, "counts": [Count(at("12:00"), good=1, scrap=0)]}, ideal_cycle_s=None)
    assert unknown.performance is None
    known = compute(
        {**case, "counts": [Count(at("12:00"), good=1, scrap=0, ideal_cycle_s=20.0)]},
        ideal_cycle_s=None,
    )
    assert known.performance == pytest.approx(20 / 24_300)


def test_time_before_the_machine_first_reported_is_no_data_not_lost_availability():
    # The machine said nothing until 10:30, then ran to the end of the shift: the 06:00-10:00
    # it was silent (14,400 s) is no data; availability is judged on the 12,600 s known.
    case = shift_with_break() | {"events": [(at("10:30"), "running", "")], "counts": []}
    result = compute(case)
    assert result.planned_s == 27_000
    assert result.losses.no_data_s == 14_400
    assert result.known_s == 12_600
    assert result.availability == pytest.approx(1.0)
    assert result.no_data_share == pytest.approx(14_400 / 27_000)
    assert result.loss_figures()["no_data_s"] == 14_400
    # Not a stop of any kind: no down time, no breakdown, no small stop.
    assert result.downtime_by_reason == {}
    assert (result.losses.breakdowns_s, result.losses.small_stops_s) == (0, 0)


def test_a_shift_with_no_data_at_all_has_a_plan_but_no_availability_and_no_oee():
    case = shift_with_break() | {"events": [], "counts": []}
    result = compute(case)
    assert result.has_plan
    assert result.losses.no_data_s == result.planned_s == 27_000
    assert (result.availability, result.oee, result.no_data_share) == (None, None, 1.0)


def test_a_planned_stop_is_neither_planned_time_nor_no_data():
    # Running 06:00-12:00, a planned stop 12:00-14:00: 7,200 s less planned time, all known.
    case = shift_with_break() | {
        "events": [(at("06:00"), "running", ""), (at("12:00"), "planned_stop", "cleaning")],
        "counts": [],
    }
    result = compute(case)
    assert (result.planned_s, result.losses.no_data_s) == (19_800, 0)
    assert result.availability == pytest.approx(1.0)


def test_no_data_adds_up_over_assets_and_availability_weighs_the_known_time():
    planned = [window("06:00", "10:00")]  # 14,400 s each
    known = oee_of(
        spans=spans_from_events(
            [(at("06:00"), "running", ""), (at("08:00"), "down", "jam")],
            start_us=at("06:00"),
            end_us=at("10:00"),
        ),
        counts=[],
        planned=planned,
        params=Params(ideal_cycle_s=30.0),
    )
    half_silent = oee_of(
        spans=spans_from_events(
            [(at("08:00"), "running", "")], start_us=at("06:00"), end_us=at("10:00")
        ),
        counts=[],
        planned=planned,
        params=Params(ideal_cycle_s=30.0),
    )
    line = combine([known, half_silent])
    # Run 7,200 + 7,200 over known 14,400 + 7,200; 7,200 s of no data in 28,800 planned.
    assert line.losses.no_data_s == 7_200
    assert line.availability == pytest.approx(14_400 / 21_600)
    assert line.no_data_share == pytest.approx(0.25)
