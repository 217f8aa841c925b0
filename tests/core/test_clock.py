"""How the pages name a zone: its IANA name with the abbreviation of the moment, or an offset."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from django.utils import timezone

from plantops.core import clock
from plantops.core.templatetags.clock import wall_time

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


def test_a_wall_time_in_the_repeated_hour_says_which_of_the_two_it_is():
    berlin = ZoneInfo("Europe/Berlin")
    with timezone.override(berlin):
        # 25 October 2026: at 03:00 summer time the clocks go back to 02:00.
        assert wall_time(datetime(2026, 10, 25, 0, 30, tzinfo=UTC)) == "02:30 CEST"
        assert wall_time(datetime(2026, 10, 25, 1, 30, tzinfo=UTC)) == "02:30 CET"
        assert wall_time(datetime(2026, 10, 25, 2, 30, tzinfo=UTC)) == "03:30"
        assert wall_time(datetime(2026, 10, 24, 23, 30, tzinfo=UTC)) == "01:30"
        # The hour spring skips is never a moment's; the hours around it read plainly.
        assert wall_time(datetime(2026, 3, 29, 1, 30, tzinfo=UTC)) == "03:30"
    assert wall_time(None) == ""
