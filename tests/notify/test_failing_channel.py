"""A webhook that keeps answering 500: each try is recorded with the answer, retried up to
NOTIFY_MAX_ATTEMPTS, then failed; after NOTIFY_FAILING_AFTER failures the channel is failing,
the admins get one e-mail, and the pipeline page says so. A 4xx fails at once; a later
success makes the channel well again."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from plantops.alerts.services import alerts_acknowledge
from plantops.notify import dispatch, sending
from plantops.notify.models import (
    Channel,
    ChannelKind,
    Notification,
    NotificationKind,
    NotificationStatus,
    RoutingRule,
)
from tests.factories import logged_in, make_alert, make_asset
from tests.notify.builders import person, send_all
from tests.notify.receivers import WebhookReceiver

pytestmark = pytest.mark.django_db


@pytest.fixture
def broken():
    """A real webhook receiver that answers 500."""
    receiver = WebhookReceiver(status=500).start()
    yield receiver
    receiver.stop()


@pytest.fixture
def room(broken, settings, email_channel):
    """High alerts post to the broken room; three tries each; failing after two failures in
    a row. Ada, a superuser with an e-mail, is the admin told."""
    settings.NOTIFY_MAX_ATTEMPTS = 3
    settings.NOTIFY_FAILING_AFTER = 2
    channel = Channel.objects.create(
        name="Maintenance room", kind=ChannelKind.WEBHOOK, url=broken.url, secret=broken.secret
    )
    rule = RoutingRule.objects.create(name="High to the room", min_priority="high")
    rule.channels.add(channel)
    person("admin", "ada")
    return channel


def post_alert(message: str = "Conveyor jammed") -> Notification:
    make_alert(asset=make_asset(), priority="high", message=message)
    assert dispatch.dispatch_events() == 1
    return Notification.objects.filter(kind=NotificationKind.ALERT).latest("pk")


def attempts(notification: Notification) -> list[tuple[int, bool, str]]:
    return [(a.number, a.ok, a.answer) for a in notification.delivery_attempts.all()]


def channel_row(page: str, name: str) -> str:
    row = re.search(rf'<tr data-channel="{re.escape(name)}".*?</tr>', page, re.S)
    assert row is not None, f"no row for {name}"
    return row.group(0)


def test_a_500_is_retried_then_fails_and_each_try_is_recorded(room, broken):
    notification = post_alert()

    assert sending.send_notification(notification.pk) == sending.Outcome.RETRY
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == (NotificationStatus.RETRYING, 1)
    assert attempts(notification) == [(1, False, "HTTP 500 broken")]

    assert sending.send_notification(notification.pk) == sending.Outcome.RETRY
    assert sending.send_notification(notification.pk) == sending.Outcome.FAILED
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == (NotificationStatus.FAILED, 3)
    assert attempts(notification) == [(n, False, "HTTP 500 broken") for n in (1, 2, 3)]
    assert all(a.finished_at for a in notification.delivery_attempts.all())
    assert notification.sent_at is None

    # Failed is final: nothing more is tried.
    assert sending.send_notification(notification.pk) == sending.Outcome.DONE
    assert len(broken.wait_for(3)) == 3
    assert all(hook.signature_ok for hook in broken.hooks)
    assert len(broken.deliveries()) == 1  # one delivery id, tried three times


def test_the_retry_waits_longer_after_each_failure(settings):
    settings.NOTIFY_RETRY_BASE_S = 15.0
    assert [sending.retry_delay_s(n) for n in (1, 2, 3, 4)] == [15.0, 60.0, 240.0, 960.0]


def test_a_failing_channel_tells_the_admins_once_by_e_mail(room, broken, smtp):
    notification = post_alert()
    sending.send_notification(notification.pk)
    room.refresh_from_db()
    assert (room.consecutive_failures, room.failing_since) == (1, None)
    assert not Notification.objects.filter(kind=NotificationKind.CHANNEL_FAILING).exists()

    sending.send_notification(notification.pk)
    room.refresh_from_db()
    assert room.consecutive_failures == 2
    assert room.failing_since is not None
    assert room.last_error == "HTTP 500 broken"
    (notice,) = Notification.objects.filter(kind=NotificationKind.CHANNEL_FAILING)
    assert notice.address == "ada@example.com"

    # More failures, of this message and of another: the admins are not told again.
    sending.send_notification(notification.pk)
    send_all()
    sending.send_notification(post_alert("Second jam").pk)
    assert Notification.objects.filter(kind=NotificationKind.CHANNEL_FAILING).count() == 1

    (mail,) = smtp.wait_for(1)
    assert mail.envelope_to == ["ada@example.com"]
    assert mail.subject == "[PlantOps] Notification channel “Maintenance room” is failing"
    text = mail.part("text/plain")
    assert "Last error: HTTP 500 broken" in text
    assert "/pipeline/" in text
    notice.refresh_from_db()
    assert notice.status == NotificationStatus.SENT
    assert len(smtp.mails) == 1


def test_the_pipeline_page_shows_the_failing_channel(room, broken, smtp, client):
    notification = post_alert()
    for _ in range(3):
        sending.send_notification(notification.pk)
    send_all()  # the admins' notice, by e-mail
    room.refresh_from_db()

    page = logged_in(person("admin", "hal")).get(reverse("pipeline"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Notification channels" in html
    row = channel_row(html, "Maintenance room")
    assert 'data-state="failing"' in row
    assert f"FAILING</strong> since {room.failing_since:%Y-%m-%d %H:%M} UTC" in row
    assert "HTTP 500 broken" in row
    assert re.search(r'data-figure="sent">0<', row)
    assert re.search(r'data-figure="failed">3<', row)
    mail_row = channel_row(html, "E-mail")
    assert 'data-state="ok"' in mail_row
    assert 'data-figure="sent">1<' in mail_row


def test_cancelled_messages_are_not_counted_as_the_channels_failures(room, client):
    notification = post_alert()
    alerts_acknowledge(alert_ids=[notification.alert_id], user=person("supervisor", "sue"))
    assert sending.send_notification(notification.pk) == sending.Outcome.CANCELLED

    html = logged_in(person("admin", "hal")).get(reverse("pipeline")).content.decode()
    row = channel_row(html, "Maintenance room")
    assert 'data-state="ok"' in row
    assert 'data-figure="failed">0<' in row
    room.refresh_from_db()
    assert room.consecutive_failures == 0


def test_a_4xx_answer_fails_at_once_without_retrying(room, broken):
    broken.status = 400
    notification = post_alert()
    assert sending.send_notification(notification.pk) == sending.Outcome.FAILED
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == (NotificationStatus.FAILED, 1)
    assert attempts(notification) == [(1, False, "HTTP 400 broken")]
    assert sending.send_notification(notification.pk) == sending.Outcome.DONE
    assert len(broken.wait_for(1)) == 1


@pytest.mark.parametrize("status", [408, 429])
def test_a_4xx_asking_to_come_back_is_retried(room, broken, status):
    broken.status = status
    notification = post_alert()
    assert sending.send_notification(notification.pk) == sending.Outcome.RETRY


def test_a_later_success_makes_the_channel_well_again(room, broken, smtp):
    first = post_alert()
    sending.send_notification(first.pk)
    sending.send_notification(first.pk)
    room.refresh_from_db()
    assert room.failing_since is not None

    broken.status = 200
    assert sending.send_notification(first.pk) == sending.Outcome.SENT
    room.refresh_from_db()
    assert (room.failing_since, room.consecutive_failures) == (None, 0)
    assert room.last_success_at is not None
    first.refresh_from_db()
    assert [ok for _, ok, _ in attempts(first)] == [False, False, True]
    assert attempts(first)[-1][2] == "HTTP 200 received"

    html = logged_in(person("admin", "hal")).get(reverse("pipeline")).content.decode()
    assert 'data-state="ok"' in channel_row(html, "Maintenance room")
