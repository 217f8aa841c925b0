"""Writes of the ground floor: a user's own preferences."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext

from plantops.core import clock
from plantops.core.models import Preferences


def preferences_set(*, user: Any, time_zone: str) -> Preferences:
    """Store the zone `user` chose for their pages ("" for the plant's) and return the row."""
    if time_zone and clock.zone_named(time_zone) is None:
        unknown = gettext("Unknown time zone %(zone)r.") % {"zone": time_zone}
        raise ValidationError({"time_zone": unknown})
    preferences, _ = Preferences.objects.update_or_create(
        user=user, defaults={"time_zone": time_zone}
    )
    return preferences
