"""Notification latency under load: MQTT publish of a raising reading → e-mail at a real SMTP
server and a signed webhook at a real HTTP receiver; and one summary per recipient in a flood.

Usage: python bench/notify.py [--probes 30] [--rate 5000] [--flood 200] [--flood-s 30]
                              [--pool prefork|solo]

With 5,000 readings/s of background load flowing through the real stack, an alert raised by a
reading reaches its subscriber's mailbox and its room's webhook within p95 ≤ 5 s of the
reading's MQTT publish; an alarm flood of 200 alerts on one line gives each recipient its
first ten alerts and then one flood summary, however many alerts follow.

Runs on the stack of bench/ingest.py (its `Stack`): a fresh PostgreSQL database of its own
(plantops_bench_notify, dropped at the end), a Mosquitto started with scripts/mosquitto.conf on
a free port, one ingest process and one Celery worker (prefork, 2 processes) on a queue and
share group of their own, with EMAIL_BACKEND=smtp pointed at the benchmark's SMTP server. No
beat: dispatch runs because the commit that records a raise queues `notify.dispatch`
(plantops/notify/triggers.py), and dispatch queues a `notify.send` per message.

The receivers are those of the notification tests (tests/notify/receivers.py), in threads of
this process: an aiosmtpd SMTP server and an HTTP server checking each webhook's signature.
The plant: the bench asset of bench/ingest.py (100 signals, a `high` rule at 500 on its first
10, never crossed by the background), probe lines of five probe signals each (a flood is
more than 10 activations of a line in 10 minutes: a probe line never makes one), and a flood
line with --flood signals. Every probe and flood signal has a `high` rule at 500.
One supervisor subscribes to `high` alerts by e-mail; a routing rule posts them to a webhook
room. Each alert is thus one e-mail and one webhook.

  baseline  --probes probes with no background load: every 0.5 s a reading of 501 on the next
            probe signal (QoS 1, time.monotonic() taken just before the publish); each raise
            is a new alert. Latency = receipt at the SMTP server (its DATA accepted) or at the
            webhook receiver − publish, per alert, on the one clock of this process.
  loaded    the same, while a publisher process sends RATE readings/s for the rest of the run
            (bench/alert_latency.py's background: asset batches of 100, QoS 1, paced to the
            clock), after WARMUP_S of it. Ratio: loaded p95 / baseline p95. Where the time
            goes, from the database's own stamps (same machine clock): publish → notification
            recorded (ingest, store, trigger, dispatch) → send started (the queue) → received.
  flood     --flood alerts raised on the flood line within --flood-s seconds (background still
            on). Counted once every raise is dispatched and every notification is done: the
            individual messages and the flood summaries each receiver got.

The last line is machine-readable. The exit status is 1 if a message never arrived, a message
arrived twice under two ids, or the flood did not give exactly one summary per recipient; the
latency target is reported (met / NOT met) but does not decide it.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.alert_latency import (  # noqa: E402
    background_main,
    mqtt_client,
    outcome,
    percentile,
    spawn,
    stored_readings,
)
from bench.ingest import (  # noqa: E402
    AREA,
    ASSET,
    PYTHON,
    SIGNALS,
    SITE,
    Stack,
    say,
    wait_for_pipeline,
    wait_until,
)
from tests.notify.receivers import SmtpReceiver, WebhookReceiver  # noqa: E402

BENCH_DB = "plantops_bench_notify"
LIMIT = 500.0
RAISE = 501.0
BACKGROUND_RULES = 10
PROBES_PER_LINE = 5  # activations per probe line: never a flood (more than 10)
PROBE_PERIOD_S = 0.5
WARMUP_S = 5.0
ARRIVAL_TIMEOUT_S = 30.0  # a message not received this long after the last publish is lost
SETTLE_TIMEOUT_S = 60.0
TARGET_P95_S = 5.0
FLOOD_LINE = "flood-line"
FLOOD_LINE_NAME = "Flood line"
SUBSCRIBER = "sam@example.com"


def probe_line(seq: int) -> int:
    return seq // PROBES_PER_LINE


def probe_name(seq: int) -> str:
    return f"Q{seq:03d}"


def flood_name(i: int) -> str:
    return f"F{i:03d}"


def title(name: str) -> str:
    """The alert's message (rule template "{signal} {value:.0f}"): the notification's title."""
    return f"{name} {RAISE:.0f}"


def probe_topic(seq: int) -> str:
    k = probe_line(seq)
    return f"plantops/{SITE}/{AREA}/probe-line-{k:02d}/probe-{k:02d}/telemetry/{probe_name(seq).lower()}"


def flood_topic(i: int) -> str:
    return f"plantops/{SITE}/{AREA}/{FLOOD_LINE}/flood-asset/telemetry/{flood_name(i).lower()}"


# --- the plant, its rules and who is told ------------------------------------------------------

SETUP_CODE = """
from django.contrib.auth.models import Group, User
from plantops.alerts.models import AlertRule
from plantops.assets.models import Asset, Line, Signal
from plantops.core.roles import SUPERVISORS
from plantops.notify.models import Channel, RoutingRule, Subscription

bench = Asset.objects.get(slug={asset!r})
area = bench.line.area

def add_line(slug, name, asset_slug, names):
    line = Line.objects.create(area=area, slug=slug, name=name)
    asset = Asset.objects.create(line=line, slug=asset_slug, name=name + " asset",
                                 asset_type="motor")
    Signal.objects.bulk_create([Signal(asset=asset, slug=n.lower(), name=n, unit="mm/s",
                                       sampling_interval_s=1.0) for n in names])

for k, names in enumerate({probe_lines!r}):
    add_line(f"probe-line-{{k:02d}}", f"Probe line {{k}}", f"probe-{{k:02d}}", names)
add_line({flood_line!r}, {flood_line_name!r}, "flood-asset", {flood_names!r})
AlertRule.objects.bulk_create([
    AlertRule(name=f"{{s.asset.slug}} {{s.slug}} high", kind="high", signal=s, limit={limit},
              deadband=1.0, priority="high", message_template="{{signal}} {{value:.0f}}")
    for s in Signal.objects.select_related("asset")
    if s.asset_id != bench.pk or s.slug < "s{background_rules:03d}"
])
user = User.objects.create_user("sam", email={subscriber!r})
Group.objects.get(name=SUPERVISORS).user_set.add(user)  # may see alerts: may be told of them
mail = Channel.objects.create(name="E-mail", kind="email")
room = Channel.objects.create(name="Control room", kind="webhook", url={hook_url!r},
                              secret={hook_secret!r})
subscription = Subscription.objects.create(user=user, min_priority="high")
subscription.channels.add(mail)
rule = RoutingRule.objects.create(name="High to the control room", min_priority="high")
rule.channels.add(room)
"""


def setup_plant(stack: Stack, probes: int, flood: int, webhook: WebhookReceiver) -> None:
    lines = [
        [probe_name(seq) for seq in range(start, min(start + PROBES_PER_LINE, probes))]
        for start in range(0, probes, PROBES_PER_LINE)
    ]
    code = SETUP_CODE.format(
        asset=ASSET,
        probe_lines=lines,
        flood_line=FLOOD_LINE,
        flood_line_name=FLOOD_LINE_NAME,
        flood_names=[flood_name(i) for i in range(flood)],
        limit=LIMIT,
        background_rules=BACKGROUND_RULES,
        subscriber=SUBSCRIBER,
        hook_url=webhook.url,
        hook_secret=webhook.secret,
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


# --- what the receivers got ---------------------------------------------------------------------


def mail_title(subject: str) -> str:
    """The title in "[HIGH] <title> — <line>" (a flood summary: "[FLOOD] …")."""
    return subject.split("] ", 1)[-1].rsplit(" — ", 1)[0]


@dataclass
class Received:
    """First receipt (monotonic) per title, and the messages received again under an id
    already received (a Message-ID or webhook delivery id: one message sent twice)."""

    mail: dict[str, float]
    hook: dict[str, float]
    mail_repeats: int
    hook_repeats: int


def received(smtp: SmtpReceiver, webhook: WebhookReceiver) -> Received:
    mail: dict[str, float] = {}
    for m in list(smtp.mails):
        mail.setdefault(mail_title(m.subject), m.received_at)
    hook: dict[str, float] = {}
    for h in list(webhook.hooks):
        hook.setdefault(str(h.json.get("title", "")), h.received_at)
    mail_repeats = sum(n - 1 for n in smtp.by_message_id().values())
    hook_repeats = sum(n - 1 for n in webhook.deliveries().values())
    return Received(mail, hook, mail_repeats, hook_repeats)


# --- the phases ---------------------------------------------------------------------------------


def publisher(port: int) -> mqtt.Client:
    client = mqtt_client("notify-probe")
    client.connect("127.0.0.1", port)
    client.loop_start()
    return client


def raise_on(client: mqtt.Client, topic: str) -> tuple[float, float]:
    """Publish a reading above the limit; return (monotonic, wall) times just before."""
    body = f'{{"ts": {time.time():.3f}, "value": {RAISE}}}'.encode()
    stamps = time.monotonic(), time.time()
    client.publish(topic, body, qos=1)
    return stamps


@dataclass
class Latency:
    mail: list[float]
    hook: list[float]
    both: list[float]
    lost_mail: int
    lost_hook: int
    stages: dict[str, list[float]]


def latency_phase(
    stack: Stack, smtp: SmtpReceiver, webhook: WebhookReceiver, seqs: range
) -> Latency:
    """One probe every PROBE_PERIOD_S; wait for both messages of each (or the timeout)."""
    client = publisher(stack.port)
    sent: dict[str, tuple[float, float]] = {}
    start = time.monotonic()
    try:
        for k, seq in enumerate(seqs):
            time.sleep(max(0.0, start + k * PROBE_PERIOD_S - time.monotonic()))
            sent[title(probe_name(seq))] = raise_on(client, probe_topic(seq))
        deadline = time.monotonic() + ARRIVAL_TIMEOUT_S
        while time.monotonic() < deadline:
            got = received(smtp, webhook)
            if all(t in got.mail and t in got.hook for t in sent):
                break
            time.sleep(0.05)
    finally:
        client.loop_stop()
        client.disconnect()
    got = received(smtp, webhook)
    mail = [got.mail[t] - s for t, (s, _) in sent.items() if t in got.mail]
    hook = [got.hook[t] - s for t, (s, _) in sent.items() if t in got.hook]
    both = [
        max(got.mail[t], got.hook[t]) - s
        for t, (s, _) in sent.items()
        if t in got.mail and t in got.hook
    ]
    return Latency(
        mail=mail,
        hook=hook,
        both=both,
        lost_mail=sum(t not in got.mail for t in sent),
        lost_hook=sum(t not in got.hook for t in sent),
        stages=stages(stack, {t: wall for t, (_, wall) in sent.items()}),
    )


def stages(stack: Stack, published: dict[str, float]) -> dict[str, list[float]]:
    """Seconds from publish to the notification recorded (ingest, store, trigger, dispatch)
    and from recorded to its send started (the notify.send task's wait in the queue)."""
    with stack.connect() as conn:
        rows = conn.execute(
            "SELECT n.data->>'title', extract(epoch FROM n.created_at),"
            " extract(epoch FROM min(a.started_at))"
            " FROM notify_notification n JOIN notify_deliveryattempt a"
            " ON a.notification_id = n.id"
            " WHERE n.data->>'title' = ANY(%s) GROUP BY n.id",
            [list(published)],
        ).fetchall()
    out: dict[str, list[float]] = {"recorded": [], "queued": []}
    for t, created, started in rows:
        out["recorded"].append(float(created) - published[t])
        out["queued"].append(float(started) - float(created))
    return out


@dataclass
class FloodCounts:
    alerts_raised: int
    mail_alerts: int
    mail_summaries: int
    hook_alerts: int
    hook_summaries: int
    notifications: Counter
    seconds: float


def flood_phase(
    stack: Stack, smtp: SmtpReceiver, webhook: WebhookReceiver, n: int, within_s: float
) -> FloodCounts:
    """Raise `n` alerts on the flood line within `within_s`; count what each receiver got
    once everything is dispatched and sent."""
    client = publisher(stack.port)
    start = time.monotonic()
    try:
        for i in range(n):
            time.sleep(max(0.0, start + i * within_s / n - time.monotonic()))
            raise_on(client, flood_topic(i))
        published = time.monotonic() - start
    finally:
        time.sleep(0.5)  # let the last QoS-1 handshakes finish
        client.loop_stop()
        client.disconnect()

    def settled() -> bool:
        with stack.connect() as conn:
            (raised,) = conn.execute(
                "SELECT count(*) FROM alerts_alertevent e JOIN assets_line l ON l.id = e.line_id"
                " WHERE l.slug = %s AND e.kind = 'raised' AND e.activated",
                [FLOOD_LINE],
            ).fetchone()
            (undispatched,) = conn.execute(
                "SELECT count(*) FROM alerts_alertevent WHERE id >"
                " coalesce((SELECT last_id FROM notify_dispatchcursor), 0)"
            ).fetchone()
            (unsent,) = conn.execute(
                "SELECT count(*) FROM notify_notification"
                " WHERE status IN ('pending', 'sending', 'retrying')"
            ).fetchone()
        return raised == n and not undispatched and not unsent

    wait_until(settled, timeout=SETTLE_TIMEOUT_S, what="every flood alert dispatched and sent")
    mail_flood = [m for m in smtp.mails if m.subject.endswith(f" — {FLOOD_LINE_NAME}")]
    mail_summaries = [m for m in smtp.mails if m.subject.startswith("[FLOOD]")]
    hooks = [h.json for h in webhook.hooks]
    with stack.connect() as conn:
        (raised,) = conn.execute(
            "SELECT count(*) FROM alerts_alertevent e JOIN assets_line l ON l.id = e.line_id"
            " WHERE l.slug = %s AND e.kind = 'raised' AND e.activated",
            [FLOOD_LINE],
        ).fetchone()
        kinds = Counter(
            dict(
                conn.execute(
                    "SELECT n.kind, count(*) FROM notify_notification n"
                    " LEFT JOIN notify_flood f ON f.id = n.flood_id"
                    " LEFT JOIN assets_line l ON l.id = f.line_id"
                    " LEFT JOIN alerts_alert a ON a.id = n.alert_id"
                    " LEFT JOIN assets_asset s ON s.id = a.asset_id"
                    " LEFT JOIN assets_line al ON al.id = s.line_id"
                    " WHERE coalesce(l.slug, al.slug) = %s GROUP BY n.kind",
                    [FLOOD_LINE],
                ).fetchall()
            )
        )
    return FloodCounts(
        alerts_raised=raised,
        mail_alerts=len(mail_flood),
        mail_summaries=len(mail_summaries),
        hook_alerts=sum(
            h.get("type") == "alert.raised" and h.get("line") == FLOOD_LINE_NAME for h in hooks
        ),
        hook_summaries=sum(
            h.get("type") == "alert.flood" and h.get("line") == FLOOD_LINE_NAME for h in hooks
        ),
        notifications=kinds,
        seconds=published,
    )


# --- reporting ----------------------------------------------------------------------------------


def describe(samples: list[float]) -> str:
    if not samples:
        return "no samples"
    return (
        f"p50 {percentile(samples, 50):.2f} s, p95 {percentile(samples, 95):.2f} s,"
        f" max {max(samples):.2f} s (n={len(samples)})"
    )


def p50(samples: list[float]) -> float:
    return percentile(samples, 50) if samples else float("nan")


def p95(samples: list[float]) -> float:
    return percentile(samples, 95) if samples else float("nan")


def report(lat: Latency) -> None:
    say(f"  e-mail:   {describe(lat.mail)} (publish → DATA accepted by the SMTP server)")
    say(f"  webhook:  {describe(lat.hook)} (publish → request at the receiver)")
    say(f"  both:     {describe(lat.both)} (publish → the later of the two)")
    say(
        f"  where it goes: publish → notification recorded {describe(lat.stages['recorded'])};"
        f" recorded → send started {describe(lat.stages['queued'])}"
    )
    say(f"  lost: {lat.lost_mail} e-mail(s), {lat.lost_hook} webhook(s)")


def gated_background(go, host: str, port: int, rate: int, stop, result) -> None:
    """bench/alert_latency.py's background publisher, started when `go` is set. Forked before
    this process starts the receivers' threads."""
    while not go.wait(0.2):
        if stop.is_set():
            result.put(("background", 0, 0.0, 1.0, 0.0))
            return
    background_main(host, port, rate, stop, result)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--probes", type=int, default=30, help="alerts per phase (default 30)")
    parser.add_argument(
        "--rate", type=int, default=5000, help="background readings/s (default 5,000)"
    )
    parser.add_argument("--flood", type=int, default=200, help="flood alerts (default 200)")
    parser.add_argument(
        "--flood-s", type=float, default=30.0, help="seconds the flood's alerts span (30)"
    )
    parser.add_argument("--pool", choices=["solo", "prefork"], default="prefork")
    args = parser.parse_args()
    if args.rate % SIGNALS:
        parser.error(f"--rate must be a multiple of {SIGNALS}")

    def interrupted(signum, frame) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    stack = Stack(args.pool, db_name=BENCH_DB)
    go, stop, bg_result = mp.Event(), mp.Event(), mp.Queue()
    background = spawn(gated_background, go, "127.0.0.1", stack.port, args.rate, stop, bg_result)
    smtp = SmtpReceiver().start()
    webhook = WebhookReceiver(secret=f"bench-{uuid.uuid4().hex}").start()
    stack.env.update(
        EMAIL_BACKEND="smtp",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(smtp.port),
        EMAIL_USE_TLS="0",
        EMAIL_USE_SSL="0",
    )
    try:
        return bench(stack, args, smtp, webhook, go, stop, bg_result, background)
    except KeyboardInterrupt:
        say("interrupted: cleaning up")
        return 130
    except Exception:
        for name in ("worker", "ingest"):
            log = stack.workdir / f"{name}.log"
            if log.exists():
                say(f"--- last lines of {name}.log")
                say("\n".join(log.read_text(errors="replace").splitlines()[-15:]))
        raise
    finally:
        stop.set()
        for child in mp.active_children():
            child.terminate()
        stack.stop()
        smtp.stop()
        webhook.stop()


def bench(stack: Stack, args, smtp, webhook, go, stop, bg_result, background) -> int:
    pool = "solo" if args.pool == "solo" else "prefork -c 2"
    say(
        f"notification benchmark: {args.probes} alerts per phase, {args.rate:,} readings/s"
        f" background, a flood of {args.flood} alerts in {args.flood_s:.0f} s, {os.cpu_count()} CPUs"
    )
    say(
        f"worker: celery --pool {pool}; database {BENCH_DB}; Mosquitto on port {stack.port};"
        f" SMTP server on {smtp.port}, webhook receiver on {webhook.port}"
    )
    started = time.monotonic()
    stack.create_database()
    setup_plant(stack, 2 * args.probes, args.flood, webhook)
    stack.start_broker()
    stack.start_pipeline()
    wait_for_pipeline(stack)

    say(f"\nbaseline: {args.probes} alerts, one every {PROBE_PERIOD_S} s, no background load")
    base = latency_phase(stack, smtp, webhook, range(args.probes))
    report(base)

    go.set()
    time.sleep(WARMUP_S)
    stack.check_alive()
    t0, count0 = stored_readings(stack)
    say(f"\nloaded: {args.probes} alerts, one every {PROBE_PERIOD_S} s, {args.rate:,} readings/s")
    loaded = latency_phase(stack, smtp, webhook, range(args.probes, 2 * args.probes))
    t1, count1 = stored_readings(stack)
    report(loaded)
    say(f"  background: {(count1 - count0) / (t1 - t0):,.0f} readings/s stored meanwhile")

    say(f"\nflood: {args.flood} alerts on one line within {args.flood_s:.0f} s (background on)")
    flood = flood_phase(stack, smtp, webhook, args.flood, args.flood_s)
    stop.set()
    bg_sent, bg_start, bg_end, _ = outcome(bg_result, "background publisher")
    background.join(10)
    stack.check_alive()
    say(
        f"  {flood.alerts_raised} alerts raised in {flood.seconds:.1f} s; notifications recorded:"
        f" {dict(flood.notifications)}"
    )
    say(
        f"  SMTP server: {flood.mail_alerts} alert e-mails, {flood.mail_summaries} flood"
        f" summary; webhook: {flood.hook_alerts} alert posts, {flood.hook_summaries} flood summary"
    )

    got = received(smtp, webhook)
    repeats = got.mail_repeats + got.hook_repeats
    lost = base.lost_mail + base.lost_hook + loaded.lost_mail + loaded.lost_hook
    flood_ok = (
        flood.mail_summaries == 1
        and flood.hook_summaries == 1
        and flood.mail_alerts <= 10
        and flood.hook_alerts <= 10
    )
    load_p95, base_p95 = p95(loaded.both), p95(base.both)
    target_ok = p95(loaded.mail) <= TARGET_P95_S and p95(loaded.hook) <= TARGET_P95_S

    def mark(ok: bool) -> str:
        return "met" if ok else "NOT met"

    say("\nsummary (the latency target is reported, not enforced)")
    say(
        f"  loaded: e-mail p50 {p50(loaded.mail):.2f} / p95 {p95(loaded.mail):.2f} s,"
        f" webhook p50 {p50(loaded.hook):.2f} / p95 {p95(loaded.hook):.2f} s"
        f" (target p95 ≤ {TARGET_P95_S:.0f} s: {mark(target_ok)})"
    )
    say(
        f"  both received p95 {load_p95:.2f} s loaded = {load_p95 / base_p95:.1f}× the"
        f" baseline without load ({base_p95:.2f} s)"
    )
    say(
        f"  flood of {args.flood}: the subscriber's mailbox {flood.mail_alerts} alerts +"
        f" {flood.mail_summaries} summary, the room's webhook {flood.hook_alerts} alerts +"
        f" {flood.hook_summaries} summary (expected ≤ 10 + exactly 1 each: {mark(flood_ok)})"
    )
    say(
        f"  lost {lost}; received twice under one id {repeats}; background"
        f" {bg_sent / max(bg_end - bg_start, 1e-9):,.0f} readings/s published;"
        f" whole run {time.monotonic() - started:.0f} s"
    )
    say(
        f"mail_p50_s={p50(loaded.mail):.2f} mail_p95_s={p95(loaded.mail):.2f}"
        f" hook_p50_s={p50(loaded.hook):.2f} hook_p95_s={p95(loaded.hook):.2f}"
        f" both_p95_s={load_p95:.2f} baseline_both_p95_s={base_p95:.2f}"
        f" ratio={load_p95 / base_p95:.2f} flood_mail={flood.mail_alerts}+{flood.mail_summaries}"
        f" flood_hook={flood.hook_alerts}+{flood.hook_summaries} lost={lost} repeats={repeats}"
        f" target={'PASS' if target_ok else 'FAIL'}"
    )
    return 1 if lost or repeats or not flood_ok else 0


if __name__ == "__main__":
    sys.exit(main())
