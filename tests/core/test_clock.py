"""How the pages name a zone: its IANA name with the abbreviation of the moment, or an offset."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from plantops.core import clock

BERLIN = ZoneInfo("Europe/Berlin")
SUMMER = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 CEST, the last summer half hour
WINTER = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # 02:30 CET, the same wall time again


def test_a_zone_is_named_with_the_abbreviation_of_the_moment():
    assert clock.describe(BERLIN, SUMMER) == "Europe/Berlin (CEST)"
    assert clock.describe(BERLIN, WINTER) == "Europe/Berlin (CET)"
    assert clock.describe(ZoneInfo("UTC"), SUMMER) == "UTC"


def test_a_zone_without_letters_is_named_by_its_offset():
    assert clock.describe(ZoneInfo("Asia/Dubai"), SUMMER) == "Asia/Dubai (UTC+04:00)"
    assert clock.utc_offset(ZoneInfo("America/Chicago"), WINTER) == "UTC-05:00"
    assert clock.utc_offset(ZoneInfo("Asia/Kolkata"), WINTER) == "UTC+05:30"
    assert clock.utc_offset(ZoneInfo("UTC"), WINTER) == "UTC"


def test_an_unknown_or_blank_name_is_no_zone():
    assert clock.zone_named("Mars/Olympus") is None
    assert clock.zone_named("") is None
    assert clock.zone_named("America/Chicago") == ZoneInfo("America/Chicago")
    assert "Europe/Berlin" in clock.zone_names()
