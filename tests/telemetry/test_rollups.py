"""Minute rollups: kept exactly from what each batch inserted, and read for long trends."""

from __future__ import annotations

import math
import sys
from datetime import UTC, datetime, timedelta

import pytest

from plantops.core.time import datetime_to_us
from plantops.pipeline.services import batch_store
from plantops.telemetry.batches import Batch
from plantops.telemetry.models import MinuteRollup, Reading
from plantops.telemetry.selectors import signal_trend_from_rollups
from tests.factories import make_asset, make_batch

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def store(signal_id: int, points: list[tuple[float, float]]) -> Batch:
    """Store readings at T0 + seconds; return the batch so it can be delivered again."""
    batch = make_batch(
        readings=[(signal_id, datetime_to_us(T0 + timedelta(seconds=s)), v) for s, v in points]
    )
    batch_store(batch=Batch.from_message(batch.to_message()))
    return batch


def test_it_keeps_min_max_sum_and_count_per_minute_across_batches():
    signal = make_asset().signals.get(slug="vibration")
    store(signal.pk, [(0, 2.0), (30, 4.0), (61, 10.0)])
    store(signal.pk, [(45, 1.0), (59.9, 3.0)])
    first, second = MinuteRollup.objects.filter(signal=signal).order_by("minute")
    assert (first.minute, first.value_min, first.value_max, first.value_sum, first.value_count) == (
        T0,
        1.0,
        4.0,
        10.0,
        4,
    )
    assert (second.minute, second.value_count, second.value_sum) == (
        T0 + timedelta(minutes=1),
        1,
        10.0,
    )


def test_a_redelivered_batch_adds_nothing_to_the_rollups():
    signal = make_asset().signals.get(slug="vibration")
    batch = store(signal.pk, [(0, 2.0), (1, 4.0)])
    batch_store(batch=Batch.from_message(batch.to_message()))
    rollup = MinuteRollup.objects.get(signal=signal)
    assert (rollup.value_count, rollup.value_sum) == (2, 6.0)


def test_huge_values_saturate_the_minute_sum_instead_of_refusing_the_reading():
    # float8 addition raises on overflow: without saturation the second batch's 1e308 would be
    # refused on every retry and finally dropped.
    signal = make_asset().signals.get(slug="vibration")
    store(signal.pk, [(0, 1e308)])
    store(signal.pk, [(1, 1e308), (2, 1.0)])
    store(signal.pk, [(3, -1e308)])
    assert Reading.objects.filter(signal=signal).count() == 4
    rollup = MinuteRollup.objects.get(signal=signal)
    assert rollup.value_count == 4
    assert rollup.value_max == 1e308
    assert math.isfinite(rollup.value_sum)
    assert rollup.value_sum == pytest.approx(sys.float_info.max - 1e308)


def test_a_week_trend_comes_from_rollups_in_at_most_the_asked_points():
    signal = make_asset().signals.get(slug="vibration")
    week = [(minute * 60.0, float(minute % 10)) for minute in range(7 * 24 * 60)]
    for start in range(0, len(week), 2000):
        store(signal.pk, week[start : start + 2000])
    trend = signal_trend_from_rollups(
        signal_id=signal.pk, start=T0, end=T0 + timedelta(days=7), max_points=1000
    )
    assert len(trend) <= 1000
    assert trend[0][0] == T0
    assert min(low for _, low, _, _ in trend) == 0.0
    assert max(high for _, _, _, high in trend) == 9.0
    assert sum(mean for _, _, mean, _ in trend) / len(trend) == pytest.approx(4.5, abs=0.05)
