"""Alert latency under load: MQTT publish of a limit crossing → alert event on a logged-in socket.

Usage: python bench/alert_latency.py [--probes 250] [--rate 5000] [--clients 500] [--trials 20]
                                     [--batch-age S] [--background-rules 10] [--pool prefork|solo]

With 5,000 readings/s of background load flowing through the real stack at the shipped
settings, a limit-crossing reading reaches a logged-in browser's alert socket within p95 ≤ 100
ms of its MQTT publish, at ≤ 40 µs of CPU per stored reading in the same run; and one alert
reaches 500 sockets on one web process within p95 ≤ 500 ms.

Runs on the stack of bench/ingest.py (its `Stack`): a fresh PostgreSQL database of its own
(plantops_bench_alerts, dropped at the end), a Mosquitto started with scripts/mosquitto.conf on
a free port, one ingest process and one Celery worker (prefork, 2 processes) on a queue and share
group of their own, plus one web process: `daphne plantops.asgi:application` on a free port,
with the same environment (Redis channel layer under CHANNELS_PREFIX).

The plant: the bench asset of bench/ingest.py (100 signals) and a probe asset with 10 signals.
A `high` rule (limit 500, deadband 1, no on/off delay) watches each probe signal and the first
--background-rules bench signals (default 10; 100 puts a rule on every signal), so every
background batch is judged against rules too. Tablets log in with real Django sessions (operators,
and sessions written through Django's session store: what the login view stores) and open
`ws/alerts/?after=<newest event id>` with that cookie and an allowed Origin, through daphne's
origin check and the auth middleware, like a tablet that already shows the inbox.

  background  a publisher process sends RATE readings/s for the whole run, paced to the clock:
              RATE/100 asset-batch messages per second of 100 readings (one per bench signal,
              current timestamps, values 0-199, never above a limit), QoS 1. The rate achieved
              is measured from the rows stored in telemetry_reading during the measurement.
  latency     a probe process publishes, 5 times a second, a reading of 500 + 1 + seq on the
              next probe signal (QoS 1, its time.time_ns() taken just before the publish), and
              half a period later a return to 0 on the same signal. Each raise becomes a
              "raised" AlertEvent whose message names the value; one logged-in socket (asyncio
              + wsproto, its own process) stamps time.time_ns() as the frame's bytes are read.
              All processes share the machine's clock. Latency = receipt - publish, per probe.
              The worker's own figures (plantops/telemetry/metrics.py: batches, their size, and
              first message at ingest → stored and pushed) are printed for the same window.
  fan-out     500 logged-in sockets on the one daphne process (one asyncio client process,
              each socket its own user and session); TRIALS times, one raise is published
              through the pipeline exactly like a probe and each socket stamps its receipt. Per
              trial: publish → the last of the 500 received ("all received", the target),
              publish → each socket, and first → last received (the web process's spread). The
              background load keeps running, so the pipeline's own latency is included.

Baselines measured in the same run, on the same machine and under the same load:
  bare MQTT       a paho subscriber on the probe topics receives the very same probe messages
                  (QoS 1, plain subscription on the same broker): publish → receipt, the floor
                  under which no pipeline can deliver. Ratio: alert p95 / bare p95.
  channel layer   the Redis channel layer alone (channels_redis, same Redis, same config, no
                  WebSocket, no consumer): one process with 500 channels in one group, like one
                  daphne process; group_send → all 500 received, TRIALS times. Ratio: the
                  fan-out spread's p95 / this p95 (what daphne and the consumers add).

The ingest hands a batch on when it is INGEST_BATCH_MAX_AGE_S old (0.5 s shipped), when it is
full, or at once when a reading crosses the limit of a rule on its signal (`telemetry.urgency`):
an alert does not wait for its batch to fill, and the background's batches stay large. Before
that lane existed, latency and CPU were one trade-off through the batch age: on commit 97f458b,
p95 129 ms at 0.05 s for 226 µs of CPU per reading, 576 ms at 0.5 s for 46 µs (2 cores). This
load is hard on the lane: 5 probe raises a second (a real plant's alarm rate is a few an hour)
each make a batch of their own, so batches are about 4 a second instead of 2. --batch-age measures another age;
--pool solo a worker without the prefork pool's hand-over to its child processes.

The last line is machine-readable. The exit status is 1 if any alert never arrived (at the
probe socket, or at any of the fan-out sockets; "recorded in the database" then tells a lost
push from a raise that was never judged. This benchmark is how a lost excursion was found: two
batches of one signal stored at once by the prefork worker could commit out of order); the
targets are reported (PASS/FAIL) but do not decide the exit status.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import resource
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import paho.mqtt.client as mqtt
import redis
from paho.mqtt.enums import CallbackAPIVersion
from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    AcceptConnection,
    CloseConnection,
    Ping,
    RejectConnection,
    Request,
    TextMessage,
)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ingest import (  # noqa: E402
    ASSET,
    ASSET_PATH,
    CLK_TCK,
    PYTHON,
    SIGNALS,
    Stack,
    cpu_ticks,
    free_port,
    say,
    signal_slug,
    wait_for_pipeline,
    wait_until,
)

BENCH_DB = "plantops_bench_alerts"
DAPHNE = str(Path(sys.executable).parent / "daphne")
PROBE_ASSET = "bench-probe"
PROBE_PATH = f"{ASSET_PATH.rsplit('/', 1)[0]}/{PROBE_ASSET}"
PROBE_SIGNALS = 10
LIMIT = 500.0
DEADBAND = 1.0
# Bench signals (of 100) with a rule, besides the probe signals: every background batch is
# evaluated against them. --background-rules 100 puts a rule on every signal (see the docstring).
BACKGROUND_RULES = 10
PROBES_PER_S = 5
WARMUP_S = 5.0  # background load before anything is measured
ARRIVAL_TIMEOUT_S = 10.0  # an alert not at the socket this long after the last publish is lost
TARGET_P95_MS = 100.0
TARGET_CPU_US = 40.0  # CPU per stored reading, in the same run as the latency
TARGET_FANOUT_P95_MS = 500.0


def probe_value(seq: int) -> float:
    return LIMIT + 1 + seq


def probe_signal(seq: int) -> str:
    return f"p{seq % PROBE_SIGNALS:02d}"


def probe_message(seq: int) -> str:
    """The message the rule renders for probe `seq` (template "{signal} {value:.0f}")."""
    return f"{probe_signal(seq).upper()} {probe_value(seq):.0f}"


def percentile(samples: list[float], q: float) -> float:
    """The q-th percentile (0-100), linear between closest ranks."""
    ordered = sorted(samples)
    if len(ordered) == 1:
        return ordered[0]
    pos = (len(ordered) - 1) * q / 100
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def mqtt_client(name: str) -> mqtt.Client:
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=f"bench-{name}-{uuid.uuid4().hex[:8]}",
        protocol=mqtt.MQTTv5,
    )
    client.max_inflight_messages_set(1_000)
    client.max_queued_messages_set(0)
    return client


# --- the plant, the rules and the logged-in users --------------------------------------------

SETUP_CODE = """
import json
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, User
from django.contrib.sessions.backends.db import SessionStore
from plantops.core.roles import OPERATORS
from plantops.alerts.models import AlertRule
from plantops.assets.models import Asset, Line, Signal

bench = Asset.objects.get(slug={asset!r})
probe = Asset.objects.create(line=bench.line, slug={probe!r}, name="Bench probe",
                             asset_type="motor")
Signal.objects.bulk_create([Signal(asset=probe, slug=f"p{{i:02d}}", name=f"P{{i:02d}}",
                            unit="mm/s", sampling_interval_s=1.0) for i in range({probes})])
AlertRule.objects.bulk_create([
    AlertRule(name=f"{{s.asset.slug}} {{s.slug}} high", kind="high", signal=s, limit={limit},
              deadband={deadband}, priority="high", message_template="{{signal}} {{value:.0f}}")
    for s in Signal.objects.select_related("asset")
    if s.asset_id == probe.pk or s.slug < "s{background_rules:03d}"
])
users = User.objects.bulk_create([
    User(username=f"tablet{{i:03d}}", password=make_password(None)) for i in range({users})
])
Group.objects.get(name=OPERATORS).user_set.add(*users)  # the alert socket needs a role
keys = []
for user in users:
    # What django.contrib.auth.login() stores for a password login.
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    keys.append(session.session_key)
print("SESSIONS " + json.dumps(keys))
"""


def setup_plant(stack: Stack, users: int, background_rules: int) -> list[str]:
    """Probe asset, high rules, and `users` logged-in sessions (their keys).

    A rule on each probe signal and on the first `background_rules` bench signals.
    """
    code = SETUP_CODE.format(
        background_rules=background_rules,
        asset=ASSET,
        probe=PROBE_ASSET,
        probes=PROBE_SIGNALS,
        limit=LIMIT,
        deadband=DEADBAND,
        users=users,
    )
    done = subprocess.run(
        [PYTHON, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=stack.env,
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise RuntimeError(f"setting up the plant failed:\n{done.stderr[-3000:]}")
    out = done.stdout
    line = next(line for line in out.splitlines() if line.startswith("SESSIONS "))
    return json.loads(line.removeprefix("SESSIONS "))


def start_web(stack: Stack) -> int:
    port = free_port()
    stack.start("daphne", DAPHNE, "-b", "127.0.0.1", "-p", str(port), "plantops.asgi:application")

    def listening() -> bool:
        stack.check_alive()
        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", port)) == 0

    wait_until(listening, timeout=30, what="daphne to listen")
    return port


# --- WebSocket client (asyncio + wsproto) ------------------------------------------------------


class AlertSocket:
    """One logged-in `ws/alerts/` socket; `messages()` yields (receipt time_ns, JSON)."""

    def __init__(self, port: int, session_key: str, after: int) -> None:
        self.port, self.session_key, self.after = port, session_key, after
        self.ws = WSConnection(ConnectionType.CLIENT)
        self.text: list[str] = []

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        origin = f"http://127.0.0.1:{self.port}"
        request = Request(
            host=f"127.0.0.1:{self.port}",
            target=f"/ws/alerts/?after={self.after}",
            extra_headers=[
                (b"origin", origin.encode()),
                (b"cookie", f"sessionid={self.session_key}".encode()),
            ],
        )
        self.writer.write(self.ws.send(request))
        await self.writer.drain()

    async def messages(self):
        while True:
            data = await self.reader.read(65536)
            received = time.time_ns()
            if not data:
                raise ConnectionError("the web process closed the socket")
            self.ws.receive_data(data)
            for event in self.ws.events():
                if isinstance(event, AcceptConnection):
                    continue
                if isinstance(event, RejectConnection):
                    raise ConnectionError(f"handshake refused: HTTP {event.status_code}")
                if isinstance(event, CloseConnection):
                    raise ConnectionError(f"socket closed by the server: {event.code}")
                if isinstance(event, Ping):
                    self.writer.write(self.ws.send(event.response()))
                elif isinstance(event, TextMessage):
                    self.text.append(event.data)
                    if event.message_finished:
                        body, self.text = "".join(self.text), []
                        yield received, json.loads(body)

    async def until_caught_up(self) -> None:
        async for _, message in self.messages():
            if message["type"] == "alert.caught_up":
                return

    def close(self) -> None:
        self.writer.close()


def raise_times(received: list[tuple[int, dict]]) -> dict[str, int]:
    """Message of each "raised" event → its first receipt time."""
    out: dict[str, int] = {}
    for t, message in received:
        if message.get("type") == "alert.event" and message["event"]["kind"] == "raised":
            out.setdefault(message["event"]["message"], t)
    return out


async def _sockets(port: int, keys: list[str], after: int, ready, stop, result) -> None:
    sockets = [AlertSocket(port, key, after) for key in keys]
    received: list[list[tuple[int, dict]]] = [[] for _ in sockets]
    caught_up = [asyncio.Event() for _ in sockets]

    async def listen(i: int) -> None:
        # Read from the start: daphne closes a socket whose pings go unanswered.
        async for t, message in sockets[i].messages():
            if message["type"] == "alert.caught_up":
                caught_up[i].set()
            received[i].append((t, message))

    # Open in waves, as tablets coming on shift would, not 500 handshakes at once.
    tasks = []
    for start in range(0, len(sockets), 50):
        wave = range(start, min(start + 50, len(sockets)))
        for i in wave:
            await sockets[i].open()
            tasks.append(asyncio.create_task(listen(i)))
        deadline = time.monotonic() + 120
        while not all(caught_up[i].is_set() for i in wave):
            await asyncio.sleep(0.02)
            for task in tasks:
                if task.done():
                    raise task.exception() or ConnectionError("a socket stopped reading")
            if time.monotonic() > deadline:
                raise TimeoutError("sockets not caught up within 120 s")
    ready.set()
    while not stop.is_set():
        await asyncio.sleep(0.1)
        for task in tasks:
            if task.done() and task.exception() is not None:
                raise task.exception()
    for task in tasks:
        task.cancel()
    for s in sockets:
        s.close()
    result.put(("received", [raise_times(r) for r in received]))


def sockets_main(port: int, keys: list[str], after: int, ready, stop, result) -> None:
    """Keep len(keys) logged-in alert sockets open; report each one's raise receipts at stop.

    Like a tablet already showing the inbox, each socket asks for the events after `after`.
    """
    try:
        asyncio.run(_sockets(port, keys, after, ready, stop, result))
    except BaseException as exc:
        result.put(("error", f"{type(exc).__name__}: {exc}"))


# --- publishers and the bare subscriber (separate processes) ------------------------------------


def background_main(host: str, port: int, rate: int, stop, result) -> None:
    """RATE readings/s as asset batches of 100, paced to the clock, until `stop` is set."""
    client = mqtt_client("background")
    client.connect(host, port)
    client.loop_start()
    per_s = rate / SIGNALS
    topic = f"plantops/{ASSET_PATH}/telemetry"
    start, sent, late = time.time(), 0, 0.0
    if not rate:
        stop.wait()  # --rate 0: no background load, for comparison
    while not stop.is_set():
        due = start + sent / per_s
        wait = due - time.time()
        if wait > 0:
            time.sleep(wait)
        else:
            late = max(late, -wait)
        ts = round(due, 3)  # 1/per_s apart per signal: (signal, ts) never repeats
        body = {
            "readings": [
                {"signal": signal_slug(i), "ts": ts, "value": (sent + i) % 200}
                for i in range(SIGNALS)
            ]
        }
        client.publish(topic, json.dumps(body).encode(), qos=1)
        sent += 1
    end = time.time()
    client.disconnect()
    client.loop_stop()
    result.put(("background", sent * SIGNALS, start, end, late))


def publish_probe(client: mqtt.Client, seq: int) -> int:
    """Publish probe `seq`'s raise; return the time_ns taken just before the publish."""
    topic = f"plantops/{PROBE_PATH}/telemetry/{probe_signal(seq)}"
    body = json.dumps({"ts": round(time.time(), 3), "value": probe_value(seq)}).encode()
    sent = time.time_ns()
    client.publish(topic, body, qos=1)
    return sent


def publish_normal(client: mqtt.Client, seq: int) -> None:
    topic = f"plantops/{PROBE_PATH}/telemetry/{probe_signal(seq)}"
    body = json.dumps({"ts": round(time.time(), 3), "value": 0.0}).encode()
    client.publish(topic, body, qos=1)


def probes_main(host: str, port: int, first: int, n: int, per_s: float, result) -> None:
    """N probes, `per_s` a second: raise, then half a period later back to normal."""
    client = mqtt_client("probe")
    client.connect(host, port)
    client.loop_start()
    sent: dict[int, int] = {}
    period = 1 / per_s
    start = time.monotonic()
    for k in range(n):
        seq = first + k
        time.sleep(max(0.0, start + k * period - time.monotonic()))
        sent[seq] = publish_probe(client, seq)
        time.sleep(max(0.0, start + (k + 0.5) * period - time.monotonic()))
        publish_normal(client, seq)
    time.sleep(0.5)  # let the last QoS-1 handshakes finish
    client.disconnect()
    client.loop_stop()
    result.put(("sent", sent))


def bare_subscriber_main(host: str, port: int, ready, stop, result) -> None:
    """Plain paho subscriber on the probe topics: publish → receipt of the same messages."""
    got: dict[int, int] = {}

    def on_message(client, userdata, msg) -> None:
        t = time.time_ns()
        value = json.loads(msg.payload)["value"]
        if value > LIMIT:
            got.setdefault(round(value - LIMIT - 1), t)

    client = mqtt_client("bare-sub")
    client.on_message = on_message
    client.on_subscribe = lambda *_: ready.set()
    client.on_connect = lambda c, *_: c.subscribe(f"plantops/{PROBE_PATH}/telemetry/+", qos=1)
    client.connect(host, port)
    client.loop_start()
    stop.wait()
    client.loop_stop()
    client.disconnect()
    result.put(("bare", got))


def layer_baseline_main(n: int, trials: int, result) -> None:
    """The Redis channel layer alone: group_send → all N channels of one process received."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "plantops.settings")
    import django

    django.setup()
    from channels.layers import get_channel_layer

    async def run() -> list[float]:
        layer = get_channel_layer()
        group = f"bench-baseline-{uuid.uuid4().hex[:8]}"
        channels = [await layer.new_channel() for _ in range(n)]
        for name in channels:
            await layer.group_add(group, name)
        times: list[float] = []
        for trial in range(trials):
            start = time.perf_counter()
            receives = [asyncio.create_task(layer.receive(name)) for name in channels]
            await asyncio.sleep(0)
            await layer.group_send(group, {"type": "alert.event", "trial": trial})
            done = await asyncio.wait_for(asyncio.gather(*receives), ARRIVAL_TIMEOUT_S)
            if any(m["trial"] != trial for m in done):
                raise RuntimeError("channel layer baseline: a message of another trial")
            times.append((time.perf_counter() - start) * 1000)
            await asyncio.sleep(0.2)
        for name in channels:
            await layer.group_discard(group, name)
        return times

    try:
        result.put(("layer", asyncio.run(run())))
    except BaseException as exc:
        result.put(("error", f"{type(exc).__name__}: {exc}"))


def _child(target, *args) -> None:
    # Ctrl-C reaches the whole process group: only the parent acts on it, and ends the children.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    target(*args)


def spawn(target, *args) -> mp.Process:
    proc = mp.Process(target=_child, args=(target, *args), daemon=True)
    proc.start()
    return proc


def outcome(queue, what: str, timeout: float = 120):
    item = queue.get(timeout=timeout)
    if item[0] == "error":
        raise RuntimeError(f"{what}: {item[1]}")
    return item[1:]


# --- the measurements ---------------------------------------------------------------------------


def stored_readings(stack: Stack) -> tuple[float, int]:
    with stack.connect() as conn:
        (count,) = conn.execute("SELECT count(*) FROM telemetry_reading").fetchone()
    return time.time(), count


def worker_figures(stack: Stack) -> dict[str, float]:
    """The workers' totals in Redis (plantops/telemetry/metrics.py), under the stack's queue."""
    client = redis.Redis.from_url(stack.env.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    try:
        raw = client.hgetall(f"{stack.env['CELERY_QUEUE']}:metrics:worker")
    finally:
        client.close()
    return {k.decode(): float(v) for k, v in raw.items()}


def describe_batches(before: dict[str, float], after: dict[str, float]) -> str:
    def diff(key: str) -> float:
        return after.get(key, 0.0) - before.get(key, 0.0)

    batches, count = diff("batches"), diff("latency_count")
    if not batches or not count:
        return "no batches"
    within = {b: diff(f"latency_le:{b}") / count for b in (0.05, 0.1, 0.25)}
    return (
        f"{batches:,.0f} batches of {diff('readings_stored') / batches:,.0f} readings on average;"
        f" first message at ingest → stored and pushed: mean {diff('latency_sum') / count * 1000:.1f}"
        f" ms, ≤ 50 ms {within[0.05]:.0%}, ≤ 100 ms {within[0.1]:.0%}, ≤ 250 ms {within[0.25]:.0%}"
    )


def latency_phase(stack: Stack, web_port: int, key: str, probes: int) -> dict:
    """Probes at PROBES_PER_S to one socket, with the bare subscriber listening alongside."""
    ws_ready, ws_stop, ws_result = mp.Event(), mp.Event(), mp.Queue()
    ws = spawn(sockets_main, web_port, [key], newest_event(stack), ws_ready, ws_stop, ws_result)
    bare_ready, bare_stop, bare_result = mp.Event(), mp.Event(), mp.Queue()
    bare = spawn(bare_subscriber_main, "127.0.0.1", stack.port, bare_ready, bare_stop, bare_result)
    if not ws_ready.wait(30):
        raise RuntimeError(f"probe socket did not open: {ws_result.get(timeout=1)}")
    if not bare_ready.wait(10):
        raise RuntimeError("the bare subscriber did not subscribe")
    sent_q = mp.Queue()
    pub = spawn(probes_main, "127.0.0.1", stack.port, 0, probes, PROBES_PER_S, sent_q)
    (sent,) = outcome(sent_q, "probe publisher", timeout=probes / PROBES_PER_S + 60)
    pub.join(10)
    time.sleep(ARRIVAL_TIMEOUT_S)  # what has not arrived by now counts as lost
    ws_stop.set()
    bare_stop.set()
    (per_socket,) = outcome(ws_result, "probe socket")
    (bare_got,) = outcome(bare_result, "bare subscriber")
    ws.join(10)
    bare.join(10)
    received = per_socket[0]
    latency, bare_latency, lost, bare_lost = [], [], [], 0
    for seq, t_sent in sent.items():
        t = received.get(probe_message(seq))
        if t is None:
            lost.append(seq)
        else:
            latency.append((t - t_sent) / 1e6)
        if seq in bare_got:
            bare_latency.append((bare_got[seq] - t_sent) / 1e6)
        else:
            bare_lost += 1
    return {
        "latency": latency,
        "bare": bare_latency,
        "lost": lost,
        "bare_lost": bare_lost,
        "lost_recorded": recorded_raises(stack, lost),
    }


def newest_event(stack: Stack) -> int:
    with stack.connect() as conn:
        (newest,) = conn.execute("SELECT coalesce(max(id), 0) FROM alerts_alertevent").fetchone()
    return newest


def recorded_raises(stack: Stack, seqs: list[int]) -> int:
    """How many of these probes have a "raised" event in the database (so only the push is lost)."""
    if not seqs:
        return 0
    with stack.connect() as conn:
        (count,) = conn.execute(
            "SELECT count(DISTINCT message) FROM alerts_alertevent"
            " WHERE kind = 'raised' AND message = ANY(%s)",
            [[probe_message(seq) for seq in seqs]],
        ).fetchone()
    return count


def fanout_phase(stack: Stack, web_port: int, keys: list[str], trials: int, first: int) -> dict:
    ready, stop, result = mp.Event(), mp.Event(), mp.Queue()
    clients = spawn(sockets_main, web_port, keys, newest_event(stack), ready, stop, result)
    opened = time.monotonic()
    while not ready.wait(1):
        if not clients.is_alive() or time.monotonic() - opened > 180:
            stop.set()
            raise RuntimeError(f"fan-out sockets did not open: {outcome(result, 'sockets', 5)}")
    say(f"  {len(keys)} sockets open and caught up in {time.monotonic() - opened:.1f} s")
    client = mqtt_client("fanout")
    client.connect("127.0.0.1", stack.port)
    client.loop_start()
    sent: dict[int, int] = {}
    for k in range(trials):
        seq = first + k
        sent[seq] = publish_probe(client, seq)
        time.sleep(0.5)
        publish_normal(client, seq)
        time.sleep(0.5)
    time.sleep(ARRIVAL_TIMEOUT_S)  # what has not arrived by now counts as lost
    client.loop_stop()
    client.disconnect()
    stop.set()
    (per_socket,) = outcome(result, "fan-out sockets")
    clients.join(30)
    all_ms, spread_ms, each_ms, lost, lost_trials = [], [], [], 0, []
    for seq, t_sent in sent.items():
        times = [r.get(probe_message(seq)) for r in per_socket]
        arrived = [t for t in times if t is not None]
        lost += len(times) - len(arrived)
        if len(arrived) < len(times):
            lost_trials.append(seq)
        each_ms.extend((t - t_sent) / 1e6 for t in arrived)
        if len(arrived) == len(times):
            all_ms.append((max(arrived) - t_sent) / 1e6)
            spread_ms.append((max(arrived) - min(arrived)) / 1e6)
    return {
        "all": all_ms,
        "spread": spread_ms,
        "each": each_ms,
        "lost": lost,
        "lost_trials": len(lost_trials),
        "lost_recorded": recorded_raises(stack, lost_trials),
    }


def describe_cpu(
    before: dict[str, int],
    after: dict[str, int],
    roots: dict[str, int],
    seconds: float,
    stored: int,
) -> tuple[str, float]:
    """Cores used by each process tree (and all of PostgreSQL), and µs of CPU per stored
    reading: as text, and the µs."""
    names = {str(pid): name for name, pid in roots.items()} | {"postgres": "postgres"}
    used = {names[key]: (after[key] - before[key]) / CLK_TCK for key in after if key in names}
    total = sum(used.values())
    parts = ", ".join(f"{name} {s / seconds:.2f}" for name, s in used.items())
    per_reading_us = total / max(stored, 1) * 1e6
    return (
        f"{parts} cores over {seconds:.0f} s; {per_reading_us:.0f} µs per stored"
        f" reading in all ({stored:,} stored)"
    ), per_reading_us


def worker_problems(stack: Stack) -> str:
    """Errors and retries the worker logged (a retried batch is judged after newer readings)."""
    log = stack.workdir / "worker.log"
    text = log.read_text(errors="replace") if log.exists() else ""
    counts = {
        "errors": text.count("ERROR"),
        "retries": text.count("Retry in"),
        "tracebacks": text.count("Traceback"),
    }
    return ", ".join(f"{n} {what}" for what, n in counts.items() if n)


def describe(samples: list[float]) -> str:
    if not samples:
        return "no samples"
    return (
        f"p50 {percentile(samples, 50):.1f} ms, p95 {percentile(samples, 95):.1f} ms,"
        f" p99 {percentile(samples, 99):.1f} ms, max {max(samples):.1f} ms (n={len(samples)})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--probes", type=int, default=250, help="latency probes (default 250)")
    parser.add_argument(
        "--rate", type=int, default=5000, help="background readings/s (default 5,000)"
    )
    parser.add_argument("--clients", type=int, default=500, help="fan-out sockets (default 500)")
    parser.add_argument("--trials", type=int, default=20, help="fan-out alerts (default 20)")
    parser.add_argument(
        "--batch-age",
        type=float,
        default=None,
        help="INGEST_BATCH_MAX_AGE_S of the ingest process (default: the shipped default)",
    )
    parser.add_argument(
        "--background-rules",
        type=int,
        default=BACKGROUND_RULES,
        help=f"bench signals with a high rule, 0-{SIGNALS} (default {BACKGROUND_RULES})",
    )
    parser.add_argument("--pool", choices=["solo", "prefork"], default="prefork")
    args = parser.parse_args()
    if args.rate % SIGNALS:
        parser.error(f"--rate must be a multiple of {SIGNALS}")

    # Every socket is a file descriptor, on both ends; daphne inherits the raised limit.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = 4 * args.clients + 256
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(need, hard), hard))

    def interrupted(signum, frame) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    stack = Stack(args.pool, db_name=BENCH_DB, batch_max_age_s=args.batch_age)
    background_stop = mp.Event()
    try:
        return bench(stack, args, background_stop)
    except KeyboardInterrupt:
        say("interrupted: cleaning up")
        return 130
    except Exception:
        for name in ("daphne", "worker", "ingest"):
            log = stack.workdir / f"{name}.log"
            if log.exists():
                say(f"--- last lines of {name}.log")
                say("\n".join(log.read_text(errors="replace").splitlines()[-15:]))
        raise
    finally:
        background_stop.set()
        for child in mp.active_children():
            child.terminate()
        stack.stop()


def bench(stack: Stack, args, background_stop) -> int:
    pool = "solo" if args.pool == "solo" else "prefork -c 2"
    say(
        f"alert latency benchmark: {args.rate:,} readings/s background, {args.probes} probes,"
        f" {args.clients} fan-out sockets × {args.trials} alerts, {os.cpu_count()} CPUs"
    )
    say(
        f"worker: celery --pool {pool}; database {BENCH_DB}; Mosquitto on port {stack.port};"
        f" INGEST_BATCH_MAX_AGE_S={args.batch_age or 'the shipped default'}"
    )
    stack.create_database()
    keys = setup_plant(stack, max(args.clients, 1), args.background_rules)
    stack.start_broker()
    stack.start_pipeline()
    web_port = start_web(stack)
    say(f"daphne on port {web_port}; {len(keys)} logged-in sessions")
    wait_for_pipeline(stack)

    bg_result = mp.Queue()
    background = spawn(
        background_main, "127.0.0.1", stack.port, args.rate, background_stop, bg_result
    )
    time.sleep(WARMUP_S)
    stack.check_alive()
    t0, count0 = stored_readings(stack)

    say(f"\nlatency: {args.probes} probes at {PROBES_PER_S}/s, publish → alert on one socket")
    figures_before = worker_figures(stack)
    roots = {name: proc.pid for name, proc in stack.procs if name != "mosquitto"}
    ticks_before, started = cpu_ticks(list(roots.values()), set()), time.monotonic()
    _, count_before = stored_readings(stack)
    lat = latency_phase(stack, web_port, keys[0], args.probes)
    stack.check_alive()
    ticks_after, elapsed = cpu_ticks(list(roots.values()), set()), time.monotonic() - started
    _, count_after = stored_readings(stack)
    say(f"  worker:       {describe_batches(figures_before, worker_figures(stack))}")
    cpu_text, cpu_us = describe_cpu(
        ticks_before, ticks_after, roots, elapsed, count_after - count_before
    )
    say(f"  CPU:          {cpu_text}")
    say(f"  alert:        {describe(lat['latency'])}")
    say(f"  bare MQTT:    {describe(lat['bare'])} (same messages, paho subscriber)")
    say(
        f"  lost alerts: {len(lat['lost'])} (of them recorded in the database:"
        f" {lat['lost_recorded']}), bare MQTT lost: {lat['bare_lost']}"
    )

    fan = {"all": [], "spread": [], "each": [], "lost": 0, "lost_trials": 0, "lost_recorded": 0}
    if args.trials and args.clients:
        say(f"\nfan-out: {args.trials} alerts to {args.clients} sockets on one daphne process")
        fan = fanout_phase(stack, web_port, keys[: args.clients], args.trials, first=args.probes)
    stack.check_alive()
    t1, count1 = stored_readings(stack)
    background_stop.set()
    bg_sent, bg_start, bg_end, bg_late = outcome(bg_result, "background publisher")
    background.join(10)
    say(f"  all received: {describe(fan['all'])} (publish → last of {args.clients})")
    say(f"  each socket:  {describe(fan['each'])} (publish → receipt)")
    say(f"  spread:       {describe(fan['spread'])} (first → last socket)")
    say(
        f"  lost deliveries: {fan['lost']} in {fan['lost_trials']} alert(s)"
        f" (of them recorded in the database: {fan['lost_recorded']})"
    )

    layer_ms: list[float] = []
    if args.trials and args.clients:
        layer_result = mp.Queue()
        layer = spawn(layer_baseline_main, args.clients, args.trials, layer_result)
        (layer_ms,) = outcome(layer_result, "channel layer baseline")
        layer.join(10)
        say(f"  channel layer: {describe(layer_ms)} (group_send → all {args.clients}, no sockets)")

    achieved = (count1 - count0) / (t1 - t0)
    sent_rate = bg_sent / (bg_end - bg_start)
    say(
        f"\nbackground: {achieved:,.0f} readings/s stored during the measurement"
        f" ({sent_rate:,.0f}/s published, publisher at most {bg_late * 1000:.0f} ms behind)"
    )

    lat_ms, bare_ms = lat["latency"], lat["bare"]
    p50, p95, p99 = (percentile(lat_ms, q) if lat_ms else float("nan") for q in (50, 95, 99))
    bare_p95 = percentile(bare_ms, 95) if bare_ms else float("nan")
    fan_p95 = percentile(fan["all"], 95) if fan["all"] else float("nan")
    spread_p95 = percentile(fan["spread"], 95) if fan["spread"] else float("nan")
    each_p95 = percentile(fan["each"], 95) if fan["each"] else float("nan")
    layer_p95 = percentile(layer_ms, 95) if layer_ms else float("nan")
    lost = len(lat["lost"]) + fan["lost"]
    lat_ok, fan_ok = p95 <= TARGET_P95_MS, fan_p95 <= TARGET_FANOUT_P95_MS
    cpu_ok = cpu_us <= TARGET_CPU_US

    def mark(ok: bool) -> str:
        return "met" if ok else "NOT met"

    say("\nsummary (targets are reported, not enforced)")
    say(
        f"  alert latency p50 {p50:.1f} / p95 {p95:.1f} / p99 {p99:.1f} ms"
        f" = {p95 / bare_p95:.1f}× the bare MQTT p95 ({bare_p95:.1f} ms)"
        f" (target p95 ≤ {TARGET_P95_MS:.0f} ms: {mark(lat_ok)})"
    )
    say(
        f"  CPU per stored reading (ingest, worker, web, PostgreSQL) {cpu_us:.1f} µs, in the"
        f" same run as the latency (target ≤ {TARGET_CPU_US:.0f} µs: {mark(cpu_ok)})"
    )
    say(
        f"  fan-out to {args.clients}: all received p95 {fan_p95:.1f} ms, per socket p95"
        f" {each_p95:.1f} ms (target ≤ {TARGET_FANOUT_P95_MS:.0f} ms: {mark(fan_ok)});"
        f" spread p95 {spread_p95:.1f} ms = {spread_p95 / layer_p95:.1f}× the channel layer"
        f" alone ({layer_p95:.1f} ms)"
    )
    say(f"  background {achieved:,.0f} readings/s; lost alerts {lost}")
    problems = worker_problems(stack)
    if problems:
        say(f"  worker log: {problems}")
    say(
        f"latency_p50_ms={p50:.1f} latency_p95_ms={p95:.1f} latency_p99_ms={p99:.1f}"
        f" bare_p95_ms={bare_p95:.1f} fanout_p95_ms={fan_p95:.1f} fanout_each_p95_ms={each_p95:.1f}"
        f" layer_p95_ms={layer_p95:.1f} clients={args.clients} background_per_s={achieved:.0f}"
        f" cpu_us_per_reading={cpu_us:.1f} batch_age_s={args.batch_age or 'default'} lost={lost}"
        f" target={'PASS' if lat_ok and fan_ok and cpu_ok else 'FAIL'}"
    )
    return 1 if lost else 0


if __name__ == "__main__":
    sys.exit(main())
