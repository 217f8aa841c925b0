#!/usr/bin/env python
"""The demo's past: 90 days stored on SQLite, the demo's database, against the same seeding
without bulk.

Usage: python bench/demo_seed.py [--days 90] [--baseline-hours 6]

What `make demo` does the first time, in a SQLite database of its own under a temporary
directory (deleted at the end): migrate, seed the demo plant and its users, then
`demo_history_seed` for DAYS up to now (the first remaining-life model's simulated fleet
included). Then, as the baseline in the same run, the same seeding without bulk on fresh
copies of the plant: each asset's minute stored as its own batch, as gateways deliver live, and
the same past with bulk, both over its last BASELINE_HOURS (sampled as `plantops.demo.past`
samples them, the last hour at the signals' own rate); per day of past, and the ratio.

Prints the wall and CPU time of each, the load average of the machine meanwhile (the wall
time of a busy machine is longer than its CPU time), and a last line `seed_s=… seed_cpu_s=…
bulk_s_per_day=… unbatched_s_per_day=… ratio=…`. Exits 1 if the DAYS took 3 minutes or more.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_S = 180.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=90.0)
    parser.add_argument("--baseline-hours", type=float, default=6.0)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="plantops-demo-seed-") as directory:
        return run(Path(directory), days=options.days, hours=options.baseline_hours)


def run(directory: Path, *, days: float, hours: float) -> int:
    template = directory / "plant.sqlite3"
    os.environ["DATABASE_URL"] = f"sqlite:///{template}"
    os.environ.setdefault("SECRET_KEY", "bench")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "plantops.settings")
    # The demo's settings (scripts/demo.sh).
    os.environ.update(PLANT_TIME_SCALE="120", HEALTH_LEARNING_DAYS="1")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    from plantops.alerts.config import plant_config_changed
    from plantops.demo.history import demo_history_seed
    from plantops.demo.services import demo_users_create
    from plantops.health import predictions
    from plantops.telemetry.services import signals_changed

    call_command("migrate", verbosity=0)
    call_command("seed_demo_plant", verbosity=0, stdout=io.StringIO())
    demo_users_create(credentials=directory / "demo-users.txt")
    connections.close_all()

    def fresh(name: str) -> None:
        """Point the connection at a fresh copy of the plant, with nothing kept of the last."""
        connections.close_all()
        copy = directory / f"{name}.sqlite3"
        shutil.copyfile(template, copy)
        connections["default"].settings_dict["NAME"] = copy
        plant_config_changed()
        signals_changed()
        # Fitted estimators are kept by model id, and each copy fits its own model 1.
        predictions._estimators.clear()

    def timed(**kwargs):
        load = os.getloadavg()[0]
        wall, cpu = time.perf_counter(), time.process_time()
        outcome = demo_history_seed(catch_up=False, **kwargs)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        return outcome, wall, cpu, max(load, os.getloadavg()[0])

    fresh("past")
    past, seed_s, seed_cpu_s, load = timed(days=days)
    print(f"{days:g} days of past, bulk: {past.summary()}")
    print(
        f"  wall {seed_s:.1f} s (of which the batches {past.batches_s:.1f} s), CPU {seed_cpu_s:.1f} s,"
        f" load average {load:.1f} on {os.cpu_count()} cores"
    )

    span = hours / 24
    results = {}
    for bulk in (True, False):
        fresh(f"baseline-{'bulk' if bulk else 'unbatched'}")
        outcome, _, _, load = timed(days=span, bulk=bulk, fleet_units=2)
        per_day = outcome.batches_s / span
        results[bulk] = per_day
        print(
            f"the last {hours:g} h {'with' if bulk else 'without'} bulk: {outcome.batches} batches,"
            f" {outcome.readings:,} readings in {outcome.batches_s:.1f} s of batches"
            f" ({per_day:.1f} s per day of past), load average {load:.1f}"
        )
    ratio = results[False] / results[True]
    print(
        f"seed_s={seed_s:.1f} seed_cpu_s={seed_cpu_s:.1f} bulk_s_per_day={results[True]:.2f}"
        f" unbatched_s_per_day={results[False]:.2f} ratio={ratio:.1f}"
    )
    if seed_s >= TARGET_S:
        print(f"MISSED: {days:g} days took {seed_s:.0f} s, the target is under {TARGET_S:.0f} s")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
