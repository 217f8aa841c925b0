"""Who is told of an alert: subscriptions by line, area and priority; teams by the line's shift,
on-call and membership; quiet hours; people who may not see alerts; rooms once per event; and
the whole way from a stored reading to a real SMTP server and a real webhook."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from django.contrib.auth.models import User

from plantops.assets.models import Area, Shift, Site
from plantops.notify import dispatch, selectors, sending
from plantops.notify.models import (
    Channel,
    ChannelKind,
    Notification,
    NotificationKind,
    OnCall,
    RoutingRule,
    Subscription,
    TeamShift,
)
from tests.factories import make_alert, make_user
from tests.notify.builders import addressed_to, asset_on, line_in, person, send_all, team

pytestmark = pytest.mark.django_db

# A Monday in winter: Europe/Berlin is UTC+1.
MONDAY = datetime(2026, 11, 23, tzinfo=UTC)


def utc(day: datetime, hhmm: str) -> datetime:
    hours, minutes = map(int, hhmm.split(":"))
    return day + timedelta(hours=hours, minutes=minutes)


@pytest.fixture
def plant():
    """One site in Berlin with two areas: Packing (lines P1, P2) and Moulding (line M1)."""
    site = Site.objects.create(slug="berlin", name="Berlin", timezone="Europe/Berlin")
    packing = Area.objects.create(site=site, slug="packing", name="Packing")
    moulding = Area.objects.create(site=site, slug="moulding", name="Moulding")
    return {
        "packing": packing,
        "moulding": moulding,
        "p1": line_in(packing, "P1"),
        "p2": line_in(packing, "P2"),
        "m1": line_in(moulding, "M1"),
    }


def subscribe(user, channel, *, lines=(), areas=(), min_priority="high", **fields) -> Subscription:
    sub = Subscription.objects.create(user=user, min_priority=min_priority, **fields)
    sub.lines.set(lines)
    sub.areas.set(areas)
    sub.channels.add(channel)
    return sub


def told(line, *, priority="high", at=MONDAY, tier=1) -> list[str]:
    """The usernames (or "room:<channel>") told at `tier` of an alert on `line`."""
    found = selectors.recipients(line, priority=priority, at=at, tier=tier)
    return sorted(r.user.username if r.user else f"room:{r.channel.name}" for r in found)


def why(line, username, *, at=MONDAY, priority="critical") -> str:
    found = selectors.recipients(line, priority=priority, at=at, tier=1)
    return next(r.why for r in found if r.user and r.user.username == username)


# --- subscriptions ------------------------------------------------------------------------


def test_a_subscription_to_lines_hears_of_those_lines_only(plant, email_channel):
    subscribe(person("supervisor", "alice"), email_channel, lines=[plant["p1"], plant["m1"]])
    assert told(plant["p1"]) == ["alice"]
    assert told(plant["m1"]) == ["alice"]
    assert told(plant["p2"]) == []


def test_a_subscription_to_an_area_hears_of_every_line_in_it(plant, email_channel):
    subscribe(person("supervisor", "alice"), email_channel, areas=[plant["packing"]])
    assert told(plant["p1"]) == ["alice"]
    assert told(plant["p2"]) == ["alice"]
    assert told(plant["m1"]) == []


def test_a_subscription_naming_no_line_nor_area_hears_of_every_line(plant, email_channel):
    subscribe(person("supervisor", "alice"), email_channel)
    assert [told(plant[x]) for x in ("p1", "p2", "m1")] == [["alice"]] * 3


def test_a_subscription_hears_from_its_priority_up(plant, email_channel):
    subscribe(person("supervisor", "alice"), email_channel, min_priority="high")
    subscribe(person("supervisor", "bob"), email_channel, min_priority="low")
    assert told(plant["p1"], priority="critical") == ["alice", "bob"]
    assert told(plant["p1"], priority="high") == ["alice", "bob"]
    assert told(plant["p1"], priority="medium") == ["bob"]
    assert told(plant["p1"], priority="low") == ["bob"]


def test_a_disabled_subscription_or_channel_tells_nobody(plant, email_channel):
    subscribe(person("supervisor", "alice"), email_channel, enabled=False)
    sms = Channel.objects.create(name="Off", kind=ChannelKind.EMAIL, enabled=False)
    subscribe(person("supervisor", "bob"), sms)
    assert told(plant["p1"]) == []


def test_subscriptions_are_told_at_the_first_tier_only(plant, email_channel):
    subscribe(person("supervisor", "alice"), email_channel)
    assert told(plant["p1"], tier=2) == []


# --- quiet hours --------------------------------------------------------------------------


def test_quiet_hours_in_the_sites_time_hold_back_a_non_critical_alert(plant, email_channel):
    subscribe(
        person("supervisor", "alice"),
        email_channel,
        min_priority="low",
        quiet_start=time(22, 0),
        quiet_end=time(6, 0),
        quiet_allows_critical=True,
    )
    # 21:30 UTC is 22:30 in Berlin: quiet. 20:30 UTC is 21:30 there: not yet.
    assert told(plant["p1"], priority="high", at=utc(MONDAY, "21:30")) == []
    assert told(plant["p1"], priority="high", at=utc(MONDAY, "20:30")) == ["alice"]
    # 04:30 UTC is 05:30 in Berlin, the next morning: still quiet; 05:00 UTC is 06:00: over.
    tuesday = MONDAY + timedelta(days=1)
    assert told(plant["p1"], priority="medium", at=utc(tuesday, "04:30")) == []
    assert told(plant["p1"], priority="medium", at=utc(tuesday, "05:00")) == ["alice"]


def test_a_critical_alert_comes_through_quiet_hours_when_they_allow_it(plant, email_channel):
    common = {"quiet_start": time(22, 0), "quiet_end": time(6, 0), "min_priority": "high"}
    subscribe(person("supervisor", "alice"), email_channel, quiet_allows_critical=True, **common)
    subscribe(person("supervisor", "bob"), email_channel, quiet_allows_critical=False, **common)
    night = utc(MONDAY, "23:00")
    assert told(plant["p1"], priority="critical", at=night) == ["alice"]
    assert told(plant["p1"], priority="high", at=night) == []


def test_quiet_hours_hold_back_a_dispatched_alert(plant, email_channel, time_machine):
    subscribe(
        person("supervisor", "alice"),
        email_channel,
        quiet_start=time(22, 0),
        quiet_end=time(6, 0),
        quiet_allows_critical=True,
    )
    asset = asset_on(plant["p1"])
    time_machine.move_to(utc(MONDAY, "22:00"))  # 23:00 in Berlin
    make_alert(asset=asset, priority="high", message="Belt slipping")
    critical = make_alert(asset=asset, priority="critical", message="Motor on fire")
    assert dispatch.dispatch_events() == 1
    assert Notification.objects.get().alert == critical


# --- teams: the line's shift, on call, members ---------------------------------------------


@pytest.fixture
def maintenance(plant, email_channel):
    """The maintenance team routed every critical alert of P1: Mia and Max on P1's early
    shift (06:00–14:00 Berlin, Monday to Friday), Otto on call on Monday evening, and Theo
    and Tara as its members."""
    early = Shift.objects.create(
        line=plant["p1"], name="Early", start=time(6, 0), end=time(14, 0), weekdays="01234"
    )
    crew = team(
        "Maintenance",
        members=[person("technician", "theo"), person("technician", "tara")],
        channels=[email_channel],
    )
    rota = TeamShift.objects.create(team=crew, shift=early)
    rota.people.set([person("technician", "mia"), person("technician", "max")])
    OnCall.objects.create(
        team=crew,
        user=person("technician", "otto"),
        starts_at=utc(MONDAY, "17:00"),  # 18:00–06:00 Berlin
        ends_at=utc(MONDAY, "17:00") + timedelta(hours=12),
    )
    rule = RoutingRule.objects.create(name="Critical to maintenance", team=crew)
    rule.lines.add(plant["p1"])
    return crew


def test_during_the_lines_shift_its_people_are_told(plant, maintenance):
    # 05:30 UTC is 06:30 in Berlin: the early shift runs (in UTC it would not have started).
    assert told(plant["p1"], priority="critical", at=utc(MONDAY, "05:30")) == ["max", "mia"]
    assert told(plant["p1"], priority="critical", at=utc(MONDAY, "12:59")) == ["max", "mia"]
    assert why(plant["p1"], "mia", at=utc(MONDAY, "09:00")) == (
        "Critical to maintenance (Maintenance, on shift)"
    )


def test_outside_the_shift_the_person_on_call_is_told(plant, maintenance):
    # 13:00 UTC is 14:00 in Berlin: the shift is over. 17:30 UTC: Otto is on call.
    assert told(plant["p1"], priority="critical", at=utc(MONDAY, "17:30")) == ["otto"]
    assert told(plant["p1"], priority="critical", at=utc(MONDAY + timedelta(days=1), "04:59")) == [
        "otto"
    ]
    assert why(plant["p1"], "otto", at=utc(MONDAY, "20:00")) == (
        "Critical to maintenance (Maintenance, on call)"
    )


def test_with_neither_shift_nor_on_call_the_members_are_told(plant, maintenance):
    # Between the shift's end (14:00 Berlin) and Otto's call (18:00 Berlin).
    assert told(plant["p1"], priority="critical", at=utc(MONDAY, "13:00")) == ["tara", "theo"]
    # Saturday 10:00 Berlin: no shift starts on Saturdays.
    saturday = MONDAY + timedelta(days=5)
    assert told(plant["p1"], priority="critical", at=utc(saturday, "09:00")) == ["tara", "theo"]
    assert why(plant["p1"], "theo", at=utc(saturday, "09:00")) == (
        "Critical to maintenance (Maintenance, team member)"
    )


def test_a_dispatched_raise_reaches_the_people_on_shift_then(plant, maintenance, time_machine):
    asset = asset_on(plant["p1"])
    time_machine.move_to(utc(MONDAY, "09:00"))  # 10:00 in Berlin: the early shift
    make_alert(asset=asset, priority="critical", message="Press overload")
    assert dispatch.dispatch_events() == 2
    sent = Notification.objects.order_by("address")
    assert [n.address for n in sent] == ["max@example.com", "mia@example.com"]
    assert {n.why for n in sent} == {"Critical to maintenance (Maintenance, on shift)"}


def test_a_night_shift_covers_the_hours_after_midnight(plant, maintenance):
    night = Shift.objects.create(
        line=plant["p1"], name="Night", start=time(22, 0), end=time(6, 0), weekdays="0123456"
    )
    rota = TeamShift.objects.create(team=maintenance, shift=night)
    rota.people.set([person("technician", "nina")])
    # Tuesday 02:00 Berlin (01:00 UTC): Monday's night shift, before Otto's call ends.
    assert told(plant["p1"], priority="critical", at=utc(MONDAY, "25:00")) == ["nina"]


def test_the_rota_of_another_lines_shift_is_not_on_duty_here(plant, maintenance):
    other = Shift.objects.create(
        line=plant["p2"], name="Early", start=time(6, 0), end=time(14, 0), weekdays="01234"
    )
    TeamShift.objects.create(team=maintenance, shift=other).people.set(
        [person("technician", "pia")]
    )
    rule = RoutingRule.objects.get()
    rule.lines.add(plant["p2"])
    at = utc(MONDAY, "09:00")
    assert told(plant["p1"], priority="critical", at=at) == ["max", "mia"]
    assert told(plant["p2"], priority="critical", at=at) == ["pia"]


def test_a_rota_of_people_who_have_left_falls_back_to_on_call_then_the_members(plant, maintenance):
    for rota_person in ("mia", "max", "otto"):
        User.objects.filter(username=rota_person).update(is_active=False)
    # During the shift and Otto's call alike: none of them can be told, the members are.
    assert told(plant["p1"], priority="critical", at=utc(MONDAY, "09:00")) == ["tara", "theo"]
    assert told(plant["p1"], priority="critical", at=utc(MONDAY, "20:00")) == ["tara", "theo"]


def test_a_teams_rule_below_its_priority_tells_nobody(plant, maintenance):
    assert told(plant["p1"], priority="high", at=utc(MONDAY, "09:00")) == []
    assert told(plant["p2"], priority="critical", at=utc(MONDAY, "09:00")) == []


# --- who may not be told ------------------------------------------------------------------


def test_inactive_users_and_users_who_may_not_see_alerts_get_nothing(plant, email_channel):
    subscribe(person("supervisor", "alice"), email_channel)
    subscribe(person("supervisor", "gone", active=False), email_channel)
    subscribe(person(None, "visitor"), email_channel)
    crew = team(
        "Everyone",
        members=[person("technician", "tom"), person("technician", "left", active=False)],
        channels=[email_channel],
    )
    crew.members.add(person(None, "contractor"))
    RoutingRule.objects.create(name="All to everyone", min_priority="low", team=crew)
    assert told(plant["p1"]) == ["alice", "tom"]


def test_a_user_without_an_address_for_the_channel_is_skipped(plant, email_channel):
    nobody = make_user(role="supervisor", username="noaddress")
    subscribe(nobody, email_channel)
    assert told(plant["p1"]) == []


# --- rooms --------------------------------------------------------------------------------


def test_a_room_gets_one_post_per_event_however_many_rules_name_it(
    plant, email_channel, webhook, webhook_channel
):
    for name in ("High to the room", "Packing to the room"):
        rule = RoutingRule.objects.create(name=name, min_priority="high")
        rule.channels.add(webhook_channel)
    RoutingRule.objects.get(name="Packing to the room").areas.add(plant["packing"])
    # A room channel in a subscription reaches no one: it is not a user's channel.
    subscribe(person("supervisor", "alice"), webhook_channel)

    alert = make_alert(asset=asset_on(plant["p1"]), priority="critical")
    assert dispatch.dispatch_events() == 1
    assert set(send_all().values()) == {sending.Outcome.SENT}

    hooks = webhook.wait_for(1)
    assert len(hooks) == 1
    assert hooks[0].signature_ok
    assert hooks[0].json["alert_id"] == alert.pk
    assert Notification.objects.get().user is None


# --- the whole way ------------------------------------------------------------------------


def test_a_raise_reaches_subscribers_the_team_and_the_room_by_smtp_and_webhook(
    plant, email_channel, smtp, webhook, webhook_channel
):
    alice = person("supervisor", "alice")
    subscribe(alice, email_channel, lines=[plant["p1"]])
    subscribe(person("supervisor", "bob"), email_channel, lines=[plant["p2"]])
    crew = team(
        "Maintenance",
        members=[person("technician", "theo"), alice],
        channels=[email_channel],
    )
    rule = RoutingRule.objects.create(name="Critical to maintenance", team=crew)
    rule.channels.add(webhook_channel)

    alert = make_alert(asset=asset_on(plant["p1"]), priority="critical", message="Motor stalled")
    # Alice is told once, though both her subscription and her team name her.
    assert dispatch.dispatch_events() == 3
    assert dispatch.dispatch_events() == 0
    notifications = Notification.objects.order_by("pk")
    assert {n.kind for n in notifications} == {NotificationKind.ALERT}
    assert sorted(n.address for n in notifications) == [
        "",
        "alice@example.com",
        "theo@example.com",
    ]
    assert set(send_all().values()) == {sending.Outcome.SENT}
    assert send_all() == {}

    mails = smtp.wait_for(2)
    assert addressed_to(mails) == ["alice@example.com", "theo@example.com"]
    for mail in mails:
        assert mail.subject == "[CRITICAL] Motor stalled — P1"
        text = mail.part("text/plain")
        assert f"/alerts/{alert.pk}/" in text
        assert "/notifications/ack/" in text
        assert "Europe/Berlin" not in text
        assert "CET" in text or "CEST" in text
        assert "Motor stalled" in mail.part("text/html")
    hooks = webhook.wait_for(1)
    assert len(hooks) == 1
    assert hooks[0].signature_ok
    body = hooks[0].json
    assert (body["type"], body["alert_id"], body["priority"], body["line"]) == (
        "alert.raised",
        alert.pk,
        "critical",
        "P1",
    )
    for notification in Notification.objects.all():
        assert notification.status == "sent"
        assert notification.sent_at is not None
        (attempt,) = notification.delivery_attempts.all()
        assert attempt.ok is True
        assert attempt.answer
    assert (
        Notification.objects.get(address="").delivery_attempts.get().answer.startswith("HTTP 200")
    )
