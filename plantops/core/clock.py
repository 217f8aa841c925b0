"""The clock a page, a chart, an export or an API answer shows its times on: one IANA zone.

Times are stored and computed in UTC; they are shown in the zone that `plantops.assets.clock`
picks for the viewer (their own choice, else their plant's site, else settings.TIME_ZONE) and
activates with `django.utils.timezone.activate`. This module only names zones and says them in
words, so that every screen says which clock it is on the same way.
"""

from __future__ import annotations

import zoneinfo
from datetime import datetime, tzinfo
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone


def zone_named(name: str | None) -> ZoneInfo | None:
    """The zone of an IANA name, or None for a blank or unknown name."""
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def default_zone() -> ZoneInfo:
    """settings.TIME_ZONE: the zone shown when nothing says otherwise."""
    return ZoneInfo(settings.TIME_ZONE)


@cache
def zone_names() -> tuple[str, ...]:
    """Every IANA zone name this machine knows, sorted: the choices of a zone select."""
    return tuple(sorted(zoneinfo.available_timezones()))


def zone_name(zone: tzinfo) -> str:
    """The IANA name of `zone` ("Europe/Berlin"); UTC for Python's own UTC."""
    return getattr(zone, "key", None) or str(zone)


def utc_offset(zone: tzinfo, at: datetime | None = None) -> str:
    """The offset of `zone` at `at` (now by default), as "UTC+01:00", or "UTC" for none."""
    moment = timezone.localtime(at or timezone.now(), zone)
    offset = moment.strftime("%z")
    return "UTC" if offset in ("", "+0000") else f"UTC{offset[:3]}:{offset[3:]}"


def abbreviation(zone: tzinfo, at: datetime | None = None) -> str:
    """What the zone is called at `at`: "CET" or "CEST"; an offset where the tz database has no
    letters for it ("+0530" is shown as "UTC+05:30")."""
    name = timezone.localtime(at or timezone.now(), zone).tzname() or ""
    if not name or name[0] in "+-":
        return utc_offset(zone, at)
    return name


def describe(zone: tzinfo, at: datetime | None = None) -> str:
    """The zone as pages name it: "Europe/Berlin (CET)", "Asia/Kolkata (IST)", "UTC"."""
    name = zone_name(zone)
    short = abbreviation(zone, at)
    return name if short == name else f"{name} ({short})"


def clock(request: HttpRequest) -> dict[str, Any]:
    """Template context: the active zone's name and its words, for the top bar and the charts."""
    zone = timezone.get_current_timezone()
    return {"clock_zone": zone_name(zone), "clock_label": describe(zone)}
