"""A night shift over the end of summer time in Berlin (2026-10-25, 03:00 CEST becomes 02:00
CET): the report gives its nine real hours on the wall clock, the repeated hour told apart, and
names the zone as it was at each end."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from plantops.assets.models import Line, Shift
from plantops.oee.models import CountEvent, StateEvent
from tests.factories import logged_in, make_asset, make_user

BERLIN = ZoneInfo("Europe/Berlin")
# 22:00 CEST on Saturday 24 October is 20:00 UTC; 06:00 CET on Sunday is 05:00 UTC.
SHIFT_START = datetime(2026, 10, 24, 20, 0, tzinfo=UTC)
HOURS = ["22:00", "23:00", "00:00", "01:00", "02:00 CEST", "02:00 CET", "03:00", "04:00", "05:00"]


def night_over_dst() -> Line:
    """A Berlin press on a night shift from 22:00 to 06:00, running and counting every hour of
    the night of 24 to 25 October 2026; it stops at 02:30 CEST and again at 02:30 CET."""
    press = make_asset(slug="press", signals=())
    press.name, press.ideal_cycle_time_s = "Press", 10
    press.save()
    line = press.line
    site = line.area.site
    site.timezone = "Europe/Berlin"
    site.save()
    Shift.objects.create(line=line, name="Night", start=time(22), end=time(6), weekdays="0123456")
    StateEvent.objects.create(asset=press, ts=SHIFT_START - timedelta(minutes=10), state="running")
    for minutes, state in ((270, "down"), (280, "running"), (330, "down"), (340, "running")):
        StateEvent.objects.create(
            asset=press, ts=SHIFT_START + timedelta(minutes=minutes), state=state
        )
    for hour in range(9):
        CountEvent.objects.create(
            asset=press, ts=SHIFT_START + timedelta(hours=hour, minutes=30), good=300, scrap=0
        )
    return line


def report_url(line: Line) -> str:
    return f"/lines/{line.pk}/oee/report/?day=2026-10-24&shift=Night"


@pytest.mark.django_db
def test_the_report_of_a_night_over_the_change_shows_the_wall_clock_and_names_the_zone():
    line = night_over_dst()
    response = logged_in(make_user(role="supervisor")).get(report_url(line))
    assert response.status_code == 200
    html = response.content.decode()
    report = response.context["report"]
    assert report["hourly_figure"]["data"][0]["x"] == HOURS
    assert report["hourly_figure"]["layout"]["xaxis"]["title"]["text"] == "Time in Europe/Berlin"
    assert ">Sat 24 Oct 22:00</time> to" in html
    assert ">Sun 25 Oct 06:00</time>" in html
    assert "times in Europe/Berlin (CEST), UTC+02:00." in html
    # The two stops at the same wall time, half an hour and an hour and a half after 01:00.
    stops = [row["start"].astimezone(BERLIN) for row in report["stops"]["rows"]]
    assert [(f"{s:%H:%M}", s.tzname()) for s in stops] == [("02:30", "CEST"), ("02:30", "CET")]
    # The table tells them apart as the chart does.
    assert html.count(">02:30 CEST</time>") == 1
    assert html.count(">02:30 CET</time>") == 1
    assert "UTC " not in html
    assert "(UTC)" not in html
