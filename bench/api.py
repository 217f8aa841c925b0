#!/usr/bin/env python
"""API v1 readings on six months of data: a week of minutes and a month of hours of 20 signals,
through the API, against the same aggregates computed from raw readings in the same run.

Builds its own PostgreSQL database (dropped at the end): 20 signals at 1 Hz, with the minute
rollups of 182 days, their hour rollups, and the raw readings of the last 7 days (12.1 million
rows; the months before hold rollups only, as the raw table would after this bench's shortcut).
The last week's rollups are made from those readings, so API and raw can be compared point by
point; the earlier minutes are synthetic, and the hours are rolled from the minutes. Then
each closed hour's minutes are packed into its hour rollup, as the `telemetry.pack_minutes`
beat task keeps them (`plantops/telemetry/minute_packs.py`).

Times, 30 runs each, through Django's test client with an API token, from the request to the
last chunk of the streamed JSON body:
  (a) GET /api/v1/readings, 20 signals, 7 days, aggregation=minute (201,600 points, read
      from 3,360 packed hours), beside the same minutes from the raw table (SQL GROUP BY,
      7 days, 3 runs) and from the minute rollups row by row (201,600 rows, as before packs);
  (b) GET /api/v1/readings, 20 signals, 30 days, aggregation=hour (14,400 points), beside the
      hours from the raw table over the 7 days it holds (3 runs: a quarter of the range, so
      the ratio flatters raw) and the hours merged from the minute rollups over the same 30
      days (what the read would cost without hour rollups).
Prints p50/p95, the ratios, and a last line `minute_p95_ms=… minute_raw_p95_ms=… hour_p95_ms=…
hour_raw_p95_ms=… hour_from_minutes_p95_ms=…`. Exits 1 if a p95 of the API misses 100 ms or
the API's points differ from the raw readings' aggregates.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from own_database import run_in_own_database  # noqa: E402 - bench/ is the script's directory

DAYS = 182
RAW_DAYS = 7
HOUR_READ_DAYS = 30
ASSETS, SIGNALS_PER_ASSET = 4, 5
RUNS = 30
RAW_RUNS = 3
TARGET_P95_MS = 100.0
BENCH_DB = "plantops_bench_api"
END = datetime(2026, 11, 22, tzinfo=UTC)


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1] if len(samples) > 1 else samples[0]


def main() -> int:
    return run_in_own_database(BENCH_DB, "bench/api.py", run)


def build(signal_ids: list[int]) -> None:
    """Raw readings of the last RAW_DAYS, minute rollups of DAYS, hour rollups from them."""
    from django.db import connection

    raw_start = END - timedelta(days=RAW_DAYS)
    rollup_start = END - timedelta(days=DAYS)
    # A slow wave per signal with a noise made of a fast one: minutes and hours whose min, max,
    # mean and last all differ, and whose last values are known without sorting readings.
    value = (
        "3 + sin(extract(epoch FROM {t}) / 600.0 + s.id)"
        " + 0.1 * sin(extract(epoch FROM {t}) * 12.9898 + s.id * 78.233)"
    )
    with connection.cursor() as cursor:
        # This database is dropped at the end: no write-ahead log for its millions of rows.
        # Reads are the same for logged and unlogged tables.
        for table in ("telemetry_reading", "telemetry_minuterollup", "telemetry_hourrollup"):
            cursor.execute(f"ALTER TABLE {table} SET UNLOGGED")
        began = time.perf_counter()
        cursor.execute(
            "INSERT INTO telemetry_reading (signal_id, ts, value)"
            f" SELECT s.id, t, {value.format(t='t')}"
            " FROM unnest(%s::bigint[]) AS s (id),"
            " generate_series(%s::timestamptz, %s::timestamptz, interval '1 second') AS t"
            " ORDER BY s.id, t",
            [signal_ids, raw_start, END - timedelta(seconds=1)],
        )
        print(f"  {cursor.rowcount:,} raw readings in {time.perf_counter() - began:.0f} s")

        began = time.perf_counter()
        # The worker's minute rollups of those readings, as it would have kept them; each
        # minute's last reading is at its 59th second.
        last = "date_trunc('minute', ts, 'UTC') + interval '59 seconds'"
        cursor.execute(
            "INSERT INTO telemetry_minuterollup (signal_id, minute, value_min, value_max,"
            " value_sum, value_count, last_ts, value_last)"
            " SELECT s.id, minute, low, high, total, n, last_ts,"
            f" {value.format(t='last_ts')}"
            " FROM (SELECT signal_id, date_trunc('minute', ts, 'UTC') AS minute, min(value) AS low,"
            f" max(value) AS high, sum(value) AS total, count(*) AS n, max({last}) AS last_ts"
            " FROM telemetry_reading GROUP BY 1, 2) AS m JOIN (SELECT unnest(%s::bigint[])) AS s (id)"
            " ON s.id = m.signal_id ORDER BY 1, 2",
            [signal_ids],
        )
        recent = cursor.rowcount
        # The months before: minutes of 60 readings each, as rolled up before retention.
        wave = value.format(t="m")
        minute_last = value.format(t="(m + interval '59 seconds')")
        cursor.execute(
            "INSERT INTO telemetry_minuterollup (signal_id, minute, value_min, value_max,"
            " value_sum, value_count, last_ts, value_last)"
            f" SELECT s.id, m, {wave} - 0.3, {wave} + 0.3, ({wave}) * 60, 60,"
            f" m + interval '59 seconds', {minute_last}"
            " FROM unnest(%s::bigint[]) AS s (id),"
            " generate_series(%s::timestamptz, %s::timestamptz, interval '1 minute') AS m"
            " ORDER BY s.id, m",
            [signal_ids, rollup_start, raw_start - timedelta(minutes=1)],
        )
        minutes = recent + cursor.rowcount
        cursor.execute(
            "INSERT INTO telemetry_hourrollup (signal_id, hour, value_min, value_max, value_sum,"
            " value_count, last_ts, value_last)"
            " SELECT signal_id, date_trunc('hour', minute, 'UTC'), min(value_min),"
            " max(value_max), sum(value_sum), sum(value_count), max(last_ts),"
            f" {value.format(t='max(last_ts)')}"
            " FROM telemetry_minuterollup JOIN (SELECT unnest(%s::bigint[])) AS s (id)"
            " ON s.id = signal_id GROUP BY 1, 2, s.id ORDER BY 1, 2",
            [signal_ids],
        )
        hours = cursor.rowcount
        print(
            f"  {minutes:,} minute and {hours:,} hour rollups in "
            f"{time.perf_counter() - began:.0f} s"
        )
    # The closed hours' minutes packed, as the beat task keeps them.
    from plantops.telemetry.minute_packs import packs_make_all

    began = time.perf_counter()
    packed = packs_make_all(now=END + timedelta(hours=2), budget_s=3600)
    print(f"  {packed:,} hours' minutes packed in {time.perf_counter() - began:.0f} s")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def timed(fn: Callable[[], object], runs: int, *, warm: bool = True) -> tuple[list[float], object]:
    if warm:  # the API is measured hot; a raw scan of millions of rows gains nothing from it
        fn()
    samples, result = [], None
    for _ in range(runs):
        began = time.perf_counter()
        result = fn()
        samples.append((time.perf_counter() - began) * 1000)
    return samples, result


def report(name: str, samples: list[float], what: str) -> float:
    print(
        f"  {name:<34} p50 {statistics.median(samples):8.1f} ms   p95 {p95(samples):8.1f} ms"
        f"   {what}"
    )
    return p95(samples)


RAW_AGGREGATES = (
    "SELECT signal_id, date_trunc(%s, ts, 'UTC') AS bucket, min(value), max(value), avg(value),"
    " (array_agg(value ORDER BY ts DESC))[1], count(*) FROM telemetry_reading"
    " WHERE signal_id = ANY(%s) AND ts >= %s AND ts < %s GROUP BY 1, 2 ORDER BY 1, 2"
)
HOURS_FROM_MINUTES = (
    "SELECT signal_id, date_trunc('hour', minute, 'UTC'), min(value_min), max(value_max),"
    " sum(value_sum) / sum(value_count), (array_agg(value_last ORDER BY last_ts DESC))[1],"
    " sum(value_count) FROM telemetry_minuterollup"
    " WHERE signal_id = ANY(%s) AND minute >= %s AND minute < %s GROUP BY 1, 2 ORDER BY 1, 2"
)


def disagreements(api_body: dict, rows: list[tuple]) -> list[str]:
    """Where the API's points differ from `(signal, bucket, min, max, mean, last, count)` rows."""
    expected: dict[int, list[tuple]] = {}
    for signal_id, bucket, *values in rows:
        expected.setdefault(signal_id, []).append((bucket, *values))
    problems = []
    for series in api_body["signals"]:
        points = series["points"]
        want = expected.get(series["signal_id"], [])
        got = list(
            zip(
                (datetime.fromisoformat(t) for t in points["ts"]),
                points["min"],
                points["max"],
                points["mean"],
                points["last"],
                points["count"],
                strict=True,
            )
        )
        if len(got) != len(want):
            problems.append(f"signal {series['signal_id']}: {len(got)} points, {len(want)} wanted")
            continue
        for g, w in zip(got, want, strict=True):
            exact = (g[0], g[1], g[2], g[4], g[5]) == (w[0], w[1], w[2], w[4], w[5])
            if not exact or abs(g[3] - w[3]) > 1e-9 * max(1.0, abs(w[3])):
                problems.append(f"signal {series['signal_id']} at {g[0]}: {g} != {w}")
                break
    return problems


def run() -> int:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from plantops.core.models import TokenScope
    from tests.api.tokens import bearer
    from tests.factories import make_asset, make_user

    call_command("migrate", verbosity=0)
    signal_ids = [
        signal.pk
        for n in range(ASSETS)
        for signal in make_asset(
            signals=tuple(f"signal-{n}-{k}" for k in range(SIGNALS_PER_ASSET))
        ).signals.order_by("pk")
    ]
    print(f"building {DAYS} days of {len(signal_ids)} signals at 1 Hz:")
    build(signal_ids)

    client = Client()
    headers = bearer(make_user(role="manager"), TokenScope.READ)
    ids = "&".join(f"signal_id={pk}" for pk in signal_ids)

    def url(days: int, aggregation: str) -> str:
        start = (END - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")
        return (
            f"/api/v1/readings?{ids}&from={start}&to={END:%Y-%m-%dT%H:%M:%SZ}"
            f"&aggregation={aggregation}"
        )

    def api(days: int, aggregation: str) -> Callable[[], int]:
        def get() -> int:
            """The request, to the last chunk of its body as a server sends them (a signal
            each); the body's size."""
            response = client.get(url(days, aggregation), **headers)
            assert response.status_code == 200, response.content[:300]
            return sum(map(len, response.streaming_content))

        return get

    def body(days: int, aggregation: str) -> bytes:
        """The whole body, to check its points (once, outside the timing)."""
        return b"".join(client.get(url(days, aggregation), **headers).streaming_content)

    def sql(statement: str, params: list) -> Callable[[], list[tuple]]:
        def query() -> list[tuple]:
            with connection.cursor() as cursor:
                cursor.execute(statement, params)
                return cursor.fetchall()

        return query

    week = [signal_ids, END - timedelta(days=RAW_DAYS), END]
    month = [signal_ids, END - timedelta(days=HOUR_READ_DAYS), END]
    print(f"\n(a) {RAW_DAYS} days of minutes of {len(signal_ids)} signals")
    samples, size = timed(api(RAW_DAYS, "minute"), RUNS)
    minute_body = orjson.loads(body(RAW_DAYS, "minute"))
    points = sum(len(s["points"]["ts"]) for s in minute_body["signals"])
    minute_p95 = report("API (packed minutes)", samples, f"{points:,} points, {size / 1e6:.1f} MB")
    samples, rows = timed(sql(RAW_AGGREGATES, ["minute", *week]), RAW_RUNS, warm=False)
    minute_raw_p95 = report("raw table, GROUP BY minute", samples, f"{len(rows):,} rows")
    minute_problems = disagreements(minute_body, rows)
    from plantops.telemetry import history

    def read(unpacked: bool) -> Callable[[], object]:
        start = END - timedelta(days=RAW_DAYS)
        if unpacked:
            source = history._SOURCES[history.Aggregation.MINUTE]
            return lambda: history._read_postgresql(
                signal_ids, start, END, history.Aggregation.MINUTE, source
            )
        return lambda: history._read_minutes_postgresql(signal_ids, start, END)

    samples, _ = timed(read(unpacked=False), RUNS)
    packed_read_p95 = report("database read, packed hours", samples, "columns, no JSON")
    samples, _ = timed(read(unpacked=True), RUNS)
    unpacked_read_p95 = report("database read, minute rows", samples, "columns, no JSON")
    print(
        f"  raw/API p95 = {minute_raw_p95 / minute_p95:.0f}x;"
        f" minute rows/packed hours (read only) = {unpacked_read_p95 / packed_read_p95:.1f}x"
    )

    print(f"\n(b) {HOUR_READ_DAYS} days of hours of {len(signal_ids)} signals")
    samples, size = timed(api(HOUR_READ_DAYS, "hour"), RUNS)
    hour_body = orjson.loads(body(HOUR_READ_DAYS, "hour"))
    points = sum(len(s["points"]["ts"]) for s in hour_body["signals"])
    hour_p95 = report("API (hour rollups)", samples, f"{points:,} points, {size / 1e6:.1f} MB")
    samples, rows = timed(sql(HOURS_FROM_MINUTES, month), RAW_RUNS)
    from_minutes_p95 = report(
        f"minute rollups, GROUP BY hour, {HOUR_READ_DAYS} d", samples, f"{len(rows):,} rows"
    )
    hour_problems = disagreements(hour_body, rows)
    samples, rows = timed(sql(RAW_AGGREGATES, ["hour", *week]), RAW_RUNS, warm=False)
    hour_raw_p95 = report(
        f"raw table, GROUP BY hour, {RAW_DAYS} d only", samples, f"{len(rows):,} rows"
    )
    print(
        f"  raw ({RAW_DAYS} d)/API ({HOUR_READ_DAYS} d) p95 = {hour_raw_p95 / hour_p95:.0f}x;"
        f" from minutes/API = {from_minutes_p95 / hour_p95:.1f}x"
    )

    for name, problems in (("minutes", minute_problems), ("hours", hour_problems)):
        for problem in problems[:5]:
            print(f"DISAGREE ({name}): {problem}")
    print(f"\ntarget: each API p95 <= {TARGET_P95_MS:.0f} ms")
    print(
        f"minute_p95_ms={minute_p95:.1f} minute_raw_p95_ms={minute_raw_p95:.1f}"
        f" minute_ratio={minute_raw_p95 / minute_p95:.1f}"
        f" minute_read_packed_p95_ms={packed_read_p95:.1f}"
        f" minute_read_rows_p95_ms={unpacked_read_p95:.1f} hour_p95_ms={hour_p95:.1f}"
        f" hour_raw_p95_ms={hour_raw_p95:.1f} hour_from_minutes_p95_ms={from_minutes_p95:.1f}"
        f" target_ms={TARGET_P95_MS:.0f}"
    )
    missed = max(minute_p95, hour_p95) > TARGET_P95_MS
    return 1 if missed or minute_problems or hour_problems else 0


if __name__ == "__main__":
    sys.exit(main())
