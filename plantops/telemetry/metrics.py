"""Pipeline figures shared through Redis by ingest and the workers, and their Prometheus text.

Ingest writes its counters and lag every few seconds (the entry expires when the process is
gone); each worker adds what it stored and how long the batch took from the first MQTT
message to commit. Writes are one Redis round trip per report or batch, never per reading,
and a failure to write is logged and ignored: figures must never cost a reading.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from typing import Any

import redis
from django.conf import settings

from plantops.core.redis import key as redis_key
from plantops.core.redis import redis_client

logger = logging.getLogger(__name__)

LATENCY_BUCKETS_S = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
INGEST_TTL_S = 60


def _key(*parts: str) -> str:
    return redis_key("metrics", *parts)


def ingest_report(*, client_id: str, figures: dict[str, float]) -> None:
    """Publish one ingest process's counters and lag; they expire a minute after it stops."""
    key = _key("ingest", client_id)
    try:
        pipe = redis_client().pipeline(transaction=False)
        pipe.hset(key, mapping={**figures, "updated_at": time.time()})
        pipe.expire(key, INGEST_TTL_S)
        pipe.execute()
    except redis.RedisError:
        logger.warning("could not publish ingest figures", exc_info=True)


def batch_recorded(
    *, readings: int, dead_letter_reasons: list[str], latency_s: float | None
) -> None:
    """Add one stored batch to the worker figures."""
    key = _key("worker")
    try:
        pipe = redis_client().pipeline(transaction=False)
        pipe.hincrby(key, "batches", 1)
        pipe.hincrby(key, "readings_stored", readings)
        for reason, n in Counter(dead_letter_reasons).items():
            pipe.hincrby(key, f"rejected:{reason}", n)
        if latency_s is not None:
            for bucket in LATENCY_BUCKETS_S:
                if latency_s <= bucket:
                    pipe.hincrby(key, f"latency_le:{bucket}", 1)
            pipe.hincrby(key, "latency_count", 1)
            pipe.hincrbyfloat(key, "latency_sum", latency_s)
        pipe.execute()
    except redis.RedisError:
        logger.warning("could not record batch figures", exc_info=True)


def snapshot() -> dict[str, Any]:
    """Return every figure: per ingest process, the workers' totals and the queue backlog."""
    client = redis_client()
    ingests = {}
    for key in client.scan_iter(match=_key("ingest", "*"), count=100):
        ingests[key.rsplit(":", 1)[-1]] = {k: float(v) for k, v in client.hgetall(key).items()}
    worker = {k: float(v) for k, v in client.hgetall(_key("worker")).items()}
    return {
        "ingest": ingests,
        "worker": worker,
        # Batches handed on but not yet taken by a worker (kombu keeps the queue as a list).
        "queued_batches": client.llen(settings.CELERY_TASK_DEFAULT_QUEUE),
    }


def render_prometheus(figures: dict[str, Any]) -> str:
    """Return the figures in Prometheus' text exposition format. Pure."""
    lines: list[str] = []

    def metric(name: str, kind: str, help_text: str, samples: list[tuple[str, float]]) -> None:
        lines.append(f"# HELP {name} {help_text}")
        lines.append(f"# TYPE {name} {kind}")
        lines.extend(f"{name}{labels} {value:g}" for labels, value in samples)

    ingest = figures["ingest"]
    per_ingest = {
        "plantops_ingest_messages_total": ("counter", "MQTT messages received", "messages"),
        "plantops_ingest_readings_total": ("counter", "readings parsed", "readings"),
        "plantops_ingest_rejected_total": ("counter", "messages or items rejected", "dead_letters"),
        "plantops_ingest_batches_total": ("counter", "batches handed to the workers", "batches"),
        "plantops_ingest_handoff_failures_total": (
            "counter",
            "failed hand-offs",
            "handoff_failures",
        ),
        "plantops_ingest_unacked_messages": (
            "gauge",
            "messages received, not yet acknowledged",
            "unacked",
        ),
        "plantops_ingest_oldest_unacked_seconds": (
            "gauge",
            "age of the oldest unacknowledged message",
            "oldest_unacked_age_s",
        ),
        "plantops_ingest_connected": ("gauge", "1 while connected to the broker", "connected"),
    }
    for name, (kind, help_text, field) in per_ingest.items():
        samples = [
            (f'{{client_id="{cid}"}}', values.get(field, 0.0))
            for cid, values in sorted(ingest.items())
        ]
        metric(name, kind, help_text, samples)

    worker = figures["worker"]
    metric(
        "plantops_stored_readings_total",
        "counter",
        "readings stored by the workers",
        [("", worker.get("readings_stored", 0.0))],
    )
    metric(
        "plantops_stored_batches_total",
        "counter",
        "batches stored by the workers",
        [("", worker.get("batches", 0.0))],
    )
    rejected = sorted(
        (k.split(":", 1)[1], v) for k, v in worker.items() if k.startswith("rejected:")
    )
    metric(
        "plantops_dead_letters_total",
        "counter",
        "dead letters stored, by reason",
        [(f'{{reason="{reason}"}}', value) for reason, value in rejected],
    )
    buckets = [(f'{{le="{b:g}"}}', worker.get(f"latency_le:{b}", 0.0)) for b in LATENCY_BUCKETS_S]
    buckets.append(('{le="+Inf"}', worker.get("latency_count", 0.0)))
    lines.append(
        "# HELP plantops_batch_latency_seconds first MQTT message of a batch to its commit"
    )
    lines.append("# TYPE plantops_batch_latency_seconds histogram")
    lines.extend(
        f"plantops_batch_latency_seconds_bucket{labels} {value:g}" for labels, value in buckets
    )
    lines.append(f"plantops_batch_latency_seconds_sum {worker.get('latency_sum', 0.0):g}")
    lines.append(f"plantops_batch_latency_seconds_count {worker.get('latency_count', 0.0):g}")
    metric(
        "plantops_queued_batches",
        "gauge",
        "batches waiting for a worker",
        [("", float(figures["queued_batches"]))],
    )
    return "\n".join(lines) + "\n"
