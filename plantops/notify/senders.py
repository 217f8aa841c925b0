"""Sending one message by one channel: SMTP e-mail, signed webhook, Teams, Slack, apprise.

Each sender returns the provider's answer, or raises `SendFailed` with it; `permanent` says
that trying again cannot help (a refused address, a 4xx from a webhook).

Every message carries its notification's key as an idempotency key: the e-mail's Message-ID,
the webhook's `X-PlantOps-Delivery` header. A send interrupted after the provider took it but
before the worker recorded it is sent again with the same key, so a receiver (and a mail
client, which threads by Message-ID) sees one message.

Webhook signature: `X-PlantOps-Signature: sha256=<hex>` is the HMAC-SHA256, keyed with the
channel's secret, of `<X-PlantOps-Timestamp>.<body>` (the timestamp in epoch seconds), so a
receiver can refuse a replayed or altered body. See docs/notifications.md.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.utils.translation import pgettext

from plantops.notify.messages import in_site_language
from plantops.notify.models import Channel, ChannelKind

TIMEOUT_S = 10.0
ANSWER_MAX = 1000


class SendFailed(Exception):
    def __init__(self, answer: str, *, permanent: bool = False) -> None:
        super().__init__(answer)
        self.answer = answer[:ANSWER_MAX]
        self.permanent = permanent


@dataclass(frozen=True, slots=True)
class Message:
    """What is sent: `key` identifies it for the receiver; `data` is the webhook's body."""

    key: str
    address: str
    subject: str
    text: str
    html: str
    data: dict[str, Any]
    link: str


def message_id(key: str) -> str:
    """The Message-ID of the e-mail for a notification key: the same on every attempt."""
    return f"<{delivery_id(key)}@{settings.NOTIFY_MAIL_DOMAIN}>"


def delivery_id(key: str) -> str:
    """The webhook's `X-PlantOps-Delivery` for a notification key: the same on every attempt."""
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def signature(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def send(channel: Channel, message: Message) -> str:
    """Send `message` by `channel`; return the provider's answer or raise `SendFailed`."""
    if channel.kind == ChannelKind.EMAIL:
        return _email(message)
    if channel.kind == ChannelKind.WEBHOOK:
        return _webhook(channel, message)
    if channel.kind == ChannelKind.TEAMS:
        return _post_json(channel.url, teams_body(message), {})
    if channel.kind == ChannelKind.SLACK:
        return _post_json(channel.url, slack_body(message), {})
    if channel.kind == ChannelKind.APPRISE:
        return _apprise(channel, message)
    raise SendFailed(f"unknown channel kind {channel.kind!r}", permanent=True)


def _email(message: Message) -> str:
    if not message.address:
        raise SendFailed("the recipient has no e-mail address", permanent=True)
    mail = EmailMultiAlternatives(
        subject=message.subject,
        body=message.text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.address],
        headers={"Message-ID": message_id(message.key), "Auto-Submitted": "auto-generated"},
        connection=get_connection(timeout=TIMEOUT_S),
    )
    if message.html:
        mail.attach_alternative(message.html, "text/html")
    try:
        mail.send()
    except Exception as error:
        code = getattr(error, "smtp_code", None)
        # 5xx from the server (a refused address or message) will not pass on a retry.
        permanent = isinstance(code, int) and 500 <= code < 600
        raise SendFailed(f"{type(error).__name__}: {error}", permanent=permanent) from error
    where = (
        f"{settings.EMAIL_HOST}:{settings.EMAIL_PORT}"
        if settings.EMAIL_BACKEND.endswith("smtp.EmailBackend")
        else settings.EMAIL_BACKEND.rsplit(".", 2)[-2]
    )
    return f"accepted by {where} as {message_id(message.key)}"


def _webhook(channel: Channel, message: Message) -> str:
    body = json.dumps(message.data, separators=(",", ":"), sort_keys=True).encode()
    timestamp = str(int(time.time()))
    headers = {
        "X-PlantOps-Delivery": delivery_id(message.key),
        "X-PlantOps-Timestamp": timestamp,
        "X-PlantOps-Signature": signature(channel.secret, timestamp, body),
    }
    return _post(channel.url, body, headers)


def _post_json(url: str, data: dict[str, Any], headers: dict[str, str]) -> str:
    return _post(url, json.dumps(data).encode(), headers)


def _post(url: str, body: bytes, headers: dict[str, str]) -> str:
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": "PlantOps", **headers},
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
            answer = response.read(ANSWER_MAX).decode("utf-8", "replace")
            return f"HTTP {response.status} {answer}".strip()
    except urllib.error.HTTPError as error:
        answer = error.read(ANSWER_MAX).decode("utf-8", "replace")
        # 408 and 429 ask us to come back; any other 4xx will not change on a retry.
        permanent = 400 <= error.code < 500 and error.code not in (408, 429)
        raise SendFailed(f"HTTP {error.code} {answer}".strip(), permanent=permanent) from error
    except (urllib.error.URLError, OSError) as error:
        raise SendFailed(f"{type(error).__name__}: {error}") from error


def _apprise(channel: Channel, message: Message) -> str:
    import apprise

    url = channel.url
    if "{address}" in url:
        if not message.address:
            raise SendFailed("the recipient has no address for this channel", permanent=True)
        url = url.replace("{address}", message.address)
    sender = apprise.Apprise()
    if not sender.add(url):
        raise SendFailed("apprise does not understand the channel's URL", permanent=True)
    body = f"{message.text}\n\n{message.link}" if message.link else message.text
    if not sender.notify(title=message.subject, body=body):
        raise SendFailed("apprise: the service did not accept the message")
    return "accepted (apprise)"


def open_word() -> str:
    """The word on a chat message's link button, in the site's language like its text."""
    with in_site_language():
        return pgettext("a button opening a notification's link", "Open")


def teams_body(message: Message) -> dict[str, Any]:
    """An Adaptive Card, as Teams' incoming webhooks (and Workflows) take it."""
    card: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": [
            {"type": "TextBlock", "text": message.subject, "weight": "Bolder", "wrap": True},
            {"type": "TextBlock", "text": message.text, "wrap": True},
        ],
    }
    if message.link:
        card["actions"] = [{"type": "Action.OpenUrl", "title": open_word(), "url": message.link}]
    return {
        "type": "message",
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "content": card}
        ],
    }


def slack_body(message: Message) -> dict[str, Any]:
    """Slack's incoming-webhook JSON: a fallback text and blocks."""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": message.subject[:150]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": message.text[:3000]}},
    ]
    if message.link:
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": open_word()},
                        "url": message.link,
                    }
                ],
            }
        )
    return {"text": message.subject, "blocks": blocks}
