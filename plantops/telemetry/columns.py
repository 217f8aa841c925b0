"""A batch's readings as three columns: the worker's per-reading work done by numpy, not Python.

Pure: numpy only, no Django. Three uses, each replacing a loop over thousands of tuples:

- packing for the Celery message (three base64 strings instead of a JSON list of lists, which
  cost ingest and worker several microseconds per reading to encode and decode);
- PostgreSQL's binary COPY format, so a batch is one COPY instead of a statement whose
  parameters are formatted reading by reading;
- the per-minute and per-hour rollups, the newest reading per signal and the live points per
  signal.
"""

from __future__ import annotations

import base64
import binascii
import sys
from dataclasses import dataclass

import numpy as np

# The largest finite float8: minute sums saturate here instead of overflowing.
FLOAT_MAX = sys.float_info.max
MINUTE_US = 60_000_000
HOUR_US = 3_600_000_000
# PostgreSQL's binary timestamps count microseconds from 2000-01-01 00:00:00 UTC.
PG_EPOCH_OFFSET_US = 946_684_800_000_000
_COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
_COPY_TRAILER = b"\xff\xff"
# One tuple of COPY (signal_id bigint, ts timestamptz, value double precision), network order.
_COPY_ROW = np.dtype(
    [
        ("fields", ">i2"),
        ("signal_len", ">i4"),
        ("signal_id", ">i8"),
        ("ts_len", ">i4"),
        ("ts", ">i8"),
        ("value_len", ">i4"),
        ("value", ">f8"),
    ]
)
_PACKED = {"signal_id": "<i8", "ts_us": "<i8", "value": "<f8"}


@dataclass(frozen=True, slots=True)
class PeriodAggregates:
    """Min, max, sum, count and the newest reading per (signal, UTC minute or hour), in key
    order; `starts_us` holds each minute's or hour's start."""

    signal_ids: np.ndarray
    starts_us: np.ndarray
    mins: np.ndarray
    maxes: np.ndarray
    sums: np.ndarray
    counts: np.ndarray
    last_ts_us: np.ndarray
    lasts: np.ndarray

    def __len__(self) -> int:
        return len(self.signal_ids)


@dataclass(frozen=True, slots=True)
class ReadingColumns:
    """Readings `(signal_id, ts_us, value)` as int64, int64 and float64 arrays of equal length."""

    signal_ids: np.ndarray
    ts_us: np.ndarray
    values: np.ndarray

    @classmethod
    def empty(cls) -> ReadingColumns:
        return cls._of(np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.float64))

    @classmethod
    def from_rows(cls, rows: list[tuple[int, int, float]]) -> ReadingColumns:
        if not rows:
            return cls.empty()
        signal_ids, ts_us, values = zip(*rows, strict=True)
        return cls._of(
            np.array(signal_ids, dtype=np.int64),
            np.array(ts_us, dtype=np.int64),
            np.array(values, dtype=np.float64),
        )

    @classmethod
    def _of(cls, signal_ids: np.ndarray, ts_us: np.ndarray, values: np.ndarray) -> ReadingColumns:
        return cls(signal_ids=signal_ids, ts_us=ts_us, values=values)

    # --- the Celery message ---------------------------------------------------------------------
    def pack(self) -> dict[str, str]:
        """Each column as base64 of its little-endian bytes: JSON-safe and exact."""
        return {
            name: base64.b64encode(np.ascontiguousarray(column, dtype=dtype).tobytes()).decode()
            for (name, dtype), column in zip(
                _PACKED.items(), (self.signal_ids, self.ts_us, self.values), strict=True
            )
        }

    @classmethod
    def unpack(cls, packed: dict[str, str]) -> ReadingColumns:
        """The inverse of `pack`; ValueError if the columns are malformed or of unequal length."""
        try:
            columns = [
                np.frombuffer(binascii.a2b_base64(packed[name], strict_mode=True), dtype=dtype)
                for name, dtype in _PACKED.items()
            ]
        except (KeyError, TypeError, ValueError, binascii.Error) as error:
            raise ValueError(f"malformed packed readings: {error}") from None
        if len({len(column) for column in columns}) != 1:
            raise ValueError("packed reading columns differ in length")
        signal_ids, ts_us, values = (
            column.astype(column.dtype.newbyteorder("=")) for column in columns
        )
        return cls._of(signal_ids, ts_us, values)

    def rows(self) -> list[tuple[int, int, float]]:
        """The readings as `(signal_id, ts_us, value)` tuples: for SQLite, which takes rows."""
        return list(
            zip(self.signal_ids.tolist(), self.ts_us.tolist(), self.values.tolist(), strict=True)
        )

    def __len__(self) -> int:
        return len(self.signal_ids)

    def __getitem__(self, which: slice | np.ndarray) -> ReadingColumns:
        """The readings a slice or a boolean mask picks, in order."""
        return self._of(self.signal_ids[which], self.ts_us[which], self.values[which])

    def joined(self, other: ReadingColumns) -> ReadingColumns:
        """These readings followed by `other`'s."""
        return self._of(
            np.concatenate((self.signal_ids, other.signal_ids)),
            np.concatenate((self.ts_us, other.ts_us)),
            np.concatenate((self.values, other.values)),
        )

    def distinct_signal_ids(self) -> list[int]:
        return np.unique(self.signal_ids).tolist()

    def of_signals(self, signal_ids: list[int]) -> ReadingColumns:
        """Only the readings of these signals."""
        return self[np.isin(self.signal_ids, signal_ids)]

    def per_signal(self) -> dict[int, list[tuple[int, float]]]:
        """Signal id → its `(ts_us, value)` readings, in time order (arrival order for equal
        times)."""
        return self._split(self._order(), self.ts_us)

    # --- PostgreSQL ------------------------------------------------------------------------------
    def copy_binary(self) -> bytes:
        """The readings in PostgreSQL's binary COPY format, signature and trailer included, for
        `COPY … (signal_id, ts, value) FROM STDIN (FORMAT BINARY)`.

        In key order: a gateway's messages interleave its signals, and rows in the primary
        key's order go into each index page one after another instead of visiting every
        signal's page for every instant."""
        order = self._order()
        rows = np.empty(len(self), dtype=_COPY_ROW)
        rows["fields"] = 3
        rows["signal_len"] = 8
        rows["signal_id"] = self.signal_ids[order]
        rows["ts_len"] = 8
        rows["ts"] = self.ts_us[order] - PG_EPOCH_OFFSET_US
        rows["value_len"] = 8
        rows["value"] = self.values[order]
        return _COPY_SIGNATURE + rows.tobytes() + _COPY_TRAILER

    # --- aggregates -----------------------------------------------------------------------------
    def _order(self) -> np.ndarray:
        """Indices that sort by signal, then time (stable: equal keys keep arrival order)."""
        return np.lexsort((self.ts_us, self.signal_ids))

    def minute_aggregates(self) -> PeriodAggregates:
        """Per (signal, minute) aggregates of every reading; sums saturate at ±FLOAT_MAX."""
        return self._aggregates(MINUTE_US)

    def hour_aggregates(self) -> PeriodAggregates:
        """Per (signal, UTC hour) aggregates of every reading, as `minute_aggregates` makes."""
        return self._aggregates(HOUR_US)

    def _aggregates(self, width_us: int) -> PeriodAggregates:
        # In time order within each signal, so each group's last element is its newest reading
        # (equal times keep arrival order: the latest arrival is taken as the last).
        order = self._order()
        signal_ids, ts_us, values = self.signal_ids[order], self.ts_us[order], self.values[order]
        starts_us = ts_us - ts_us % width_us
        if not len(values):
            empty_f, empty_i = np.empty(0, np.float64), np.empty(0, np.int64)
            return PeriodAggregates(
                empty_i, empty_i, empty_f, empty_f, empty_f, empty_i, empty_i, empty_f
            )
        new_group = np.empty(len(values), dtype=bool)
        new_group[0] = True
        new_group[1:] = (signal_ids[1:] != signal_ids[:-1]) | (starts_us[1:] != starts_us[:-1])
        starts = np.flatnonzero(new_group)
        ends = np.append(starts[1:], len(values))
        with np.errstate(over="ignore", invalid="ignore"):
            sums = np.add.reduceat(values, starts)
        overflowed = np.flatnonzero(~np.isfinite(sums))
        if len(overflowed):
            # Pairwise summation can turn two overflows of opposite sign into NaN: add those
            # few groups again one reading at a time, saturating as the database does.
            for group in overflowed:
                sums[group] = _saturating_sum(values[starts[group] : ends[group]].tolist())
        return PeriodAggregates(
            signal_ids=signal_ids[starts],
            starts_us=starts_us[starts],
            mins=np.minimum.reduceat(values, starts),
            maxes=np.maximum.reduceat(values, starts),
            sums=sums,
            counts=ends - starts,
            last_ts_us=ts_us[ends - 1],
            lasts=values[ends - 1],
        )

    def newest_per_signal(self) -> ReadingColumns:
        """The newest reading of each signal, in signal order."""
        order = self._order()
        signal_ids = self.signal_ids[order]
        last = np.ones(len(order), dtype=bool)
        last[:-1] = signal_ids[1:] != signal_ids[:-1]
        keep = order[last]
        return self._of(self.signal_ids[keep], self.ts_us[keep], self.values[keep])

    def series_per_signal(self, *, limit: int) -> dict[int, list[tuple[int, float]]]:
        """Signal id → its newest `limit` points `(ms, value)` in time order, for live charts."""
        order = self._order()
        if len(order):
            # The newest `limit` of each signal: drop a reading when the one `limit` places
            # after it is of the same signal.
            sorted_ids = self.signal_ids[order]
            keep = np.ones(len(order), dtype=bool)
            keep[:-limit] = sorted_ids[:-limit] != sorted_ids[limit:]
            order = order[keep]
        return self._split(order, self.ts_us // 1000)

    def _split(self, order: np.ndarray, times: np.ndarray) -> dict[int, list[tuple[int, float]]]:
        """Per signal, its `(time, value)` pairs in `order`, `times` being the readings' times
        in the unit wanted."""
        if not len(order):
            return {}
        signal_ids = self.signal_ids[order]
        pairs = list(zip(times[order].tolist(), self.values[order].tolist(), strict=True))
        bounds = (np.flatnonzero(np.diff(signal_ids)) + 1).tolist()
        return {
            int(signal_ids[start]): pairs[start:end]
            for start, end in zip([0, *bounds], [*bounds, len(order)], strict=True)
        }


def _saturating_sum(values: list[float]) -> float:
    total = 0.0
    for value in values:
        total = max(-FLOAT_MAX, min(FLOAT_MAX, total + value))
    return total
