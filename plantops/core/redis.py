"""The process's one Redis client, for what PlantOps keeps in Redis beside Celery and the
channel layer: pipeline figures and the OEE push claims.

redis-py's pool notices a fork and opens new connections in the child, so a Celery worker's
processes can share this module-level client safely.
"""

from __future__ import annotations

import redis
from django.conf import settings

_client: redis.Redis | None = None


def redis_client() -> redis.Redis:
    """The shared client: strings in and out, and a short timeout, since every use is a hint
    that must never hold up the data path."""
    global _client
    if _client is None:
        _client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, decode_responses=True)
    return _client


def key(*parts: str) -> str:
    """A key of this installation, `<queue>:<part>:…`: namespaced by the Celery queue, which
    already separates installations sharing a Redis."""
    return ":".join((settings.CELERY_TASK_DEFAULT_QUEUE, *parts))
