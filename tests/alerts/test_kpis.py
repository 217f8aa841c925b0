"""Alarm KPIs on hand-built activations: rate, flood, bad actors, chattering, stale, mix."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from plantops.alerts.kpis import (
    Activation,
    AlertSpan,
    activation_series,
    alarm_kpis,
    bad_actors,
    chattering_alarms,
    flood_periods,
    priority_mix,
    rates_per_position,
    stale_alarms,
)
from plantops.alerts.lifecycle import Priority

START = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
END = START + timedelta(hours=1)


def at(seconds: float) -> datetime:
    return START + timedelta(seconds=seconds)


def act(
    seconds: float,
    key: str = "temp-high",
    asset: str = "press-1",
    position: str = "line-1",
    priority: Priority = Priority.MEDIUM,
) -> Activation:
    return Activation(at=at(seconds), key=key, asset=asset, position=position, priority=priority)


def burst(n: int, *, every_s: float, from_s: float = 0, position: str = "line-1"):
    """n activations of n different alarms, `every_s` apart."""
    return [act(from_s + i * every_s, key=f"k{i}", position=position) for i in range(n)]


def test_it_finds_a_flood_and_merges_its_overlapping_windows():
    # 12 alarms 30 s apart from 10:00:00. The window opened at 10:00:00 holds 12, the one at
    # 10:00:30 holds 11, the one at 10:01:00 only 10: two windows, merged to 10:00–10:10:30.
    report = flood_periods(burst(12, every_s=30), start=START, end=END)
    assert report.intervals == ((at(0), at(630)),)
    assert report.flood_seconds == 630
    assert report.percent_of_period == pytest.approx(17.5)


def test_it_does_not_call_ten_alarms_in_ten_minutes_a_flood():
    assert flood_periods(burst(10, every_s=30), start=START, end=END).intervals == ()
    # Eleven, but spread so that no 10-minute window holds more than ten.
    assert flood_periods(burst(11, every_s=60), start=START, end=END).intervals == ()


def test_it_keeps_separate_floods_apart_and_cuts_them_to_the_period():
    early = burst(11, every_s=10)
    late = burst(11, every_s=10, from_s=3300)  # 10:55:00, window would run to 11:05
    report = flood_periods(early + late, start=START, end=END)
    assert report.intervals == ((at(0), at(600)), (at(3300), END))
    assert report.percent_of_period == pytest.approx(100 * 900 / 3600)


def test_it_rates_each_position_per_ten_minutes_average_and_peak():
    line_1 = [*burst(12, every_s=30), act(1800)]
    line_2 = [act(700, position="line-2"), act(1300, position="line-2")]
    rates = rates_per_position(line_1 + line_2 + [act(-1), act(3600)], start=START, end=END)
    assert [(r.position, r.activations, r.peak_per_10min, r.peak_at) for r in rates] == [
        ("line-1", 13, 12, at(0)),
        ("line-2", 2, 1, at(600)),
    ]
    assert rates[0].average_per_10min == pytest.approx(13 / 6)
    assert rates[1].average_per_10min == pytest.approx(2 / 6)


def test_it_ranks_the_top_ten_bad_actors():
    activations = []
    for i in range(12):  # alarm a00 fires 12 times, a01 11 times, ... a11 once
        activations += [act(j * 120 + i, key=f"a{i:02d}") for j in range(12 - i)]
    activations += [act(5, key="a05", asset="press-2")]  # same rule, another asset: its own alarm
    actors = bad_actors(activations, start=START, end=END)
    assert [(b.key, b.asset, b.activations) for b in actors] == [
        ("a00", "press-1", 12),
        ("a01", "press-1", 11),
        ("a02", "press-1", 10),
        ("a03", "press-1", 9),
        ("a04", "press-1", 8),
        ("a05", "press-1", 7),
        ("a06", "press-1", 6),
        ("a07", "press-1", 5),
        ("a08", "press-1", 4),
        ("a09", "press-1", 3),
    ]
    assert actors[0].percent_of_all == pytest.approx(100 * 12 / 79)


def test_it_finds_a_chattering_alarm_and_not_one_that_is_merely_frequent():
    chatter = [act(s, key="level-low") for s in (0, 20, 50, 900, 910, 920, 930)]
    at_the_edge = [act(s, key="pressure-high") for s in (0, 30, 60)]  # t3 - t1 = 60 s
    spread_over_assets = [
        act(0, key="door-open", asset="press-1"),
        act(10, key="door-open", asset="press-2"),
        act(20, key="door-open", asset="press-3"),
    ]
    found = chattering_alarms(chatter + at_the_edge + spread_over_assets, start=START, end=END)
    assert [(c.key, c.asset, c.activations, c.most_in_60s, c.first_burst_at) for c in found] == [
        ("level-low", "press-1", 7, 4, at(0))
    ]


def test_it_lists_alarms_active_for_more_than_a_day_at_the_end_of_the_period():
    def span(hours_before_end: float, cleared_hours_before_end: float | None = None, key="k"):
        return AlertSpan(
            key=key,
            asset="press-1",
            position="line-1",
            priority=Priority.HIGH,
            raised_at=END - timedelta(hours=hours_before_end),
            cleared_at=None
            if cleared_hours_before_end is None
            else END - timedelta(hours=cleared_hours_before_end),
        )

    spans = [
        span(25, key="open-25h"),
        span(23, key="open-23h"),
        span(24, key="open-exactly-24h"),
        span(30, 1, key="cleared-before-end"),
        span(48, -1, key="cleared-after-end"),
    ]
    stale = stale_alarms(spans, end=END)
    assert [(s.key, s.active_for) for s in stale] == [
        ("cleared-after-end", timedelta(hours=48)),
        ("open-25h", timedelta(hours=25)),
    ]


def test_it_compares_the_priority_mix_with_the_target_counting_critical_as_high():
    priorities = (
        [Priority.CRITICAL] * 1 + [Priority.HIGH] * 4 + [Priority.MEDIUM] * 15 + ["low"] * 80
    )
    mix = priority_mix(priorities)
    assert mix.total == 100
    assert mix.counts == {
        Priority.CRITICAL: 1,
        Priority.HIGH: 4,
        Priority.MEDIUM: 15,
        Priority.LOW: 80,
    }
    assert mix.critical_percent == pytest.approx(1.0)
    assert [(b.name, b.count, b.percent, b.target_percent) for b in mix.buckets] == [
        ("high", 5, pytest.approx(5.0), 5.0),
        ("medium", 15, pytest.approx(15.0), 15.0),
        ("low", 80, pytest.approx(80.0), 80.0),
    ]


def test_it_reports_an_empty_priority_mix_as_zero():
    mix = priority_mix([])
    assert mix.total == 0
    assert [b.percent for b in mix.buckets] == [0.0, 0.0, 0.0]


def test_it_puts_every_kpi_together_for_the_period_only():
    activations = [
        *burst(12, every_s=30),
        *[act(s, key="level-low", priority=Priority.HIGH) for s in (2000, 2010, 2020)],
        act(-60, key="before-the-period"),
        act(3600, key="at-the-end-so-outside"),
    ]
    spans = [
        AlertSpan(
            key="level-low",
            asset="press-1",
            position="line-1",
            priority=Priority.HIGH,
            raised_at=END - timedelta(days=2),
        )
    ]
    kpis = alarm_kpis(activations, spans, start=START, end=END)
    assert kpis.activations == 15
    assert [r.activations for r in kpis.rates] == [15]
    assert kpis.floods["line-1"].intervals == ((at(0), at(630)),)
    assert kpis.bad_actors[0].key == "level-low"
    assert [c.key for c in kpis.chattering] == ["level-low"]
    assert [s.key for s in kpis.stale] == ["level-low"]
    assert kpis.priority_mix.counts[Priority.HIGH] == 3
    assert "before-the-period" not in {b.key for b in kpis.bad_actors}


def test_it_refuses_naive_times_and_empty_periods():
    with pytest.raises(ValueError, match="timezone-aware"):
        Activation(
            at=datetime(2026, 11, 22, 10, 0),  # noqa: DTZ001
            key="k",
            asset="a",
            position="p",
            priority=Priority.LOW,
        )
    with pytest.raises(ValueError, match="empty"):
        flood_periods([], start=END, end=START)


def test_it_buckets_activations_per_ten_minutes_per_position_for_the_chart():
    starts, series = activation_series(
        [act(0), act(599), act(600), act(3599, position="line-2"), act(3600)],
        start=START,
        end=END + timedelta(minutes=5),  # a last, shorter bucket
    )

    assert starts == tuple(START + timedelta(minutes=10 * i) for i in range(7))
    assert series == {"line-1": (2, 1, 0, 0, 0, 0, 1), "line-2": (0, 0, 0, 0, 0, 1, 0)}


def test_an_empty_period_has_buckets_and_no_series():
    starts, series = activation_series([], start=START, end=END)
    assert len(starts) == 6
    assert series == {}
