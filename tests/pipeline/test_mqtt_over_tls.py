"""MQTT over TLS with the production broker config: the ingest, the broker admin and a gateway
connect with the plant's CA, readings are stored; a client that cannot check the broker's
certificate, or speaks plain MQTT to the TLS port, gets nowhere; client certificates work."""

from __future__ import annotations

import secrets
import ssl
import time
import uuid
from dataclasses import replace

import pytest
from django.core.management import call_command

from plantops.core.tls import client_context
from plantops.telemetry.models import Reading
from tests.conftest import wait_for
from tests.dynsec import Probe, run_dynsec_broker
from tests.factories import make_asset, make_gateway, topic

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def over_tls(broker, identity):
    """The identity, on the broker's TLS listener."""
    return replace(identity, port=broker.tls_port, tls=True)


def test_ingest_admin_and_gateway_speak_tls_and_the_reading_is_stored(
    dynsec_broker, processes, settings
):
    press = make_asset()
    ca = str(dynsec_broker.certificates.ca)
    settings.MQTT_CA_FILE = ca
    settings.MQTT_ADMIN = over_tls(dynsec_broker, dynsec_broker.admin)  # the admin over TLS too
    ingest = over_tls(
        dynsec_broker,
        dynsec_broker.identity(f"ingest-{uuid.uuid4().hex[:8]}", secrets.token_urlsafe(16)),
    )
    settings.MQTT = ingest
    call_command("sync_broker_identities")
    gateway, password = make_gateway(assets=[press])
    processes.env["MQTT_URL"] = (
        f"mqtts://{ingest.username}:{ingest.password}@127.0.0.1:{dynsec_broker.tls_port}"
    )
    processes.env["MQTT_CA_FILE"] = ca
    processes.worker()
    processes.ingest()
    gw = Probe(
        over_tls(dynsec_broker, dynsec_broker.identity(gateway.username, password)),
        tls=client_context(ca),
    )
    try:
        temperature = press.signals.get(slug="temperature")

        def stored() -> bool:
            gw.publish(topic(press, "telemetry/temperature"), {"ts": time.time(), "value": 21.0})
            return Reading.objects.filter(signal=temperature).exists()

        wait_for(stored, timeout=30, what="a reading sent over TLS to be stored")
    finally:
        gw.close()


def test_a_client_that_cannot_check_the_brokers_certificate_gets_nowhere(dynsec_broker):
    admin = over_tls(dynsec_broker, dynsec_broker.admin)
    # The system's trusted CAs do not include the plant's own.
    with pytest.raises(ssl.SSLCertVerificationError):
        Probe(admin, tls=client_context())
    # Plain MQTT to the TLS port: the broker hangs up before any CONNACK.
    plain = Probe(replace(admin, tls=False))
    assert not plain.connected
    plain.close()
    checked = Probe(admin, tls=client_context(str(dynsec_broker.certificates.ca)))
    assert checked.connected
    checked.close()


def test_with_client_certificates_required_only_a_client_with_one_connects(tmp_path):
    with run_dynsec_broker(tmp_path, require_certificate=True) as broker:
        certificates = broker.certificates
        admin = over_tls(broker, broker.admin)
        without = Probe(admin, tls=client_context(str(certificates.ca)))
        assert not without.connected  # refused in the handshake, before any CONNACK
        without.close()
        with_certificate = client_context(
            str(certificates.ca), str(certificates.client_cert), str(certificates.client_key)
        )
        probe = Probe(admin, tls=with_certificate)
        try:
            assert probe.connected
        finally:
            probe.close()
