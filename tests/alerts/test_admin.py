"""The alert admin: rules editable by supervisors, alerts and events read-only history."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User
from django.db import transaction

from plantops.alerts.models import Alert, AlertEvent, AlertRule
from plantops.alerts.services import alerts_evaluate_readings
from plantops.core.roles import OPERATORS, SUPERVISORS, roles_ensure
from plantops.telemetry.payloads import now_us
from tests.factories import make_asset

pytestmark = pytest.mark.django_db


@pytest.fixture
def alert() -> Alert:
    signal = make_asset().signals.get(slug="vibration")
    AlertRule.objects.create(
        name="Vibration high", kind="high", signal=signal, limit=5.0, priority="high"
    )
    with transaction.atomic():
        alerts_evaluate_readings(readings=[(signal.pk, now_us(), 9.0)])
    return Alert.objects.get()


def staff_in(group_name: str, username: str) -> User:
    roles_ensure()
    user = User.objects.create_user(username, is_staff=True)
    user.groups.add(Group.objects.get(name=group_name))
    return user


def test_a_supervisor_edits_rules_but_only_reads_alerts_and_events(client, alert):
    client.force_login(staff_in(SUPERVISORS, "sam"))
    rule = alert.rule

    rules = client.get("/admin/alerts/alertrule/", {"priority__exact": "high", "q": "Vibration"})
    assert rules.status_code == 200
    assert "Vibration high" in rules.text
    change = client.get(f"/admin/alerts/alertrule/{rule.pk}/change/")
    assert change.status_code == 200
    for legend in ("Scope", "Condition", "Delays", "Message"):
        assert f">{legend}<" in change.text

    alerts = client.get("/admin/alerts/alert/", {"state__exact": "active_unack"})
    assert alerts.status_code == 200
    assert client.get("/admin/alerts/alert/add/").status_code == 403
    event = AlertEvent.objects.get()
    assert client.post(f"/admin/alerts/alertevent/{event.pk}/delete/").status_code == 403


def test_an_operator_cannot_change_rules(client, alert):
    client.force_login(staff_in(OPERATORS, "olga"))

    assert client.get(f"/admin/alerts/alertrule/{alert.rule_id}/change/").status_code == 403
    assert client.get("/admin/alerts/alertrule/add/").status_code == 403
