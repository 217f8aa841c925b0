"""Sparkplug B end to end: an edge node on a real Mosquitto, the ingest and worker processes, and
the database. Births define the metrics, data by alias is stored, a seq gap asks for a rebirth,
a death marks the asset no data, historical metrics are stored but are not current values."""

from __future__ import annotations

import time
import uuid

import pytest

from plantops.assets.models import Asset
from plantops.simulator.sparkplug_node import SparkplugEdgeNode
from plantops.telemetry.models import (
    DeadLetter,
    LatestReading,
    Reading,
    SparkplugMetric,
    SparkplugSource,
)
from plantops.telemetry.sparkplug_schema import DataType
from tests.conftest import wait_for
from tests.factories import make_asset
from tests.sparkplug import EdgeGateway

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

GOOD = SparkplugMetric.Target.GOOD_TOTAL


@pytest.fixture
def plant(processes, project_broker):
    """An asset mapped to device `press` of a fresh edge node, and the processes running."""
    host, port = project_broker
    processes.env["MQTT_URL"] = f"mqtt://{host}:{port}"
    group, node_id = f"g{uuid.uuid4().hex[:6]}", "edge1"
    asset = make_asset()
    node_source = SparkplugSource.objects.create(group_id=group, edge_node_id=node_id)
    source = SparkplugSource.objects.create(
        group_id=group, edge_node_id=node_id, device_id="press", asset=asset
    )
    vibration = asset.signals.get(slug="vibration")
    SparkplugMetric.objects.create(
        source=source, name="Vibration", target=SparkplugMetric.Target.SIGNAL, signal=vibration
    )
    SparkplugMetric.objects.create(source=source, name="Mode", target="state")
    SparkplugMetric.objects.create(source=source, name="Good", target=GOOD)
    node = SparkplugEdgeNode(
        group=group,
        node=node_id,
        metrics={
            "": {"Uptime": DataType.INT64},
            "press": {
                "Vibration": DataType.DOUBLE,
                "Mode": DataType.STRING,
                "Good": DataType.UINT32,
                "Serial": DataType.STRING,
            },
        },
    )
    processes.worker()
    processes.ingest()
    edge = EdgeGateway(host, port, node, {("press", "Good"): 1000, ("press", "Mode"): "running"})
    yield asset, vibration, edge, node_source, source
    edge.close()


def stored(signal, value: float) -> bool:
    return Reading.objects.filter(signal=signal, value=value).exists()


def wait_until_read(edge: EdgeGateway, signal) -> None:
    """Births until the ingest has one (it may have subscribed after the first): a probe
    reading sent after a birth is stored."""
    probe = [100.0]

    def probe_stored() -> bool:
        if Reading.objects.filter(signal=signal, value__gte=101, value__lte=probe[0]).exists():
            return True
        probe[0] += 1
        edge.births()
        edge.data("press", {"Vibration": probe[0]})
        return False

    wait_for(probe_stored, timeout=30, what="a reading through the edge node's birth")
    wait_for(lambda: stored(signal, probe[0]), what="the last probe reading")


def test_births_and_data_by_alias_reach_the_plant(plant):
    asset, vibration, edge, node_source, source = plant
    wait_until_read(edge, vibration)
    now_ms = int(time.time() * 1000)
    edge.data("press", {"Vibration": 3.25, "Good": 1012, "Serial": "SN-7"}, ts_ms=now_ms)
    wait_for(lambda: stored(vibration, 3.25), what="the reading sent by alias")
    reading = Reading.objects.get(signal=vibration, value=3.25)
    assert int(reading.ts.timestamp() * 1000) == now_ms  # the metric's own time
    # The running total went 1000 (birth: the baseline) → 1012: twelve parts.
    wait_for(lambda: asset.count_events.exists(), what="the parts counted")
    assert [(e.good, e.scrap) for e in asset.count_events.all()] == [(12, 0)]
    asset.refresh_from_db()
    assert asset.state == "running"
    # The unmapped metric is a candidate in the admin, with its value and where it came from.
    serial = wait_for(
        lambda: (
            SparkplugMetric.objects.filter(source=source, name="Serial", last_value="SN-7")
            .select_related("source")
            .first()
        ),
        what="the unmapped metric as a candidate",
    )
    assert serial.target == ""
    assert serial.datatype == DataType.STRING
    assert SparkplugMetric.objects.filter(source=node_source, name="Uptime").exists()


def test_a_seq_gap_asks_for_a_rebirth_and_dead_letters_until_it_comes(plant):
    _asset, vibration, edge, _, _ = plant
    wait_until_read(edge, vibration)
    edge.answer_rebirths = False
    asked = edge.rebirth_requests
    edge.lose("press", {"Vibration": 11.0})
    edge.data("press", {"Vibration": 12.0})
    wait_for(lambda: edge.rebirth_requests > asked, what="a Rebirth request (NCMD)")
    wait_for(
        lambda: DeadLetter.objects.filter(reason="sparkplug_seq_gap").exists(),
        what="the message after the gap as a dead letter",
    )
    edge.data("press", {"Vibration": 13.0})
    wait_for(
        lambda: DeadLetter.objects.filter(reason="sparkplug_awaiting_rebirth").exists(),
        what="data before the rebirth refused",
    )
    edge.births()
    edge.data("press", {"Vibration": 14.0})
    wait_for(lambda: stored(vibration, 14.0), what="data after the rebirth")
    assert not stored(vibration, 12.0)
    assert not stored(vibration, 13.0)


def test_a_death_marks_the_asset_no_data_and_a_birth_clears_it(plant):
    asset, vibration, edge, _node_source, source = plant
    wait_until_read(edge, vibration)
    edge.die()

    def no_data() -> bool:
        asset.refresh_from_db()
        return asset.no_data_since is not None

    wait_for(no_data, what="the asset marked no data")
    assert "offline" in asset.no_data_reason
    assert asset.state == "running"  # no data is not down
    source.refresh_from_db()
    assert not source.online
    assert source.last_death_at is not None
    edge.node.next_session()
    edge.births()
    wait_for(lambda: not no_data(), what="the birth to clear no data")


def test_historical_metrics_are_stored_but_never_the_current_value(plant):
    asset, vibration, edge, _, _ = plant
    wait_until_read(edge, vibration)
    latest = LatestReading.objects.get(signal=vibration)
    # Even newer than the current value, history never takes its place.
    later_ms = int(latest.ts.timestamp() * 1000) + 1000
    edge.data("press", {"Vibration": 42.0}, ts_ms=later_ms, historical=True)
    wait_for(lambda: stored(vibration, 42.0), what="the historical reading")
    assert LatestReading.objects.get(signal=vibration).value == latest.value
    assert not Asset.objects.get(pk=asset.pk).no_data_since
