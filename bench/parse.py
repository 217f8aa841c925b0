#!/usr/bin/env python
"""The wire parser's cost per reading, against decoding the same JSON alone.

Parses one asset-batch message of 100 readings (`plantops/<site>/<area>/<line>/<asset>/
telemetry`, the shape gateways send) RUNS times with `payloads.parse_message`, in three forms:

  floats      every item {"signal": str, "ts": float seconds, "value": float}: the common item,
              which the parser takes in line
  integers    the same readings with integer values: valid too, but they take the parser's
              long way (the checks item by item that decide and explain a refusal), which is
              what every item took before the in-line path
  json only   `orjson.loads` of the floats message: the floor under any parser of it

Prints µs per reading of each (the best of 5 rounds), the ratios, and a last line
`floats_us=… integers_us=… json_us=… long_way_ratio=…`. No database or broker needed.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SECRET_KEY", "bench")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "plantops.settings")

from plantops.telemetry.payloads import Limits, TopicRegistry, parse_message  # noqa: E402

READINGS = 100
RUNS = 2000
ROUNDS = 5
TOPIC = "plantops/site/area/line/press/telemetry"


def per_reading_us(work, payload: bytes) -> float:
    best = float("inf")
    for _ in range(ROUNDS):
        started = time.perf_counter()
        for _ in range(RUNS):
            work(payload)
        best = min(best, time.perf_counter() - started)
    return best / RUNS / READINGS * 1e6


def main() -> int:
    registry = TopicRegistry(
        assets={("site", "area", "line", "press"): 1},
        signals={(1, f"signal-{i}"): 100 + i for i in range(READINGS)},
    )
    now = time.time()
    limits = Limits(now_us=int(now * 1e6))
    floats = orjson.dumps(
        {
            "readings": [
                {"signal": f"signal-{i}", "ts": now - i / 1000, "value": i * 1.5}
                for i in range(READINGS)
            ]
        }
    )
    integers = orjson.dumps(
        {
            "readings": [
                {"signal": f"signal-{i}", "ts": now - i / 1000, "value": i} for i in range(READINGS)
            ]
        }
    )
    for payload in (floats, integers):
        result = parse_message(TOPIC, payload, registry=registry, limits=limits)
        if len(result.readings) != READINGS or result.rejections:
            raise SystemExit(f"the bench message does not parse cleanly: {result.rejections[:1]}")

    def parse(payload: bytes) -> None:
        parse_message(TOPIC, payload, registry=registry, limits=limits)

    floats_us = per_reading_us(parse, floats)
    integers_us = per_reading_us(parse, integers)
    json_us = per_reading_us(orjson.loads, floats)
    print(f"parser, one message of {READINGS} readings, best of {ROUNDS} × {RUNS} messages")
    print(
        f"  floats (in line):    {floats_us:.2f} µs per reading = {floats_us / json_us:.1f}× JSON"
    )
    print(
        f"  integers (long way): {integers_us:.2f} µs per reading = {integers_us / json_us:.1f}× JSON"
    )
    print(f"  JSON decode only:    {json_us:.2f} µs per reading (the floor)")
    print(
        f"floats_us={floats_us:.2f} integers_us={integers_us:.2f} json_us={json_us:.2f}"
        f" long_way_ratio={integers_us / floats_us:.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
