"""Real receivers for the notification tests, and the channels pointed at them."""

from __future__ import annotations

import pytest

from plantops.notify.models import Channel, ChannelKind
from tests.notify.receivers import SmtpReceiver, WebhookReceiver


@pytest.fixture
def smtp(settings):
    """A real SMTP server; Django's SMTP backend sends to it."""
    receiver = SmtpReceiver().start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = receiver.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    yield receiver
    receiver.stop()


@pytest.fixture
def webhook():
    receiver = WebhookReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def email_channel(db) -> Channel:
    return Channel.objects.create(name="E-mail", kind=ChannelKind.EMAIL)


@pytest.fixture
def webhook_channel(db, webhook) -> Channel:
    return Channel.objects.create(
        name="Maintenance webhook",
        kind=ChannelKind.WEBHOOK,
        url=webhook.url,
        secret=webhook.secret,
    )
