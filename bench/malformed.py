"""Good throughput with malformed traffic mixed in: publisher → Mosquitto → ingest → worker → DB.

Usage: python bench/malformed.py [--n 60000] [--bad 10000] [--runs 3] [--pool prefork|solo]

Issue 3, bad input: with 10,000 malformed messages mixed into good traffic, every bad one is a
dead letter with its reason, every good one is stored, and good throughput drops by at most 20%.

Runs on the same kind of stack as bench/ingest.py, with its helpers: a fresh PostgreSQL database
of its own (plantops_bench_malformed, dropped at the end), a Mosquitto started with
scripts/mosquitto.conf on a free port, one ingest process and one Celery worker. A separate
publisher process sends, at QoS 1 with at most 1,000 unacknowledged:

  clean  N good single-reading messages
  mixed  the same N good messages (fresh timestamps) with --bad malformed ones spread evenly
         between them: invalid JSON, not an object, missing or wrong-typed fields, NaN and
         Infinity as bare tokens, bad RFC 3339, timestamps in the future or too old, unknown
         asset or signal, topics off the contract, bad states and counts, batches whose only
         item is bad. Each is small, like the good ones, and makes exactly one dead letter.

Clean and mixed runs alternate, so background load on the machine hits both alike. Each run is
timed from the first publish to the moment the N-th good reading is counted in
telemetry_reading; then the run waits for the dead letters and checks them, in total and per
reason. Good readings per second are compared (median mixed / median clean).

One reading per message is bound by the MQTT transport (see bench/ingest.py), so the malformed
messages take their share of it: a pipeline that spent nothing at all on them would still show
mixed/clean ≈ N / (N + bad), printed as the transport ceiling. N = 60,000 puts that ceiling at
0.86, so the 20% target measures what ingest and worker spend on bad input; a smaller N would
make the target unreachable by arithmetic alone (N = 40,000: 0.80).

The last line is machine-readable. The exit status is 1 if any good reading was lost, a stray
reading was stored, or the dead letters differ from what was sent; the 20% target is reported
(PASS/MISS) but does not decide the exit status.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ingest import (  # noqa: E402
    ASSET_PATH,
    SETTLE_S,
    SIGNALS,
    Stack,
    messages,
    publisher_result,
    run_publisher,
    say,
    signal_slug,
    wait_for_pipeline,
)

BENCH_DB = "plantops_bench_malformed"
TARGET_RATIO = 0.8  # good throughput may drop by at most 20%
PREFIX = f"plantops/{ASSET_PATH}"
SITE_AREA_LINE = ASSET_PATH.rsplit("/", 1)[0]


# --- the malformed messages -----------------------------------------------------------------


def _rfc3339(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, UTC).isoformat().replace("+00:00", "Z")


def malformed_catalogue(now: float) -> list[tuple[str, bytes, str]]:
    """(topic, payload, the reason it must be dead-lettered with), one dead letter each."""
    vib = f"{PREFIX}/telemetry/{signal_slug(1)}"
    batch, state, count = f"{PREFIX}/telemetry", f"{PREFIX}/state", f"{PREFIX}/count"
    recent = now - 30

    def js(body: object) -> bytes:
        return json.dumps(body).encode()

    return [
        (vib, b"{broken", "invalid_json"),
        (vib, b'{"ts": 1, "value": }', "invalid_json"),
        (vib, b"\xff\xfe\x00 not utf-8", "invalid_json"),
        (vib, b"", "invalid_json"),
        (vib, b"{'ts': 1, 'value': 2}", "invalid_json"),
        (vib, b"[1, 2, 3]", "not_an_object"),
        (vib, b'"twenty one degrees"', "not_an_object"),
        (vib, b"null", "not_an_object"),
        (vib, js({"value": 1.0}), "missing_field"),
        (vib, js({"ts": recent}), "missing_field"),
        (batch, js({"values": []}), "missing_field"),
        (count, js({"ts": recent, "scrap": 0}), "missing_field"),
        (vib, js({"ts": recent, "value": "loud"}), "wrong_type"),
        (vib, js({"ts": True, "value": 1.0}), "wrong_type"),
        (vib, js({"ts": recent, "value": [1.0]}), "wrong_type"),
        (batch, js({"readings": {"signal": "s001"}}), "wrong_type"),
        (count, js({"ts": recent, "good": -3, "scrap": 0}), "wrong_type"),
        (count, js({"ts": recent, "good": 1.5, "scrap": 0}), "wrong_type"),
        (vib, b'{"ts": %.3f, "value": NaN}' % recent, "not_finite"),
        (vib, b'{"ts": %.3f, "value": Infinity}' % recent, "not_finite"),
        (vib, b'{"ts": %.3f, "value": 1e400}' % recent, "not_finite"),
        (vib, js({"ts": "2026-13-45T00:00:00Z", "value": 1.0}), "bad_timestamp"),
        (vib, js({"ts": "yesterday at noon", "value": 1.0}), "bad_timestamp"),
        (vib, js({"ts": "2026-11-22T10:00:00.250", "value": 1.0}), "bad_timestamp"),
        (vib, js({"ts": now + 3600, "value": 1.0}), "timestamp_in_future"),
        (vib, js({"ts": _rfc3339(now + 86_400), "value": 1.0}), "timestamp_in_future"),
        (vib, js({"ts": now - 500 * 86_400, "value": 1.0}), "timestamp_too_old"),
        (vib, js({"ts": 0, "value": 1.0}), "timestamp_too_old"),
        (f"plantops/nowhere/area/line/ghost/telemetry/{signal_slug(1)}", b"{}", "unknown_asset"),
        (f"plantops/{SITE_AREA_LINE}/ghost/state", b"{}", "unknown_asset"),
        (f"{PREFIX}/telemetry/pressure", js({"ts": recent, "value": 1.0}), "unknown_signal"),
        (
            batch,
            js({"readings": [{"signal": "pressure", "ts": recent, "value": 1}]}),
            "unknown_signal",
        ),
        ("plantops/too/short", b"{}", "bad_topic"),
        (f"{PREFIX}/alarms", b"{}", "bad_topic"),
        (f"{vib}/extra", b"{}", "bad_topic"),
        (state, js({"ts": recent, "state": "exploded"}), "bad_state"),
        (state, js({"ts": recent, "state": 3}), "bad_state"),
        (batch, js({"readings": [5]}), "not_an_object"),
    ]


def mixed_messages(
    good: list[tuple[str, bytes]], bad: int, now: float
) -> tuple[list[tuple[str, bytes]], Counter[str]]:
    """The good messages with `bad` malformed ones spread evenly between them, and the reasons."""
    catalogue = malformed_catalogue(now)
    out: list[tuple[str, bytes]] = []
    reasons: Counter[str] = Counter()
    sent = 0
    for i, message in enumerate(good):
        out.append(message)
        while sent < (i + 1) * bad // len(good):
            topic, payload, reason = catalogue[sent % len(catalogue)]
            out.append((topic, payload))
            reasons[reason] += 1
            sent += 1
    return out, reasons


# --- one run --------------------------------------------------------------------------------


def measured_run(
    stack: Stack, msgs: list[tuple[str, bytes]], n_good: int, reasons: Counter[str]
) -> dict:
    """Publish, time the N-th good reading stored, then wait for and check the dead letters."""
    n_dead = sum(reasons.values())
    with stack.connect() as conn:
        conn.execute("TRUNCATE telemetry_reading, telemetry_deadletter")

        def counts() -> tuple[int, int]:
            return conn.execute(
                "SELECT (SELECT count(*) FROM telemetry_reading),"
                " (SELECT count(*) FROM telemetry_deadletter)"
            ).fetchone()

        pub = run_publisher("127.0.0.1", stack.port, msgs)
        stored = dead = 0
        good_done_at = None
        changed_at = time.monotonic()
        while True:
            time.sleep(0.05)
            now = time.monotonic()
            current = counts()
            if current != (stored, dead):
                (stored, dead), changed_at = current, now
            if stored >= n_good and good_done_at is None:
                good_done_at = time.time()
            complete = good_done_at is not None and dead >= n_dead
            if complete and now - changed_at > 1.0:
                break  # a second of quiet: no stray reading or extra dead letter is coming
            if not complete and now - changed_at > SETTLE_S:
                break  # stopped short
            if not pub.is_alive() and pub.exitcode:
                raise RuntimeError(f"publisher exited with {pub.exitcode}")
            stack.check_alive()
        start, published_at = publisher_result(pub)
        by_reason = Counter(
            dict(
                conn.execute(
                    "SELECT reason, count(*) FROM telemetry_deadletter GROUP BY reason"
                ).fetchall()
            )
        )
    end = good_done_at if good_done_at is not None else time.time()
    return {
        "per_s": min(stored, n_good) / (end - start),
        "stored": stored,
        "lost": max(0, n_good - stored),
        "stray": max(0, stored - n_good),
        "dead": dead,
        "dead_ok": by_reason == reasons,
        "by_reason": by_reason,
        "publish_s": published_at - start,
        "e2e_s": end - start,
    }


def describe(kind: str, run: int, r: dict, n: int, n_dead: int) -> str:
    text = (
        f"  {kind} run {run}: {r['per_s']:,.0f} good readings/s end to end"
        f" ({r['e2e_s']:.2f} s; publisher done at {r['publish_s']:.2f} s),"
        f" stored {r['stored']:,}/{n:,}, lost {r['lost']}"
    )
    if r["stray"]:
        text += f", STRAY {r['stray']}"
    if n_dead:
        text += f", dead letters {r['dead']:,}/{n_dead:,} {'ok' if r['dead_ok'] else 'WRONG'}"
    elif r["dead"]:
        text += f", UNEXPECTED dead letters {r['dead']}"
    return text


# --- main -----------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--n", type=int, default=60_000, help="good readings per run (default 60,000)"
    )
    parser.add_argument(
        "--bad", type=int, default=10_000, help="malformed messages per mixed run (default 10,000)"
    )
    parser.add_argument("--runs", type=int, default=3, help="runs of each kind (default 3)")
    parser.add_argument(
        "--pool",
        choices=["solo", "prefork"],
        default="prefork",
        help="Celery pool of the worker, as in bench/ingest.py (default prefork -c 2)",
    )
    args = parser.parse_args()
    if args.n % SIGNALS:
        parser.error(f"--n must be a multiple of {SIGNALS}")

    def interrupted(signum, frame) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    stack = Stack(args.pool, db_name=BENCH_DB)
    try:
        return bench(stack, args)
    except KeyboardInterrupt:
        say("interrupted: cleaning up")
        return 130
    finally:
        stack.stop()


def bench(stack: Stack, args: argparse.Namespace) -> int:
    n, bad, runs = args.n, args.bad, args.runs
    pool = "solo" if args.pool == "solo" else "prefork -c 2"
    say(
        f"malformed-traffic benchmark: N={n:,} good single-reading messages per run,"
        f" {bad:,} malformed mixed in, {runs} run(s) of each, {os.cpu_count()} CPUs"
    )
    say(f"worker: celery --pool {pool}; database {BENCH_DB}; Mosquitto on port {stack.port}")
    stack.create_database()
    stack.start_broker()
    stack.start_pipeline()
    wait_for_pipeline(stack)

    # Each run gets its own hour-old time range, so (signal, ts) never repeats across runs.
    base = time.time() - 3600
    next_base = iter(base - k * 60 for k in range(10_000))
    results: dict[str, list[dict]] = {"clean": [], "mixed": []}
    say("\nruns (clean and mixed alternate)")
    for run in range(runs):
        for kind in ("clean", "mixed"):
            good = messages("single", n, next(next_base), f"plantops/{ASSET_PATH}")
            if kind == "clean":
                msgs, reasons = good, Counter()
            else:
                msgs, reasons = mixed_messages(good, bad, time.time())
            r = measured_run(stack, msgs, n, reasons)
            results[kind].append(r)
            say(describe(kind, run + 1, r, n, sum(reasons.values())))
            if kind == "mixed" and not r["dead_ok"]:
                say(f"    expected by reason: {dict(sorted(reasons.items()))}")
                say(f"    stored by reason:   {dict(sorted(r['by_reason'].items()))}")

    clean = statistics.median(r["per_s"] for r in results["clean"])
    mixed = statistics.median(r["per_s"] for r in results["mixed"])
    ratio = mixed / clean
    lost = sum(r["lost"] for rs in results.values() for r in rs)
    stray = sum(r["stray"] for rs in results.values() for r in rs)
    dead_ok = all(r["dead_ok"] for r in results["mixed"]) and not any(
        r["dead"] for r in results["clean"]
    )
    verdict = "PASS" if ratio >= TARGET_RATIO else "MISS"

    say("\nsummary (medians; the throughput target is reported, not enforced)")
    say(f"  clean: {clean:,.0f} good readings/s")
    say(f"  mixed: {mixed:,.0f} good readings/s with {bad:,} malformed messages mixed in")
    say(
        f"  ratio mixed/clean {ratio:.2f} = a drop of {(1 - ratio) * 100:.0f}%"
        f" (target: a drop of at most {(1 - TARGET_RATIO) * 100:.0f}%): {verdict}"
    )
    say(
        f"  transport ceiling N/(N+bad) = {n / (n + bad):.2f}: the ratio if bad messages cost"
        " only their share of MQTT messages/s"
    )
    say(
        f"  lost {lost}, stray {stray} over {2 * runs} runs of {n:,};"
        f" dead letters {'all present with their reasons' if dead_ok else 'WRONG'}"
    )
    say(
        f"clean_per_s={clean:.0f} mixed_per_s={mixed:.0f} ratio={ratio:.2f}"
        f" dead_letters_ok={str(dead_ok).lower()} lost={lost} target={verdict}"
    )
    return 1 if lost or stray or not dead_ok else 0


if __name__ == "__main__":
    sys.exit(main())
