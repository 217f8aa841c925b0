"""The links of an alert e-mail, read from the message the real SMTP server received: the
acknowledge link works once, for its recipient, after login, with a note, and not when
expired or forged; "Open the alert" lands on the alert's inbox entry after login."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.conf import settings as django_settings
from django.core import signing
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from plantops.alerts.models import Alert
from plantops.notify import dispatch, messages
from plantops.notify.models import Notification, Subscription
from tests.factories import PASSWORD, make_alert, make_asset
from tests.notify.builders import person, send_all

pytestmark = pytest.mark.django_db


@pytest.fixture
def mailed(email_channel, smtp):
    """A high alert mailed to Alice, a supervisor; returns the alert, Alice and the mail's
    two links as paths."""
    alice = person("supervisor", "alice")
    sub = Subscription.objects.create(user=alice, min_priority="high")
    sub.channels.add(email_channel)
    alert = make_alert(asset=make_asset(), priority="high", message="Oven too hot")
    dispatch.dispatch_events()
    send_all()
    (mail,) = smtp.wait_for(1)
    text = mail.part("text/plain")
    ack = re.search(r"^Acknowledge \(after login, with a note\): (\S+)\r?$", text, re.M).group(1)
    open_ = re.search(r"^Open the alert: (\S+)\r?$", text, re.M).group(1)
    assert ack.startswith(django_settings.SITE_URL)
    assert open_.startswith(django_settings.SITE_URL)
    return {"alert": alert, "alice": alice, "ack": urlsplit(ack).path, "open": urlsplit(open_).path}


def log_in(username: str, next_path: str = "") -> Client:
    """A browser that logged in on the login page (as a person does, not forced)."""
    client = Client()
    url = reverse("login") + (f"?next={next_path}" if next_path else "")
    response = client.post(url, {"username": username, "password": PASSWORD, "next": next_path})
    assert response.status_code == 302, response.content[:500]
    return client


def acknowledged(alert: Alert) -> bool:
    return alert.events.filter(kind="acknowledged").exists()


def test_anonymous_opening_the_acknowledge_link_is_sent_to_log_in_and_nothing_happens(mailed):
    client = Client()
    for response in (client.get(mailed["ack"]), client.post(mailed["ack"], {"note": "x"})):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login") + "?next=")
    assert not acknowledged(mailed["alert"])
    assert Notification.objects.get().ack_used_at is None


def test_the_recipient_acknowledges_with_a_note_after_logging_in(mailed):
    client = log_in("alice", next_path=mailed["ack"])
    page = client.get(mailed["ack"])
    assert page.status_code == 200
    assert b"Acknowledge this alert?" in page.content
    assert b"Oven too hot" in page.content

    response = client.post(mailed["ack"], {"note": "Door was left open, closed it"})
    assert response.status_code == 302
    assert response["Location"] == reverse("notify:alert", args=[mailed["alert"].pk])

    alert = Alert.objects.get(pk=mailed["alert"].pk)
    assert alert.state == "active_ack"
    event = alert.events.get(kind="acknowledged")
    assert (event.user, event.note) == (mailed["alice"], "Door was left open, closed it")
    assert Notification.objects.get().ack_used_at is not None


def test_the_link_works_once(mailed):
    client = log_in("alice")
    client.post(mailed["ack"], {"note": "First"})
    for response in (client.get(mailed["ack"]), client.post(mailed["ack"], {"note": "Again"})):
        assert response.status_code == 410
        assert b"already been used" in response.content
    assert mailed["alert"].events.filter(kind="acknowledged").count() == 1


def test_someone_else_cannot_use_the_link(mailed):
    person("supervisor", "bob")
    client = log_in("bob")
    for response in (client.get(mailed["ack"]), client.post(mailed["ack"], {"note": "Mine"})):
        assert response.status_code == 410
        assert b"sent to someone else" in response.content
    assert not acknowledged(mailed["alert"])


def test_an_expired_link_is_refused(mailed, settings, time_machine):
    settings.NOTIFY_ACK_LINK_MAX_AGE_S = 3600
    client = log_in("alice")
    time_machine.move_to(timezone.now() + timedelta(hours=1, minutes=1))
    for response in (client.get(mailed["ack"]), client.post(mailed["ack"], {"note": "Late"})):
        assert response.status_code == 410
        assert b"expired" in response.content
    assert not acknowledged(mailed["alert"])


def test_a_forged_link_is_refused(mailed):
    client = log_in("alice")
    token = mailed["ack"].rstrip("/").rsplit("/", 1)[1]
    key = Notification.objects.get().key
    forged = [
        token[:-2] + ("AA" if token[-2:] != "AA" else "BB"),  # the signature altered
        signing.dumps(key, compress=True),  # signed, but not as an acknowledge link
        signing.dumps(key, salt=messages.ACK_SALT, key="not-our-secret-key"),
        signing.dumps(key.replace("user:", "user:9"), salt=messages.ACK_SALT),  # no such one
    ]
    for bad in forged:
        url = reverse("notify:acknowledge", args=[bad])
        for response in (client.get(url), client.post(url, {"note": "Forged"})):
            assert response.status_code == 410, bad
            assert b"not valid" in response.content
    assert not acknowledged(mailed["alert"])


def test_open_the_alert_lands_after_login_on_its_inbox_entry(mailed):
    alert_id = mailed["alert"].pk
    assert mailed["open"] == f"/alerts/{alert_id}/"
    anonymous = Client().get(mailed["open"])
    assert anonymous.status_code == 302
    login_url = anonymous["Location"]
    assert login_url == f"{reverse('login')}?next=/alerts/{alert_id}/"

    client = Client()
    response = client.post(login_url, {"username": "alice", "password": PASSWORD})
    assert (response.status_code, response["Location"]) == (302, f"/alerts/{alert_id}/")
    landed = client.get(response["Location"])
    assert landed.status_code == 302
    assert landed["Location"] == f"/alerts/?focus={alert_id}#alert-{alert_id}"

    inbox = client.get(landed["Location"].split("#")[0])
    assert inbox.status_code == 200
    tag = re.search(rf'<li\b[^>]*\bid="alert-{alert_id}"[^>]*>', inbox.content.decode())
    assert tag is not None
    assert "alert-focus" in re.search(r'class="([^"]*)"', tag.group(0)).group(1).split()
