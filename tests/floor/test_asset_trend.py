"""Asset trends for the longer chart ranges: minute rollups merged into buckets in the database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from plantops.floor.selectors import UnknownTrendRange, asset_trend, trend_range
from plantops.telemetry.models import MinuteRollup
from tests.factories import make_asset

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 22, 12, 3, 30, tzinfo=UTC)


def ms(at: datetime) -> int:
    return int(at.timestamp()) * 1000


def at(hour: int, minute: int, day: int = 22) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def rollup(signal, minute: datetime, *values: float) -> MinuteRollup:
    """The rollup the worker would keep for these readings in one minute."""
    return MinuteRollup.objects.create(
        signal=signal,
        minute=minute,
        value_min=min(values),
        value_max=max(values),
        value_sum=sum(values),
        value_count=len(values),
    )


def test_it_merges_minute_rollups_into_ten_minute_buckets_over_seven_days():
    asset = make_asset()
    vibration = asset.signals.get(slug="vibration")
    rollup(vibration, at(10, 0), 1.0, 3.0)
    rollup(vibration, at(10, 9), 0.5, 2.0, 3.5)  # the last minute of the 10:00 bucket
    rollup(vibration, at(10, 10), 6.0)
    # 10:20 and 10:30 stay empty.
    rollup(vibration, at(10, 45), 4.0, 8.0)

    trend = asset_trend(asset_id=asset.pk, trend_range=trend_range("7d"), now=NOW)

    assert trend["signals"]["vibration"] == [
        # min of the mins, mean weighted by count (10 / 5 readings), max of the maxes
        (ms(at(10, 0)), 0.5, 2.0, 3.5),
        (ms(at(10, 10)), 6.0, 6.0, 6.0),
        # One empty bucket marks the silence, however many buckets it spans.
        (ms(at(10, 20)), None, None, None),
        (ms(at(10, 40)), 4.0, 6.0, 8.0),
    ]
    assert trend["signals"]["temperature"] == []
    assert (trend["range"], trend["label"], trend["bucket_ms"]) == ("7d", "7 days", 600_000)
    # The first bucket starts on a 10-minute boundary at or before NOW - 7 days.
    assert trend["start_ms"] == ms(at(12, 0, day=15))
    assert trend["end_ms"] == int(NOW.timestamp() * 1000)


def test_it_leaves_out_rollups_outside_the_range_and_of_other_assets():
    asset, other = make_asset(), make_asset()
    vibration = asset.signals.get(slug="vibration")
    rollup(vibration, at(11, 59, day=15), 100.0)  # before the first bucket
    rollup(vibration, at(12, 0, day=15), 1.0)  # the first bucket's first minute
    rollup(vibration, at(12, 4), 100.0)  # after now
    rollup(other.signals.get(slug="vibration"), at(10, 0), 100.0)

    trend = asset_trend(asset_id=asset.pk, trend_range=trend_range("7d"), now=NOW)

    assert trend["signals"]["vibration"] == [(ms(at(12, 0, day=15)), 1.0, 1.0, 1.0)]


def test_a_day_keeps_each_minute_and_breaks_the_line_where_a_minute_is_missing():
    asset = make_asset()
    vibration = asset.signals.get(slug="vibration")
    temperature = asset.signals.get(slug="temperature")
    rollup(vibration, at(11, 0), 2.0, 4.0)
    rollup(vibration, at(11, 1), 5.0)
    rollup(vibration, at(11, 3), 1.0, 2.0, 6.0)
    rollup(temperature, at(11, 2), 40.0)

    trend = asset_trend(asset_id=asset.pk, trend_range=trend_range("24h"), now=NOW)

    assert trend["bucket_ms"] == 60_000
    assert trend["signals"] == {
        "temperature": [(ms(at(11, 2)), 40.0, 40.0, 40.0)],
        "vibration": [
            (ms(at(11, 0)), 2.0, 3.0, 4.0),
            (ms(at(11, 1)), 5.0, 5.0, 5.0),
            (ms(at(11, 2)), None, None, None),
            (ms(at(11, 3)), 1.0, 3.0, 6.0),
        ],
    }


def test_a_slow_signal_is_broken_only_where_it_went_stale():
    asset = make_asset()
    vibration = asset.signals.get(slug="vibration")
    vibration.sampling_interval_s = 300.0  # one reading every 5 min: stale after 25 min
    vibration.save()
    for minute in (0, 5, 10):
        rollup(vibration, at(10, minute), 1.0)
    rollup(vibration, at(10, 40), 2.0)  # 30 min of silence

    trend = asset_trend(asset_id=asset.pk, trend_range=trend_range("8h"), now=NOW)

    assert trend["signals"]["vibration"] == [
        (ms(at(10, 0)), 1.0, 1.0, 1.0),
        (ms(at(10, 5)), 1.0, 1.0, 1.0),
        (ms(at(10, 10)), 1.0, 1.0, 1.0),
        (ms(at(10, 11)), None, None, None),
        (ms(at(10, 40)), 2.0, 2.0, 2.0),
    ]


def test_thirty_days_of_every_minute_stay_under_fifteen_hundred_points():
    asset = make_asset(signals=("vibration",))
    vibration = asset.signals.get()
    first = at(12, 0, day=23) - timedelta(days=31)  # NOW - 30 days, down to a half hour
    minutes = int((NOW - first).total_seconds() // 60) + 1
    # Every half hour runs 0, 1, …, 29 (and the last, 12:00–12:03, runs 0 … 3).
    MinuteRollup.objects.bulk_create(
        MinuteRollup(
            signal=vibration,
            minute=first + timedelta(minutes=i),
            value_min=float(i % 30),
            value_max=float(i % 30),
            value_sum=float(i % 30),
            value_count=1,
        )
        for i in range(minutes)
    )

    buckets = asset_trend(asset_id=asset.pk, trend_range=trend_range("30d"), now=NOW)["signals"][
        "vibration"
    ]

    assert len(buckets) == 30 * 48 + 1
    assert [at_ms for at_ms, _, _, _ in buckets] == [
        ms(first + timedelta(minutes=30 * i)) for i in range(30 * 48 + 1)
    ]
    assert {(low, high) for _, low, _, high in buckets[:-1]} == {(0.0, 29.0)}
    assert [mean for _, _, mean, _ in buckets[:-1]] == pytest.approx([14.5] * 30 * 48)
    assert buckets[-1] == (ms(at(12, 0)), 0.0, pytest.approx(1.5), 3.0)


def test_a_bucket_of_huge_minute_sums_does_not_overflow():
    # Each minute's sum is near the float maximum, as a faulty sensor leaves it; their total
    # would not fit in a float.
    asset = make_asset(signals=("vibration",))
    vibration = asset.signals.get()
    for minute in (0, 1, 2):
        MinuteRollup.objects.create(
            signal=vibration,
            minute=at(10, minute),
            value_min=1.5e308,
            value_max=1.5e308,
            value_sum=1.5e308,
            value_count=1,
        )

    trend = asset_trend(asset_id=asset.pk, trend_range=trend_range("30d"), now=NOW)

    assert trend["signals"]["vibration"] == [
        (ms(at(10, 0)), 1.5e308, pytest.approx(1.5e308), 1.5e308)
    ]


@pytest.mark.parametrize("key", ["", "live", "2h", "24H"])
def test_an_unknown_range_is_refused_with_the_ones_that_exist(key):
    with pytest.raises(UnknownTrendRange, match="use one of 8h, 24h, 7d, 30d"):
        trend_range(key)
