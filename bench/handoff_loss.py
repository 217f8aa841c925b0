"""Batches lost when Celery workers are killed (SIGKILL) while batches flow: Redis vs RabbitMQ.

Usage: python bench/handoff_loss.py [--kills 200] [--seed N]

The path is the real one: a publisher sends batches at QoS 1 to a Mosquitto of the benchmark's
own, one ingest process hands each on to Celery (one MQTT message of 10 readings = one batch),
workers store them in a PostgreSQL database of the benchmark's own (plantops_bench_handoff,
dropped at the end). Workers come from a zygote (tests/worker_zygote.py) that forks a real
worker in a fraction of a second, so hundreds can be killed in minutes.

For each broker, two runs of --kills workers each:
  random  each worker is SIGKILLed from outside at a random moment of its first 0.2 s consuming
  aimed   each worker SIGKILLs itself (a kernel timer) 0–3 ms after storing its first, second or
          third batch: as it acknowledges that batch and takes the next off the queue
Then an ordinary worker drains the queue, and every batch is looked up: stored whole, or lost.

The loss rate is lost batches per kill. RabbitMQ (quorum queue, publisher confirms, late acks)
is the baseline, expected to lose none; on Redis kombu pops a batch off the list before it records
it as unacknowledged, and a worker killed in between loses it. The exit status is 1 if RabbitMQ
lost anything or a batch was stored in part; Redis's losses are the measurement.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ingest import CELERY, PYTHON, Stack, say, wait_until  # noqa: E402
from tests.worker_kills import (  # noqa: E402
    BatchPublisher,
    Zygote,
    held_at_kill,
    kill_workers,
    redis_holds,
    tally,
)

PER_BATCH = 10
RABBITMQ_URL = os.environ.get("TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672//")
TOPIC = "plantops/bench-site/bench-area/bench-line/bench-asset/telemetry"


def signal_id(stack: Stack, slug: str) -> int:
    with stack.connect() as conn:
        return conn.execute("SELECT id FROM assets_signal WHERE slug = %s", (slug,)).fetchone()[0]


def values(stack: Stack, signal: int) -> list[float]:
    with stack.connect() as conn:
        rows = conn.execute("SELECT value FROM telemetry_reading WHERE signal_id = %s", (signal,))
        return [row[0] for row in rows]


def delete_rabbitmq_queue(name: str) -> None:
    from kombu import Connection

    with Connection(RABBITMQ_URL) as connection:
        channel = connection.channel()
        channel.queue_delete(name)
        channel.exchange_delete(name)


def forget_redis_queue(redis_url: str, queue: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        keys = [queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}"]
        client.delete(*keys, *client.scan_iter(match=f"{queue}:*"))
    finally:
        client.close()


def run(stack: Stack, broker: str, kind: str, kills: int, slug: str, seed: int) -> dict:
    """One run: `kills` workers killed the `kind` way on `broker`; return what became of it."""
    queue = f"bench-handoff-{uuid.uuid4().hex[:8]}"
    base_env = stack.env
    stack.env = dict(base_env)
    stack.env.update(
        CELERY_QUEUE=queue,
        MQTT_SHARE_GROUP=queue,
        INGEST_BATCH_MAX_READINGS=str(PER_BATCH),
        INGEST_BATCH_MAX_AGE_S="0.2",
        CELERY_VISIBILITY_TIMEOUT_S="2",
        # Tiles pushed at once: a countdown task held by a solo worker would hold its prefetch.
        FLOOR_TILE_PUSH_EVERY_S="0",
        LOG_LEVEL="INFO",
    )
    if broker == "rabbitmq":
        stack.env["CELERY_BROKER_URL"] = RABBITMQ_URL
    else:
        stack.env.pop("CELERY_BROKER_URL", None)
    log = stack.workdir / f"workers-{queue}.log"
    signal = signal_id(stack, slug)
    started = time.monotonic()
    ingest = stack.start(
        f"ingest-{queue}", PYTHON, "manage.py", "ingest_mqtt", "--client-id", queue
    )
    zygote = Zygote(stack.env, log)
    flow = None
    try:
        first = zygote.start_worker()
        probe = BatchPublisher(
            "127.0.0.1", stack.port, TOPIC, per_batch=1, signal_slug="s099", preload=0, per_s=5
        )
        probe.start()
        probe_signal = signal_id(stack, "s099")
        wait_until(lambda: values(stack, probe_signal), timeout=60, what="the pipeline to flow")
        probe.stop()
        os.kill(first, 9)
        zygote.wait_dead(first, timeout=30)
        flow = BatchPublisher(
            "127.0.0.1",
            stack.port,
            TOPIC,
            per_batch=PER_BATCH,
            signal_slug=slug,
            # A queue for the workers to take batches from throughout, not too long to drain.
            preload=2 * kills,
            per_s=3,
        )
        flow.start()
        done = kill_workers(
            zygote,
            random_kills=kills if kind == "random" else 0,
            aimed_kills=kills if kind == "aimed" else 0,
            max_life_s=0.2,
            max_aim_delay_us=3000,
            rng=random.Random(seed),
        )
        batches = flow.stop()
    finally:
        zygote.close()
    loop_s = time.monotonic() - started
    final = stack.start(
        f"worker-{queue}",
        CELERY,
        "-A",
        "plantops",
        "worker",
        "--pool",
        "solo",
        "-Q",
        queue,
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "-l",
        "warning",
    )
    expected = batches * PER_BATCH
    if broker == "redis":
        redis_url = stack.env.get("REDIS_URL", "redis://127.0.0.1:6379/0")
        wait_until(
            lambda: redis_holds(redis_url, queue) == 0, timeout=180, what="Redis to hold no batch"
        )
    else:
        wait_until(lambda: len(values(stack, signal)) >= expected, timeout=180, what="a drain")
    time.sleep(2)  # the last batch taken is stored by now
    result = tally(values(stack, signal), batches=batches, per_batch=PER_BATCH)
    held = held_at_kill(log.read_text(errors="replace"))
    # This run's ingest would hand the next runs' batches to this run's queue too.
    for proc in (ingest, final):
        proc.terminate()
        proc.wait(timeout=30)
    stack.env = base_env
    if broker == "rabbitmq":
        delete_rabbitmq_queue(queue)
    else:
        forget_redis_queue(stack.env.get("REDIS_URL", "redis://127.0.0.1:6379/0"), queue)
    return {
        "broker": broker,
        "kind": kind,
        "kills": done.total,
        "aimed": done.aimed,
        "unaimed": done.unaimed,
        "batches": batches,
        "held": len(held),
        "lost": len(result.lost),
        "partial": len(result.partial),
        "seconds": round(loop_s, 1),
    }


def describe(r: dict) -> str:
    rate = r["lost"] / r["kills"] if r["kills"] else 0.0
    how = "at random" if r["kind"] == "random" else f"aimed ({r['unaimed']} found no batch)"
    return (
        f"{r['broker']:8} {r['kills']} kills {how}, {r['held']} with a batch in hand; "
        f"{r['batches']} batches, {r['lost']} lost = {rate:.1%} per kill "
        f"({r['lost'] / max(r['batches'], 1):.2%} of batches), {r['partial']} stored in part; "
        f"{r['seconds']} s"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kills", type=int, default=200, help="workers killed per run")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1_000_000)
    stack = Stack(pool="solo", db_name="plantops_bench_handoff")
    results = []
    try:
        stack.create_database()
        stack.start_broker()
        say(f"seed {seed}; {args.kills} kills per run; batches of {PER_BATCH} readings")
        for n, (broker, kind) in enumerate(
            [("rabbitmq", "random"), ("rabbitmq", "aimed"), ("redis", "random"), ("redis", "aimed")]
        ):
            results.append(run(stack, broker, kind, args.kills, f"s{n:03d}", seed + n))
            say(describe(results[-1]))
    finally:
        stack.stop()
    say()
    for kind in ("random", "aimed"):
        rabbit = next(r for r in results if r["broker"] == "rabbitmq" and r["kind"] == kind)
        redis_ = next(r for r in results if r["broker"] == "redis" and r["kind"] == kind)
        rabbit_rate = rabbit["lost"] / rabbit["kills"]
        redis_rate = redis_["lost"] / redis_["kills"]
        ratio = f"{redis_rate / rabbit_rate:.1f}x" if rabbit_rate else "RabbitMQ lost none"
        say(
            f"kills {kind}: Redis {redis_['lost']}/{redis_['kills']} = {redis_rate:.1%} per kill "
            f"(measurement), RabbitMQ {rabbit['lost']}/{rabbit['kills']} = {rabbit_rate:.1%} "
            f"(baseline); ratio: {ratio}"
        )
    bad = [r for r in results if r["partial"] or (r["broker"] == "rabbitmq" and r["lost"])]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
