"""One message of thousands of bad readings writes 101 dead letters, not thousands.

Through the real path: a gateway publishes to a Mosquitto with the project's configuration, the
ingest process parses and batches, the worker stores.
"""

from __future__ import annotations

import time

import pytest

from plantops.telemetry.models import DeadLetter, Reading
from plantops.telemetry.payloads import Reason
from tests.conftest import Publisher, wait_for, wait_until_flowing
from tests.factories import make_asset, topic

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_a_batch_of_ten_thousand_readings_for_an_unknown_signal_writes_a_hundred_and_one_rows(
    processes, project_broker
):
    host, port = project_broker
    processes.env["MQTT_URL"] = f"mqtt://{host}:{port}"
    asset = make_asset()
    processes.worker()
    processes.ingest()
    gateway = Publisher(host, port)
    try:
        wait_until_flowing(gateway, asset)
        now = time.time()
        # 9,999 readings of a signal the asset does not have, and one good one at the end.
        items = [
            {"signal": "pressure", "ts": now - 60 + i / 1000, "value": 1.0} for i in range(9_999)
        ]
        items.append({"signal": "vibration", "ts": now, "value": 4.75})
        gateway.publish(topic(asset, "telemetry"), {"readings": items})

        # The dead letters are stored in the transaction that stores the good reading.
        wait_for(
            lambda: Reading.objects.filter(signal__asset=asset, value=4.75).exists(),
            timeout=30,
            what="the good reading of the batch",
        )
    finally:
        gateway.close()

    letters = list(DeadLetter.objects.order_by("position"))
    assert len(letters) == 101
    assert all(letter.reason == Reason.UNKNOWN_SIGNAL for letter in letters)
    assert letters[99].detail == "readings[99]: asset has no signal 'pressure'"
    assert bytes(letters[99].raw)  # each of the first 100 can be replayed on its own
    summary = letters[100]
    assert summary.detail == (
        "9,899 more refused items from readings[100] on, not recorded one by one "
        "(a message records 100 at most): unknown_signal 9,899"
    )
    assert '"pressure"' in summary.payload
    assert bytes(summary.raw) == b""
