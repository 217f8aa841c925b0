"""The alert admin: rules editable by supervisors, alerts and events read-only history."""

from __future__ import annotations

import pytest

from plantops.alerts.models import Alert, AlertEvent
from tests.factories import make_alert, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def alert() -> Alert:
    return make_alert()


def test_a_supervisor_edits_rules_but_only_reads_alerts_and_events(client, alert):
    client.force_login(make_user(role="supervisor", username="sam", staff=True))
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
    client.force_login(make_user(role="operator", username="olga", staff=True))

    assert client.get(f"/admin/alerts/alertrule/{alert.rule_id}/change/").status_code == 403
    assert client.get("/admin/alerts/alertrule/add/").status_code == 403
