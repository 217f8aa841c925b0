"""Plant time: the clock the health model counts remaining life in. Pure but for the setting.

Remaining life is learned and stated in plant days. Wall-clock moments convert to plant time
through `settings.PLANT_TIME_SCALE`, which is 1 everywhere but in the sped-up demo, where a
wall-clock second is a minute or more of the plant's.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.conf import settings

DAY_S = 86_400.0


def plant_days_between(start: datetime, end: datetime) -> float:
    """Return the plant days from `start` to `end` (wall-clock moments)."""
    return (end - start).total_seconds() * settings.PLANT_TIME_SCALE / DAY_S


def plant_s(moment: datetime) -> float:
    """Plant seconds since the epoch of a wall-clock moment."""
    return moment.timestamp() * settings.PLANT_TIME_SCALE


def wall(plant_seconds: float) -> datetime:
    """The wall-clock moment of plant seconds since the epoch."""
    return datetime.fromtimestamp(plant_seconds / settings.PLANT_TIME_SCALE, tz=UTC)
