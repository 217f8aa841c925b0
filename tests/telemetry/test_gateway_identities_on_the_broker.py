"""Each gateway speaks only for its own assets, and the broker enforces it.

Against a real Mosquitto started with docker/mosquitto.conf (dynamic-security plugin, anonymous
clients refused), which PlantOps manages as its admin. Every wait is on the broker's answer
(CONNACK, PUBACK, DISCONNECT, a delivered message), never on a sleep.
"""

from __future__ import annotations

import secrets
import time
import uuid

import pytest
from django.core.management import call_command

from plantops.telemetry import gateways
from plantops.telemetry.dynsec import control_session
from plantops.telemetry.identities import MANAGED, gateway_rolename
from plantops.telemetry.models import Gateway
from tests.conftest import wait_for
from tests.dynsec import Probe
from tests.factories import make_asset, make_gateway, topic

pytestmark = [pytest.mark.services, pytest.mark.django_db]

NOT_AUTHORIZED = 0x87
ADMINISTRATIVE_ACTION = 0x98
# Revocation must take effect within this long; it takes milliseconds here.
REVOKE_WITHIN_S = 3.0


@pytest.fixture
def broker(dynsec_broker, settings):
    """The test's broker, managed by PlantOps, with an ingest identity of the test's own."""
    settings.MQTT_ADMIN = dynsec_broker.admin
    settings.MQTT = dynsec_broker.identity(
        f"ingest-{uuid.uuid4().hex[:8]}", secrets.token_urlsafe(16)
    )
    gateways.broker_sync_all()
    return dynsec_broker


@pytest.fixture
def ingest(broker, settings):
    """A subscriber with the ingest's identity, on a shared subscription as ingest has."""
    probe = Probe(settings.MQTT)
    assert probe.subscribe(f"$share/test-{uuid.uuid4().hex[:8]}/plantops/#").value == 1
    yield probe
    probe.close()


@pytest.fixture
def probes():
    opened: list[Probe] = []

    def connect(identity, **options) -> Probe:
        probe = Probe(identity, **options)
        opened.append(probe)
        return probe

    yield connect
    for probe in opened:
        probe.close()


def accepted(answer) -> bool:
    """A PUBACK without an error: success, or "no matching subscribers" with nobody reading."""
    return not answer.is_failure


def reading() -> dict:
    return {"ts": time.time(), "value": 1.5}


def received(ingest: Probe, wanted: str) -> bool:
    return any(found == wanted for found, _ in ingest.messages)


def test_a_gateway_publishes_its_own_assets_readings_to_the_ingest(broker, ingest, probes):
    press = make_asset()
    gateway, password = make_gateway(assets=[press])
    gw = probes(broker.identity(gateway.username, password))

    for suffix in ("telemetry/vibration", "telemetry", "state", "count"):
        assert gw.publish(topic(press, suffix), reading()).value == 0
        wait_for(lambda s=suffix: received(ingest, topic(press, s)), what=f"{suffix} at the ingest")


def test_the_broker_refuses_a_reading_for_another_asset_and_delivers_nothing(
    broker, ingest, probes
):
    press, other_lines_press = make_asset(), make_asset()
    gateway, password = make_gateway(assets=[press])
    gw = probes(broker.identity(gateway.username, password))

    for suffix in ("telemetry/vibration", "telemetry", "state", "count"):
        refused = gw.publish(topic(other_lines_press, suffix), reading())
        assert refused.value == NOT_AUTHORIZED, suffix
    assert gw.publish("plantops/elsewhere", reading()).value == NOT_AUTHORIZED
    assert gw.publish(f"{topic(press, 'telemetry/vibration')}/deeper", reading()).value == (
        NOT_AUTHORIZED
    )
    assert gw.subscribe("plantops/#").value == NOT_AUTHORIZED
    # Delivery keeps a publisher's order: once this arrives, anything sent before it has too.
    assert gw.publish(topic(press, "telemetry/vibration"), reading()).value == 0
    wait_for(lambda: received(ingest, topic(press, "telemetry/vibration")), what="the own reading")
    assert [found for found, _ in ingest.messages] == [topic(press, "telemetry/vibration")]
    assert gw.connected  # refused messages cost the gateway nothing but the message


def test_a_line_gateway_speaks_for_every_asset_of_its_line_only(broker, ingest, probes):
    press = make_asset()
    later = press.line.assets.create(slug="press-later", name="Later", asset_type="press")
    elsewhere = make_asset()
    gateway, password = make_gateway(lines=[press.line])
    gw = probes(broker.identity(gateway.username, password))

    assert gw.publish(topic(later, "state"), {"ts": time.time(), "state": "running"}).value == 0
    assert gw.publish(topic(elsewhere, "state"), {"ts": 0, "state": "idle"}).value == (
        NOT_AUTHORIZED
    )


def test_the_ingest_may_read_the_wire_but_neither_publish_nor_read_anything_else(
    broker, ingest, probes
):
    press = make_asset()
    assert ingest.publish(topic(press, "telemetry/vibration"), reading()).value == NOT_AUTHORIZED
    assert ingest.subscribe("#").value == NOT_AUTHORIZED
    assert ingest.subscribe("$CONTROL/dynamic-security/v1/response").value == NOT_AUTHORIZED


def test_a_gateway_cannot_take_over_the_ingests_session_with_its_client_id(
    broker, settings, probes
):
    press = make_asset()
    gateway, password = make_gateway(assets=[press])
    ingest = probes(settings.MQTT, client_id="plantops-ingest-1")
    assert ingest.subscribe("plantops/#").value == 1

    impostor = probes(broker.identity(gateway.username, password), client_id="plantops-ingest-1")

    assert impostor.connack.value == NOT_AUTHORIZED
    gw = probes(broker.identity(gateway.username, password))
    assert gw.publish(topic(press, "state"), {"ts": time.time(), "state": "idle"}).value == 0
    wait_for(lambda: received(ingest, topic(press, "state")), what="the ingest, still there")
    assert ingest.disconnected is None


def test_an_anonymous_client_or_a_wrong_password_is_refused(broker, probes):
    press = make_asset()
    gateway, _ = make_gateway(assets=[press])

    assert probes(broker.identity(None, None)).connack.value == NOT_AUTHORIZED
    assert probes(broker.identity(gateway.username, "guessed")).connack.value == NOT_AUTHORIZED
    assert probes(broker.identity("nobody", "guessed")).connack.value == NOT_AUTHORIZED


def test_a_revoked_gateway_is_dropped_and_refused_within_seconds(
    broker, ingest, probes, django_capture_on_commit_callbacks
):
    press = make_asset()
    gateway, password = make_gateway(assets=[press])
    identity = broker.identity(gateway.username, password)
    connected = probes(identity)
    assert accepted(connected.publish(topic(press, "count"), {"ts": 1.0, "good": 1, "scrap": 0}))

    began = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        gateways.gateway_revoke(gateway=gateway)
    wait_for(
        lambda: connected.disconnected is not None,
        timeout=REVOKE_WITHIN_S,
        what="the broker to drop the revoked gateway",
    )
    assert connected.disconnected.value == ADMINISTRATIVE_ACTION
    assert probes(identity).connack.value == NOT_AUTHORIZED
    assert time.monotonic() - began < REVOKE_WITHIN_S
    gateway.refresh_from_db()
    assert gateway.broker_synced_at is not None
    assert gateway.broker_error == ""

    with django_capture_on_commit_callbacks(execute=True):
        gateways.gateway_reinstate(gateway=gateway)
    back = probes(identity)
    assert back.connack.value == 0
    assert accepted(back.publish(topic(press, "count"), {"ts": time.time(), "good": 2, "scrap": 0}))


def test_a_new_password_drops_the_old_ones_connections_and_only_it_logs_in(broker, probes):
    press = make_asset()
    gateway, old = make_gateway(assets=[press])
    connected = probes(broker.identity(gateway.username, old))

    new = gateways.gateway_issue_password(gateway=gateway)

    wait_for(lambda: connected.disconnected is not None, what="the old connection to drop")
    assert new != old
    assert probes(broker.identity(gateway.username, old)).connack.value == NOT_AUTHORIZED
    assert probes(broker.identity(gateway.username, new)).connack.value == 0


def test_a_deleted_gateway_leaves_the_broker(broker, probes, django_capture_on_commit_callbacks):
    press = make_asset()
    gateway, password = make_gateway(assets=[press])
    connected = probes(broker.identity(gateway.username, password))

    with django_capture_on_commit_callbacks(execute=True):
        gateways.gateway_delete(gateway=gateway)

    wait_for(lambda: connected.disconnected is not None, what="the deleted gateway to drop")
    assert probes(broker.identity(gateway.username, password)).connack.value == NOT_AUTHORIZED
    with control_session(broker.admin) as session:
        client, role = session.run(
            [
                {"command": "getClient", "username": gateway.username},
                {"command": "getRole", "rolename": gateway_rolename(gateway.username)},
            ]
        )
    assert client["error"] == "Client not found"
    assert role["error"] == "Role not found"


def test_renaming_an_asset_moves_its_gateways_permission_to_the_new_topics(
    broker, probes, django_capture_on_commit_callbacks
):
    press = make_asset()
    gateway, password = make_gateway(assets=[press])
    old_topic = topic(press, "state")

    with django_capture_on_commit_callbacks(execute=True):
        press.slug = "press-renamed"
        press.save()

    gw = probes(broker.identity(gateway.username, password))
    assert accepted(gw.publish(topic(press, "state"), {"ts": time.time(), "state": "idle"}))
    assert gw.publish(old_topic, {"ts": time.time(), "state": "idle"}).value == NOT_AUTHORIZED


def test_a_sync_of_a_broker_in_step_changes_nothing_and_drops_nobody(broker, probes):
    press = make_asset()
    gateway, password = make_gateway(assets=[press])
    connected = probes(broker.identity(gateway.username, password))
    with control_session(broker.admin) as session:
        session.execute(
            [
                {"command": "createClient", "username": f"left-{gateway.username}"},
                {
                    "command": "modifyClient",
                    "username": f"left-{gateway.username}",
                    "textdescription": MANAGED,
                },
                {"command": "createClient", "username": f"by-hand-{gateway.username}"},
            ]
        )

    call_command("sync_broker_identities")
    report = gateways.broker_sync_all()

    assert report.removed == []  # the first run removed the leftover
    assert report.without_password == []
    assert accepted(connected.publish(topic(press, "state"), {"ts": time.time(), "state": "idle"}))
    assert connected.disconnected is None
    with control_session(broker.admin) as session:
        left, by_hand = session.run(
            [
                {"command": "getClient", "username": f"left-{gateway.username}"},
                {"command": "getClient", "username": f"by-hand-{gateway.username}"},
            ]
        )
    assert left["error"] == "Client not found"
    assert "data" in by_hand


def test_a_broker_that_lost_a_gateway_gets_it_back_needing_a_new_password(broker, probes):
    press = make_asset()
    gateway, password = make_gateway(assets=[press])
    with control_session(broker.admin) as session:
        session.execute([{"command": "deleteClient", "username": gateway.username}])

    report = gateways.broker_sync_all()

    assert report.without_password == [gateway.username]
    gateway.refresh_from_db()
    assert gateway.password_set_at is None
    assert "new password" in gateway.broker_error
    assert probes(broker.identity(gateway.username, password)).connack.value == NOT_AUTHORIZED
    new = gateways.gateway_issue_password(gateway=gateway)
    assert probes(broker.identity(gateway.username, new)).connack.value == 0


def test_an_unreachable_broker_is_recorded_and_the_sync_left_to_celery_to_retry(
    broker, settings, monkeypatch, django_capture_on_commit_callbacks
):
    from plantops.telemetry.tasks import sync_gateway

    press = make_asset()
    gateway, _ = make_gateway(assets=[press])
    settings.MQTT_ADMIN = broker.identity("admin", "x").__class__(
        host="127.0.0.1", port=1, username="admin", password="x", tls=False
    )
    queued: list[tuple] = []
    monkeypatch.setattr(
        sync_gateway, "apply_async", lambda args, countdown: queued.append((args, countdown))
    )

    with django_capture_on_commit_callbacks(execute=True):
        gateways.gateway_revoke(gateway=gateway)

    gateway.refresh_from_db()
    assert gateway.broker_synced_at is None
    assert "cannot reach" in gateway.broker_error
    assert queued == [((gateway.pk, gateway.username), gateways.RETRY_AFTER_S)]
    with pytest.raises(gateways.BrokerUnavailable):
        sync_gateway.run(gateway.pk, gateway.username)

    # The broker is back: the retried task brings it in step.
    settings.MQTT_ADMIN = broker.admin
    sync_gateway.run(gateway.pk, gateway.username)
    gateway.refresh_from_db()
    assert gateway.broker_synced_at is not None
    assert gateway.broker_error == ""


def test_a_gateway_cannot_take_the_ingests_or_the_admins_user_name(broker, settings):
    # The ingest's client id too: a gateway logs in with its user name as client id, and the
    # broker would hand it the ingest's persistent session.
    taken_names = (
        settings.MQTT.username,
        broker.admin.username,
        settings.MQTT_CLIENT_ID,
        "plantops-simulator-1",
    )
    for taken in taken_names:
        gateway = Gateway(name=f"Impostor {taken}", username=taken)
        with pytest.raises(Exception, match="belongs to PlantOps itself"):
            gateway.full_clean()


def test_a_sparkplug_gateway_is_its_own_edge_nodes_and_no_other(
    broker, settings, probes, django_capture_on_commit_callbacks
):
    gateway, password = make_gateway()
    gateway.sparkplug_nodes = "plant/edge-1\nplant/edge-2"
    gateway.save()
    with django_capture_on_commit_callbacks(execute=True):
        gateways.gateway_changed(gateway=gateway)
    ingest = probes(settings.MQTT)
    assert ingest.subscribe(f"$share/test-{uuid.uuid4().hex[:8]}/spBv1.0/#").value == 1
    gw = probes(broker.identity(gateway.username, password))
    assert gw.subscribe("spBv1.0/plant/NCMD/edge-1").value == 1
    assert gw.subscribe("spBv1.0/STATE/+").value == 1

    for topic_name in (
        "spBv1.0/plant/NBIRTH/edge-1",
        "spBv1.0/plant/NDATA/edge-2",
        "spBv1.0/plant/DDATA/edge-1/press",
        "spBv1.0/plant/DDEATH/edge-2/press",
    ):
        assert gw.publish(topic_name, b"\x08\x01").value == 0, topic_name
    for topic_name in (
        "spBv1.0/plant/NDATA/edge-3",
        "spBv1.0/other/NDATA/edge-1",
        "spBv1.0/plant/NCMD/edge-1",
        "spBv1.0/STATE/host",
    ):
        assert gw.publish(topic_name, b"\x08\x01").value == NOT_AUTHORIZED, topic_name
    assert gw.subscribe("spBv1.0/plant/NCMD/edge-3").value == NOT_AUTHORIZED
    wait_for(
        lambda: received(ingest, "spBv1.0/plant/DDEATH/edge-2/press"),
        what="the gateway's Sparkplug messages at the ingest",
    )
    # The ingest may ask a node for a rebirth, and the node receives it; nothing else.
    assert ingest.publish("spBv1.0/plant/NCMD/edge-1", b"\x08\x01").value == 0
    wait_for(lambda: received(gw, "spBv1.0/plant/NCMD/edge-1"), what="the rebirth request")
    assert ingest.publish("spBv1.0/plant/NDATA/edge-1", b"\x08\x01").value == NOT_AUTHORIZED
