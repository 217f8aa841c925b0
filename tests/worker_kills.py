"""Kill Celery workers hundreds of times while batches flow, and count what was lost.

Shared by the fault test (tests/pipeline/test_handoff_kills.py) and the benchmark
(bench/handoff_loss.py). The batches take the real path: MQTT (QoS 1) → ingest → Celery broker →
worker → database. Each MQTT message carries `per_batch` readings and the ingest is told to hand
a batch on at that many readings, so one message is one batch. Every reading of message `m` has
the value `m`: a batch is either stored whole (`per_batch` readings with value m) or lost.

The workers come from a zygote (tests/worker_zygote.py) that forks a real worker in a fraction
of a second; each dies by SIGKILL, sent from here at a random moment after it starts consuming,
or by its own kernel timer just after it stores a batch, as it takes the next (`kill_workers`).
"""

from __future__ import annotations

import json
import os
import random
import re
import select
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

ROOT = Path(__file__).resolve().parent.parent


class Zygote:
    """A process that forks ready-to-consume Celery workers on request, one at a time."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.log = open(log_path, "ab")  # noqa: SIM115 - closed in close()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.worker_zygote", env["CELERY_QUEUE"]],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
        )
        self.worker: int | None = None  # the worker running now, if any

    def _say(self, command: str) -> None:
        assert self.proc.stdin
        self.proc.stdin.write(f"{command}\n".encode())
        self.proc.stdin.flush()

    def _hear(self, word: str, timeout: float) -> list[str]:
        assert self.proc.stdout
        readable, _, _ = select.select([self.proc.stdout], [], [], timeout)
        line = self.proc.stdout.readline().decode() if readable else ""
        if not line.startswith(f"{word} "):
            raise RuntimeError(f"zygote: no '{word}' within {timeout:.0f}s (it said {line!r})")
        return line.split()[1:]

    def start_worker(self, *, aimed: tuple[int, int] | None = None, timeout: float = 60) -> int:
        """Fork a worker and return its pid once it consumes from the queue.

        `aimed=(n, delay_us)`: the worker SIGKILLs itself delay_us after its n-th stored batch.
        """
        self._say("start" if aimed is None else f"start aimed {aimed[0]} {aimed[1]}")
        self.worker = int(self._hear("ready", timeout)[0])
        return self.worker

    def wait_dead(self, pid: int, *, timeout: float) -> int | None:
        """Wait for the worker to die and return the signal that killed it (None: timed out)."""
        assert self.proc.stdout
        readable, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not readable:
            return None
        dead_pid, died_of = self._hear("dead", 0)
        assert int(dead_pid) == pid
        self.worker = None
        return int(died_of)

    def close(self) -> None:
        """Kill the worker still running, if any (the zygote waits for it), then stop."""
        if self.worker is not None and self.proc.poll() is None:
            try:
                os.kill(self.worker, signal.SIGKILL)
                self.wait_dead(self.worker, timeout=15)
            except (ProcessLookupError, RuntimeError):
                pass
        if self.proc.poll() is None:
            try:
                self._say("stop")
                self.proc.stdin.close()  # type: ignore[union-attr]
            except BrokenPipeError:
                pass
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


@dataclass
class Kills:
    """How the workers died: killed from outside at a random moment, or by their own aimed
    timer; `unaimed` counts aimed workers that found no batch and were killed from outside."""

    random: int = 0
    aimed: int = 0
    unaimed: int = 0

    @property
    def total(self) -> int:
        return self.random + self.aimed + self.unaimed

    def __add__(self, other: Kills) -> Kills:
        return Kills(
            self.random + other.random, self.aimed + other.aimed, self.unaimed + other.unaimed
        )


def kill_workers(
    zygote: Zygote,
    *,
    random_kills: int,
    aimed_kills: int,
    max_life_s: float,
    max_aim_delay_us: int,
    rng: random.Random,
    aim_timeout_s: float = 3.0,
) -> Kills:
    """Start workers one at a time and have each die by SIGKILL while batches flow.

    Random kills come from here at a moment drawn uniformly from the worker's first
    `max_life_s` of consuming. Aimed kills come from the worker's own timer, at a delay drawn
    uniformly from [0, max_aim_delay_us] after it stores its first, second or third batch: the
    moment it acknowledges that batch and takes the next one off the queue. An aimed worker
    that has not stored its batches within `aim_timeout_s` is killed from here instead. The two
    kinds are shuffled together.
    """
    plan = ["random"] * random_kills + ["aimed"] * aimed_kills
    rng.shuffle(plan)
    kills = Kills()
    for kind in plan:
        if kind == "random":
            pid = zygote.start_worker()
            time.sleep(rng.uniform(0.0, max_life_s))
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                raise RuntimeError(f"worker {pid} ended before it was killed") from None
            kills.random += 1
            died_of = zygote.wait_dead(pid, timeout=30)
        else:
            aim = (rng.randint(1, 3), rng.randint(0, max_aim_delay_us))
            pid = zygote.start_worker(aimed=aim)
            died_of = zygote.wait_dead(pid, timeout=aim_timeout_s)
            if died_of is None:  # no batch came within aim_timeout_s
                os.kill(pid, signal.SIGKILL)
                kills.unaimed += 1
                died_of = zygote.wait_dead(pid, timeout=30)
            else:
                kills.aimed += 1
        if died_of != signal.SIGKILL:
            raise RuntimeError(f"worker {pid} ended with signal {died_of}, not SIGKILL")
    return kills


def batch_message(m: int, *, per_batch: int, signal_slug: str, start_ts: float) -> bytes:
    """Batch m as one MQTT payload: `per_batch` readings of value m, 1 ms apart."""
    base = start_ts + m * per_batch / 1000
    readings = [
        {"signal": signal_slug, "ts": round(base + j / 1000, 3), "value": m}
        for j in range(per_batch)
    ]
    return json.dumps({"readings": readings}).encode()


class BatchPublisher(threading.Thread):
    """Publishes batches at QoS 1 in a thread: `preload` at once, then `per_s` a second until
    stop(). The preload makes a queue for the first workers; the steady flow keeps one there."""

    def __init__(
        self,
        host: str,
        port: int,
        topic: str,
        *,
        per_batch: int,
        signal_slug: str,
        preload: int,
        per_s: float,
    ) -> None:
        super().__init__(daemon=True)
        self.topic = topic
        self.payload = {
            "per_batch": per_batch,
            "signal_slug": signal_slug,
            "start_ts": time.time() - 3600,
        }
        self.preload = preload
        self.per_s = per_s
        self.published = 0
        self.error: BaseException | None = None
        self._halt = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        self.client.max_inflight_messages_set(1000)
        self.client.connect(host, port)
        self.client.loop_start()

    def run(self) -> None:
        try:
            pending = [self._publish(m) for m in range(self.preload)]
            started = time.monotonic()
            while not self._halt.wait(
                max(0.0, started + self.paced / self.per_s - time.monotonic())
            ):
                pending.append(self._publish(self.published))
            for info in pending:
                info.wait_for_publish(timeout=60)
        except BaseException as error:  # raised again by stop()
            self.error = error

    @property
    def paced(self) -> int:
        return self.published - self.preload

    def _publish(self, m: int) -> mqtt.MQTTMessageInfo:
        info = self.client.publish(self.topic, batch_message(m, **self.payload), qos=1)
        self.published += 1
        return info

    def stop(self) -> int:
        """Stop publishing, wait until the broker has every batch, return how many there are."""
        self._halt.set()
        self.join(120)
        self.client.loop_stop()
        self.client.disconnect()
        if self.is_alive():
            raise RuntimeError("the publisher did not finish")
        if self.error:
            raise self.error
        return self.published


@dataclass
class Tally:
    """What became of each batch: stored whole, lost, or (never expected) stored in part."""

    batches: int
    complete: int = 0
    lost: list[int] = field(default_factory=list)
    partial: dict[int, int] = field(default_factory=dict)


def tally(values: Iterable[float], *, batches: int, per_batch: int) -> Tally:
    """Classify the batches from the values of the readings stored (value m: batch m)."""
    counts = Counter(int(value) for value in values)
    result = Tally(batches=batches)
    for m in range(batches):
        n = counts.get(m, 0)
        if n == per_batch:
            result.complete += 1
        elif n == 0:
            result.lost.append(m)
        else:
            result.partial[m] = n
    return result


TASK_LINE = re.compile(
    r"/MainProcess(?:/(?P<pid>\d+))?\] Task telemetry\.store_batch\[(?P<task>[^\]]+)\] (?P<what>\w+)"
)


def held_at_kill(log: str) -> set[str]:
    """The batches (task ids) workers had taken and not finished when they were killed.

    A worker logs `store_batch[<id>] received` once it holds a batch (on Redis: once it is in
    kombu's unacked hash) and `succeeded` (or `retry`, `raised`) when it is done with it; a task
    received and never done by that worker was in its hands when it died. The zygote's workers
    put their pid in every line.
    """
    open_tasks: dict[str, set[str]] = {}
    for match in TASK_LINE.finditer(log):
        tasks = open_tasks.setdefault(match["pid"], set())
        if match["what"] == "received":
            tasks.add(match["task"])
        else:
            tasks.discard(match["task"])
    return set().union(*open_tasks.values())


def redis_holds(redis_url: str, queue: str) -> int:
    """How many batches of `queue` Redis still holds: queued, or taken and not acknowledged."""
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        held = sum(1 for _, message in client.hscan_iter("unacked") if _routed_to(message, queue))
        return client.llen(queue) + held
    finally:
        client.close()


def _routed_to(message: bytes, queue: str) -> bool:
    # kombu keeps [message, exchange, routing key]; the routing key is the queue's name.
    return json.loads(message)[2] == queue
