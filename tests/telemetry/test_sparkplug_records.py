"""What the worker records of Sparkplug births, deaths and metrics seen, and which assets'
gateways that brings or takes away."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from plantops.assets.models import Asset
from plantops.assets.services import asset_gateways_keep
from plantops.telemetry.models import SparkplugMetric, SparkplugSource
from plantops.telemetry.services import sparkplug_events_record, sparkplug_metrics_map_by_name
from plantops.telemetry.sparkplug_wire import EventKind, SeenMetric, SparkplugEvent
from tests.factories import make_asset

pytestmark = pytest.mark.django_db

T0 = 1_800_000_000_000_000


def event(kind, device="", *, at=0, metrics=()):
    return SparkplugEvent(kind, "plant", "edge1", device, T0 + at * 1_000_000, list(metrics))


def test_a_birth_records_the_source_and_its_metrics_as_candidates():
    sparkplug_events_record(
        events=[
            event(EventKind.BIRTH, "press", metrics=[SeenMetric("Vibration", 3, 10, "1.5", T0)])
        ]
    )
    source = SparkplugSource.objects.get(device_id="press")
    assert source.online
    metric = SparkplugMetric.objects.get(source=source)
    assert (metric.name, metric.alias, metric.datatype, metric.last_value, metric.target) == (
        "Vibration",
        3,
        10,
        "1.5",
        "",
    )
    # Seen again with a new value: one row, the value kept, the birth's alias too.
    sparkplug_events_record(
        events=[
            event(EventKind.SEEN, "press", at=5, metrics=[SeenMetric("Vibration", -1, 10, "2", T0)])
        ]
    )
    metric.refresh_from_db()
    assert (metric.last_value, metric.alias) == ("2", 3)


def test_a_node_death_takes_its_devices_assets_and_the_later_of_birth_and_death_wins():
    press, node_asset = make_asset(), make_asset()
    SparkplugSource.objects.create(group_id="plant", edge_node_id="edge1", asset=node_asset)
    SparkplugSource.objects.create(
        group_id="plant", edge_node_id="edge1", device_id="press", asset=press
    )
    asset_gateways_keep(changes=sparkplug_events_record(events=[event(EventKind.BIRTH, "press")]))
    changes = sparkplug_events_record(events=[event(EventKind.DEATH, at=10)])
    assert {asset_id for asset_id, gone, _ in changes if gone} == {press.pk, node_asset.pk}
    asset_gateways_keep(changes=changes)
    press.refresh_from_db()
    assert press.no_data_since == datetime.fromtimestamp(T0 / 1e6 + 10, tz=UTC)
    # A birth from before the death, arriving after it (another worker), changes nothing.
    assert sparkplug_events_record(events=[event(EventKind.BIRTH, "press", at=5)]) == []
    # A later birth brings the device's asset back.
    asset_gateways_keep(
        changes=sparkplug_events_record(events=[event(EventKind.BIRTH, "press", at=20)])
    )
    assert Asset.objects.get(pk=press.pk).no_data_since is None
    assert Asset.objects.get(pk=node_asset.pk).no_data_since is not None


def test_candidates_map_to_the_signal_of_the_same_name_on_their_sources_asset():
    press = make_asset()
    source = SparkplugSource.objects.create(
        group_id="plant", edge_node_id="edge1", device_id="press", asset=press
    )
    unplaced = SparkplugSource.objects.create(group_id="plant", edge_node_id="edge2")
    SparkplugMetric.objects.create(source=source, name="Vibration")
    SparkplugMetric.objects.create(source=source, name="Serial")
    SparkplugMetric.objects.create(source=unplaced, name="Vibration")
    mapped, missing = sparkplug_metrics_map_by_name(
        metrics=SparkplugMetric.objects.select_related("source")
    )
    assert mapped == 1
    assert sorted(missing) == ["plant/edge1/press Serial", "plant/edge2 Vibration"]
    metric = SparkplugMetric.objects.get(source=source, name="Vibration")
    assert (metric.target, metric.signal) == ("signal", press.signals.get(slug="vibration"))
