"""Publish a simulated plant over MQTT in the v1 wire contract.

The physics lives in `plantops.simulator.physics`; the runner reads the plant from the database,
steps one `SimulatedAsset` per asset on a fixed tick and publishes what they report.
Simulated time runs `speedup` times faster than wall time, but every published timestamp is
the real wall-clock time, because ingest refuses timestamps more than 5 minutes ahead.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import paho.mqtt.client as mqtt
from django.conf import settings
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode

from plantops.assets.models import Asset
from plantops.core.tls import mqtt_context
from plantops.simulator.physics import AssetSpec, SignalSpec, SimulatedAsset

logger = logging.getLogger(__name__)

MIN_INTERVAL_S = 0.01
# Ticks never exceed a second, so counts, summaries and stop requests are handled promptly.
MAX_TICK_S = 1.0
COUNT_EVERY_S = 10.0
SUMMARY_EVERY_S = 30.0
# paho numbers QoS-1 messages with a 16-bit id and overwrites its own queue past 65,535
# unacknowledged; stay far below that, and below what a broker outage should pile up.
MAX_UNACKED = 2000
CONNECT_TIMEOUT_S = 15.0
DRAIN_TIMEOUT_S = 15.0
# The most missed ticks whose physics one late tick makes up for.
MAX_CATCH_UP_TICKS = 10

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def rfc3339_ms(ms: int) -> str:
    """Return epoch milliseconds as RFC 3339 UTC with millisecond precision and a Z."""
    moment = _EPOCH + timedelta(milliseconds=ms)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def simulated_duration(seconds: float) -> str:
    """Return a simulated span as `2d 03:04:05`."""
    whole = int(seconds)
    days, rest = divmod(whole, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    clock = f"{hours:02d}:{minutes:02d}:{secs:02d}"
    return f"{days}d {clock}" if days else clock


class SimulationError(Exception):
    """The plant cannot be simulated as asked; the message names the option at fault."""


@dataclass(slots=True)
class SimulatedAssetLink:
    """One asset as the publisher sees it: the model, its topic prefix and its schedule."""

    path: str
    topic: str
    machine: SimulatedAsset
    # signal slug → seconds between readings, and → when the next reading is due (tick clock)
    intervals: dict[str, float]
    next_due: dict[str, float] = field(default_factory=dict)
    counts_parts: bool = False
    # Parts made, in wall-clock terms: simulated parts divided by the speedup, so that counts
    # match the wall-clock timestamps of the states and OEE's performance stays true.
    good: float = 0.0
    scrap: float = 0.0
    last_state_ms: int = 0
    last_count_ms: int = 0


class Publisher:
    """A paho MQTT v5 client that reconnects on its own and throttles on unacked QoS-1 messages."""

    def __init__(self, *, qos: int, stop: threading.Event) -> None:
        self.qos = qos
        self.stop = stop
        self.published = 0
        self.refused = 0
        self._unacked = 0
        self._room = threading.Condition()
        self._connected = threading.Event()
        self._refusal: str | None = None
        config = settings.MQTT
        self.address = f"{config.host}:{config.port}"
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"plantops-simulator-{uuid.uuid4().hex[:8]}",
            protocol=mqtt.MQTTv5,
        )
        if config.username:
            self.client.username_pw_set(config.username, config.password)
        if config.tls:
            self.client.tls_set_context(mqtt_context())
        self.client.reconnect_delay_set(min_delay=1, max_delay=30)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_publish = self._on_publish

    def connect(self) -> None:
        """Connect, retrying in the background; raise SimulationError if the broker stays away."""
        config = settings.MQTT
        self.client.connect_async(config.host, config.port, keepalive=30)
        # The network thread also reconnects after a drop, resending unacked QoS-1 messages.
        self.client.loop_start()
        deadline = time.monotonic() + CONNECT_TIMEOUT_S
        while not self._connected.wait(0.2):
            if self.stop.is_set():
                return
            if time.monotonic() < deadline:
                continue
            self.client.loop_stop()
            why = f" ({self._refusal})" if self._refusal else ""
            raise SimulationError(
                f"Could not connect to the MQTT broker at {self.address} within "
                f"{CONNECT_TIMEOUT_S:.0f} s{why}. Is it running, and is MQTT_URL right?"
            )

    def publish(self, topic: str, body: dict[str, Any]) -> None:
        """Publish one JSON message, first waiting while too many are unacknowledged."""
        payload = json.dumps(body, separators=(",", ":"))
        if self.qos:
            with self._room:
                while self._unacked >= MAX_UNACKED and not self.stop.is_set():
                    self._room.wait(0.5)
        info = self.client.publish(topic, payload, qos=self.qos)
        if info.rc in (MQTTErrorCode.MQTT_ERR_SUCCESS, MQTTErrorCode.MQTT_ERR_NO_CONN):
            # Without a connection paho keeps a QoS-1 message and sends it after reconnecting;
            # a QoS-0 message is simply lost, as QoS 0 allows.
            self.published += 1
            if self.qos:
                with self._room:
                    self._unacked += 1
        else:
            logger.warning("could not queue a message for %s: %s", topic, info.rc)

    def drain(self, timeout_s: float = DRAIN_TIMEOUT_S) -> int:
        """Wait until the broker has acknowledged every QoS-1 message; return how many were not."""
        deadline = time.monotonic() + timeout_s
        with self._room:
            while self.qos and self._unacked > 0 and time.monotonic() < deadline:
                self._room.wait(0.1)
            return max(self._unacked, 0) if self.qos else 0

    def close(self) -> None:
        """Disconnect and stop the network thread."""
        self.client.disconnect()
        self.client.loop_stop()

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            self._refusal = str(reason_code)
            logger.error("MQTT connection to %s refused: %s", self.address, reason_code)
            return
        logger.info("simulator connected to MQTT %s", self.address)
        self._connected.set()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            logger.warning("MQTT connection lost (%s); reconnecting", reason_code)

    def _on_publish(self, client, userdata, mid, reason_code, properties) -> None:
        if not self.qos:
            return
        if reason_code.is_failure:
            # The broker answered but refused the message, e.g. an ACL denies the topic.
            self.refused += 1
        with self._room:
            # An ack can land before `publish` counted its message; the count then dips to -1
            # for an instant, which the throttle and `drain` both tolerate.
            self._unacked -= 1
            self._room.notify_all()


@dataclass(frozen=True, slots=True)
class RunOutcome:
    """What the broker never confirmed once a run has drained."""

    unacked: int
    refused: int


class PlantRunner:
    """Steps every simulated asset on a fixed tick and publishes what it reports over MQTT."""

    def __init__(
        self,
        *,
        seed: int,
        speedup: float,
        interval: float | None,
        duration: float | None,
        batch: bool,
        qos: int,
        assets: str | None,
        faults: Sequence[tuple[str, str, float, float]],
        report: Callable[[str], None],
        warn: Callable[[str], None],
    ) -> None:
        self.seed = seed
        self.speedup = speedup
        self.interval = interval
        self.duration = duration
        self.batch = batch
        self.qos = qos
        self.assets = assets
        self.faults = faults
        self.report = report
        self.warn = warn

    def run(
        self,
        *,
        stop: threading.Event,
        while_publishing: AbstractContextManager[object] | None = None,
    ) -> RunOutcome:
        """Publish until `stop` is set or the duration is up; return what went unconfirmed.

        Raises SimulationError when an asset or fault asked for does not exist (before anything
        is published) or when the broker cannot be reached. `while_publishing` is entered once
        the plant is loaded and left before the final drain, so that a second Ctrl-C can still
        cut a slow drain short.
        """
        links = simulated_asset_links(seed=self.seed, interval=self.interval, only=self.assets)
        inject_faults(links=links, faults=self.faults)

        publisher = Publisher(qos=self.qos, stop=stop)
        try:
            with while_publishing or nullcontext():
                publisher.connect()
                if not stop.is_set():  # asked to stop while still connecting
                    self._run(links, publisher, stop=stop)
        finally:
            unacked = publisher.drain()
            publisher.close()
        return RunOutcome(unacked=unacked, refused=publisher.refused)

    # --- the loop ---------------------------------------------------------------------------

    def _run(
        self,
        links: list[SimulatedAssetLink],
        publisher: Publisher,
        *,
        stop: threading.Event,
    ) -> None:
        tick_s = min(
            [MAX_TICK_S, *(s for link in links for s in link.intervals.values())],
        )
        tick_s = max(tick_s, MIN_INTERVAL_S)
        self.report(
            f"Simulating {len(links)} assets on {publisher.address} (seed {self.seed}, "
            f"speedup {self.speedup:g}, tick {tick_s:g} s, QoS {publisher.qos}"
            f"{', batches' if self.batch else ''})."
        )
        sim_step_s = tick_s * self.speedup
        started = time.monotonic()
        tick_ms = time.time_ns() // 1_000_000
        for link in links:
            link.last_state_ms = tick_ms
            machine = link.machine
            self._publish_state(publisher, link, tick_ms, machine.state, machine.reason)
        next_count_s = COUNT_EVERY_S
        next_summary_s = SUMMARY_EVERY_S
        tick = 0
        warned_behind = False
        while not stop.is_set():
            tick += 1
            clock_s = tick * tick_s
            if self.duration is not None and clock_s > self.duration + 1e-9:
                break
            delay = started + clock_s - time.monotonic()
            if delay > 0 and stop.wait(delay):
                break
            # Behind schedule (a slow broker, a busy machine): run the physics of the missed
            # ticks too, so simulated time and fault growth keep pace, but publish only once.
            behind = max(int((time.monotonic() - started) / tick_s) - tick, 0)
            if behind > 2 and not warned_behind:
                warned_behind = True
                self.warn(
                    f"Falling behind at --speedup {self.speedup:g}: the physics of one tick takes "
                    "longer than the tick; simulated time may run slower than asked."
                )
            if self.duration is not None:
                behind = min(behind, int(self.duration / tick_s) - tick)
            # Catching up on everything would only fall further behind: past a few ticks,
            # let simulated time lag instead.
            steps = 1 + min(behind, MAX_CATCH_UP_TICKS)
            tick += behind
            clock_s = tick * tick_s

            previous_ms = tick_ms
            tick_ms = max(time.time_ns() // 1_000_000, previous_ms + 1)
            ts = rfc3339_ms(tick_ms)
            for link in links:
                self._tick_asset(
                    publisher,
                    link,
                    steps=steps,
                    sim_step_s=sim_step_s,
                    span_ms=(previous_ms, tick_ms),
                    clock_s=clock_s,
                    ts=ts,
                    batch=self.batch,
                )
            if clock_s >= next_count_s:
                next_count_s += COUNT_EVERY_S
                self._publish_counts(publisher, links, tick_ms)
            if clock_s >= next_summary_s:
                next_summary_s += SUMMARY_EVERY_S
                self.report(self._summary(links, publisher))
        self._publish_counts(publisher, links, max(time.time_ns() // 1_000_000, tick_ms + 1))
        self.report(self._summary(links, publisher) + " Stopped.")

    def _tick_asset(
        self,
        publisher: Publisher,
        link: SimulatedAssetLink,
        *,
        steps: int,
        sim_step_s: float,
        span_ms: tuple[int, int],
        clock_s: float,
        ts: str,
        batch: bool,
    ) -> None:
        machine = link.machine
        sim_start_s = machine.time_s
        for _ in range(steps):
            result = machine.step(sim_step_s)
            link.good += result.good / self.speedup
            link.scrap += result.scrap / self.speedup
            for change in result.state_changes:
                # Place each change where it fell within this tick's wall-clock span; keep
                # them strictly increasing, as an asset has one state per instant.
                start_ms, end_ms = span_ms
                share = (change.at_s - sim_start_s) / (sim_step_s * steps)
                at_ms = max(round(start_ms + share * (end_ms - start_ms)), link.last_state_ms + 1)
                link.last_state_ms = at_ms
                self._publish_state(publisher, link, at_ms, change.state, change.reason)

        due = [slug for slug in link.intervals if clock_s + 1e-9 >= link.next_due.get(slug, 0.0)]
        for slug in due:
            following = link.next_due.get(slug, 0.0) + link.intervals[slug]
            # After a stall, resume the rhythm from now instead of bursting to catch up.
            link.next_due[slug] = (
                following if following > clock_s else clock_s + link.intervals[slug]
            )
        if not due:
            return
        readings = result.readings
        if batch:
            publisher.publish(
                f"{link.topic}/telemetry",
                {
                    "readings": [
                        {"signal": slug, "ts": ts, "value": round(readings[slug], 3)}
                        for slug in due
                    ]
                },
            )
        else:
            for slug in due:
                publisher.publish(
                    f"{link.topic}/telemetry/{slug}",
                    {"ts": ts, "value": round(readings[slug], 3)},
                )

    @staticmethod
    def _publish_state(
        publisher: Publisher, link: SimulatedAssetLink, at_ms: int, state: str, reason: str
    ) -> None:
        body: dict[str, Any] = {"ts": rfc3339_ms(at_ms), "state": state}
        if reason:
            body["reason"] = reason
        publisher.publish(f"{link.topic}/state", body)

    @staticmethod
    def _publish_counts(publisher: Publisher, links: list[SimulatedAssetLink], now_ms: int) -> None:
        for link in links:
            good, scrap = int(link.good), int(link.scrap)
            if not link.counts_parts or good + scrap == 0:
                continue
            at_ms = max(now_ms, link.last_count_ms + 1)
            link.last_count_ms = at_ms
            publisher.publish(
                f"{link.topic}/count", {"ts": rfc3339_ms(at_ms), "good": good, "scrap": scrap}
            )
            # The fractions carry over to the next count.
            link.good -= good
            link.scrap -= scrap

    @staticmethod
    def _summary(links: list[SimulatedAssetLink], publisher: Publisher) -> str:
        simulated = max((link.machine.time_s for link in links), default=0.0)
        faults = [
            f"{link.machine.spec.slug} bearing {link.machine.fault_severity:.2f}"
            + (" FAILED" if link.machine.failed else "")
            for link in links
            if link.machine.bearing_fault is not None
        ]
        running = sum(1 for link in links if link.machine.state == "running")
        return (
            f"{publisher.published} messages published, {simulated_duration(simulated)} "
            f"simulated, {running}/{len(links)} running"
            + (f"; faults: {', '.join(faults)}" if faults else "")
            + "."
        )


# --- reading the plant ----------------------------------------------------------------------


def simulated_asset_links(
    *, seed: int, interval: float | None, only: str | None
) -> list[SimulatedAssetLink]:
    """Return one freshly seeded link per asset to simulate, in path order."""
    assets = list(
        Asset.objects.select_related("line__area__site")
        .prefetch_related("signals")
        .order_by("line__area__site__slug", "line__area__slug", "line__slug", "slug")
    )
    if not assets:
        raise SimulationError("There are no assets to simulate; run `manage.py seed_demo_plant`.")
    if only:
        names = [name.strip() for name in only.split(",") if name.strip()]
        wanted = [_find_asset(assets, name, option="--assets") for name in names]
        if not wanted:
            raise SimulationError("--assets names no asset.")
        assets = list(dict.fromkeys(wanted))
    links = []
    for asset in assets:
        path = asset.topic_path
        signals = list(asset.signals.all())
        spec = AssetSpec(
            slug=asset.slug,
            ideal_cycle_time_s=asset.ideal_cycle_time_s,
            signals=tuple(
                SignalSpec(s.slug, expected_min=s.expected_min, expected_max=s.expected_max)
                for s in signals
            ),
        )
        # A per-asset stream seeded by the asset's path: leaving some assets out with
        # --assets does not change what the others do.
        machine = SimulatedAsset(spec, random.Random(f"{seed}:{path}"))
        links.append(
            SimulatedAssetLink(
                path=path,
                topic=f"{settings.MQTT_TOPIC_ROOT}/{path}",
                machine=machine,
                intervals={s.slug: interval or s.sampling_interval_s for s in signals},
                counts_parts=bool(asset.ideal_cycle_time_s),
            )
        )
    return links


def inject_faults(
    *, links: list[SimulatedAssetLink], faults: Sequence[tuple[str, str, float, float]]
) -> None:
    """Start each `(asset, mode, days, after_days)` bearing fault on its link's machine."""
    by_asset = {link.path: link for link in links}
    all_assets = list(Asset.objects.select_related("line__area__site"))
    for name, _mode, days, after_days in faults:
        asset = _find_asset(all_assets, name, option="--fault")
        link = by_asset.get(asset.topic_path)
        if link is None:
            raise SimulationError(f"--fault: asset {name!r} is not among --assets.")
        link.machine.inject_bearing_fault(days, after_days=after_days)


def _find_asset(assets: list[Asset], name: str, *, option: str) -> Asset:
    """Return the asset named by slug or by `site/area/line/asset` path; SimulationError if
    none or several match."""
    matches = [a for a in assets if name in (a.slug, a.topic_path)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise SimulationError(
            f"{option}: no asset {name!r}; give an asset slug or a site/area/line/asset path."
        )
    paths = ", ".join(a.topic_path for a in matches)
    raise SimulationError(f"{option}: asset slug {name!r} is ambiguous ({paths}); give the path.")
