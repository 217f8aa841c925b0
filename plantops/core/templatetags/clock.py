"""Filters that say which clock a time is on: `{{ moment|zone_offset }}` ("UTC+01:00"),
`{{ moment|zone_label }}` ("Europe/Berlin (CET)"), both in the active zone at that moment,
`{{ moment|wall_time }}` ("02:30", "02:30 CEST" in the hour a change from summer time repeats),
and `{{ text|from_iso }}`, a payload's ISO 8601 time as a datetime for `|date`."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import timezone

from plantops.core import clock

register = template.Library()


@register.filter
def from_iso(value: str | datetime | None) -> datetime | None:
    """The datetime of an ISO 8601 text (a screen payload's), for `|date`; None if there is none."""
    if value is None or isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


@register.filter
def zone_offset(value: datetime | None) -> str:
    """The active zone's offset at `value` (now without one): "UTC+01:00", or "UTC"."""
    return clock.utc_offset(timezone.get_current_timezone(), value)


@register.filter
def zone_label(value: datetime | None) -> str:
    """The active zone named as at `value` (now without one): "Europe/Berlin (CEST)"."""
    return clock.describe(timezone.get_current_timezone(), value)


@register.filter
def wall_time(value: datetime | None) -> str:
    """`value` on the active zone's wall clock, "02:30"; in the hour the clock repeats when
    summer time ends, with the zone's abbreviation ("02:30 CEST", then "02:30 CET"), so two
    moments an hour apart never read the same."""
    if value is None:
        return ""
    local = timezone.localtime(value)
    text = f"{local:%H:%M}"
    twin = local.replace(fold=1 - local.fold)
    return f"{text} {local.tzname()}" if twin.utcoffset() != local.utcoffset() else text
