"""`manage.py simulate_plant` against the real Mosquitto: what it publishes must be the v1 contract."""

from __future__ import annotations

import io
import signal
import sys
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator

import paho.mqtt.client as mqtt
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from paho.mqtt.enums import CallbackAPIVersion

from plantops.assets.models import Asset, Site
from plantops.core.time import now_us
from plantops.demo.services import demo_plant_seed
from plantops.telemetry.payloads import Limits, ParseResult, parse_message
from plantops.telemetry.selectors import topic_registry
from tests.conftest import ROOT, wait_for

pytestmark = pytest.mark.services


class Listener:
    """A paho subscriber that records every message under one site's topics."""

    def __init__(self, site_slug: str) -> None:
        self.messages: list[tuple[str, bytes]] = []
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        self.client.on_connect = lambda client, *_: client.subscribe(
            f"plantops/{site_slug}/#", qos=1
        )
        self.client.on_subscribe = lambda *_: self._subscribed.set()
        self.client.on_message = self._on_message
        self.client.connect(settings.MQTT.host, settings.MQTT.port)
        self.client.loop_start()
        assert self._subscribed.wait(10), "no SUBACK from the broker"

    def _on_message(self, client, userdata, message: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.messages.append((message.topic, message.payload))

    def received(self) -> list[tuple[str, bytes]]:
        with self._lock:
            return list(self.messages)

    def wait_until_quiet(self, quiet_s: float = 0.5, timeout_s: float = 10.0) -> None:
        """Return once no message has arrived for `quiet_s`: delivery has caught up."""
        deadline = time.monotonic() + timeout_s
        seen = -1
        while time.monotonic() < deadline:
            if len(self.received()) == seen:
                return
            seen = len(self.received())
            time.sleep(quiet_s)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def seed_plant() -> Site:
    """Return the demo plant under a site slug of its own, so other tests' traffic on the
    shared broker cannot mix into this test's subscription."""
    site = demo_plant_seed()
    site.slug = f"riverside-{uuid.uuid4().hex[:8]}"
    site.save(update_fields=["slug"])
    return site


@pytest.fixture
def site() -> Site:
    return seed_plant()


@pytest.fixture
def listener(site) -> Iterator[Listener]:
    listening = Listener(site.slug)
    yield listening
    listening.close()


def parse_all(messages: list[tuple[str, bytes]]) -> list[tuple[str, ParseResult]]:
    registry = topic_registry()
    limits = Limits(now_us=now_us())
    return [
        (topic, parse_message(topic, payload, registry=registry, limits=limits))
        for topic, payload in messages
    ]


def asset_path(topic: str) -> str:
    return "/".join(topic.split("/")[1:5])


@pytest.mark.django_db
def test_it_publishes_every_asset_in_the_wire_contract_with_wall_clock_timestamps(site, listener):
    started_us = now_us()
    out = io.StringIO()
    call_command("simulate_plant", duration=6, interval=0.5, speedup=60, seed=1, stdout=out)
    listener.wait_until_quiet()
    finished_us = now_us()

    parsed = parse_all(listener.received())
    rejected = [(topic, result.rejections) for topic, result in parsed if result.rejections]
    assert rejected == []

    assets = list(Asset.objects.filter(line__area__site=site).prefetch_related("signals"))
    assert len(assets) == 20
    signals_reporting = {
        signal_id for _topic, result in parsed for signal_id, _ts, _value in result.readings
    }
    every_signal = {signal.pk for asset in assets for signal in asset.signals.all()}
    assert signals_reporting == every_signal

    initial_states = {asset_id for _topic, r in parsed for asset_id, *_rest in r.states}
    assert initial_states == {asset.pk for asset in assets}

    counting = {asset.pk for asset in assets if asset.ideal_cycle_time_s}
    counted = {asset_id for _topic, r in parsed for asset_id, *_rest in r.counts}
    assert counted
    assert counted <= counting
    # Parts are counted in wall-clock terms too, never faster than the ideal cycle time, so
    # OEE's performance is true in the demo: at most 100 %.
    cycle_s = {asset.pk: asset.ideal_cycle_time_s for asset in assets if asset.ideal_cycle_time_s}
    made: dict[int, int] = defaultdict(int)
    for _topic, r in parsed:
        for asset_id, _ts, good, scrap in r.counts:
            made[asset_id] += good + scrap
    wall_s = (finished_us - started_us) / 1e6
    assert all(parts <= wall_s / cycle_s[asset_id] + 1 for asset_id, parts in made.items())

    # Speedup compresses the physics, never the clock: every timestamp is real time.
    stamps = [ts for _t, r in parsed for _id, ts, *_rest in r.readings + r.states + r.counts]
    assert all(started_us - 1_000_000 <= ts <= finished_us for ts in stamps)

    # Storage keeps one reading per (signal, timestamp), so a signal's stamps must all differ.
    by_signal: dict[int, list[int]] = defaultdict(list)
    for _topic, result in parsed:
        for signal_id, ts, _value in result.readings:
            by_signal[signal_id].append(ts)
    assert all(len(set(stamps)) == len(stamps) for stamps in by_signal.values())
    # 6 s at one reading every 0.5 s
    assert all(11 <= len(stamps) <= 13 for stamps in by_signal.values())

    assert "messages published" in out.getvalue()


@pytest.mark.django_db
def test_it_publishes_one_batch_per_asset_and_tick_when_asked(site, listener):
    call_command(
        "simulate_plant",
        duration=1.5,
        interval=0.5,
        speedup=60,
        seed=2,
        batch=True,
        assets="press-1,vacuum-pump",
        stdout=io.StringIO(),
    )
    listener.wait_until_quiet()

    parsed = parse_all(listener.received())
    assert [r.rejections for _topic, r in parsed if r.rejections] == []
    telemetry = [(topic, r) for topic, r in parsed if topic.endswith("/telemetry")]
    assert {asset_path(topic).rsplit("/", 1)[1] for topic, _r in telemetry} == {
        "press-1",
        "vacuum-pump",
    }
    assert all(len(r.readings) == 4 for _topic, r in telemetry)
    assert not [topic for topic, _r in parsed if "/telemetry/" in topic]


@pytest.mark.django_db
def test_it_drives_a_faulted_bearing_to_failure_in_compressed_time(site, listener):
    # 0.02 days is 28.8 simulated minutes: about 1.7 s at a speedup of 1,000.
    call_command(
        "simulate_plant",
        "--fault=press-1:bearing:0.02",
        duration=2.5,
        interval=0.25,
        speedup=1000,
        seed=3,
        assets="press-1",
        stdout=io.StringIO(),
    )
    listener.wait_until_quiet()

    parsed = parse_all(listener.received())
    assert [r.rejections for _topic, r in parsed if r.rejections] == []
    states = [state[2:] for _topic, r in parsed for state in r.states]
    assert states[-1] == ("down", "bearing_failure")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ("no-such-asset:bearing:2", "no asset 'no-such-asset'"),
        ("press-1:gearbox:2", "unknown fault mode 'gearbox'"),
        ("press-1:bearing:0", "days must be a positive number"),
        ("press-1:bearing:-1", "days must be a positive number"),
        ("press-1", "expected <asset-slug>:bearing:<days>"),
    ],
)
def test_it_refuses_a_bad_fault_before_publishing_anything(site, fault, message):
    with pytest.raises(CommandError, match=message):
        call_command("simulate_plant", f"--fault={fault}", duration=1, stdout=io.StringIO())


@pytest.mark.django_db
def test_it_refuses_a_fault_on_an_asset_left_out_of_the_run(site):
    with pytest.raises(CommandError, match="not among --assets"):
        call_command(
            "simulate_plant",
            "--fault=press-1:bearing:2",
            assets="press-2",
            duration=1,
            stdout=io.StringIO(),
        )


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_it_stops_cleanly_on_a_signal(processes, signum):
    site = seed_plant()
    listening = Listener(site.slug)
    try:
        simulator = processes.start(
            "simulate",
            sys.executable,
            str(ROOT / "manage.py"),
            "simulate_plant",
            "--interval=0.2",
            "--assets=press-1",
        )
        wait_for(lambda: len(listening.received()) >= 3, what="the simulator's first messages")
        simulator.send_signal(signum)

        assert simulator.wait(timeout=15) == 0
        assert "Stopped." in processes.log("simulate")
    finally:
        listening.close()
