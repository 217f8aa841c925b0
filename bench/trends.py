#!/usr/bin/env python
"""Trend of one 1 Hz signal over 7 days: from minute rollups, and from raw readings for comparison.

Builds its own PostgreSQL database (dropped at the end) with 604,800 readings and their
rollups, then times the trend query the asset page would run (1,500 buckets), 30 times each
way. Prints p50/p95 of both, the ratio, and a last line `rollup_p95_ms=… raw_p95_ms=… ratio=…`.
Exits 1 when the rollup p95 misses the 100 ms target.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DAYS = 7
RUNS = 30
BUCKETS = 1500
TARGET_P95_MS = 100.0
BENCH_DB = "plantops_bench_trends"


def admin_conninfo(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1]


def main() -> int:
    base_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")
    if not base_url.startswith(("postgres://", "postgresql://")):
        print("bench/trends.py needs PostgreSQL: set DATABASE_URL (make bench does).")
        return 2
    with psycopg.connect(admin_conninfo(base_url), autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {BENCH_DB}")
        admin.execute(f"CREATE DATABASE {BENCH_DB}")
    os.environ["DATABASE_URL"] = urlunsplit(urlsplit(base_url)._replace(path=f"/{BENCH_DB}"))
    os.environ.setdefault("SECRET_KEY", "bench")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "plantops.settings")
    try:
        return run()
    finally:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(admin_conninfo(base_url), autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {BENCH_DB}")


def run() -> int:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from plantops.telemetry.selectors import signal_trend_from_rollups
    from tests.factories import make_asset

    call_command("migrate", verbosity=0)
    signal = make_asset(signals=("vibration",)).signals.get()
    end = datetime(2026, 11, 22, tzinfo=UTC)
    start = end - timedelta(days=DAYS)
    n = DAYS * 86_400

    began = time.perf_counter()
    raw = connection.cursor().connection
    with (
        raw.cursor() as cursor,
        cursor.copy("COPY telemetry_reading (signal_id, ts, value) FROM STDIN") as copy,
    ):
        for second in range(n):
            copy.write_row(
                (signal.pk, start + timedelta(seconds=second), 2.0 + (second % 600) / 300)
            )
    with connection.cursor() as cursor:
        # The rollups the worker would have kept, had these readings come in over MQTT.
        cursor.execute(
            "INSERT INTO telemetry_minuterollup (signal_id, minute, value_min, value_max, value_sum, value_count)"
            " SELECT signal_id, date_trunc('minute', ts), min(value), max(value), sum(value), count(*)"
            " FROM telemetry_reading GROUP BY 1, 2"
        )
        cursor.execute("ANALYZE")
    print(f"loaded {n:,} readings and their rollups in {time.perf_counter() - began:.1f} s")

    bucket_s = -(-(DAYS * 86_400) // BUCKETS // 60) * 60
    raw_sql = (
        "SELECT to_timestamp(floor(extract(epoch FROM ts) / %s) * %s) AS bucket,"
        " min(value), avg(value), max(value) FROM telemetry_reading"
        " WHERE signal_id = %s AND ts >= %s AND ts < %s GROUP BY bucket ORDER BY bucket"
    )

    def from_rollups() -> int:
        return len(
            signal_trend_from_rollups(signal_id=signal.pk, start=start, end=end, max_points=BUCKETS)
        )

    def from_raw() -> int:
        with connection.cursor() as cursor:
            cursor.execute(raw_sql, [bucket_s, bucket_s, signal.pk, start, end])
            return len(cursor.fetchall())

    results = {}
    for name, query in (("rollups", from_rollups), ("raw", from_raw)):
        query()  # warm the cache: both are measured hot
        samples = []
        for _ in range(RUNS):
            began = time.perf_counter()
            points = query()
            samples.append((time.perf_counter() - began) * 1000)
        results[name] = (statistics.median(samples), p95(samples), points)
        print(
            f"{name:>8}: p50 {results[name][0]:8.1f} ms   p95 {results[name][1]:8.1f} ms   {points} points"
        )

    rollup_p95, raw_p95 = results["rollups"][1], results["raw"][1]
    ratio = raw_p95 / rollup_p95 if rollup_p95 else float("inf")
    print(f"target: rollup p95 <= {TARGET_P95_MS:.0f} ms; raw/rollup = {ratio:.1f}x")
    print(
        f"rollup_p95_ms={rollup_p95:.1f} raw_p95_ms={raw_p95:.1f} ratio={ratio:.1f} target_ms={TARGET_P95_MS:.0f}"
    )
    return 0 if rollup_p95 <= TARGET_P95_MS else 1


if __name__ == "__main__":
    sys.exit(main())
