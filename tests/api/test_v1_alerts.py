"""API v1's alerts: the list and its filters, one alert's history, the event log after an id,
and the actions on an alert, through the alerts' own services on the real database."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from plantops.alerts.models import Alert, AlertEvent
from plantops.alerts.services import alert_shelve, alerts_acknowledge
from plantops.core.models import TokenScope
from plantops.core.time import now_us
from plantops.pipeline.services import batch_store
from tests.api.tokens import bearer
from tests.factories import event_kinds, logged_in, make_alert, make_batch, make_user

pytestmark = pytest.mark.django_db

V1 = "/api/v1"
S = 1_000_000
# "Vibration high" above 5.0 mm/s, back below 4.0.
HIGH = {"deadband": 1.0}


def writer(user) -> Client:
    """A client sending a read and write token of `user`."""
    return Client(**bearer(user, TokenScope.WRITE))


def reader(user) -> Client:
    return Client(**bearer(user, TokenScope.READ))


def post(client: Client, url: str, body: dict):
    return client.post(url, body, content_type="application/json")


def error_fields(response) -> set[str]:
    """The fields a 400 names: schema errors by their location, refused input by its key."""
    assert response.status_code == 400, response.content
    detail = response.json()["detail"]
    if isinstance(detail, dict):
        return set(detail)
    return {str(part) for error in detail for part in error["loc"]} | {
        word.strip(" ,.()") for error in detail for word in error["msg"].split()
    }


def parsed(moment: str) -> datetime:
    return datetime.fromisoformat(moment)


# --- reading ---------------------------------------------------------------------------------


def test_without_a_login_or_token_it_is_401_and_without_the_role_403():
    alert = make_alert(**HIGH)
    assert Client().get(f"{V1}/alerts").status_code == 401
    nobody = reader(make_user(username="visitor"))
    for url in (f"{V1}/alerts", f"{V1}/alerts/{alert.pk}", f"{V1}/alert-events"):
        response = nobody.get(url)
        assert response.status_code == 403
        assert response.json() == {"detail": "Your role may not see alerts."}


def test_it_lists_an_alert_in_the_plants_words_with_its_value_unit_and_utc_times():
    alert = make_alert(message="Spindle vibration high", priority="critical", value=9.25, **HIGH)
    body = reader(make_user(role="manager")).get(f"{V1}/alerts").json()
    (row,) = body["results"]
    line = alert.asset.line
    assert row["id"] == alert.pk
    assert row["rule"] == "Spindle vibration high rule"
    assert row["message"] == "Spindle vibration high"
    assert row["asset"] == {"id": alert.asset_id, "name": alert.asset.name}
    assert row["line"] == {"id": line.pk, "name": line.name}
    assert row["site_timezone"] == "UTC"
    assert (row["priority"], row["state"]) == ("critical", "active_unack")
    assert (row["value"], row["unit"]) == (9.25, "mm/s")
    assert row["raised_at"].endswith("Z")
    assert abs(parsed(row["raised_at"]) - alert.last_at) < timedelta(milliseconds=1)
    assert row["acknowledged_at"] is None
    assert row["acknowledged_by"] is None
    assert row["shelved_until"] is None
    assert row["assignee"] is None


def test_it_filters_by_state_priority_line_asset_shelving_and_raise_time():
    loud = make_alert(message="Loud", priority="critical", **HIGH)
    quiet = make_alert(message="Quiet", priority="low", **HIGH)
    hidden = make_alert(message="Hidden", priority="low", **HIGH)
    supervisor = make_user(role="supervisor", username="sven")
    alerts_acknowledge(alert_ids=[quiet.pk], user=supervisor)
    alert_shelve(
        alert_id=hidden.pk,
        user=supervisor,
        until=timezone.now() + timedelta(minutes=30),
        reason="sensor swap",
    )
    client = reader(supervisor)

    def ids(**query) -> list[int]:
        response = client.get(f"{V1}/alerts", query)
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["results"]]

    assert ids() == [hidden.pk, quiet.pk, loud.pk]
    assert ids(state="active_ack") == [quiet.pk]
    assert ids(state=["active_ack", "active_unack"]) == [hidden.pk, quiet.pk, loud.pk]
    assert ids(state="normal") == []
    assert ids(priority="critical") == [loud.pk]
    assert ids(line_id=quiet.asset.line_id) == [quiet.pk]
    assert ids(asset_id=loud.asset_id) == [loud.pk]
    assert ids(shelved="true") == [hidden.pk]
    assert ids(shelved="false") == [quiet.pk, loud.pk]
    Alert.objects.filter(pk=loud.pk).update(last_at=timezone.now() - timedelta(days=2))
    day_ago = (timezone.now() - timedelta(days=1)).isoformat()
    assert ids(to=day_ago) == [loud.pk]
    assert ids(**{"from": day_ago}) == [hidden.pk, quiet.pk]

    assert "state" in error_fields(client.get(f"{V1}/alerts", {"state": "cleared"}))
    assert "priority" in error_fields(client.get(f"{V1}/alerts", {"priority": "urgent"}))
    # A time without its offset could be any plant's local time: refused, not guessed.
    assert "from" in error_fields(client.get(f"{V1}/alerts", {"from": "2026-01-01T08:00:00"}))


def test_lists_page_with_a_cursor_newest_first_until_every_alert_was_seen_once():
    made = [make_alert(**HIGH) for _ in range(3)]
    client = reader(make_user(role="technician"))
    pages: list[list[int]] = []
    url = f"{V1}/alerts?page_size=2"
    while url:
        page = client.get(url).json()
        pages.append([row["id"] for row in page["results"]])
        url = page["next"]
    assert pages == [[made[2].pk, made[1].pk], [made[0].pk]]


def test_one_alert_comes_with_its_history_of_who_did_what_and_why():
    alert = make_alert(**HIGH)
    operator = make_user(role="operator", username="olga", lines=[alert.asset.line])
    client = writer(operator)
    post(client, f"{V1}/alerts/{alert.pk}/acknowledge", {"note": "walking over"})
    post(client, f"{V1}/alerts/{alert.pk}/comment", {"note": "bearing sounds dry"})

    body = client.get(f"{V1}/alerts/{alert.pk}").json()
    assert body["id"] == alert.pk
    assert body["state"] == "active_ack"
    assert body["acknowledged_by"] == "olga"
    history = [(e["kind"], e["user"], e["note"], e["state"]) for e in body["events"]]
    assert history == [
        ("raised", None, "", "active_unack"),
        ("acknowledged", "olga", "walking over", "active_ack"),
        ("commented", "olga", "bearing sounds dry", "active_ack"),
    ]
    assert [e["id"] for e in body["events"]] == list(
        alert.events.order_by("id").values_list("id", flat=True)
    )
    assert all(e["at"].endswith("Z") for e in body["events"])


def test_an_unknown_alert_is_404_for_reading_and_for_every_action():
    client = writer(make_user(role="supervisor"))
    missing = client.get(f"{V1}/alerts/999999")
    assert (missing.status_code, missing.json()) == (404, {"detail": "not found"})
    bodies = {
        "acknowledge": {},
        "shelve": {"minutes": 10, "reason": "cleaning"},
        "unshelve": {},
        "assign": {"user_id": None},
        "comment": {"note": "hello"},
    }
    for action, body in bodies.items():
        response = post(client, f"{V1}/alerts/999999/{action}", body)
        assert response.status_code == 404, action


# --- an operator's lines -------------------------------------------------------------------------


def test_an_operator_is_shown_only_their_own_lines_and_may_not_act_on_another():
    mine, theirs = make_alert(**HIGH), make_alert(**HIGH)
    operator = make_user(role="operator", username="olga", lines=[mine.asset.line])
    client = writer(operator)

    listed = client.get(f"{V1}/alerts").json()["results"]
    assert [row["id"] for row in listed] == [mine.pk]
    assert client.get(f"{V1}/alerts?line_id={theirs.asset.line_id}").json()["results"] == []
    assert client.get(f"{V1}/alerts/{theirs.pk}").status_code == 404
    log = client.get(f"{V1}/alert-events").json()["events"]
    assert {event["alert_id"] for event in log} == {mine.pk}

    refused = post(client, f"{V1}/alerts/{theirs.pk}/acknowledge", {"note": "seen"})
    assert refused.status_code == 403
    assert "not on your lines" in refused.json()["detail"]
    refused = post(client, f"{V1}/alerts/{theirs.pk}/comment", {"note": "looks odd"})
    assert refused.status_code == 403
    assert refused.json()["detail"] == (
        f"You may act only on your own lines: this alert is on {theirs.asset.line.name}."
    )
    assert event_kinds(theirs) == ["raised"]
    # The plant manager, who only watches, is shown every line.
    watched = reader(make_user(role="manager")).get(f"{V1}/alerts").json()["results"]
    assert {row["id"] for row in watched} == {mine.pk, theirs.pk}


# --- acting --------------------------------------------------------------------------------------


def test_acknowledging_returns_the_alert_acknowledged_by_its_user_with_the_note():
    alert = make_alert(**HIGH)
    operator = make_user(role="operator", username="omar", lines=[alert.asset.line])
    client = writer(operator)
    response = post(client, f"{V1}/alerts/{alert.pk}/acknowledge", {"note": "on my way"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["id"], body["state"], body["acknowledged_by"]) == (alert.pk, "active_ack", "omar")
    assert body["acknowledged_at"].endswith("Z")
    event = alert.events.get(kind="acknowledged")
    assert (event.user, event.note) == (operator, "on my way")

    again = post(client, f"{V1}/alerts/{alert.pk}/acknowledge", {})
    assert again.status_code == 403
    assert "already acknowledged" in again.json()["detail"]


def test_shelving_for_some_minutes_or_until_a_time_then_unshelving_with_a_note():
    alert = make_alert(**HIGH)
    operator = make_user(role="operator", username="omar", lines=[alert.asset.line])
    client = writer(operator)
    before = timezone.now()
    response = post(
        client, f"{V1}/alerts/{alert.pk}/shelve", {"minutes": 15, "reason": "sensor swap"}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    until = parsed(body["shelved_until"])
    assert before + timedelta(minutes=15) <= until + timedelta(milliseconds=1)
    assert until <= timezone.now() + timedelta(minutes=15)
    assert (body["shelved_by"], body["shelve_reason"]) == ("omar", "sensor swap")

    twice = post(client, f"{V1}/alerts/{alert.pk}/shelve", {"minutes": 5, "reason": "again"})
    assert twice.status_code == 403
    assert "already shelved" in twice.json()["detail"]

    response = post(client, f"{V1}/alerts/{alert.pk}/unshelve", {"note": "swap done"})
    assert response.status_code == 200, response.content
    assert response.json()["shelved_until"] is None
    assert alert.events.get(kind="unshelved").note == "swap done"

    end = (timezone.now() + timedelta(minutes=20)).isoformat()
    response = post(client, f"{V1}/alerts/{alert.pk}/shelve", {"until": end, "reason": "wash"})
    assert response.status_code == 200, response.content
    assert abs(parsed(response.json()["shelved_until"]) - parsed(end)) < timedelta(milliseconds=1)
    assert event_kinds(alert) == ["raised", "shelved", "unshelved", "shelved"]


def test_an_operator_may_not_shelve_beyond_the_operator_limit_nor_unshelve_what_is_not_shelved():
    alert = make_alert(**HIGH)
    client = writer(make_user(role="operator", lines=[alert.asset.line]))
    minutes = settings.ALERT_OPERATOR_MAX_SHELVE_S // 60 + 1
    response = post(
        client, f"{V1}/alerts/{alert.pk}/shelve", {"minutes": minutes, "reason": "long job"}
    )
    assert response.status_code == 403
    assert response.json()["detail"].startswith("You may shelve this alert for at most")
    response = post(client, f"{V1}/alerts/{alert.pk}/unshelve", {})
    assert response.status_code == 403
    assert "it is not shelved" in response.json()["detail"]
    assert event_kinds(alert) == ["raised"]


def test_a_shelve_without_a_reason_or_a_clear_end_is_400_naming_the_field():
    alert = make_alert(**HIGH)
    client = writer(make_user(role="supervisor"))
    url = f"{V1}/alerts/{alert.pk}/shelve"
    assert "reason" in error_fields(post(client, url, {"minutes": 10}))
    assert "reason" in error_fields(post(client, url, {"minutes": 10, "reason": "   "}))
    assert "minutes" in error_fields(post(client, url, {"minutes": 0, "reason": "x"}))
    assert "minutes" in error_fields(post(client, url, {"minutes": "soon", "reason": "x"}))
    assert {"until", "minutes"} <= error_fields(post(client, url, {"reason": "x"}))
    soon = (timezone.now() + timedelta(minutes=5)).isoformat()
    both = post(client, url, {"until": soon, "minutes": 5, "reason": "x"})
    assert {"until", "minutes"} <= error_fields(both)
    naive = post(client, url, {"until": "2030-01-01T08:00:00", "reason": "x"})
    assert "until" in error_fields(naive)
    past = (timezone.now() - timedelta(minutes=5)).isoformat()
    assert "until" in error_fields(post(client, url, {"until": past, "reason": "x"}))
    assert event_kinds(alert) == ["raised"]


def test_a_supervisor_assigns_by_username_or_id_and_unassigns():
    alert = make_alert(**HIGH)
    supervisor = make_user(role="supervisor", username="sven")
    omar = make_user(role="operator", username="omar", lines=[alert.asset.line])
    client = writer(supervisor)
    url = f"{V1}/alerts/{alert.pk}/assign"

    response = post(client, url, {"username": "omar", "note": "your line"})
    assert response.status_code == 200, response.content
    assert response.json()["assignee"] == {"id": omar.pk, "username": "omar"}
    response = post(client, url, {"user_id": supervisor.pk})
    assert response.json()["assignee"] == {"id": supervisor.pk, "username": "sven"}
    response = post(client, url, {"user_id": None, "note": "back to the pool"})
    assert response.status_code == 200, response.content
    assert response.json()["assignee"] is None
    notes = list(alert.events.filter(kind="assigned").order_by("id").values_list("note", flat=True))
    assert notes == [
        "assigned to omar. your line",
        "assigned to sven",
        "unassigned. back to the pool",
    ]


def test_assigning_is_refused_to_an_operator_and_to_someone_who_may_not_act_on_alerts():
    alert = make_alert(**HIGH)
    operator = make_user(role="operator", username="omar", lines=[alert.asset.line])
    make_user(role="manager", username="maria")
    url = f"{V1}/alerts/{alert.pk}/assign"

    refused = post(writer(operator), url, {"username": "omar"})
    assert (refused.status_code, refused.json()) == (
        403,
        {"detail": "Only a supervisor assigns alerts."},
    )
    supervisor = writer(make_user(role="supervisor"))
    refused = post(supervisor, url, {"username": "maria"})
    assert refused.status_code == 403
    assert refused.json()["detail"] == "maria may not act on alerts, so cannot be assigned one."

    unknown = post(supervisor, url, {"username": "nobody-here"})
    assert unknown.json() == {"detail": {"username": ["No active user has this username."]}}
    assert error_fields(post(supervisor, url, {"user_id": 999999})) == {"user_id"}
    assert {"user_id", "username"} <= error_fields(post(supervisor, url, {"note": "who?"}))
    assert Alert.objects.get(pk=alert.pk).assignee is None
    assert event_kinds(alert) == ["raised"]


def test_commenting_needs_a_note_and_records_it():
    alert = make_alert(**HIGH)
    client = writer(make_user(role="supervisor", username="sven"))
    url = f"{V1}/alerts/{alert.pk}/comment"
    assert "note" in error_fields(post(client, url, {}))
    assert "note" in error_fields(post(client, url, {"note": "  "}))
    response = post(client, url, {"note": "  check the coupling  "})
    assert response.status_code == 200, response.content
    event = alert.events.get(kind="commented")
    assert (event.user.username, event.note) == ("sven", "check the coupling")


def test_a_read_token_may_not_act_even_for_a_supervisor():
    alert = make_alert(**HIGH)
    client = reader(make_user(role="supervisor"))
    bodies = {
        "acknowledge": {},
        "shelve": {"minutes": 10, "reason": "cleaning"},
        "unshelve": {},
        "assign": {"user_id": None},
        "comment": {"note": "hello"},
    }
    for action, body in bodies.items():
        response = post(client, f"{V1}/alerts/{alert.pk}/{action}", body)
        assert response.status_code == 403, action
        assert "may only read" in response.json()["detail"]
    assert event_kinds(alert) == ["raised"]


def test_a_session_acts_only_with_its_csrf_token():
    alert = make_alert(**HIGH)
    operator = make_user(role="operator", lines=[alert.asset.line])
    strict = logged_in(operator, enforce_csrf_checks=True)
    url = f"{V1}/alerts/{alert.pk}/acknowledge"
    assert post(strict, url, {}).status_code == 403
    assert event_kinds(alert) == ["raised"]

    secret = "plantopsCsrfSecretForTheTest0001"  # 32 characters, as Django's own secrets
    strict.cookies[settings.CSRF_COOKIE_NAME] = secret
    response = strict.post(url, {}, content_type="application/json", HTTP_X_CSRFTOKEN=secret)
    assert response.status_code == 200, response.content
    assert event_kinds(alert) == ["raised", "acknowledged"]


# --- the event log -------------------------------------------------------------------------------


def test_the_event_log_pages_after_an_id_as_the_v0_endpoint_does():
    alert = make_alert(**HIGH)
    signal = alert.signal
    t = now_us()
    for i, value in enumerate([1.0, 9.0, 1.0, 9.5], start=1):
        batch_store(batch=make_batch(readings=[(signal.pk, t + i * S, value)]))
    ids = list(AlertEvent.objects.order_by("id").values_list("id", flat=True))
    assert len(ids) == 5
    user = make_user(role="operator", username="olga", lines=[alert.asset.line])
    client = reader(user)

    seen: list[int] = []
    since_id, more = 0, True
    while more:
        body = client.get(f"{V1}/alert-events", {"since_id": since_id, "limit": 2}).json()
        assert len(body["events"]) <= 2
        seen += [event["id"] for event in body["events"]]
        since_id, more = body["next_since_id"], body["more"]
    assert seen == ids

    first = client.get(f"{V1}/alert-events", {"since_id": ids[0]}).json()
    v0 = logged_in(user).get("/api/alerts", {"since_id": ids[0]}).json()
    assert [e["id"] for e in first["events"]] == [e["id"] for e in v0["events"]] == ids[1:]
    assert (first["next_since_id"], first["more"]) == (v0["last_id"], v0["more"])
    assert [(e["kind"], e["state"]) for e in first["events"]] == [
        (e["kind"], e["state"]) for e in v0["events"]
    ]
    assert first["events"][0]["prev_id"] == ids[0]
    assert first["events"][0]["alert_id"] == alert.pk

    # Nothing newer: the same id back, to ask again later.
    assert client.get(f"{V1}/alert-events", {"since_id": ids[-1]}).json() == {
        "events": [],
        "next_since_id": ids[-1],
        "more": False,
    }


def test_the_event_log_refuses_a_bad_since_id_or_limit_with_400():
    client = reader(make_user(role="manager"))
    for query, field in [
        ({"since_id": "abc"}, "since_id"),
        ({"since_id": -1}, "since_id"),
        ({"limit": 0}, "limit"),
        ({"limit": 1001}, "limit"),
    ]:
        assert field in error_fields(client.get(f"{V1}/alert-events", query)), query
