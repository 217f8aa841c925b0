"""What the export tables share: how many rows a round trip brings, and times said in UTC
and in a site's own time zone."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError

# Rows a database round trip brings: a few hundred kilobytes of Python objects at most.
CHUNK = 2_000


@lru_cache(maxsize=64)
def site_zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local(moment: datetime | None, zone_name: str) -> datetime | None:
    """`moment` in the site's time zone (named by `zone_name`), for the columns people read."""
    return None if moment is None else moment.astimezone(site_zone(zone_name))


def stamp(moment: datetime) -> str:
    """A moment for a file's name: 20261123T0600Z."""
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%MZ")


def require_range(start: datetime | None, end: datetime | None) -> None:
    if start is not None and end is not None and end <= start:
        raise ValidationError({"to": "to must be after from."})
