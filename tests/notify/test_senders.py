"""Each kind of channel, sending to a real receiver: Teams' and Slack's incoming-webhook
shapes, the signed webhook, and apprise (its JSON and ntfy services) with a user's address."""

from __future__ import annotations

import pytest

from plantops.notify import senders
from plantops.notify.models import Channel, ChannelKind

MESSAGE = senders.Message(
    key="event:7/user:3/channel:2",
    address="",
    subject="[CRITICAL] Press 2 hydraulic pressure high — Press line 1",
    text="Press 2 hydraulic pressure at 212 bar, above 200.",
    html="",
    data={"type": "alert.raised", "alert_id": 7, "priority": "critical"},
    link="http://plant.example/alerts/7/",
)


def channel(kind: str, url: str, secret: str = "") -> Channel:
    return Channel(name=kind, kind=kind, url=url, secret=secret)


def test_the_webhook_is_signed_and_carries_the_delivery_key(webhook):
    answer = senders.send(channel(ChannelKind.WEBHOOK, webhook.url, webhook.secret), MESSAGE)

    (hook,) = webhook.wait_for(1)
    assert answer.startswith("HTTP 200")
    assert hook.signature_ok
    assert hook.json == MESSAGE.data
    assert hook.delivery == senders.delivery_id(MESSAGE.key)


def test_a_wrong_secret_breaks_the_signature(webhook):
    senders.send(channel(ChannelKind.WEBHOOK, webhook.url, "another-secret"), MESSAGE)
    (hook,) = webhook.wait_for(1)
    assert not hook.signature_ok


def test_teams_gets_an_adaptive_card_with_the_link(webhook):
    senders.send(channel(ChannelKind.TEAMS, webhook.url), MESSAGE)
    (hook,) = webhook.wait_for(1)
    attachment = hook.json["attachments"][0]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["body"][0]["text"] == MESSAGE.subject
    assert card["actions"][0]["url"] == MESSAGE.link


def test_slack_gets_blocks_and_a_fallback_text(webhook):
    senders.send(channel(ChannelKind.SLACK, webhook.url), MESSAGE)
    (hook,) = webhook.wait_for(1)
    assert hook.json["text"] == MESSAGE.subject
    assert hook.json["blocks"][1]["text"]["text"] == MESSAGE.text
    assert hook.json["blocks"][2]["elements"][0]["url"] == MESSAGE.link


def test_apprise_json_service_posts_title_and_body(webhook):
    senders.send(channel(ChannelKind.APPRISE, f"json://127.0.0.1:{webhook.port}/hook"), MESSAGE)
    (hook,) = webhook.wait_for(1)
    assert hook.json["title"] == MESSAGE.subject
    assert MESSAGE.text in hook.json["message"]
    assert MESSAGE.link in hook.json["message"]


def test_apprise_ntfy_reaches_the_users_own_topic(webhook):
    personal = channel(ChannelKind.APPRISE, f"ntfy://127.0.0.1:{webhook.port}/{{address}}")
    assert personal.personal
    senders.send(personal, senders.Message(**{**_fields(MESSAGE), "address": "maint-anna"}))
    (hook,) = webhook.wait_for(1)
    assert hook.json["topic"] == "maint-anna"
    assert hook.json["title"] == MESSAGE.subject


def test_a_server_error_is_retried_and_a_refusal_is_not(webhook):
    webhook.status = 503
    with pytest.raises(senders.SendFailed) as retry:
        senders.send(channel(ChannelKind.SLACK, webhook.url), MESSAGE)
    assert not retry.value.permanent
    assert "HTTP 503" in retry.value.answer

    webhook.status = 404
    with pytest.raises(senders.SendFailed) as refused:
        senders.send(channel(ChannelKind.SLACK, webhook.url), MESSAGE)
    assert refused.value.permanent


def test_nobody_listening_is_a_failure_to_retry():
    with pytest.raises(senders.SendFailed) as failed:
        senders.send(channel(ChannelKind.WEBHOOK, "http://127.0.0.1:9/hook", "s"), MESSAGE)
    assert not failed.value.permanent


def test_apprise_refuses_a_url_it_does_not_know():
    with pytest.raises(senders.SendFailed) as failed:
        senders.send(channel(ChannelKind.APPRISE, "nosuchservice://x"), MESSAGE)
    assert failed.value.permanent


def test_mail_keeps_its_message_id_on_every_attempt(smtp):
    mail = senders.Message(
        **{**_fields(MESSAGE), "address": "anna@example.com", "html": "<p>x</p>"}
    )
    senders.send(channel(ChannelKind.EMAIL, ""), mail)
    senders.send(channel(ChannelKind.EMAIL, ""), mail)
    first, second = smtp.wait_for(2)
    assert first.message_id == second.message_id == senders.message_id(MESSAGE.key)
    assert first.part("text/html").strip() == "<p>x</p>"
    assert MESSAGE.text in first.part("text/plain")


def _fields(message: senders.Message) -> dict:
    return {name: getattr(message, name) for name in senders.Message.__slots__}
