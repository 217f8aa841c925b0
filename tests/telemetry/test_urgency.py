"""Which readings hurry their batch: the crossing of a limit band, once per excursion."""

from __future__ import annotations

from plantops.telemetry.urgency import Band, CrossingWatch

BANDS = {1: Band(high=100.0, deadband=5.0), 2: Band(low=10.0, high=90.0)}


def readings(signal_id: int, *values: float) -> list[tuple[int, int, float]]:
    return [(signal_id, ts, value) for ts, value in enumerate(values)]


def test_a_reading_leaving_its_band_hurries_and_one_inside_does_not():
    watch = CrossingWatch()
    assert not watch.crossed(readings(1, 50.0, 99.9, 100.0), BANDS)
    assert watch.crossed(readings(1, 100.1), BANDS)
    assert CrossingWatch().crossed(readings(2, 9.0), BANDS)


def test_staying_outside_hurries_once_and_only_a_return_past_the_deadband_rearms():
    watch = CrossingWatch()
    assert watch.crossed(readings(1, 120.0), BANDS)
    assert not watch.crossed(readings(1, 130.0, 101.0, 98.0), BANDS)  # 98 is within the deadband
    assert not watch.crossed(readings(1, 110.0), BANDS)
    assert not watch.crossed(readings(1, 94.0), BANDS)  # back inside by the deadband
    assert watch.crossed(readings(1, 101.0), BANDS)


def test_signals_without_a_band_and_other_signals_do_not_interfere():
    watch = CrossingWatch()
    assert not watch.crossed(readings(3, 1e9, -1e9), BANDS)
    assert watch.crossed(readings(1, 200.0), BANDS)
    assert watch.crossed(readings(2, 95.0), BANDS)  # signal 1 being outside does not count
    assert not watch.crossed(readings(2, 96.0), BANDS)
    assert watch.crossed([(2, 0, 50.0), (2, 1, 91.0)], BANDS)  # back in, then out again
