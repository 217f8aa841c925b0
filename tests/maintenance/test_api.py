"""GET and POST /api/workorders: login or token, filters, field errors, permissions."""

from __future__ import annotations

import pytest
from django.test import Client

from plantops.core.models import ApiToken
from plantops.maintenance import services
from tests.factories import logged_in, make_asset, make_user

pytestmark = pytest.mark.django_db


def test_it_lists_by_asset_and_status_for_a_token_or_a_login():
    sam = make_user(role="supervisor", username="sam")
    pump = make_asset(slug="pump-1")
    press = make_asset(slug="press-1")
    services.workorder_create(asset=pump, kind="corrective", title="Seal leaks", user=sam)
    services.workorder_create(asset=press, kind="corrective", title="Guard", user=sam)
    _, secret = ApiToken.issue(name="erp", user=sam)

    anonymous = Client().get("/api/workorders")
    by_token = Client().get(
        "/api/workorders",
        {"asset": "pump-1", "status": "approved"},
        headers={"authorization": f"Bearer {secret}"},
    )
    none_requested = logged_in(sam).get("/api/workorders", {"status": "requested"})

    assert anonymous.status_code == 401
    assert [w["title"] for w in by_token.json()["work_orders"]] == ["Seal leaks"]
    assert by_token.json()["work_orders"][0]["asset"] == pump.topic_path
    assert none_requested.json() == {"work_orders": []}


def test_a_bad_filter_is_a_400_naming_the_field():
    client = logged_in(make_user(role="supervisor", username="sam"))
    assert (
        client.get("/api/workorders", {"status": "open"})
        .json()["errors"]["status"][0]
        .startswith("unknown status 'open'")
    )
    response = client.get("/api/workorders", {"asset": "nowhere"})
    assert (response.status_code, response.json()) == (
        400,
        {"errors": {"asset": ["no asset 'nowhere'"]}},
    )


def test_an_operator_posts_a_request_and_gets_it_back():
    make_asset(slug="conveyor-7")
    olga = make_user(role="operator", username="olga")
    _, secret = ApiToken.issue(name="tablet", user=olga, scope="write")

    response = Client().post(
        "/api/workorders",
        {
            "asset": "conveyor-7",
            "kind": "request",
            "title": "Belt tracks off",
            "checklist": ["Look"],
        },
        content_type="application/json",
        headers={"authorization": f"Bearer {secret}"},
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["status"], body["kind"], body["title"]) == (
        "requested",
        "request",
        "Belt tracks off",
    )
    assert body["checklist"] == [{"text": "Look", "done": False}]


def test_invalid_input_gets_every_field_error_at_once():
    client = logged_in(make_user(role="supervisor", username="sam"))
    response = client.post(
        "/api/workorders",
        {"asset": "nowhere", "kind": "", "priority": 3, "due_at": "tomorrow", "checklist": "x"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {
        "asset",
        "kind",
        "title",
        "priority",
        "due_at",
        "checklist",
    }
    assert client.post("/api/workorders", "[1", content_type="application/json").status_code == 400
    make_asset(slug="fan-2")
    unknown_kind = client.post(
        "/api/workorders",
        {"asset": "fan-2", "kind": "magic", "title": "x"},
        content_type="application/json",
    )
    assert unknown_kind.json() == {"errors": {"kind": ["Unknown kind 'magic'."]}}


def test_without_the_permission_or_the_csrf_token_nothing_is_created():
    make_asset(slug="robot-1")
    body = {"asset": "robot-1", "kind": "request", "title": "Gripper slips"}
    nobody = logged_in(make_user(username="nina"))
    assert nobody.post("/api/workorders", body, content_type="application/json").status_code == 403
    assert nobody.get("/api/workorders").status_code == 403
    strict = logged_in(make_user(role="operator", username="olga"), enforce_csrf_checks=True)
    assert strict.post("/api/workorders", body, content_type="application/json").status_code == 403
