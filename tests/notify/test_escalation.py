"""A critical alert nobody acknowledges climbs the tiers every five minutes: technicians,
then supervisors, then the plant managers, each by real e-mail. Acknowledging, shelving,
suppressing or returning-and-acknowledging stops it at once, and a queued escalation
message not yet sent is cancelled."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from plantops.alerts.services import alert_shelve, alerts_acknowledge
from plantops.alerts.sweep import alerts_sweep
from plantops.assets.services import assets_take_out_of_service
from plantops.core.time import datetime_to_us
from plantops.notify import dispatch, sending
from plantops.notify.models import (
    Escalation,
    EscalationPolicy,
    Notification,
    NotificationKind,
    NotificationStatus,
    RoutingRule,
)
from plantops.pipeline.services import batch_store
from tests.factories import make_alert, make_asset, make_batch
from tests.notify.builders import addressed_to, person, send_all, team

pytestmark = pytest.mark.django_db

STEP = timedelta(minutes=5)


@pytest.fixture
def tiers(email_channel):
    """Critical alerts escalate every 5 minutes: technicians, supervisors, plant managers."""
    EscalationPolicy.objects.create(priority="critical", step_minutes=5)
    crews = {
        1: team(
            "Technicians",
            members=[person("technician", "theo"), person("technician", "tara")],
            channels=[email_channel],
        ),
        2: team("Supervisors", members=[person("supervisor", "sam")], channels=[email_channel]),
        3: team("Plant managers", members=[person("admin", "pat")], channels=[email_channel]),
    }
    for tier, crew in crews.items():
        RoutingRule.objects.create(name=f"Critical to {crew.name}", tier=tier, team=crew)
    return crews


@pytest.fixture
def raised(tiers):
    """A critical alert, dispatched to tier 1; returns it and the time of its raise."""
    alert = make_alert(asset=make_asset(), priority="critical", message="Press overload")
    assert dispatch.dispatch_events() == 2
    return alert, alert.events.get(kind="raised").at


def subjects(mails) -> list[str]:
    return sorted({mail.subject for mail in mails})


def escalation_of(alert) -> Escalation:
    return Escalation.objects.get(alert=alert)


def test_an_unacknowledged_critical_alert_climbs_the_tiers(raised, smtp):
    alert, at = raised
    send_all()
    first = smtp.wait_for(2)
    assert addressed_to(first) == ["tara@example.com", "theo@example.com"]
    assert subjects(first) == [f"[CRITICAL] Press overload — {alert.asset.line.name}"]

    # Not yet: a step has not passed.
    assert dispatch.escalate_due(now=at + STEP - timedelta(seconds=1)) == 0
    assert dispatch.escalate_due(now=at + STEP) == 1
    send_all()
    second = smtp.wait_for(3)[2:]
    assert addressed_to(second) == ["sam@example.com"]
    assert second[0].subject.startswith("[CRITICAL] Escalated (tier 2): Press overload")
    assert "ESCALATED to tier 2" in second[0].part("text/plain")

    # Asked again within the same step: nobody more.
    assert dispatch.escalate_due(now=at + STEP + timedelta(minutes=1)) == 0
    assert dispatch.escalate_due(now=at + 2 * STEP) == 1
    send_all()
    third = smtp.wait_for(4)[3:]
    assert addressed_to(third) == ["pat@example.com"]
    assert third[0].subject.startswith("[CRITICAL] Escalated (tier 3): Press overload")

    # The last tier was told: the escalation is over.
    escalation = escalation_of(alert)
    assert (escalation.tier, escalation.stopped_why) == (3, "last tier told")
    assert dispatch.escalate_due(now=at + 10 * STEP) == 0
    assert Notification.objects.filter(kind=NotificationKind.ESCALATION).count() == 2
    assert len(smtp.mails) == 4


def test_escalating_twice_at_the_same_moment_tells_each_tier_once(raised):
    _, at = raised
    assert dispatch.escalate_due(now=at + STEP) == 1
    assert dispatch.escalate_due(now=at + STEP) == 0
    assert list(Notification.objects.filter(tier=2).values_list("address", flat=True)) == [
        "sam@example.com"
    ]


def test_a_high_alert_without_a_policy_does_not_escalate(tiers):
    make_alert(asset=make_asset(), priority="high")
    assert dispatch.dispatch_events() == 0  # the rules route critical alerts only
    assert not Escalation.objects.exists()


def test_acknowledging_stops_the_escalation_at_once(raised, smtp):
    alert, at = raised
    assert dispatch.escalate_due(now=at + STEP) == 1
    send_all()
    smtp.wait_for(3)
    alerts_acknowledge(alert_ids=[alert.pk], user=person("supervisor", "sue"), note="On it")

    assert dispatch.escalate_due(now=at + 2 * STEP) == 0
    assert escalation_of(alert).stopped_why == "acknowledged"
    assert not Notification.objects.filter(tier=3).exists()
    assert send_all() == {}
    assert len(smtp.mails) == 3


def test_a_queued_escalation_is_cancelled_when_the_alert_is_acknowledged_before_it_is_sent(
    raised, smtp
):
    alert, at = raised
    send_all()
    smtp.wait_for(2)
    assert dispatch.escalate_due(now=at + STEP) == 1
    alerts_acknowledge(alert_ids=[alert.pk], user=person("supervisor", "sue"))

    (queued,) = Notification.objects.filter(kind=NotificationKind.ESCALATION)
    assert sending.send_notification(queued.pk) == sending.Outcome.CANCELLED
    queued.refresh_from_db()
    assert queued.status == NotificationStatus.CANCELLED
    (attempt,) = queued.delivery_attempts.all()
    assert (attempt.ok, attempt.answer) == (False, "not sent: acknowledged")
    assert sending.send_notification(queued.pk) == sending.Outcome.DONE
    assert len(smtp.mails) == 2


def test_shelving_stops_the_escalation_and_cancels_what_is_queued(raised, smtp):
    alert, at = raised
    assert dispatch.escalate_due(now=at + STEP) == 1
    supervisor = person("supervisor", "sue")
    alert_shelve(
        alert_id=alert.pk,
        user=supervisor,
        until=timezone.now() + timedelta(hours=4),
        reason="Sensor being replaced",
    )

    assert set(send_all().values()) == {sending.Outcome.CANCELLED}
    assert set(Notification.objects.values_list("status", flat=True)) == {"cancelled"}
    assert {a.answer for n in Notification.objects.all() for a in n.delivery_attempts.all()} == {
        "not sent: shelved"
    }
    assert dispatch.escalate_due(now=at + 2 * STEP) == 0
    assert escalation_of(alert).stopped_why == "shelved"
    assert smtp.mails == []


def test_suppression_stops_the_escalation_and_cancels_what_is_queued(raised, smtp):
    alert, at = raised
    send_all()
    smtp.wait_for(2)
    assert dispatch.escalate_due(now=at + STEP) == 1
    assets_take_out_of_service(asset_ids=[alert.asset_id], reason="Gearbox swap")
    alerts_sweep()
    alert.refresh_from_db()
    assert alert.suppressed

    assert set(send_all().values()) == {sending.Outcome.CANCELLED}
    queued = Notification.objects.get(kind=NotificationKind.ESCALATION)
    assert queued.delivery_attempts.get().answer == "not sent: suppressed"
    assert dispatch.escalate_due(now=at + 2 * STEP) == 0
    assert escalation_of(alert).stopped_why == "suppressed"
    assert len(smtp.mails) == 2


def test_a_returned_alert_still_escalates_until_it_is_acknowledged(raised, smtp):
    alert, at = raised
    send_all()
    smtp.wait_for(2)
    signal = alert.signal
    # Back below the limit less its deadband: returned, but nobody acknowledged it.
    batch_store(batch=make_batch(readings=[(signal.pk, datetime_to_us(at) + 1_000_000, 1.0)]))
    alert.refresh_from_db()
    assert alert.state == "rtn_unack"
    assert dispatch.escalate_due(now=at + STEP) == 1

    alerts_acknowledge(alert_ids=[alert.pk], user=person("supervisor", "sue"))
    alert.refresh_from_db()
    assert alert.state == "normal"
    assert set(send_all().values()) == {sending.Outcome.CANCELLED}
    cancelled = Notification.objects.get(status="cancelled")
    assert cancelled.kind == NotificationKind.ESCALATION
    assert cancelled.delivery_attempts.get().answer == "not sent: acknowledged"
    assert dispatch.escalate_due(now=at + 2 * STEP) == 0
    assert escalation_of(alert).stopped_why == "acknowledged"
    assert addressed_to(smtp.wait_for(2)) == ["tara@example.com", "theo@example.com"]


# --- raised again -------------------------------------------------------------------------


def chatter(alert, at, *, seconds: int) -> None:
    """The alarm returns and is raised again `seconds` after its raise at `at`."""
    t = datetime_to_us(at)
    readings = [
        (alert.signal_id, t + 1_000_000, 1.0),
        (alert.signal_id, t + seconds * 1_000_000, 9.0),
    ]
    batch_store(batch=make_batch(readings=readings))


def test_a_chattering_alarm_keeps_climbing_the_tiers(raised, smtp):
    alert, at = raised
    chatter(alert, at, seconds=2)
    assert dispatch.dispatch_events() == 0  # a repeat within the window: told nothing new

    assert dispatch.escalate_due(now=at + STEP) == 1
    assert set(send_all().values()) == {sending.Outcome.SENT}
    assert addressed_to(smtp.wait_for(3)) == [
        "sam@example.com",
        "tara@example.com",
        "theo@example.com",
    ]


def test_a_raise_told_on_its_own_takes_over_the_escalation(raised, settings):
    settings.NOTIFY_REPEAT_WINDOW_S = 0
    alert, at = raised
    chatter(alert, at, seconds=2)
    assert dispatch.dispatch_events() == 2

    assert dispatch.escalate_due(now=at + STEP) == 0
    first, second = Escalation.objects.order_by("event_id")
    assert first.stopped_why == "raised again"
    assert second.stopped_at is None
    assert dispatch.escalate_due(now=at + STEP + timedelta(seconds=2)) == 1
    assert Notification.objects.get(tier=2).event_id == second.event_id
    # The first raise's queued messages are not sent: the second's say the same, later.
    outcomes = send_all()
    first_messages = Notification.objects.filter(event_id=first.event_id)
    assert {outcomes[n.pk] for n in first_messages} == {sending.Outcome.CANCELLED}


def test_a_raise_after_an_acknowledgement_is_news_and_escalates_on_its_own(raised):
    alert, at = raised
    alerts_acknowledge(alert_ids=[alert.pk], user=person("supervisor", "sue"))
    chatter(alert, at, seconds=2)  # returns (closing it) and is raised again at once
    alert.refresh_from_db()
    assert alert.state == "active_unack"
    # Within the repeat window, but someone answered the first raise: the new one is told.
    assert dispatch.dispatch_events() == 2

    # The new raise's step counts from its own time, two seconds after the first's.
    assert dispatch.escalate_due(now=at + STEP + timedelta(seconds=2)) == 1
    first, second = Escalation.objects.filter(alert=alert).order_by("event_id")
    assert first.stopped_why == "acknowledged"
    assert (second.tier, second.stopped_at) == (2, None)
