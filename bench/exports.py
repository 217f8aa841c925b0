#!/usr/bin/env python
"""Exports at a million rows: memory stays flat while a CSV streams (and while an XLSX is built).

Builds its own PostgreSQL database (dropped at the end) holding 1,000,000 raw readings: 10
signals at 1 Hz for 100,000 s, inserted by one INSERT … SELECT. Raw readings are the largest
export there is (the others are bounded by alerts, work orders or hours) and the cheapest to
make in bulk.

Each measurement runs in a fresh Python process, which first makes a 100-row export through
the same path (imports, connection, caches), then reads its resident memory (VmRSS) as the
baseline and resets its peak (VmHWM, through /proc/self/clear_refs), makes the export and reads
the peak: the growth is the most memory the export held at any moment.
  csv-wsgi    GET /api/v1/exports/readings.csv through Django's test client (WSGI), the body
              read chunk by chunk and dropped, at 10k, 100k, 500k and 1M rows;
  csv-asgi    the same request through Django's ASGI handler, as daphne serves it, at 1M;
  naive       the baseline: the same rows built into a list and written into one CSV string,
              as an export that does not stream would, at 100k and 1M rows;
  xlsx        GET …/readings.xlsx at 1M rows (openpyxl's write-only mode into a temporary file).

Prints each run's rows, seconds, bytes and RSS growth, then the ratios: 1M rows against 10k
and 500k rows (flat is about 1: past 500k rows every window is full), and the naive export
against the streamed one. Exits 1 if the 1M-row growth (CSV through WSGI or ASGI, or XLSX) is
above MAX_GROWTH_MB, or if any export sent the wrong number of rows.

The bound: one window of the readings' history (READINGS_WINDOW = 50,000 points of one signal)
held as numpy arrays, their bytes from PostgreSQL and the Python rows made from them is about
10 MB; a 64 KiB chunk and the allocator's slack add a few. 48 MB leaves room for that and is
still a tenth of what a million rows cost once held in memory (the naive run measures it).
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from own_database import run_in_own_database  # noqa: E402 - bench/ is the script's directory

BENCH_DB = "plantops_bench_exports"
SIGNALS = 10
SECONDS = 100_000  # of readings per signal, at 1 Hz
START = datetime(2026, 11, 1, tzinfo=UTC)
MAX_GROWTH_MB = 48.0
XLSX_COPY = os.path.join(tempfile.gettempdir(), f"{BENCH_DB}-{os.getpid()}.xlsx")
RUNS = [
    ("csv-wsgi", 10_000),
    ("csv-wsgi", 100_000),
    ("csv-wsgi", 500_000),
    ("csv-wsgi", 1_000_000),
    ("csv-asgi", 1_000_000),
    ("naive", 100_000),
    ("naive", 1_000_000),
    ("xlsx", 1_000_000),
]


def memory_mb(field: str) -> float:
    """VmRSS (resident now) or VmHWM (its peak) of this process, from /proc (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024  # kB
    raise LookupError(field)


def reset_peak() -> None:
    # Linux (4.0+) sets VmHWM back to the resident size now: the peak that follows is the
    # export's own, not the import of Django and numpy before it.
    Path("/proc/self/clear_refs").write_text("5")


def main() -> int:
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        return child(sys.argv[2], int(sys.argv[3]))
    return run_in_own_database(BENCH_DB, "bench/exports.py", run)


def run() -> int:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, connections

    from plantops.core.models import ApiToken, TokenScope
    from tests.factories import make_asset, make_user

    call_command("migrate", verbosity=0)
    asset = make_asset(signals=tuple(f"signal-{k}" for k in range(SIGNALS)))
    signal_ids = list(asset.signals.order_by("slug").values_list("pk", flat=True))
    began = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO telemetry_reading (signal_id, ts, value)"
            " SELECT s.id, %s::timestamptz + k * interval '1 second',"
            " 3 + sin(k / 600.0 + s.id) + 0.1 * sin(k * 12.9898 + s.id)"
            " FROM unnest(%s::bigint[]) AS s (id), generate_series(0, %s) AS k"
            " ORDER BY s.id, k",
            [START, signal_ids, SECONDS - 1],
        )
        stored = cursor.rowcount
        cursor.execute("ANALYZE telemetry_reading")
    print(f"{stored:,} raw readings of {SIGNALS} signals in {time.perf_counter() - began:.1f} s")
    _, secret = ApiToken.issue(name="bench", user=make_user(role="manager"), scope=TokenScope.READ)
    connections.close_all()

    env = os.environ | {"BENCH_TOKEN": secret, "BENCH_ASSET": str(asset.pk)}
    results = []
    for mode, rows in RUNS:
        done = subprocess.run(
            [sys.executable, __file__, "--child", mode, str(rows)],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            print(done.stdout, done.stderr[-3000:])
            return 1
        result = json.loads(done.stdout.strip().splitlines()[-1])
        results.append(result)
        print(
            f"  {mode:<9} {rows:>9,} rows asked: {result['rows']:>9,} sent, "
            f"{result['seconds']:6.1f} s, {result['mb_sent']:7.1f} MB, "
            f"RSS before {result['baseline_mb']:6.1f} MB, peak growth {result['growth_mb']:7.1f} MB"
        )
    return report(results)


def report(results: list[dict]) -> int:
    growth = {(r["mode"], r["asked"]): r["growth_mb"] for r in results}
    wrong = [r for r in results if r["rows"] != r["asked"]]
    small, half = growth["csv-wsgi", 10_000], growth["csv-wsgi", 500_000]
    large = growth["csv-wsgi", 1_000_000]
    asgi, naive = growth["csv-asgi", 1_000_000], growth["naive", 1_000_000]
    xlsx = growth["xlsx", 1_000_000]
    # A growth below 1 MB is noise in the ratios: count it as 1 MB.
    print(
        f"\nCSV, 1M rows against 10k (WSGI): {large:.1f} MB / {small:.1f} MB ="
        f" {large / max(small, 1.0):.1f}x for 100x the rows (the window of one signal's"
        f" readings fills up to 50,000 points, at 500k rows here)"
    )
    print(
        f"CSV, 1M rows against 500k (WSGI): {large:.1f} MB / {half:.1f} MB ="
        f" {large / max(half, 1.0):.2f}x for 2x the rows"
    )
    print(
        f"naive list-built CSV at 1M rows / streamed: {naive:.1f} MB / {large:.1f} MB ="
        f" {naive / max(large, 1.0):.0f}x"
    )
    print(f"ASGI (daphne's path) at 1M rows: {asgi:.1f} MB; XLSX at 1M rows: {xlsx:.1f} MB")
    print(f"bound: CSV (WSGI, ASGI) and XLSX growth at 1M rows <= {MAX_GROWTH_MB:.0f} MB")
    print(
        f"csv_10k_mb={small:.1f} csv_1m_mb={large:.1f} csv_asgi_1m_mb={asgi:.1f}"
        f" naive_1m_mb={naive:.1f} xlsx_1m_mb={xlsx:.1f} ratio_1m_500k={large / max(half, 1.0):.2f}"
        f" bound_mb={MAX_GROWTH_MB:.0f}"
    )
    for r in wrong:
        print(f"WRONG: {r['mode']} sent {r['rows']:,} rows, {r['asked']:,} asked")
    return 1 if max(large, asgi, xlsx) > MAX_GROWTH_MB or wrong else 0


# --- one measurement, in a process of its own ---------------------------------------------------


def child(mode: str, rows: int) -> int:
    import django

    django.setup()
    query = {
        "asset_id": os.environ["BENCH_ASSET"],
        "from": START.isoformat().replace("+00:00", "Z"),
        "to": (START + timedelta(seconds=rows // SIGNALS)).isoformat().replace("+00:00", "Z"),
        "aggregation": "raw",
    }
    fetch = {"csv-wsgi": wsgi, "xlsx": wsgi, "csv-asgi": asgi, "naive": naive}[mode]
    extension = "xlsx" if mode == "xlsx" else "csv"
    warm = query | {"to": (START + timedelta(seconds=10)).isoformat().replace("+00:00", "Z")}
    fetch(extension, warm)
    gc.collect()
    baseline = memory_mb("VmRSS")
    reset_peak()
    began = time.perf_counter()
    sent, lines = fetch(extension, query)
    seconds = time.perf_counter() - began
    growth = memory_mb("VmHWM") - baseline
    if mode == "xlsx":
        lines = xlsx_rows(XLSX_COPY)
        os.remove(XLSX_COPY)
    print(
        json.dumps(
            {
                "mode": mode,
                "asked": rows,
                "rows": lines,
                "seconds": seconds,
                "mb_sent": sent / 1e6,
                "baseline_mb": baseline,
                "growth_mb": growth,
            }
        )
    )
    return 0


def _headers() -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {os.environ['BENCH_TOKEN']}"}


def wsgi(extension: str, query: dict) -> tuple:
    """The export through the test client; a CSV is counted chunk by chunk and dropped."""
    from django.test import Client

    response = Client().get(f"/api/v1/exports/readings.{extension}", query, **_headers())
    assert response.status_code == 200, response
    if extension == "xlsx":
        # Kept on disk, not in memory, to be counted once the memory has been read.
        with open(XLSX_COPY, "wb") as copy:
            for chunk in response.streaming_content:
                copy.write(chunk)
        response.close()
        return os.path.getsize(XLSX_COPY), None
    size = lines = 0
    for chunk in response.streaming_content:
        size += len(chunk)
        lines += chunk.count(b"\n")
    response.close()
    return size, lines - 1  # less the header


def asgi(extension: str, query: dict) -> tuple[int, int]:
    """The export through Django's ASGI handler, as daphne calls it; the body is dropped."""
    from django.core.asgi import get_asgi_application

    application = get_asgi_application()
    counted = {"size": 0, "lines": 0, "status": None}
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": f"/api/v1/exports/readings.{extension}",
        "raw_path": f"/api/v1/exports/readings.{extension}".encode(),
        "query_string": urlencode(query).encode(),
        "headers": [
            (b"host", b"testserver"),
            (b"authorization", f"Bearer {os.environ['BENCH_TOKEN']}".encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    asked = False

    async def receive() -> dict:
        nonlocal asked
        if not asked:
            asked = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.Event().wait()  # the client stays until the response ends
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        if message["type"] == "http.response.start":
            counted["status"] = message["status"]
        elif message["type"] == "http.response.body":
            counted["size"] += len(message.get("body", b""))
            counted["lines"] += message.get("body", b"").count(b"\n")

    asyncio.run(application(scope, receive, send))
    assert counted["status"] == 200, counted
    return counted["size"], counted["lines"] - 1


def naive(extension: str, query: dict) -> tuple[int, int]:
    """What an export that does not stream costs: every row in a list, then one CSV string."""
    import csv
    import io

    from plantops.api import export_tables
    from plantops.core.models import ApiToken
    from plantops.telemetry.history import Aggregation

    token = ApiToken.objects.select_related("user").get(name="bench")
    table = export_tables.readings_table(
        token.user,
        signal_ids=None,
        asset_id=int(query["asset_id"]),
        start=datetime.fromisoformat(query["from"]),
        end=datetime.fromisoformat(query["to"]),
        aggregation=Aggregation.RAW,
    )
    rows = list(table.rows)
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow([column.header for column in table.columns])
    for row in rows:
        writer.writerow([v.isoformat() if isinstance(v, datetime) else v for v in row])
    body = text.getvalue().encode()
    return len(body), len(rows)


def xlsx_rows(path: str) -> int:
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True)
    rows = sum(1 for _ in workbook.active.iter_rows(values_only=True)) - 1
    workbook.close()
    return rows


if __name__ == "__main__":
    sys.exit(main())
