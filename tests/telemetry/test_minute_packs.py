"""Closed hours' minutes packed in their hour rollups: reads give the same minutes packed or
not, a write to a packed hour empties its pack in the same statement, and packing skips the
hours being written."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from django.db import connection, transaction

from plantops.core.time import datetime_to_us
from plantops.pipeline.services import batch_store
from plantops.telemetry import history, minute_packs
from plantops.telemetry.history import Aggregation
from plantops.telemetry.models import HourRollup, MinuteRollup
from tests.factories import make_asset, make_batch

T0 = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)
LATER = T0 + timedelta(days=2)  # every hour of the tests long closed


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def store(*readings) -> None:
    batch_store(batch=make_batch(readings=[(s.pk, datetime_to_us(t), v) for s, t, v in readings]))


def minutes(ids: list[int], start: datetime, end: datetime):
    return history._read_minutes_postgresql(ids, start, end)


def assert_same(got, want) -> None:
    assert got.keys() == want.keys()
    for pk in want:
        np.testing.assert_array_equal(got[pk][0], want[pk][0])
        for name, column in want[pk][1].items():
            np.testing.assert_array_equal(got[pk][1][name], column, err_msg=name)
            assert got[pk][1][name].dtype == column.dtype, name


def packed_hours(signal) -> list[datetime]:
    return list(
        HourRollup.objects.filter(signal=signal, minutes__isnull=False)
        .order_by("hour")
        .values_list("hour", flat=True)
    )


@pytest.fixture
def signals():
    asset = make_asset(signals=("vibration", "temperature"))
    return asset.signals.get(slug="vibration"), asset.signals.get(slug="temperature")


@pytest.mark.django_db
def test_minutes_read_from_packs_are_the_minutes_read_from_the_rollups(signals):
    vibration, temperature = signals
    rng = np.random.default_rng(11)
    # Five hours with a silent one (08:00-09:00) and a signal that starts late.
    store(
        *[
            (vibration, at(s), float(rng.normal(3, 1)))
            for s in range(0, 5 * 3600, 7)
            if not 7200 <= s < 10800
        ],
        *[(temperature, at(s + 0.25), float(rng.normal(40, 2))) for s in range(5400, 18000, 13)],
    )
    # A minute rolled up before rollups kept last values: its last is unknown (NaN).
    MinuteRollup.objects.filter(signal=vibration, minute=at(600)).update(
        last_ts=None, value_last=None
    )
    ids = [vibration.pk, temperature.pk]
    ranges = [
        (T0, at(5 * 3600)),  # whole hours
        (at(1234.5), at(4 * 3600 + 321)),  # edges inside hours
        (at(3600), at(3660)),  # one minute
        (at(7300), at(10700)),  # the silent hour only
    ]
    unpacked = [minutes(ids, start, end) for start, end in ranges]

    assert minute_packs.packs_make(now=LATER) == 4 + 4  # hours that hold minutes
    assert packed_hours(vibration) == [T0, at(3600), at(3 * 3600), at(4 * 3600)]
    for (start, end), before in zip(ranges, unpacked, strict=True):
        assert_same(minutes(ids, start, end), before)
        # The same as the generic read of the minute rollups, and as the portable one.
        source = history._SOURCES[Aggregation.MINUTE]
        assert_same(
            minutes(ids, start, end),
            history._read_postgresql(ids, start, end, Aggregation.MINUTE, source),
        )
    vibration_minutes = unpacked[0][vibration.pk]
    assert np.isnan(vibration_minutes[1]["last"][10])
    assert len(vibration_minutes[0]) == 4 * 60


@pytest.mark.django_db
def test_a_late_reading_empties_its_hours_pack_and_is_read_at_once(signals):
    vibration, _ = signals
    store(*[(vibration, at(s), 1.0) for s in range(0, 3 * 3600, 10)])
    minute_packs.packs_make(now=LATER)
    assert packed_hours(vibration) == [T0, at(3600), at(7200)]

    store((vibration, at(3600 + 95.5), 100.0))  # late, into the packed second hour

    assert packed_hours(vibration) == [T0, at(7200)]
    ts, columns = minutes([vibration.pk], T0, at(3 * 3600))[vibration.pk]
    minute = int(np.flatnonzero(ts == datetime_to_us(at(3600 + 60)))[0])
    assert columns["max"][minute] == 100.0
    assert columns["count"][minute] == 7
    assert minute_packs.packs_make(now=LATER) == 1
    assert_same(
        minutes([vibration.pk], T0, at(3 * 3600)),
        history._read_portable(
            [vibration.pk], T0, at(3 * 3600), Aggregation.MINUTE, history._SOURCES["minute"]
        ),
    )


@pytest.mark.django_db
def test_hours_open_or_just_closed_are_not_packed(signals):
    vibration, _ = signals
    store(*[(vibration, at(s), 1.0) for s in range(0, 3 * 3600, 30)])
    # At 08:05 the 07:00 hour closed five minutes ago: data for it may still be on its way.
    assert minute_packs.packs_make(now=at(2 * 3600 + 300)) == 1
    assert packed_hours(vibration) == [T0]
    assert minute_packs.packs_make(now=at(2 * 3600 + 660)) == 1
    assert packed_hours(vibration) == [T0, at(3600)]


@pytest.mark.django_db(transaction=True)
def test_an_hour_a_batch_is_writing_is_skipped_and_packed_after_it(signals):
    vibration, temperature = signals
    store(*[(s, at(t), 1.0) for s in signals for t in range(0, 3600, 30)])
    written, release = threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def batch_in_flight() -> None:
        try:
            with transaction.atomic():
                store((vibration, at(1800.5), 50.0))
                written.set()
                assert release.wait(30)
        except BaseException as error:  # reported by the test's thread
            failures.append(error)
            written.set()
        finally:
            connection.close()

    writer = threading.Thread(target=batch_in_flight)
    writer.start()
    try:
        assert written.wait(30)
        assert minute_packs.packs_make(now=LATER) == 1  # temperature's; vibration's is locked
        assert packed_hours(vibration) == []
        assert packed_hours(temperature) == [T0]
    finally:
        release.set()
        writer.join(30)
    assert not failures
    assert minute_packs.packs_make(now=LATER) == 1
    _, columns = minutes([vibration.pk], T0, at(3600))[vibration.pk]
    assert columns["max"].max() == 50.0
    assert int(columns["count"].sum()) == 121
