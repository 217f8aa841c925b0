"""End to end: a scripted shift of states and counts over MQTT → ingest → worker → /api/oee."""

from __future__ import annotations

import random
from datetime import UTC, datetime, time, timedelta

import pytest

from plantops.assets.models import Shift, ShiftBreak
from plantops.oee.models import CountEvent, StateEvent
from tests.conftest import wait_for, wait_until_flowing
from tests.factories import logged_in, make_asset, make_user, topic

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_a_shift_published_over_mqtt_gives_the_hand_computed_oee(processes, publisher):
    asset = make_asset(signals=("temperature",))  # the probe wait_until_flowing sends
    asset.ideal_cycle_time_s = 30
    asset.save()
    early = Shift.objects.create(
        line=asset.line, name="Early", start=time(6), end=time(14), weekdays="0123456"
    )
    ShiftBreak.objects.create(shift=early, start=time(10), end=time(10, 30))
    day = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=1)

    def at(hour: int, minute: int = 0) -> str:
        return (day + timedelta(hours=hour, minutes=minute)).isoformat().replace("+00:00", "Z")

    # The shift of tests/oee/test_calculation.py: OEE = 0.9 × 0.9 × 700/729.
    messages = [
        ("state", {"ts": at(6), "state": "running"}),
        ("state", {"ts": at(8), "state": "down", "reason": "jam"}),
        ("state", {"ts": at(8, 45), "state": "running"}),
        ("state", {"ts": at(14), "state": "idle", "reason": "end of shift"}),
        ("count", {"ts": at(7), "good": 200, "scrap": 5}),
        ("count", {"ts": at(8, 50), "good": 100, "scrap": 4}),
        ("count", {"ts": at(12), "good": 400, "scrap": 20}),
    ]
    # Late and out of order, as a gateway that was offline sends them: counts before the
    # states that explain them.
    random.Random(7).shuffle(messages)
    processes.worker()
    processes.ingest()
    wait_until_flowing(publisher, asset)
    for kind, payload in messages:
        publisher.publish(topic(asset, kind), payload)
    wait_for(
        lambda: (
            StateEvent.objects.filter(asset=asset).count() == 4
            and CountEvent.objects.filter(asset=asset).count() == 3
        ),
        what="4 states and 3 counts stored",
    )

    client = logged_in(make_user(role="technician", username="mes"))
    body = client.get("/api/oee", {"line": asset.line.slug, "start": at(0), "end": at(24)}).json()
    assert body["oee"] == pytest.approx(567 / 729)
    assert (body["planned_s"], body["run_s"], body["total_count"]) == (27_000, 24_300, 729)
    assert body["losses"]["breakdowns_s"] == 2_700
    assert body["losses"]["startup_rejects"] == 4
    assert body["downtime_by_reason"] == {"jam": 2_700}
