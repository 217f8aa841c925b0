"""The demo tells its people of its alerts with no setup: maintenance by e-mail at once, then
the supervisors and the plant managers while nobody acknowledges, written to files."""

from __future__ import annotations

import email
import io
from datetime import time, timedelta
from email import policy

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from plantops.alerts.models import AlertEvent
from plantops.assets.models import Asset
from plantops.notify import dispatch, sending
from plantops.notify.models import (
    Channel,
    DigestSubscription,
    EscalationPolicy,
    Notification,
    RoutingRule,
    Subscription,
    Team,
)
from tests.factories import make_alert

pytestmark = pytest.mark.django_db

SEPARATOR = b"\n" + b"-" * 79 + b"\n"  # between the messages of Django's file mail backend


@pytest.fixture(autouse=True)
def demo(settings, tmp_path):
    """The demo plant and its users, e-mails written to files as `make demo` has them."""
    settings.VAR_DIR = tmp_path
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = tmp_path / "mail"
    call_command("seed_demo_plant", stdout=io.StringIO())
    call_command("create_demo_users", stdout=io.StringIO())


def mails(folder) -> list[email.message.EmailMessage]:
    found = []
    for path in sorted(folder.glob("*.log")):
        for chunk in path.read_bytes().split(SEPARATOR):
            if chunk.strip():
                found.append(email.message_from_bytes(chunk, policy=policy.default))
    return found


def test_seeding_twice_gives_one_channel_three_teams_and_their_tiers():
    call_command("create_demo_users", stdout=io.StringIO())

    channel = Channel.objects.get()
    assert (channel.kind, channel.personal) == ("email", True)
    teams = {
        team.name: list(team.members.values_list("username", flat=True))
        for team in Team.objects.all()
    }
    assert teams == {
        "Maintenance": ["technician"],
        "Plant managers": ["manager"],
        "Supervisors": ["supervisor"],
    }
    assert [team.channels.get() for team in Team.objects.all()] == [channel] * 3
    routes = [
        (r.tier, r.min_priority, r.team.name, r.lines.count()) for r in RoutingRule.objects.all()
    ]
    assert routes == [
        (1, "high", "Maintenance", 0),
        (2, "high", "Supervisors", 0),
        (3, "critical", "Plant managers", 0),
    ]
    steps = dict(EscalationPolicy.objects.values_list("priority", "step_minutes"))
    assert steps == {"critical": 5, "high": 15}
    subscription = Subscription.objects.get()
    assert (subscription.user.username, subscription.min_priority) == ("supervisor", "medium")
    assert (subscription.quiet_start, subscription.quiet_end) == (time(22), time(6))
    assert subscription.quiet_allows_critical
    digest = DigestSubscription.objects.get()
    assert (digest.user.username, digest.frequency, digest.send_at) == ("manager", "daily", time(6))
    for row in [channel, subscription, digest, *RoutingRule.objects.all()]:
        row.full_clean()  # raises on what the admin would refuse


def test_every_demo_user_has_an_address_and_the_plant_manager_only_watches():
    assert all(user.email.endswith("@riverside.example") for user in User.objects.all())
    manager = User.objects.get(username="manager")
    for permission in (
        "assets.view_asset",
        "alerts.view_alert",
        "alerts.view_alertrule",
        "health.view_prediction",
        "maintenance.view_workorder",
    ):
        assert manager.has_perm(permission), permission
    assert not manager.has_perm("alerts.change_alert")
    assert not manager.has_perm("maintenance.add_workorder")


def test_a_critical_alert_nobody_acknowledges_reaches_maintenance_then_the_managers(tmp_path):
    press = Asset.objects.get(slug="press-2")
    alert = make_alert(
        asset=press, priority="critical", message="Press 2: frame vibration 9.0 mm/s, above 5"
    )
    raised_at = AlertEvent.objects.get(alert=alert, kind="raised").at

    assert dispatch.dispatch_events() == 2  # maintenance (tier 1) and the supervisor's own
    # Tier 2 is the supervisors: the supervisor already has this raise by their subscription,
    # and nobody is told twice of one raise by one channel.
    assert dispatch.escalate_due(now=raised_at + timedelta(minutes=5, seconds=1)) == 0
    assert dispatch.escalate_due(now=raised_at + timedelta(minutes=10, seconds=1)) == 1
    for notification in Notification.objects.order_by("pk"):
        assert sending.send_notification(notification.pk) == sending.Outcome.SENT

    written = mails(tmp_path / "mail")
    sent = {m["To"]: m for m in written}
    subjects = {to: m["Subject"].strip() for to, m in sent.items()}  # unfolded
    assert sorted(m["To"] for m in written) == [
        "manager@riverside.example",
        "supervisor@riverside.example",
        "technician@riverside.example",
    ]
    first = sent["technician@riverside.example"]
    assert subjects["technician@riverside.example"] == (
        "[CRITICAL] Press 2: frame vibration 9.0 mm/s, above 5 — Press line 1"
    )
    assert subjects["manager@riverside.example"].startswith(
        "[CRITICAL] Escalated (tier 3): Press 2"
    )
    body = first.get_body(("plain",)).get_content()
    assert "Press line 1 (Press shop, Riverside Works)" in body
    assert f"/alerts/{alert.pk}/" in body
