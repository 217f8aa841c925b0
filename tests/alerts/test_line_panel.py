"""The alert panel on the floor view: a tablet shows the open alerts of its operator's lines."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from plantops.alerts.models import AlertEvent
from plantops.alerts.services import alert_shelve
from tests.factories import make_alert, make_user

pytestmark = pytest.mark.django_db

FLOOR = "/"
PANEL = "/alerts/panel"


def panel_ids(response) -> list[int]:
    return [
        int(i) for i in re.findall(r'class="panel-alert[^"]*" data-alert-id="(\d+)"', response.text)
    ]


def tile_line_ids(response) -> list[int]:
    return [
        int(i) for i in re.findall(r'<section class="line" data-line-id="(\d+)"', response.text)
    ]


@pytest.fixture
def two_lines():
    """Two alerts, each on an asset of its own line: (alert on line A, alert on line B)."""
    return make_alert(message="Press A vibration"), make_alert(message="Pump B vibration")


def test_an_operator_sees_the_alerts_of_the_line_at_their_position(client, two_lines):
    on_a, on_b = two_lines
    olga = make_user(role="operator", username="olga")
    on_a.asset.line.operators.add(olga)
    client.force_login(olga)

    response = client.get(FLOOR)

    assert response.status_code == 200
    assert panel_ids(response) == [on_a.pk]
    assert on_a.asset.line.name in response.context["panel_title"]
    assert "Press A vibration" in response.text
    assert "Pump B vibration" not in response.text
    # The whole floor is still there below the panel.
    assert set(tile_line_ids(response)) == {on_a.asset.line_id, on_b.asset.line_id}
    # One tap to acknowledge, back to this page.
    assert 'class="btn btn-primary btn-ack"' in response.text
    assert f'name="next" value="{FLOOR}"' in response.text


def test_a_tablet_pinned_to_a_line_shows_only_that_line(client, two_lines):
    on_a, on_b = two_lines
    olga = make_user(role="operator", username="olga")
    on_a.asset.line.operators.add(olga)
    client.force_login(olga)

    response = client.get(f"{FLOOR}?line={on_b.asset.line_id}")

    assert panel_ids(response) == [on_b.pk]
    assert tile_line_ids(response) == [on_b.asset.line_id]
    assert f"line={on_b.asset.line_id}" in response.context["panel_url"]


def test_without_a_position_the_panel_covers_every_line_most_urgent_first(client):
    low = make_alert(priority="low", message="Low one")
    critical = make_alert(priority="critical", message="Critical one")
    client.force_login(make_user(role="supervisor", username="sam"))

    response = client.get(FLOOR)

    assert response.context["panel_title"] == "All lines"
    assert panel_ids(response) == [critical.pk, low.pk]


def test_shelved_alerts_leave_the_panel_but_are_counted(client, two_lines):
    on_a, _ = two_lines
    sam = make_user(role="supervisor", username="sam")
    on_a.asset.line.operators.add(sam)
    alert_shelve(
        alert_id=on_a.pk, user=sam, until=timezone.now() + timedelta(hours=1), reason="Sensor"
    )
    client.force_login(sam)

    response = client.get(FLOOR)

    assert panel_ids(response) == []
    assert "No open alerts." in response.text
    assert "1 shelved or suppressed" in response.text


def test_acknowledging_from_the_panel_records_who_and_returns_to_the_floor(client, two_lines):
    on_a, _ = two_lines
    olga = make_user(role="operator", username="olga", lines=[on_a.asset.line])
    client.force_login(olga)
    back = f"{FLOOR}?line={on_a.asset.line_id}"

    response = client.post("/alerts/acknowledge", {"alert": on_a.pk, "next": back})

    assert response.status_code == 302
    assert response.url == back
    event = AlertEvent.objects.filter(alert=on_a).latest("id")
    assert (event.kind, event.user, event.state) == ("acknowledged", olga, "active_ack")
    assert 'class="btn btn-primary btn-ack"' not in client.get(back).text


def test_the_panel_partial_is_what_the_floor_renders(client, two_lines):
    on_a, on_b = two_lines
    lines = [on_a.asset.line, on_b.asset.line]
    client.force_login(make_user(role="operator", username="olga", lines=lines))

    partial = client.get(PANEL, {"line": on_b.asset.line_id, "back": "/?line=7"})

    assert partial.status_code == 200
    assert "<html" not in partial.text
    assert panel_ids(partial) == [on_b.pk]
    assert 'name="next" value="/?line=7"' in partial.text
    # Never a redirect off the site.
    elsewhere = client.get(PANEL, {"back": "https://evil.example/"})
    assert 'name="next" value="/"' in elsewhere.text
    assert set(panel_ids(elsewhere)) == {on_a.pk, on_b.pk}


def test_the_panel_needs_the_alert_role(client, two_lines):
    assert client.get(PANEL).status_code == 302  # to the login page
    client.force_login(make_user(username="visitor"))
    assert client.get(PANEL).status_code == 403
    # A user with no role does not see the floor at all.
    assert client.get(FLOOR).status_code == 403
