"""Dead letters can be re-processed once an admin fixes the configuration."""

from __future__ import annotations

import json
import time

import pytest
from django.urls import reverse

from plantops.core.time import now_us
from plantops.pipeline.services import batch_store
from plantops.telemetry.batches import BatchBuilder
from plantops.telemetry.models import DeadLetter, Reading
from plantops.telemetry.payloads import Limits, parse_message
from plantops.telemetry.selectors import topic_registry
from tests.factories import make_asset, make_user, topic

pytestmark = pytest.mark.django_db


def ingest(messages: list[tuple[str, bytes]]) -> None:
    """What ingest and the worker do with messages, without the transport."""
    builder = BatchBuilder(max_items=10_000, max_age_s=60)
    registry = topic_registry()
    for name, payload in messages:
        result = parse_message(name, payload, registry=registry, limits=Limits(now_us=now_us()))
        builder.add(topic=name, result=result, received_us=now_us(), ack_id=None)
    batch_store(batch=builder.take()[0])


def test_an_admin_replays_readings_of_a_signal_configured_after_they_arrived(client):
    asset = make_asset(signals=("vibration",))
    t = time.time()
    ingest(
        [
            (topic(asset, "telemetry/pressure"), json.dumps({"ts": t, "value": 4.2}).encode()),
            (
                topic(asset, "telemetry"),
                json.dumps(
                    {
                        "readings": [
                            {"signal": "vibration", "ts": t, "value": 1.0},
                            {"signal": "pressure", "ts": t + 1, "value": 4.3},
                        ]
                    }
                ).encode(),
            ),
            (topic(asset, "telemetry/vibration"), b"{not json"),
        ]
    )
    assert DeadLetter.objects.count() == 3
    pressure = asset.signals.create(slug="pressure", name="Pressure", unit="bar")
    client.force_login(make_user(role="admin", username="erin"))

    response = client.post(
        reverse("admin:telemetry_deadletter_changelist"),
        {
            "action": "replay",
            "index": 0,
            "_selected_action": list(DeadLetter.objects.values_list("pk", flat=True)),
        },
        follow=True,
    )

    shown = [str(m) for m in response.context["messages"]]
    assert any("2 stored, 1 still refused" in m for m in shown), shown
    assert sorted(Reading.objects.filter(signal=pressure).values_list("value", flat=True)) == [
        4.2,
        4.3,
    ]
    assert list(DeadLetter.objects.values_list("reason", flat=True)) == ["invalid_json"]


def test_an_operator_without_delete_permission_cannot_replay(client):
    staff = make_user(username="frank", staff=True)
    client.force_login(staff)
    assert client.get(reverse("admin:telemetry_deadletter_changelist")).status_code == 403
