"""An alert raised by a stored batch reaches a subscriber by real SMTP and a room by a real,
signed webhook; each message once, however often dispatch and send run."""

from __future__ import annotations

import pytest

from plantops.notify import dispatch, sending
from plantops.notify.models import Notification, RoutingRule, Subscription
from tests.factories import make_alert, make_asset, make_user

pytestmark = pytest.mark.django_db


def test_a_raise_is_mailed_and_posted_once(smtp, webhook, email_channel, webhook_channel):
    asset = make_asset()
    user = make_user(role="supervisor")
    user.email = "sup@example.com"
    user.save()
    sub = Subscription.objects.create(user=user, min_priority="high")
    sub.channels.add(email_channel)
    room = RoutingRule.objects.create(name="Critical to maintenance room", min_priority="high")
    room.channels.add(webhook_channel)

    alert = make_alert(asset=asset, priority="high")
    assert dispatch.dispatch_events() == 2
    assert dispatch.dispatch_events() == 0
    for notification in Notification.objects.all():
        assert sending.send_notification(notification.pk) == sending.Outcome.SENT
        assert sending.send_notification(notification.pk) == sending.Outcome.DONE

    mails = smtp.wait_for(1)
    assert len(mails) == 1
    assert mails[0].envelope_to == ["sup@example.com"]
    assert alert.message in mails[0].subject
    assert f"/alerts/{alert.pk}/" in mails[0].part("text/plain")
    hooks = webhook.wait_for(1)
    assert len(hooks) == 1
    assert hooks[0].signature_ok
    assert hooks[0].json["alert_id"] == alert.pk
