"""Readings as columns, checked against plain Python on the same rows. No database."""

from __future__ import annotations

import struct
import sys

from hypothesis import given
from hypothesis import strategies as st

from plantops.telemetry.columns import FLOAT_MAX, PG_EPOCH_OFFSET_US, ReadingColumns

MINUTE = 60_000_000
BIG = sys.float_info.max

values = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([BIG, -BIG, BIG / 2, 0.0, -0.0]),
)
rows = st.lists(
    st.tuples(
        st.integers(1, 6),
        st.integers(1_700_000_000_000_000, 1_700_000_000_000_000 + 5 * MINUTE),
        values,
    ),
    max_size=60,
)


@given(rows)
def test_packing_round_trips_every_reading_exactly(readings):
    columns = ReadingColumns.unpack(ReadingColumns.from_rows(readings).pack())
    assert columns.rows() == readings


@given(rows)
def test_minute_aggregates_match_a_plain_loop(readings):
    expected: dict[tuple[int, int], list[float]] = {}
    for signal_id, ts_us, value in readings:
        expected.setdefault((signal_id, ts_us - ts_us % MINUTE), []).append(value)

    agg = ReadingColumns.from_rows(readings).minute_aggregates()

    keys = list(zip(agg.signal_ids.tolist(), agg.starts_us.tolist(), strict=True))
    assert keys == sorted(expected)
    for i, key in enumerate(keys):
        group = expected[key]
        assert agg.mins[i] == min(group)
        assert agg.maxes[i] == max(group)
        assert agg.counts[i] == len(group)
        # Saturation makes the sum depend on the order of addition; with no overflow it is
        # exact up to rounding.
        if all(abs(v) < BIG / 4 for v in group) and len(group) < 4:
            assert abs(agg.sums[i] - sum(group)) <= 1e-9 * max(1.0, sum(abs(v) for v in group))
        assert -FLOAT_MAX <= agg.sums[i] <= FLOAT_MAX


def test_a_minute_whose_sum_overflows_saturates_instead_of_becoming_inf_or_nan():
    t = 1_700_000_000_000_000
    readings = [(1, t, BIG), (1, t + 1, BIG), (2, t, -BIG), (2, t + 1, -BIG)]
    readings += [(3, t + i, v) for i, v in enumerate([BIG, BIG, -BIG, -BIG] * 3)]
    agg = ReadingColumns.from_rows(readings).minute_aggregates()
    assert agg.sums.tolist()[:2] == [FLOAT_MAX, -FLOAT_MAX]
    assert -FLOAT_MAX <= agg.sums[2] <= FLOAT_MAX  # finite, whatever the order of addition
    assert agg.counts.tolist() == [2, 2, 12]


@given(rows)
def test_newest_per_signal_matches_a_plain_loop(readings):
    expected: dict[int, tuple[int, float]] = {}
    for signal_id, ts_us, value in readings:
        if signal_id not in expected or ts_us >= expected[signal_id][0]:
            expected[signal_id] = (ts_us, value)
    newest = ReadingColumns.from_rows(readings).newest_per_signal()
    assert newest.rows() == [(s, t, v) for s, (t, v) in sorted(expected.items())]


@given(rows, st.integers(1, 5))
def test_series_per_signal_keeps_the_newest_points_in_time_order(readings, limit):
    expected: dict[int, list[tuple[int, float]]] = {}
    for signal_id, ts_us, value in sorted(readings, key=lambda r: (r[0], r[1])):
        expected.setdefault(signal_id, []).append((ts_us // 1000, value))
    series = ReadingColumns.from_rows(readings).series_per_signal(limit=limit)
    assert series == {s: points[-limit:] for s, points in expected.items()}


def test_copy_binary_is_postgresql_binary_copy_format():
    readings = [(7, PG_EPOCH_OFFSET_US + 1, 2.5), (2**40, 0, -1.0)]
    data = ReadingColumns.from_rows(readings).copy_binary()
    assert data[:11] == b"PGCOPY\n\xff\r\n\x00"
    assert struct.unpack("!ii", data[11:19]) == (0, 0)  # no flags, no header extension
    assert data[-2:] == b"\xff\xff"
    body = data[19:-2]
    row = struct.Struct("!hiqiqid")
    decoded = [row.unpack_from(body, offset) for offset in range(0, len(body), row.size)]
    # Timestamps count from 2000-01-01 in PostgreSQL's binary format.
    assert decoded == [(3, 8, 7, 8, 1, 8, 2.5), (3, 8, 2**40, 8, -PG_EPOCH_OFFSET_US, 8, -1.0)]


def test_an_empty_batch_has_empty_columns_everywhere():
    columns = ReadingColumns.from_rows([])
    assert len(columns) == 0
    assert columns.rows() == []
    assert len(columns.minute_aggregates()) == 0
    assert columns.newest_per_signal().rows() == []
    assert columns.series_per_signal(limit=3) == {}
    assert columns.distinct_signal_ids() == []
