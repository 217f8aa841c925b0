"""A gateway's backlog, delivered late in one burst, ends in the rollups and trend charts that
the same readings delivered live would have made."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from plantops.core.time import datetime_to_us
from plantops.floor.selectors import asset_trend, trend_range
from plantops.pipeline.services import batch_store
from plantops.telemetry.batches import Batch
from plantops.telemetry.models import MinuteRollup
from tests.factories import make_asset

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)
END = T0 + timedelta(hours=3)
# The vibration gateway is cut off from 06:40:30 to 07:50:00: the minute 06:40 has its first
# half live and its second half late. Temperature comes through another gateway, live.
CUT_OFF = (T0 + timedelta(minutes=40, seconds=30), T0 + timedelta(minutes=110))


def readings(asset) -> list[tuple[str, datetime, float]]:
    """Three hours of both signals every 5 s, as a sensor reports them (three decimals)."""
    rng = np.random.default_rng(3)
    out = []
    for slug in ("vibration", "temperature"):
        for k in range(int((END - T0).total_seconds() // 5)):
            value = round(float(rng.normal(3.0, 0.8)), 3)
            out.append(
                (slug, T0 + timedelta(seconds=5 * k + (1 if slug == "temperature" else 0)), value)
            )
    return out


def rows(asset, chosen):
    ids = dict(asset.signals.values_list("slug", "pk"))
    return [(ids[slug], datetime_to_us(at), value) for slug, at, value in chosen]


def deliver_live(asset, chosen, *, every: timedelta = timedelta(seconds=20)) -> None:
    """Batches of what was read in each `every`, in time order, as ingest hands them on."""
    by_time = sorted(chosen, key=lambda r: r[1])
    start = T0
    while start < END:
        part = [r for r in by_time if start <= r[1] < start + every]
        if part:
            batch_store(batch=Batch.of(readings=rows(asset, part)))
        start += every


def late(row) -> bool:
    slug, at, _ = row
    return slug == "vibration" and CUT_OFF[0] <= at < CUT_OFF[1]


def rollups(asset) -> dict:
    return {
        (slug, minute): (low, high, total, count)
        for slug, minute, low, high, total, count in MinuteRollup.objects.filter(
            signal__asset=asset
        ).values_list(
            "signal__slug", "minute", "value_min", "value_max", "value_sum", "value_count"
        )
    }


def trends(asset) -> dict:
    return {
        key: asset_trend(asset_id=asset.pk, trend_range=trend_range(key), now=END)["signals"]
        for key in ("8h", "24h", "7d")
    }


def assert_same_rollups(got: dict, expected: dict) -> None:
    """Minutes, minima, maxima and counts exactly; sums to the last bits floating-point addition
    leaves, which depend on how the readings were grouped into batches, live or late alike."""
    assert got.keys() == expected.keys()
    for key, (low, high, total, count) in expected.items():
        assert got[key][0:2] == (low, high)
        assert got[key][3] == count
        assert got[key][2] == pytest.approx(total, rel=1e-13)


def assert_same_trends(got: dict, expected: dict) -> None:
    assert got.keys() == expected.keys()
    for key, series in expected.items():
        assert got[key].keys() == series.keys()
        for slug, points in series.items():
            assert [(at, low, high) for at, low, _, high in got[key][slug]] == [
                (at, low, high) for at, low, _, high in points
            ]
            assert [mean for _, _, mean, _ in got[key][slug]] == pytest.approx(
                [mean for _, _, mean, _ in points], rel=1e-13
            )


def test_a_backlog_delivered_late_and_again_ends_in_the_rollups_and_trends_of_live_delivery():
    on_time, cut_off = make_asset(), make_asset()
    deliver_live(on_time, readings(on_time))

    backlog = [r for r in readings(cut_off) if late(r)]
    deliver_live(cut_off, [r for r in readings(cut_off) if not late(r)])
    partial = MinuteRollup.objects.get(
        signal__asset=cut_off, signal__slug="vibration", minute=T0 + timedelta(minutes=40)
    )
    burst = Batch.of(readings=rows(cut_off, backlog))
    batch_store(batch=burst)
    after_burst = rollups(cut_off)
    batch_store(batch=Batch.of(readings=rows(cut_off, backlog)))  # the gateway sends it again

    assert partial.value_count == 6  # 06:40:00 to 06:40:25 came live
    assert len(backlog) == 834
    assert rollups(cut_off) == after_burst
    assert_same_rollups(rollups(cut_off), rollups(on_time))
    assert_same_trends(trends(cut_off), trends(on_time))
    assert len(rollups(on_time)) == 2 * 180
