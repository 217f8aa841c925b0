"""Hour rollups and the last value of each minute and hour: kept by the same statement as the
minutes, exactly from what each batch inserted, live or late."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from hypothesis import given
from hypothesis import strategies as st

from plantops.core.time import datetime_to_us
from plantops.pipeline.services import batch_store
from plantops.telemetry.batches import Batch
from plantops.telemetry.columns import ReadingColumns
from plantops.telemetry.models import HourRollup, MinuteRollup
from tests.factories import make_asset, make_batch
from tests.telemetry.test_late_rollups import deliver_live, late, readings, rows

T0 = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
HOUR = 3_600_000_000


def store(signal_id: int, points: list[tuple[float, float]]) -> Batch:
    batch = make_batch(
        readings=[(signal_id, datetime_to_us(T0 + timedelta(seconds=s)), v) for s, v in points]
    )
    batch_store(batch=Batch.from_message(batch.to_message()))
    return batch


def hours(**filters) -> dict:
    return {
        (signal_id, hour): rest
        for signal_id, hour, *rest in HourRollup.objects.filter(**filters).values_list(
            "signal_id",
            "hour",
            "value_min",
            "value_max",
            "value_sum",
            "value_count",
            "last_ts",
            "value_last",
        )
    }


@given(
    st.lists(
        st.tuples(
            st.integers(1, 3),
            st.integers(1_700_000_000_000_000, 1_700_000_000_000_000 + 3 * HOUR),
            st.floats(-1e6, 1e6),
        ),
        max_size=60,
    )
)
def test_hour_aggregates_and_last_values_match_a_plain_loop(readings_rows):
    expected: dict[tuple[int, int], list[tuple[int, float]]] = {}
    for signal_id, ts_us, value in readings_rows:
        expected.setdefault((signal_id, ts_us - ts_us % HOUR), []).append((ts_us, value))

    agg = ReadingColumns.from_rows(readings_rows).hour_aggregates()

    keys = list(zip(agg.signal_ids.tolist(), agg.starts_us.tolist(), strict=True))
    assert keys == sorted(expected)
    for i, key in enumerate(keys):
        group = expected[key]
        newest = max(ts for ts, _ in group)
        assert agg.mins[i] == min(v for _, v in group)
        assert agg.maxes[i] == max(v for _, v in group)
        assert agg.counts[i] == len(group)
        assert agg.last_ts_us[i] == newest
        # Of two readings at the same instant, the later arrival is the last.
        assert agg.lasts[i] == [v for ts, v in group if ts == newest][-1]


@pytest.mark.django_db
def test_hours_hold_what_their_minutes_hold_with_the_newest_reading_as_last():
    signal = make_asset().signals.get(slug="vibration")
    store(signal.pk, [(0, 2.0), (30, 4.0), (3599, 1.0), (3600, 10.0)])
    store(signal.pk, [(1800, 8.0), (3601, 5.0)])
    # Late: older than its minute's and its hour's last readings, which stay the last.
    store(signal.pk, [(15, -3.0)])

    assert hours(signal=signal) == {
        (signal.pk, T0): [-3.0, 8.0, 12.0, 5, T0 + timedelta(seconds=3599), 1.0],
        (signal.pk, T0 + timedelta(hours=1)): [
            5.0,
            10.0,
            15.0,
            2,
            T0 + timedelta(seconds=3601),
            5.0,
        ],
    }
    first_minute = MinuteRollup.objects.get(signal=signal, minute=T0)
    assert (first_minute.last_ts, first_minute.value_last) == (T0 + timedelta(seconds=30), 4.0)


@pytest.mark.django_db
def test_a_redelivered_or_partly_stored_batch_adds_nothing_twice_to_the_hours():
    signal = make_asset().signals.get(slug="vibration")
    batch = store(signal.pk, [(0, 2.0), (1, 4.0)])
    batch_store(batch=Batch.from_message(batch.to_message()))
    # Partly stored: on PostgreSQL the COPY fails and the fallback statement rolls up the
    # new reading alone.
    store(signal.pk, [(1, 4.0), (2, 9.0)])

    ((count, total, last),) = HourRollup.objects.filter(signal=signal).values_list(
        "value_count", "value_sum", "value_last"
    )
    assert (count, total, last) == (3, 15.0, 9.0)
    minute = MinuteRollup.objects.get(signal=signal)
    assert (minute.value_count, minute.value_last) == (3, 9.0)


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the COPY path is PostgreSQL's")
def test_the_fallback_statement_keeps_the_newest_as_last_whatever_order_it_came_in():
    signal = make_asset().signals.get(slug="vibration")
    store(signal.pk, [(5, 1.0)])
    store(signal.pk, [(5, 1.0), (50, 6.0), (20, 3.0)])  # redelivers one, so the fallback runs

    minute = MinuteRollup.objects.get(signal=signal)
    assert (minute.last_ts, minute.value_last, minute.value_count) == (
        T0 + timedelta(seconds=50),
        6.0,
        3,
    )


@pytest.mark.django_db
def test_a_backlog_delivered_late_ends_in_the_hours_and_last_values_of_live_delivery():
    on_time, cut_off = make_asset(), make_asset()
    deliver_live(on_time, readings(on_time))
    deliver_live(cut_off, [r for r in readings(cut_off) if not late(r)])
    backlog = [r for r in readings(cut_off) if late(r)]
    batch_store(batch=Batch.of(readings=rows(cut_off, backlog)))
    batch_store(batch=Batch.of(readings=rows(cut_off, backlog)))  # and again

    def by_slug(asset, model, key):
        return {
            (slug, at): (low, high, count, last_ts, last, total)
            for slug, at, low, high, count, last_ts, last, total in model.objects.filter(
                signal__asset=asset
            ).values_list(
                "signal__slug",
                key,
                "value_min",
                "value_max",
                "value_count",
                "last_ts",
                "value_last",
                "value_sum",
            )
        }

    for model, key in ((HourRollup, "hour"), (MinuteRollup, "minute")):
        live, late_ = by_slug(on_time, model, key), by_slug(cut_off, model, key)
        assert live.keys() == late_.keys()
        for period, (*exact, total) in live.items():
            assert late_[period][:-1] == tuple(exact)
            assert late_[period][-1] == pytest.approx(total, rel=1e-13)
    assert len(by_slug(on_time, HourRollup, "hour")) == 2 * 3
