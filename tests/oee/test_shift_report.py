"""A shift's report: its figures, stops with their reasons and scrap, in the site's time zone;
who may open it, and the line page's way to it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone

from plantops.assets.models import Asset, Line, Shift
from plantops.oee import services
from plantops.oee.models import CountEvent, StateEvent, StopReason
from tests.factories import logged_in, make_asset, make_user
from tests.oee.test_screens import stop_reasons

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")


@dataclass
class WorkedShift:
    line: Line
    press: Asset
    feeder: Asset
    day: date

    def at(self, hour: int, minute: int = 0) -> datetime:
        """A moment of the shift's day, on the site's wall clock."""
        return datetime.combine(self.day, time(hour, minute), tzinfo=BERLIN)

    @property
    def url(self) -> str:
        return f"/lines/{self.line.pk}/oee/report/?day={self.day:%Y-%m-%d}&shift=Early"


@pytest.fixture
def worked_shift() -> WorkedShift:
    """Yesterday's Early shift, 06:00 to 14:00 in Berlin, of a press and a feeder.

    The press stops four times: down 07:00-07:20 (Olga says: a jam), down 09:00-09:30 (the
    machine says motor_trip), a changeover 11:00-11:15 and idle 13:00-13:10 (nobody says
    why). It counts 280 parts every hour, 4 of them scrap, and Olga finds 5 more with burrs
    among the 10:00 hour's. The feeder runs throughout and makes 600 good parts an hour.
    """
    stop_reasons()
    press = make_asset(slug="press", signals=())
    line = press.line
    site = line.area.site
    site.timezone = "Europe/Berlin"
    site.save()
    press.name, press.ideal_cycle_time_s = "Press", 10
    press.save()
    feeder = Asset.objects.create(
        line=line, slug="feeder", name="Feeder", asset_type="conveyor", position=2
    )
    feeder.ideal_cycle_time_s = 5
    feeder.save()
    Shift.objects.create(line=line, name="Early", start=time(6), end=time(14), weekdays="0123456")
    shift = WorkedShift(
        line=line,
        press=press,
        feeder=feeder,
        day=timezone.now().astimezone(BERLIN).date() - timedelta(days=1),
    )
    olga = make_user(role="operator", username="olga", lines=[line])
    for hour, minute, state, reason in [
        (5, 50, "running", ""),
        (7, 0, "down", ""),
        (7, 20, "running", ""),
        (9, 0, "down", "motor_trip"),
        (9, 30, "running", ""),
        (11, 0, "changeover", ""),
        (11, 15, "running", ""),
        (13, 0, "idle", ""),
        (13, 10, "running", ""),
    ]:
        StateEvent.objects.create(
            asset=press, ts=shift.at(hour, minute), state=state, reason=reason
        )
    StateEvent.objects.create(asset=feeder, ts=shift.at(5, 50), state="running")
    for hour in range(6, 14):
        CountEvent.objects.create(asset=press, ts=shift.at(hour, 30), good=276, scrap=4)
        CountEvent.objects.create(asset=feeder, ts=shift.at(hour, 30), good=600, scrap=0)
    jam = StateEvent.objects.get(asset=press, ts=shift.at(7))
    services.stop_reason_assign(event=jam, reason=StopReason.objects.get(code="jam"), user=olga)
    services.scrap_record(asset=press, ts=shift.at(10, 30), quantity=5, reason="burr", user=olga)
    return shift


def report_of(shift: WorkedShift, role: str = "supervisor"):
    response = logged_in(make_user(role=role)).get(shift.url)
    assert response.status_code == 200
    return response


def test_the_report_gives_the_shift_in_the_sites_time_zone_and_says_which(worked_shift):
    response = report_of(worked_shift)
    html = response.content.decode()
    offset = worked_shift.at(6).strftime("%z")  # +0100 in winter, +0200 in summer
    name = worked_shift.at(6).tzname()  # CET in winter, CEST in summer
    assert f"times in Europe/Berlin ({name}), UTC{offset[:3]}:{offset[3:]}." in html
    assert f'<time datetime="{worked_shift.at(6).isoformat()}">' in html
    assert f"{worked_shift.at(6):%a %-d %b} 06:00</time> to" in html
    # The stops' times as the wall clock in Berlin read them, not UTC.
    starts = [
        row["start"].astimezone(BERLIN) for row in response.context["report"]["stops"]["rows"]
    ]
    assert [f"{moment:%H:%M}" for moment in starts] == ["07:00", "09:00", "11:00", "13:00"]
    for moment in ("07:00", "09:00", "11:00", "13:00"):
        assert f">{moment}</time>" in html


def test_each_stop_carries_the_operators_reason_before_the_machines(worked_shift):
    rows = report_of(worked_shift).context["report"]["stops"]["rows"]
    assert [
        (row["asset"], row["state"], row["minutes"], row["reason"], row["given_by"]) for row in rows
    ] == [
        ("Press", "Down", 20.0, "Jam", "olga"),
        ("Press", "Down", 30.0, "Motor trip", "the machine"),
        ("Press", "Changeover", 15.0, "Not explained yet", ""),
        ("Press", "Idle", 10.0, "Not explained yet", ""),
    ]


def test_the_figures_losses_and_scrap_add_up(worked_shift):
    report = report_of(worked_shift).context["report"]
    assert report["shift"]["planned_minutes"] == 480
    # 480 planned minutes per machine; the press ran 405 of them, the feeder all 480.
    assert report["oee"]["planned_minutes"] == 960
    assert report["oee"]["run_minutes"] == 885
    assert (report["oee"]["total_count"], report["oee"]["good_count"]) == (7040, 7003)
    assert report["oee"]["scrap_count"] == 37
    losses = {row["label"]: row for row in report["losses"]}
    assert losses["Breakdowns"]["minutes"] == 50
    assert losses["Breakdowns"]["note"] == "2 stops"
    assert losses["Setup and changeover"]["minutes"] == 15
    assert [(bar["label"], bar["minutes"]) for bar in report["pareto"]] == [
        ("Motor trip", 30),
        ("Jam", 20),
        ("Not explained yet", 10),
    ]
    assert [
        (m["name"], m["total_count"], m["good_count"], m["scrap_count"]) for m in report["machines"]
    ] == [
        ("Press", 2240, 2203, 37),
        ("Feeder", 4800, 4800, 0),
    ]
    [record] = report["scrap_records"]
    assert (record.asset, record.quantity, record.reason, record.entered_by) == (
        "Press",
        5,
        "burr",
        "olga",
    )
    # Eight hours, one bar each, labelled by Berlin's wall clock.
    [bars] = report["hourly_figure"]["data"]
    assert list(bars["x"]) == [f"{hour:02d}:00" for hour in range(6, 14)]
    assert len(bars["text"]) == 8
    assert all(text.endswith("%") for text in bars["text"])


def test_only_the_longest_stops_are_listed_and_the_rest_are_summed_up(worked_shift):
    press = worked_shift.press
    for minute in range(0, 45, 3):  # fifteen one-minute stops, 12:00 to 12:43
        StateEvent.objects.create(asset=press, ts=worked_shift.at(12, minute), state="down")
        StateEvent.objects.create(asset=press, ts=worked_shift.at(12, minute + 1), state="running")
    stops = report_of(worked_shift).context["report"]["stops"]
    assert stops["count"] == 19
    assert len(stops["rows"]) == 10
    # The four long stops are kept, in time order with six short ones; nine short are summed.
    assert [row["minutes"] for row in stops["rows"]][:3] == [20.0, 30.0, 15.0]
    assert stops["rows"][-1]["minutes"] == 10.0
    assert (stops["others"], stops["others_minutes"]) == (9, 9.0)
    assert [row["start"] for row in stops["rows"]] == sorted(row["start"] for row in stops["rows"])


def test_a_shift_the_calendar_lacks_or_not_yet_begun_sends_back_to_the_line_page(worked_shift):
    client = logged_in(make_user(role="supervisor"))
    line_page = f"/lines/{worked_shift.line.pk}/oee/"
    tomorrow = worked_shift.day + timedelta(days=2)
    for query in (
        "day=2026-02-30&shift=Early",
        "day=yesterday&shift=Early",
        f"day={worked_shift.day:%Y-%m-%d}&shift=Late",
        f"day={worked_shift.day:%Y-%m-%d}",
        f"day={tomorrow:%Y-%m-%d}&shift=Early",
    ):
        response = client.get(f"/lines/{worked_shift.line.pk}/oee/report/?{query}", follow=True)
        assert response.redirect_chain == [(line_page, 302)], query
        [message] = [str(m) for m in response.context["messages"]]
        assert "has no shift" in message or "has not begun" in message, query


def test_whoever_may_see_the_line_page_may_read_its_reports(worked_shift):
    elsewhere = logged_in(make_user(role="operator")).get(worked_shift.url)
    assert elsewhere.status_code == 200  # an operator of another line reads, as the OEE page
    assert logged_in(make_user(role=None)).get(worked_shift.url).status_code == 403
    nobody = Client().get(worked_shift.url)
    assert nobody.status_code == 302
    assert "/login/" in nobody["Location"]


def test_the_line_page_offers_the_last_shifts_reports_and_any_other(worked_shift):
    page = logged_in(make_user(role="operator")).get(f"/lines/{worked_shift.line.pk}/oee/")
    html = page.content.decode()
    link = (
        f"/lines/{worked_shift.line.pk}/oee/report/?day={worked_shift.day:%Y-%m-%d}&amp;shift=Early"
    )
    assert link in html
    assert f"Early · {worked_shift.at(6):%a %-d %b} 06:00" in html
    assert page.context["shift_choices"]["names"] == ["Early"]
    assert 'name="day"' in html
    assert '<option value="Early">' in html
