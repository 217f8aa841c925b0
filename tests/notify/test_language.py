"""Notifications are written in the site's language (`LANGUAGE_CODE`), read from the messages
the real SMTP server and webhook receiver got: an alert e-mail and a daily digest for a
German-speaking site are German in their subject and both parts, with German numbers and
dates, and a chat message's button too, whatever language the request or task that wrote them
had active; an English site's stay English."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from django.utils import translation

from plantops.notify import dispatch, senders
from plantops.notify.digests import send_due_digests
from plantops.notify.models import Channel, ChannelKind, DigestSubscription, Subscription
from tests.factories import make_alert, make_asset
from tests.notify.builders import person, send_all
from tests.notify.test_digest import BERLIN, moments, press_line, run_the_shift, shown, subscriber

pytestmark = pytest.mark.django_db

WEEKDAYS = ["Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"]
MONTHS = [
    "Januar",
    "Februar",
    "März",
    "April",
    "Mai",
    "Juni",
    "Juli",
    "August",
    "September",
    "Oktober",
    "November",
    "Dezember",
]


def alert_mailed(smtp, email_channel, *, written_in: str):
    """A high alert of 9.25 mm/s mailed to Alice, raised and dispatched while `written_in` is
    the active language (the language of whoever's request raised it)."""
    alice = person("supervisor", "alice")
    subscription = Subscription.objects.create(user=alice, min_priority="high")
    subscription.channels.add(email_channel)
    with translation.override(written_in):
        alert = make_alert(asset=make_asset(), priority="high", message="Oven hot", value=9.25)
        dispatch.dispatch_events()
    send_all()
    (mail,) = smtp.wait_for(1)
    return alert, mail


def test_an_alert_mail_for_a_german_site_is_german(settings, smtp, email_channel):
    settings.LANGUAGE_CODE = "de"

    alert, mail = alert_mailed(smtp, email_channel, written_in="es")

    assert mail.subject == f"[HOCH] Oven hot — {alert.asset.line.name}"
    text = mail.part("text/plain")
    for words in (
        "Priorität:  HOCH",
        "Anlage:     ",
        "Wert:     9,25 mm/s",
        "Alarm öffnen: http",
        "Quittieren (nach der Anmeldung, mit einer Notiz): http",
        "aufgrund Ihres Abonnements",
    ):
        assert words in text, words
    assert "Open the alert" not in text
    html = mail.part("text/html")
    assert '<html lang="de">' in html
    page = shown(html)
    for words in ("HOCH", "Anlage", "9,25 mm/s", "Alarm öffnen", "Quittieren…"):
        assert words in page, words
    assert "Acknowledge" not in page


def test_an_english_site_mails_in_english_whatever_language_the_writer_speaks(
    settings, smtp, email_channel
):
    settings.LANGUAGE_CODE = "en"

    alert, mail = alert_mailed(smtp, email_channel, written_in="de")

    assert mail.subject == f"[HIGH] Oven hot — {alert.asset.line.name}"
    text = mail.part("text/plain")
    assert "Priority:  HIGH" in text
    assert "Value:     9.25 mm/s" in text
    assert "Open the alert: http" in text
    assert '<html lang="en">' in mail.part("text/html")


def test_a_daily_digest_for_a_german_site_is_german(settings, smtp, email_channel):
    settings.LANGUAGE_CODE = "de"
    press = press_line()
    _, after = moments()
    yesterday = after.astimezone(BERLIN).date() - timedelta(days=1)
    run_the_shift(press, yesterday)
    DigestSubscription.objects.create(user=subscriber(), frequency="daily", send_at=time(6))

    with translation.override("en"):
        assert send_due_digests(now=after) == 1
    send_all()
    (mail,) = smtp.wait_for(1)

    day = f"{WEEKDAYS[yesterday.weekday()]}, {yesterday.day}. {MONTHS[yesterday.month - 1]}"
    assert mail.subject == f"[PlantOps] Tageszusammenfassung für {day} {yesterday.year}"
    for part in (mail.part("text/plain"), shown(mail.part("text/html"))):
        for words in (
            "Tageszusammenfassung",
            "Zeiten in Europe/Berlin",
            "0 offene Alarme · 0 prognostizierte Ausfälle · 0 überfällige Arbeitsaufträge",
            "Auf diesen Linien ist kein Alarm offen.",
            "Keine vorbeugende Arbeit ist überfällig.",
            "OEE 77,8 %",
            "Ziel 85,0 %",
            "Störungen",
            "Größte Verluste:",
        ):
            assert words in part, words
        assert "Open alerts" not in part
        assert "target" not in part


@pytest.mark.parametrize(("language", "button"), [("de", "Öffnen"), ("en", "Open")])
def test_a_chat_message_s_button_is_in_the_site_s_language(settings, webhook, language, button):
    settings.LANGUAGE_CODE = language
    room = Channel(name="Room", kind=ChannelKind.SLACK, url=webhook.url)
    message = senders.Message(
        key="event:7/room/channel:2",
        address="",
        subject="[HOCH] Oven hot — Line 1",
        text="Oven hot",
        html="",
        data={},
        link="http://plant.example/alerts/7/",
    )

    with translation.override("es"):
        senders.send(room, message)

    (hook,) = webhook.wait_for(1)
    (actions,) = [block for block in hook.json["blocks"] if block["type"] == "actions"]
    assert actions["elements"][0]["text"]["text"] == button
