#!/usr/bin/env python
"""Why API v1's readings keep their points' times in UTC: the cost of writing a week of minutes
of 20 signals (201,600 points) with a `Z`, as `plantops.api.readings` does, against writing
each point on the site's clock with its own offset (Europe/Berlin, over a change from summer
time), vectorised as far as numpy goes. Pure: no database.

Prints each encoding's p50/p95 over 30 runs and the ratio, and a last line
`utc_p95_ms=… local_p95_ms=… ratio=…`. The readings' 100 ms p95 (bench/api.py) leaves no room
for the difference.
"""

from __future__ import annotations

import statistics
import sys
import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np
import orjson

SIGNALS = 20
MINUTES = 7 * 24 * 60
RUNS = 30
ZONE = ZoneInfo("Europe/Berlin")
# The readings' own options (plantops.api.readings._ORJSON), without importing Django.
UTC_Z = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NAIVE_UTC | orjson.OPT_UTC_Z


def columns() -> list[np.ndarray]:
    start = np.datetime64("2026-10-21T00:00:00", "us")  # the week over 25 October's change
    minutes = np.arange(MINUTES).astype("timedelta64[m]").astype("timedelta64[us]")
    return [start + minutes for _ in range(SIGNALS)]


def utc(ts: np.ndarray) -> bytes:
    return orjson.dumps({"ts": ts}, option=UTC_Z)


def local(ts: np.ndarray) -> bytes:
    seconds = ts.astype("datetime64[s]").astype(np.int64)
    hours, where = np.unique(seconds // 3600, return_inverse=True)
    offsets = np.array(
        [
            datetime.fromtimestamp(h * 3600, UTC).astimezone(ZONE).utcoffset().total_seconds()
            for h in hours
        ],
        dtype=np.int64,
    )[where]
    walls = np.datetime_as_string((seconds + offsets).astype("datetime64[s]"), unit="s")
    signs = np.where(offsets < 0, "-", "+")
    marks = np.char.add(
        signs, np.char.add(np.char.zfill((abs(offsets) // 3600).astype(str), 2), ":00")
    )
    return orjson.dumps({"ts": np.char.add(walls, marks).tolist()})


def timed(encode) -> list[float]:
    data = columns()
    runs = []
    for _ in range(RUNS):
        began = time.perf_counter()
        for ts in data:
            encode(ts)
        runs.append((time.perf_counter() - began) * 1000)
    return runs


def p95(runs: list[float]) -> float:
    return statistics.quantiles(runs, n=20)[-1]


def main() -> int:
    sample = columns()[0]
    assert orjson.loads(utc(sample))["ts"][0] == "2026-10-21T00:00:00Z"
    assert orjson.loads(local(sample))["ts"][0] == "2026-10-21T02:00:00+02:00"
    assert orjson.loads(local(sample))["ts"][-1] == "2026-10-28T00:59:00+01:00"
    fast, slow = timed(utc), timed(local)
    for name, runs in (("UTC with Z (as served)", fast), ("site's clock, own offsets", slow)):
        print(f"{name:28} p50 {statistics.median(runs):7.1f} ms   p95 {p95(runs):7.1f} ms")
    ratio = p95(slow) / p95(fast)
    print(f"local offsets cost {ratio:.1f}× the UTC encoding for {SIGNALS * MINUTES:,} points")
    print(f"utc_p95_ms={p95(fast):.1f} local_p95_ms={p95(slow):.1f} ratio={ratio:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
