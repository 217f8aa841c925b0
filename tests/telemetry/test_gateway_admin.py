"""Gateways in the admin: a password is shown once, on a page of its own, and kept nowhere."""

from __future__ import annotations

import time

import pytest
from django.contrib.messages import get_messages
from django.contrib.sessions.models import Session
from django.urls import reverse

from plantops.env import MqttSettings
from plantops.telemetry.models import Gateway
from tests.conftest import wait_for
from tests.dynsec import Probe
from tests.factories import logged_in, make_asset, make_gateway, make_user, topic

pytestmark = [pytest.mark.services, pytest.mark.django_db]

NOT_AUTHORIZED = 0x87


@pytest.fixture
def broker(dynsec_broker, settings):
    settings.MQTT_ADMIN = dynsec_broker.admin
    return dynsec_broker


@pytest.fixture
def admin():
    return logged_in(make_user(role="admin"))


@pytest.fixture
def probes():
    opened: list[Probe] = []

    def connect(identity) -> Probe:
        probe = Probe(identity)
        opened.append(probe)
        return probe

    yield connect
    for probe in opened:
        probe.close()


def add_gateway(client, **fields):
    form = {"name": "Press gateway", "username": "press-gw", "assets": [], "lines": [], "areas": []}
    return client.post(reverse("admin:telemetry_gateway_add"), {**form, **fields})


def test_a_new_gateways_password_is_shown_once_on_its_own_page_and_kept_nowhere(
    broker, admin, probes
):
    press = make_asset()

    response = add_gateway(admin, assets=[press.pk])

    assert response.status_code == 200
    assert "admin/telemetry/gateway/password.html" in [t.name for t in response.templates]
    password = response.context["password"]
    assert len(password) >= 32
    assert password in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    assert topic(press, "state") in response.content.decode()
    # Not in a cookie, nor in a message for the next page, nor in the database.
    assert not any(password in morsel.value for morsel in response.cookies.values())
    assert not any(password in str(message) for message in get_messages(response.wsgi_request))
    gateway = Gateway.objects.get(username="press-gw")
    assert not any(password in str(value) for value in Gateway.objects.values().get().values())
    assert not any(password in str(s.get_decoded()) for s in Session.objects.all())
    assert (
        password
        not in admin.get(
            reverse("admin:telemetry_gateway_change", args=[gateway.pk])
        ).content.decode()
    )
    # It is the password the broker was given, for this gateway's asset.
    gw = probes(broker.identity("press-gw", password))
    assert not gw.publish(topic(press, "state"), {"ts": time.time(), "state": "idle"}).is_failure


def test_a_new_password_from_the_gateways_page_replaces_the_old_one(broker, admin, probes):
    gateway, old = make_gateway(assets=[make_asset()])
    url = reverse("admin:telemetry_gateway_password", args=[gateway.pk])

    assert admin.get(url).status_code == 302  # only a POST issues a password
    response = admin.post(url)

    assert response.status_code == 200
    new = response.context["password"]
    assert "no-store" in response["Cache-Control"]
    assert probes(broker.identity(gateway.username, old)).connack.value == NOT_AUTHORIZED
    assert probes(broker.identity(gateway.username, new)).connack.value == 0


def test_staff_without_the_right_to_change_gateways_cannot_issue_a_password(broker):
    gateway, _ = make_gateway()
    issued_at = gateway.password_set_at
    staff = logged_in(make_user(staff=True))

    response = staff.post(reverse("admin:telemetry_gateway_password", args=[gateway.pk]))

    assert response.status_code == 403
    gateway.refresh_from_db()
    assert gateway.password_set_at == issued_at


def test_revoking_from_the_list_drops_the_gateways_connection(
    broker, admin, probes, django_capture_on_commit_callbacks
):
    gateway, password = make_gateway(assets=[make_asset()])
    connected = probes(broker.identity(gateway.username, password))

    with django_capture_on_commit_callbacks(execute=True):
        admin.post(
            reverse("admin:telemetry_gateway_changelist"),
            {"action": "revoke", "_selected_action": [gateway.pk]},
        )

    gateway.refresh_from_db()
    assert gateway.revoked
    wait_for(lambda: connected.disconnected is not None, timeout=3, what="the broker to drop it")
    assert probes(broker.identity(gateway.username, password)).connack.value == NOT_AUTHORIZED


def test_a_gateway_added_while_the_broker_is_away_is_saved_without_a_password(
    broker, admin, settings
):
    settings.MQTT_ADMIN = MqttSettings("127.0.0.1", 1, "admin", "x", False)

    response = add_gateway(admin)

    assert response.status_code == 302
    gateway = Gateway.objects.get(username="press-gw")
    assert gateway.password_set_at is None
    [error] = [m for m in get_messages(response.wsgi_request) if m.level_tag == "error"]
    assert "without a password" in str(error)
    assert "cannot reach the MQTT broker" in str(error)
