#!/usr/bin/env python
"""OEE over months: a line's day, week and month from hourly snapshots, against raw events.

Builds its own PostgreSQL database (dropped at the end) with six months of per-minute states
and counts for 4 lines × 5 machines (about 10.5 million events), three shifts a day with
breaks. The hourly snapshots are made first, as the beat makes them over time (their build
time is printed). Then, for line 1, it times the OEE of the last day, week and month the way
the screens and the API read it (snapshots for closed hours, events for the open one), the
same figures straight from the raw events, and the line page rendered in-process.

Prints p50/p95 of each, the ratios, and a last line `day_p95_ms=… week_p95_ms=…
month_p95_ms=… page_p95_ms=… raw_month_p95_ms=… month_ratio=…`. Exits 1 if a target is missed
(OEE p95 ≤ 100 ms for each period, the line page ≤ 300 ms) or the two ways disagree.
"""

from __future__ import annotations

import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from own_database import run_in_own_database  # noqa: E402 - bench/ is the script's directory

DAYS = 182
LINES, ASSETS_PER_LINE = 4, 5
RUNS = 30
RAW_RUNS = 5
TARGET_P95_MS = 100.0
TARGET_PAGE_MS = 300.0
BENCH_DB = "plantops_bench_oee"
SEED = 20261201


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1] if len(samples) > 1 else samples[0]


def main() -> int:
    return run_in_own_database(BENCH_DB, "bench/oee.py", run)


def machine_minutes(rng: np.random.Generator, minutes: int) -> tuple[np.ndarray, np.ndarray]:
    """Per minute: a state (0 running, 1 down, 2 idle, 3 changeover) and the parts made."""
    states = np.zeros(minutes, dtype=np.int8)
    t = 0
    while t < minutes:
        run = int(rng.exponential(90)) + 1
        t += run
        if t >= minutes:
            break
        kind = rng.choice([1, 2, 3], p=[0.5, 0.4, 0.1])
        length = {1: int(rng.exponential(6)) + 1, 2: int(rng.exponential(3)) + 1, 3: 20}[kind]
        states[t : t + length] = kind
        t += length
    good = np.where(states == 0, rng.poisson(18, minutes), 0)
    scrap = np.where(states == 0, rng.binomial(1, 0.3, minutes), 0)
    return states, np.stack([good, scrap])


def build(now: datetime) -> list[int]:
    """The plant and its six months of events; returns the line ids."""
    from django.db import connection

    from plantops.assets.models import Area, Asset, Line, Shift, ShiftBreak, Site
    from plantops.demo import plant as demo_plant

    site = Site.objects.create(slug="bench", name="Bench", timezone="UTC")
    area = Area.objects.create(site=site, slug="area", name="Area")
    rng = np.random.default_rng(SEED)
    start = (now - timedelta(days=DAYS)).replace(second=0, microsecond=0)
    minutes = int((now.replace(second=0, microsecond=0) - start).total_seconds() // 60)
    state_names = ("running", "down", "idle", "changeover")
    line_ids = []
    started = time.perf_counter()
    for n in range(LINES):
        line = Line.objects.create(
            area=area, slug=f"line-{n + 1}", name=f"Line {n + 1}", position=n
        )
        line_ids.append(line.pk)
        for shift_name, s_start, s_end, breaks in demo_plant.SHIFTS:
            shift = Shift.objects.create(
                line=line, name=shift_name, start=s_start, end=s_end, weekdays="0123456"
            )
            for b_start, b_end in breaks:
                ShiftBreak.objects.create(shift=shift, start=b_start, end=b_end)
        for a in range(ASSETS_PER_LINE):
            asset = Asset.objects.create(
                line=line,
                slug=f"m{a + 1}",
                name=f"Machine {n + 1}.{a + 1}",
                asset_type="press",
                position=a,
                ideal_cycle_time_s=3.0,
            )
            states, counts = machine_minutes(rng, minutes)
            stamps = [start + timedelta(minutes=i) for i in range(minutes)]
            with (
                connection.cursor() as cursor,
                cursor.copy("COPY oee_stateevent (asset_id, ts, state, reason) FROM STDIN") as copy,
            ):
                for ts, state in zip(stamps, states.tolist(), strict=True):
                    copy.write_row((asset.pk, ts, state_names[state], "jam" if state == 1 else ""))
            with (
                connection.cursor() as cursor,
                cursor.copy("COPY oee_countevent (asset_id, ts, good, scrap) FROM STDIN") as copy,
            ):
                for ts, good, scrap in zip(
                    stamps, counts[0].tolist(), counts[1].tolist(), strict=True
                ):
                    copy.write_row((asset.pk, ts + timedelta(seconds=59), good, scrap))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    events = 2 * minutes * LINES * ASSETS_PER_LINE
    print(
        f"  {events:,} events ({DAYS} days of per-minute states and counts, {LINES * ASSETS_PER_LINE} machines) in {time.perf_counter() - started:.0f} s"
    )
    return line_ids


def timed(fn, runs: int) -> tuple[list[float], object]:
    samples, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        samples.append((time.perf_counter() - started) * 1000)
    return samples, result


def run() -> int:
    import django

    django.setup()
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command
    from django.test import Client

    from plantops.assets.models import Asset, Line
    from plantops.core.roles import SUPERVISORS
    from plantops.core.time import datetime_to_us
    from plantops.oee import calculation, events, selectors

    call_command("migrate", verbosity=0)
    now = datetime.now(UTC)
    print(
        f"OEE benchmark: {LINES} lines × {ASSETS_PER_LINE} machines, {DAYS} days, {RUNS} runs per figure"
    )
    line_ids = build(now)
    line = Line.objects.select_related("area__site").get(pk=line_ids[0])

    started = time.perf_counter()
    for asset in Asset.objects.select_related("line__area__site"):
        selectors.asset_oee(asset, now - timedelta(days=DAYS), now, now=now)
    print(
        f"  hourly snapshots of all machines made in {time.perf_counter() - started:.0f} s (the beat does this as hours close)"
    )

    def raw(start: datetime, end: datetime) -> calculation.Oee:
        plan = events.line_plan(line)
        now_us = datetime_to_us(now)
        start_us, end_us = datetime_to_us(start), datetime_to_us(end)
        parts = []
        for asset in selectors.line_assets(line):
            asset_events = events.asset_events(asset.pk, start_us, end_us, now_us)
            parts.append(events.oee_from_events(asset, plan, asset_events, start_us, end_us))
        return calculation.combine(parts)

    results = {}
    failed = False
    print("\nline 1, periods ending now (snapshots + the open hour) vs straight from events")
    for name, days in (("day", 1), ("week", 7), ("month", 30)):
        start = now - timedelta(days=days)
        fast, fast_result = timed(
            lambda start=start: selectors.line_oee(line, start, now, now=now)[0], RUNS
        )
        slow, slow_result = timed(
            lambda start=start: raw(start, now), RAW_RUNS if days > 1 else RUNS
        )
        agree = (
            abs(fast_result.oee - slow_result.oee) < 1e-9
            and fast_result.total_count == slow_result.total_count
        )
        results[name] = (p95(fast), p95(slow))
        ok = p95(fast) <= TARGET_P95_MS and agree
        failed |= not ok
        print(
            f"  {name:5}: p50 {statistics.median(fast):6.1f} ms, p95 {p95(fast):6.1f} ms"
            f" | raw p50 {statistics.median(slow):7.1f} ms, p95 {p95(slow):7.1f} ms"
            f" | raw/snapshots {p95(slow) / p95(fast):5.1f}× | OEE {fast_result.oee:.4f}"
            f" ({'same' if agree else 'DIFFERENT'} from raw {slow_result.oee:.4f})"
            f" | target p95 ≤ {TARGET_P95_MS:.0f} ms: {'met' if p95(fast) <= TARGET_P95_MS else 'NOT met'}"
        )

    client = Client()
    # A supervisor, as a plant manager looking at the line would be.
    viewer = User.objects.create_user("bench", is_staff=True)
    viewer.groups.add(Group.objects.get(name=SUPERVISORS))
    client.force_login(viewer)
    page, response = timed(lambda: client.get(f"/lines/{line.pk}/oee/"), RUNS)
    if response.status_code != 200:
        print(f"  line page answered {response.status_code}")
        return 1
    page_ok = p95(page) <= TARGET_PAGE_MS
    failed |= not page_ok
    print(
        f"\nline page (current shift, Pareto, stops, hourly trend): p50 {statistics.median(page):.1f} ms,"
        f" p95 {p95(page):.1f} ms (target ≤ {TARGET_PAGE_MS:.0f} ms: {'met' if page_ok else 'NOT met'})"
    )
    day, week, month = (results[k] for k in ("day", "week", "month"))
    print(
        f"day_p95_ms={day[0]:.1f} week_p95_ms={week[0]:.1f} month_p95_ms={month[0]:.1f}"
        f" page_p95_ms={p95(page):.1f} raw_day_p95_ms={day[1]:.1f} raw_week_p95_ms={week[1]:.1f}"
        f" raw_month_p95_ms={month[1]:.1f} month_ratio={month[1] / month[0]:.1f}"
        f" target={'FAIL' if failed else 'PASS'}"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
