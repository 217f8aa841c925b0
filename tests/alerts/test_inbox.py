"""The supervisor inbox page and its actions, through the Django test client."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Permission, User

from plantops.alerts.models import Alert, AlertEvent
from plantops.alerts.selectors import newest_event_id
from plantops.alerts.services import alerts_acknowledge
from plantops.core.time import now_us
from tests.factories import judge_readings, make_alert, make_user

pytestmark = pytest.mark.django_db

INBOX = "/alerts/"


@pytest.fixture
def olga(client) -> User:
    operator = make_user(role="operator", username="olga")
    client.force_login(operator)
    return operator


def at_her_position(operator: User, *alerts) -> None:
    """Put the alerts' lines at the operator's position: she acts only on those."""
    for alert in alerts:
        alert.asset.line.operators.add(operator)


def shown_ids(response) -> list[int]:
    return [
        int(i) for i in re.findall(r'class="alert-row[^"]*" data-alert-id="(\d+)"', response.text)
    ]


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def test_it_sends_an_anonymous_visitor_to_log_in(client):
    response = client.get(INBOX)
    assert response.status_code == 302
    assert response.url.startswith("/login/?next=/alerts/")


def test_it_forbids_a_user_without_a_role(client):
    client.force_login(make_user(username="visitor"))
    assert client.get(INBOX).status_code == 403


def test_it_shows_an_operator_the_open_alerts(client, olga):
    alert = make_alert(priority="critical", message="Spindle vibration high")

    response = client.get(INBOX)

    assert response.status_code == 200
    assert shown_ids(response) == [alert.pk]
    row = response.text.split(f'data-alert-id="{alert.pk}"', 1)[1]
    assert "CRITICAL" in row
    assert "ACTIVE UNACK" in row
    assert "Spindle vibration high" in row
    assert alert.asset.name in row
    assert "Unassigned" in row
    assert f'data-after-id="{newest_event_id()}"' in response.text
    assert 'href="/alerts/"' in response.text  # the nav link


def test_it_shows_returned_unacknowledged_alerts_by_name(client, olga):
    alert = make_alert()
    judge_readings((alert.signal_id, now_us(), 1.0))

    response = client.get(INBOX)

    assert Alert.objects.get(pk=alert.pk).state == "rtn_unack"
    assert 'class="alarm-state alarm-rtn_unack">RETURNED UNACK<' in response.text


def test_it_acknowledges_many_alerts_with_a_note(client, olga):
    first, second = make_alert(), make_alert(priority="low")
    at_her_position(olga, first, second)
    after = newest_event_id()

    response = client.post(
        "/alerts/acknowledge",
        {
            "alert": [first.pk, second.pk],
            "note": "Bearings checked",
            "next": "/alerts/?sort=priority",
        },
    )

    assert response.status_code == 302
    assert response.url == "/alerts/?sort=priority"
    events = AlertEvent.objects.filter(id__gt=after)
    assert sorted(events.values_list("alert_id", "kind", "note", "user__username")) == [
        (first.pk, "acknowledged", "Bearings checked", "olga"),
        (second.pk, "acknowledged", "Bearings checked", "olga"),
    ]
    page = client.get(response.url)
    assert messages_of(page) == ["Acknowledged 2 alerts."]
    assert page.text.count('class="alarm-state alarm-active_ack">ACTIVE ACK<') == 2


def test_it_shows_why_an_acknowledgement_was_refused(client, olga):
    alert = make_alert()
    at_her_position(olga, alert)
    alerts_acknowledge(alert_ids=[alert.pk], user=olga)
    after = newest_event_id()

    response = client.post("/alerts/acknowledge", {"alert": [alert.pk]}, follow=True)

    [message] = messages_of(response)
    assert str(alert) in message
    assert newest_event_id() == after


def test_it_refuses_an_operator_a_24_hour_shelve_but_allows_one_hour(client, olga):
    alert = make_alert()
    at_her_position(olga, alert)

    refused = client.post(
        "/alerts/shelve",
        {"alert": alert.pk, "duration": "86400", "reason": "Sensor swap"},
        follow=True,
    )
    assert messages_of(refused) == ["You may shelve this alert for at most 1:00:00."]
    assert Alert.objects.get(pk=alert.pk).shelved_until is None

    shelved = client.post(
        "/alerts/shelve",
        {"alert": alert.pk, "duration": "3600", "reason": "Sensor swap"},
        follow=True,
    )
    assert messages_of(shelved) == ["Shelved for 1 h."]
    alert.refresh_from_db()
    assert alert.shelved_until is not None
    assert alert.shelve_reason == "Sensor swap"
    assert "SHELVED until" in shelved.text
    assert "Unshelve" in shelved.text

    client.post("/alerts/unshelve", {"alert": alert.pk})
    alert.refresh_from_db()
    assert alert.shelved_until is None


def test_it_lets_a_supervisor_shelve_for_eight_hours(client):
    client.force_login(make_user(role="supervisor", username="sam"))
    alert = make_alert()

    response = client.post(
        "/alerts/shelve",
        {"alert": alert.pk, "duration": "28800", "reason": "Line rebuild"},
        follow=True,
    )

    assert messages_of(response) == ["Shelved for 8 h."]
    assert Alert.objects.get(pk=alert.pk).shelved_until is not None


def test_an_operator_cannot_assign(client, olga):
    alert = make_alert()
    after = newest_event_id()

    response = client.post("/alerts/assign", {"alert": alert.pk, "assignee": olga.pk})

    assert response.status_code == 403
    assert newest_event_id() == after
    assert 'name="assignee"' not in client.get(INBOX).text


def test_a_supervisor_assigns_to_an_operator(client):
    olga = make_user(role="operator", username="olga")
    client.force_login(make_user(role="supervisor", username="sam"))
    alert = make_alert()

    page = client.get(INBOX)
    assert f'<option value="{olga.pk}">olga</option>' in page.text
    response = client.post("/alerts/assign", {"alert": alert.pk, "assignee": olga.pk}, follow=True)

    assert messages_of(response) == ["Assigned to olga."]
    assert Alert.objects.get(pk=alert.pk).assignee == olga
    assert "Assigned: <b>olga</b>" in response.text


def test_a_user_who_may_only_look_cannot_act(client):
    viewer = make_user(username="vic")
    viewer.user_permissions.add(Permission.objects.get(codename="view_alert"))
    client.force_login(viewer)
    alert = make_alert()

    assert client.get(INBOX).status_code == 200
    assert 'form="ack-form"' not in client.get(INBOX).text
    assert client.post("/alerts/acknowledge", {"alert": [alert.pk]}).status_code == 403
    assert Alert.objects.get(pk=alert.pk).state == "active_unack"


def test_it_adds_a_comment_and_refuses_an_empty_one(client, olga):
    alert = make_alert()
    at_her_position(olga, alert)

    added = client.post(
        "/alerts/comment", {"alert": alert.pk, "note": "Maintenance called"}, follow=True
    )
    refused = client.post("/alerts/comment", {"alert": alert.pk, "note": "  "}, follow=True)

    assert list(alert.events.filter(kind="commented").values_list("note", flat=True)) == [
        "Maintenance called"
    ]
    assert messages_of(added) == ["Comment added."]
    assert messages_of(refused) == ["A comment needs some text."]


def test_it_filters_by_priority_state_and_line(client, olga):
    high, low = make_alert(priority="high"), make_alert(priority="low")
    at_her_position(olga, low)
    alerts_acknowledge(alert_ids=[low.pk], user=olga)

    assert shown_ids(client.get(INBOX, {"priority": "low"})) == [low.pk]
    assert shown_ids(client.get(INBOX, {"state": "active_unack"})) == [high.pk]
    assert shown_ids(client.get(INBOX, {"line": high.asset.line_id})) == [high.pk]
    assert sorted(shown_ids(client.get(INBOX, {"priority": ["low", "high"]}))) == sorted(
        [high.pk, low.pk]
    )
    assert shown_ids(client.get(INBOX, {"priority": "critical"})) == []
    pressed = client.get(INBOX, {"priority": "low"}).text
    assert re.search(r'href="\?"[^>]*aria-current="true">LOW<', pressed)  # pressing it again clears


def test_it_sorts_by_newest_or_by_priority(client, olga):
    low = make_alert(priority="low")
    critical = make_alert(priority="critical")
    newest = make_alert(priority="medium")

    assert shown_ids(client.get(INBOX)) == [newest.pk, critical.pk, low.pk]
    assert shown_ids(client.get(INBOX, {"sort": "priority"})) == [critical.pk, newest.pk, low.pk]


def test_the_partial_list_is_only_the_rows(client, olga):
    alert = make_alert()
    at_her_position(olga, alert)

    response = client.get(INBOX, {"partial": "1", "priority": "high"})

    assert shown_ids(response) == [alert.pk]
    assert "<html" not in response.text
    assert 'name="next" value="/alerts/?priority=high"' in response.text


def test_it_does_not_redirect_off_site(client, olga):
    alert = make_alert()

    response = client.post(
        "/alerts/acknowledge", {"alert": [alert.pk], "next": "https://evil.example/"}
    )

    assert response.url == "/alerts/"


def test_each_alert_has_a_one_tap_work_order_button(client):
    client.force_login(make_user(role="supervisor", username="sam"))
    alert = make_alert()

    text = client.get(INBOX).text

    assert f'action="/work/from-alert/{alert.pk}"' in text
    assert 'data-action="work-order"' in text


def test_an_operator_is_told_another_lines_alert_is_not_hers(client, olga):
    mine, theirs = make_alert(), make_alert()
    at_her_position(olga, mine)

    response = client.post("/alerts/acknowledge", {"alert": [theirs.pk]}, follow=True)

    [message] = messages_of(response)
    assert f"{theirs}: not on your lines" in message
    assert Alert.objects.get(pk=theirs.pk).state == "active_unack"
    commented = client.post("/alerts/comment", {"alert": theirs.pk, "note": "odd"}, follow=True)
    assert messages_of(commented) == [
        f"You may act only on your own lines: this alert is on {theirs.asset.line.name}."
    ]


def test_an_operator_is_offered_actions_only_on_her_own_lines(client, olga):
    mine, theirs = make_alert(), make_alert()
    at_her_position(olga, mine)

    page = client.get(INBOX).text

    def row(alert) -> str:
        return page.split(f'data-alert-id="{alert.pk}"', 1)[1].split("</li>", 1)[0]

    assert 'form="ack-form"' in row(mine)
    assert "alert-actions" in row(mine)
    assert 'form="ack-form"' not in row(theirs)
    assert "alert-actions" not in row(theirs)
    panel = client.get("/alerts/panel").text
    assert f'name="alert" value="{mine.pk}"' in panel
    assert f'name="alert" value="{theirs.pk}"' not in panel
