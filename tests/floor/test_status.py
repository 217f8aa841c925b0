"""The floor tile status: one word per asset, decided in a fixed order."""

from plantops.floor.status import SignalValue, TileStatus, tile_status


def value(v: float | None = 2.0, *, age: float | None = 1.0, high: float = 7.1) -> SignalValue:
    return SignalValue(
        value=v, age_s=age, expected_min=0.0, expected_max=high, sampling_interval_s=1.0
    )


def test_it_shows_running_when_values_are_fresh_and_in_range():
    assert tile_status(state="running", signals=[value(), value()]) == TileStatus.RUNNING


def test_it_shows_down_whatever_the_values_say():
    assert tile_status(state="down", signals=[value(99)]) == TileStatus.DOWN


def test_it_shows_no_data_when_every_signal_is_stale_or_missing():
    assert (
        tile_status(state="running", signals=[value(age=60), value(None, age=None)])
        == TileStatus.NO_DATA
    )
    assert tile_status(state="", signals=[]) == TileStatus.NO_DATA


def test_it_flags_a_fresh_value_outside_its_range_but_not_a_stale_one():
    assert tile_status(state="running", signals=[value(), value(8.0)]) == TileStatus.OUT_OF_RANGE
    assert tile_status(state="running", signals=[value(), value(8.0, age=60)]) == TileStatus.RUNNING
    assert tile_status(state="running", signals=[value(-0.1)]) == TileStatus.OUT_OF_RANGE


def test_it_shows_a_deliberate_stop_as_stopped():
    for state in ("idle", "planned_stop", "changeover"):
        assert tile_status(state=state, signals=[value()]) == TileStatus.STOPPED


def test_it_waits_five_sampling_intervals_before_calling_a_slow_signal_stale():
    slow = SignalValue(
        value=1, age_s=40, expected_min=None, expected_max=None, sampling_interval_s=10
    )
    assert not slow.stale
    assert SignalValue(
        value=1, age_s=51, expected_min=None, expected_max=None, sampling_interval_s=10
    ).stale


def test_a_gone_gateway_shows_no_data_even_over_fresh_values_and_a_down_state():
    assert tile_status(state="down", signals=[value()], gateway_gone=True) == TileStatus.NO_DATA
