"""An alarm flood (more than 10 raises on a line within 10 minutes) gives each recipient one
summary instead of a message per alert until it ends; a chattering alarm is told once per
repeat window."""

from __future__ import annotations

from datetime import timedelta

import pytest

from plantops.alerts.models import AlertRule
from plantops.assets.models import Area, Site
from plantops.core.time import now_us, us_to_datetime
from plantops.notify import dispatch, sending
from plantops.notify.models import Flood, Notification, NotificationKind, RoutingRule, Subscription
from plantops.pipeline.services import batch_store
from tests.factories import make_batch, make_rule
from tests.notify.builders import addressed_to, asset_on, line_in, person, send_all

pytestmark = pytest.mark.django_db

S = 1_000_000
SIGNALS = [f"s{i:02d}" for i in range(1, 17)]


@pytest.fixture
def lines():
    site = Site.objects.create(slug="plant", name="Plant")
    area = Area.objects.create(site=site, slug="packing", name="Packing")
    return line_in(area, "Filler"), line_in(area, "Capper")


@pytest.fixture
def filler(lines):
    """An asset of the Filler line with 16 signals, each with its own "high" rule."""
    asset = asset_on(lines[0], signals=SIGNALS)
    for signal in asset.signals.order_by("slug"):
        make_rule(signal=signal, name=f"{signal.slug} high", message_template=f"{signal.slug} high")
    return asset


@pytest.fixture
def told(email_channel, webhook_channel):
    """Alice by e-mail (a subscription to every line) and the maintenance room by webhook."""
    alice = person("supervisor", "alice")
    sub = Subscription.objects.create(user=alice, min_priority="high")
    sub.channels.add(email_channel)
    rule = RoutingRule.objects.create(name="High to the room", min_priority="high")
    rule.channels.add(webhook_channel)
    return alice


def raise_one(asset, slug: str, at_us: int) -> None:
    signal = asset.signals.get(slug=slug)
    batch_store(batch=make_batch(readings=[(signal.pk, at_us, 9.0)]))


def of_kind(kind: str) -> list[Notification]:
    return list(Notification.objects.filter(kind=kind).order_by("pk"))


def test_the_eleventh_raise_on_a_line_turns_messages_into_one_flood_summary(
    filler, told, smtp, webhook
):
    AlertRule.objects.filter(name="s05 high").update(priority="critical")
    t0 = now_us() - 30 * S
    for i, slug in enumerate(SIGNALS[:10]):
        raise_one(filler, slug, t0 + i * S)
        dispatch.dispatch_events()
    assert len(of_kind(NotificationKind.ALERT)) == 20  # ten each for Alice and the room
    assert not Flood.objects.exists()

    raise_one(filler, SIGNALS[10], t0 + 10 * S)
    assert dispatch.dispatch_events() == 2
    flood = Flood.objects.get()
    assert flood.ended_at is None
    assert flood.started_at == us_to_datetime(t0)
    summaries = of_kind(NotificationKind.FLOOD)
    assert sorted(n.address for n in summaries) == ["", "alice@example.com"]

    # The rest of the flood: nothing more per alert, nor a second summary.
    for i, slug in enumerate(SIGNALS[11:15], start=11):
        raise_one(filler, slug, t0 + i * S)
        assert dispatch.dispatch_events() == 0
    assert len(of_kind(NotificationKind.ALERT)) == 20
    assert len(of_kind(NotificationKind.FLOOD)) == 2
    flood.refresh_from_db()
    assert flood.alerts == 5

    assert set(send_all().values()) == {sending.Outcome.SENT}
    mails = smtp.wait_for(11)
    assert addressed_to(mails) == ["alice@example.com"] * 11
    flood_mail = mails[-1]
    assert flood_mail.subject.startswith("[FLOOD] 11 alerts on Filler since ")
    listed = [x for x in flood_mail.part("text/plain").splitlines() if x.startswith("- ")]
    # The most urgent first, then in the order they were raised; ten shown.
    assert listed[:3] == [
        f"- [CRITICAL] s05 high ({filler.name})",
        f"- [HIGH] s01 high ({filler.name})",
        f"- [HIGH] s02 high ({filler.name})",
    ]
    assert listed[-1] == "- … and 1 more"
    hooks = webhook.wait_for(11)
    assert [hook.json["type"] for hook in hooks].count("alert.flood") == 1
    assert all(hook.signature_ok for hook in hooks)


def test_raises_at_the_same_moment_flood_from_the_eleventh_in_order(filler, told):
    """A power dip trips 16 alarms in one batch, all at one time: the first ten in the
    order they were recorded are told, the rest are summed up."""
    t = now_us() - 5 * S
    signals = {s.slug: s for s in filler.signals.all()}
    batch_store(batch=make_batch(readings=[(signals[slug].pk, t, 9.0) for slug in SIGNALS]))

    assert dispatch.dispatch_events() == 22
    assert len(of_kind(NotificationKind.ALERT)) == 20
    assert len(of_kind(NotificationKind.FLOOD)) == 2
    assert Flood.objects.get().alerts == 6


def test_a_flood_on_one_line_leaves_the_other_lines_alone(lines, filler, told):
    t0 = now_us() - 30 * S
    for i, slug in enumerate(SIGNALS[:12]):
        raise_one(filler, slug, t0 + i * S)
    dispatch.dispatch_events()
    assert Flood.objects.get().line == lines[0]

    capper = asset_on(lines[1], signals=["vibration"])
    make_rule(signal=capper.signals.get(), name="Capper high")
    raise_one(capper, "vibration", t0 + 13 * S)
    assert dispatch.dispatch_events() == 2
    latest = of_kind(NotificationKind.ALERT)[-2:]
    assert {n.alert.asset_id for n in latest} == {capper.pk}


def test_after_the_flood_ends_a_new_alert_is_told_normally(filler, told, time_machine):
    t0 = now_us() - 30 * S
    for i, slug in enumerate(SIGNALS[:12]):
        raise_one(filler, slug, t0 + i * S)
    dispatch.dispatch_events()
    flood = Flood.objects.get()
    last = us_to_datetime(t0 + 11 * S)

    # Ten minutes after the first raise, eleven remain in the window: still a flood.
    assert dispatch.end_floods(now=us_to_datetime(t0) + timedelta(minutes=10)) == 0
    # Ten minutes after the second, ten are left: the flood is over.
    end = us_to_datetime(t0 + S) + timedelta(minutes=10)
    assert dispatch.end_floods(now=end) == 1
    flood.refresh_from_db()
    assert flood.ended_at == end
    assert end < last + timedelta(minutes=10)

    time_machine.move_to(last + timedelta(minutes=11))
    raise_one(filler, SIGNALS[12], now_us())
    assert dispatch.dispatch_events() == 2
    fresh = of_kind(NotificationKind.ALERT)[-2:]
    assert {n.alert.rule.name for n in fresh} == {"s13 high"}
    assert Flood.objects.count() == 1


# --- chattering ---------------------------------------------------------------------------


@pytest.fixture
def chattering(filler, told, settings):
    """One alarm with a deadband: above 5.0 raises, below 4.0 returns; a repeat window of 5 s."""
    settings.NOTIFY_REPEAT_WINDOW_S = 5
    signal = filler.signals.get(slug="s01")
    AlertRule.objects.filter(signal=signal).update(deadband=1.0)
    return signal


def readings(signal, *values_at: tuple[float, int]):
    return make_batch(readings=[(signal.pk, at, value) for value, at in values_at])


def test_an_alarm_raised_again_within_the_repeat_window_is_not_told_again(chattering, smtp):
    t = now_us() - 30 * S
    batch_store(batch=readings(chattering, (9.0, t)))
    assert dispatch.dispatch_events() == 2
    # Returns and raises again twice within five seconds of the first raise.
    batch_store(batch=readings(chattering, (1.0, t + S), (9.0, t + 2 * S)))
    batch_store(batch=readings(chattering, (1.0, t + 3 * S), (9.0, t + 4 * S)))
    assert dispatch.dispatch_events() == 0
    assert set(send_all().values()) == {sending.Outcome.SENT}
    assert len(smtp.wait_for(1)) == 1

    # Past the window: a raise is told again.
    batch_store(batch=readings(chattering, (1.0, t + 9 * S), (9.0, t + 10 * S)))
    assert dispatch.dispatch_events() == 2
    assert set(send_all().values()) == {sending.Outcome.SENT}
    assert len(smtp.wait_for(2)) == 2


def test_a_repeat_raise_does_not_cancel_the_message_of_the_raise_it_repeats(chattering, smtp):
    t = now_us() - 30 * S
    batch_store(batch=readings(chattering, (9.0, t)))
    assert dispatch.dispatch_events() == 2
    # The alarm chatters before its message is sent (a slow or retrying channel).
    batch_store(batch=readings(chattering, (1.0, t + S), (9.0, t + 2 * S)))
    assert dispatch.dispatch_events() == 0

    assert set(send_all().values()) == {sending.Outcome.SENT}
    assert addressed_to(smtp.wait_for(1)) == ["alice@example.com"]
