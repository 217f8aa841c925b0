"""A gateway's readings through the production broker config, the ingest process and a worker:
its own asset's are stored, another asset's never reach the ingest."""

from __future__ import annotations

import secrets
import time
import uuid

import pytest
from django.core.management import call_command

from plantops.telemetry.models import DeadLetter, Reading
from tests.conftest import wait_for
from tests.dynsec import Probe
from tests.factories import make_asset, make_gateway, topic

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

NOT_AUTHORIZED = 0x87


def test_the_pipeline_stores_a_gateways_own_readings_and_never_another_assets(
    dynsec_broker, processes, settings
):
    press, other_lines_press = make_asset(), make_asset()
    ingest = dynsec_broker.identity(f"ingest-{uuid.uuid4().hex[:8]}", secrets.token_urlsafe(16))
    settings.MQTT_ADMIN = dynsec_broker.admin
    settings.MQTT = ingest
    call_command("sync_broker_identities")
    gateway, password = make_gateway(assets=[press])
    processes.env["MQTT_URL"] = (
        f"mqtt://{ingest.username}:{ingest.password}@{ingest.host}:{ingest.port}"
    )
    processes.worker()
    processes.ingest()
    gw = Probe(dynsec_broker.identity(gateway.username, password))
    try:
        temperature = press.signals.get(slug="temperature")

        def probe_stored() -> bool:
            gw.publish(topic(press, "telemetry/temperature"), {"ts": time.time(), "value": 21.0})
            return Reading.objects.filter(signal=temperature).exists()

        wait_for(probe_stored, timeout=30, what="the pipeline to store the gateway's probe")

        refused = gw.publish(
            topic(other_lines_press, "telemetry/vibration"), {"ts": time.time(), "value": 6.5}
        )
        own = gw.publish(topic(press, "telemetry/vibration"), {"ts": time.time(), "value": 2.5})

        assert refused.value == NOT_AUTHORIZED
        assert not own.is_failure
        # The ingest gets one publisher's messages in order: with the own reading stored, the
        # other asset's would have been stored (or dead-lettered) by now had it got through.
        wait_for(
            lambda: Reading.objects.filter(signal__asset=press, value=2.5).exists(),
            what="the gateway's own reading",
        )
        assert not Reading.objects.filter(signal__asset=other_lines_press).exists()
        assert not DeadLetter.objects.filter(topic__contains=other_lines_press.topic_path).exists()
    finally:
        gw.close()
