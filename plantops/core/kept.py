"""Facts that every stored batch needs and that change rarely, kept in a process for a while.

A worker reads the plant's configuration (which signals exist, which rules watch them) once
per `ttl_s` instead of once per batch. A change made in this process (the admin, a test)
clears what is kept at once, through the models' save and delete signals; other processes
see it within `ttl_s`.
"""

from __future__ import annotations

import time


class Kept:
    """Subclasses keep their facts in attributes set by `clear()` and call `fresh()` before
    reading them: past `ttl_s`, it clears them to be read again."""

    def __init__(self, *, ttl_s: float) -> None:
        self.ttl_s = ttl_s
        self.expires_at = 0.0
        self.clear()

    def clear(self) -> None:
        self.expires_at = 0.0

    def fresh(self) -> None:
        now = time.monotonic()
        if now >= self.expires_at:
            self.clear()
            self.expires_at = now + self.ttl_s
