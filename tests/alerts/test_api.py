"""GET /api/alerts: alert events after an id, for a logged-in user or an API token."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from plantops.alerts.models import Alert, AlertEvent
from plantops.core.models import ApiToken
from plantops.core.time import now_us
from plantops.pipeline.services import batch_store
from tests.factories import logged_in, make_asset, make_batch, make_rule, make_user

pytestmark = pytest.mark.django_db

S = 1_000_000
FIELDS = {"id", "alert_id", "rule_id", "asset_id", "priority", "state", "message", "at", "kind"}


@pytest.fixture
def user() -> User:
    return make_user(role="operator", username="alice")


@pytest.fixture
def events() -> list[AlertEvent]:
    asset = make_asset()
    signal = asset.signals.get(slug="vibration")
    make_rule(signal=signal, priority="critical", message_template="{asset} at {value:.1f}")
    t = now_us()
    for i, value in enumerate([9.0, 1.0, 9.5]):
        batch_store(batch=make_batch(readings=[(signal.pk, t + i * S, value)]))
    return list(AlertEvent.objects.order_by("id"))


def test_it_answers_401_json_without_login_or_token(events):
    response = Client().get("/api/alerts")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert "error" in response.json()


def test_a_user_without_a_role_gets_403_and_no_events_by_session_or_token(events):
    nobody = make_user(username="nobody")
    _, secret = ApiToken.issue(name="script", user=nobody)
    by_session = logged_in(nobody).get("/api/alerts")
    by_token = Client().get("/api/alerts", headers={"Authorization": f"Bearer {secret}"})
    for response in (by_session, by_token):
        assert response.status_code == 403
        assert response.json() == {"error": "your role may not see alerts"}


def test_it_refuses_an_unknown_token(events, user):
    ApiToken.issue(name="scada", user=user)
    response = Client().get("/api/alerts", headers={"Authorization": "Bearer not-a-real-token"})
    assert response.status_code == 401
    assert "error" in response.json()


def test_it_returns_the_events_after_since_id_to_a_logged_in_user(events, user):
    client = logged_in(user)
    response = client.get("/api/alerts", {"since_id": events[0].pk})
    assert response.status_code == 200
    body = response.json()
    assert [e["id"] for e in body["events"]] == [e.pk for e in events[1:]]
    assert body["last_id"] == events[-1].pk
    assert body["more"] is False
    alert = Alert.objects.get()
    for payload in body["events"]:
        assert payload.keys() >= FIELDS
        assert payload["alert_id"] == alert.pk
        assert payload["rule_id"] == alert.rule_id
        assert payload["asset_id"] == alert.asset_id
        assert payload["priority"] == "critical"
    returned, raised = body["events"]
    assert (returned["kind"], returned["state"]) == ("returned", "rtn_unack")
    assert (raised["kind"], raised["state"]) == ("raised", "active_unack")
    assert raised["message"] == f"{alert.asset.name} at 9.5"
    assert raised["at"] == events[2].at.isoformat()


def test_it_accepts_an_api_token(events, user):
    _, secret = ApiToken.issue(name="scada", user=user)
    response = Client().get(
        "/api/alerts", {"since_id": 0}, headers={"Authorization": f"Bearer {secret}"}
    )
    assert response.status_code == 200
    assert [e["id"] for e in response.json()["events"]] == [e.pk for e in events]
    # Nothing newer than the last id.
    response = Client().get(
        "/api/alerts", {"since_id": events[-1].pk}, headers={"Authorization": f"Bearer {secret}"}
    )
    assert response.json() == {"events": [], "last_id": events[-1].pk, "more": False}


def test_it_refuses_a_since_id_that_is_not_a_number(user):
    client = logged_in(user)
    response = client.get("/api/alerts", {"since_id": "abc"})
    assert response.status_code == 400
    assert "error" in response.json()
