"""The words of a notification: subject, plain text, HTML and the webhook's JSON.

Written once, when the notification is recorded (before sending), so every attempt sends the
same message. Times are in the site's time zone and say which; links are absolute
(`SITE_URL`) and land, after login, on the alert's inbox entry. The words are in the site's
language (`in_site_language`), whichever language the request or task that writes them has.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core import signing
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from plantops.alerts.models import Alert, AlertEvent
from plantops.alerts.selectors import PRIORITY_LABELS
from plantops.assets.models import Line
from plantops.assets.selectors import plant_zone

ACK_SALT = "plantops.notify.ack"


@dataclass(frozen=True, slots=True)
class Text:
    subject: str
    text: str
    html: str
    data: dict[str, Any]
    link: str


def site_language() -> str:
    """The language notifications are written in: the site's (`LANGUAGE_CODE`). A message is
    written once for every recipient, by a task or by whoever's request raised the alert, so
    neither the browser's language nor the cookie of that request may choose it."""
    return settings.LANGUAGE_CODE


def in_site_language() -> translation.override:
    """Write what follows (gettext, templates, numbers, month names) in the site's language."""
    return translation.override(site_language())


def alert_title(alert: Alert) -> str:
    """The alert's own message, else "<rule> on <asset>" (in the active language)."""
    return alert.message or gettext("%(rule)s on %(asset)s") % {
        "rule": alert.rule.name,
        "asset": alert.asset.name,
    }


def priority_label(priority: str) -> str:
    """ "CRITICAL", "HIGH", … in the active language."""
    label = PRIORITY_LABELS.get(priority)
    return str(label) if label is not None else priority.upper()


def local(at: datetime, tz: ZoneInfo) -> str:
    """'2026-12-03 14:05 CET' in the site's zone."""
    moment = at.astimezone(tz)
    return f"{moment:%Y-%m-%d %H:%M} {moment.tzname()}"


def site_zone(line: Line) -> ZoneInfo:
    return ZoneInfo(line.area.site.timezone)


def absolute(path: str) -> str:
    return settings.SITE_URL + path


def ack_url(key: str) -> str:
    """The signed acknowledge link of the notification with this key (URL-safe, no '/')."""
    token = signing.dumps(key, salt=ACK_SALT, compress=True)
    return absolute(reverse("notify:acknowledge", args=[token]))


def ack_key(token: str) -> str:
    """The notification key an acknowledge link was made for; raises `signing.BadSignature`
    (or its `SignatureExpired`) for a forged or expired link."""
    return signing.loads(token, salt=ACK_SALT, max_age=settings.NOTIFY_ACK_LINK_MAX_AGE_S)


def alert_text(
    alert: Alert, event: AlertEvent, *, tier: int, escalated: bool, ack_url: str
) -> Text:
    """A message about one alert: what, where, how urgent, since when, and the two links."""
    with in_site_language():
        return _alert_text(alert, event, tier=tier, escalated=escalated, ack_url=ack_url)


def _alert_text(
    alert: Alert, event: AlertEvent, *, tier: int, escalated: bool, ack_url: str
) -> Text:
    line = alert.asset.line
    tz = site_zone(line)
    link = absolute(reverse("notify:alert", args=[alert.pk]))
    title = alert_title(alert)
    words = {"priority": priority_label(alert.priority), "title": title, "line": line.name}
    if escalated:
        subject = gettext("[%(priority)s] Escalated (tier %(tier)s): %(title)s — %(line)s") % (
            words | {"tier": tier}
        )
    else:
        subject = gettext("[%(priority)s] %(title)s — %(line)s") % words
    context = {
        "title": title,
        "priority": alert.priority,
        "priority_label": words["priority"],
        "escalated": escalated,
        "tier": tier,
        "asset": alert.asset.name,
        "line": line.name,
        "area": line.area.name,
        "site": line.area.site.name,
        "rule": alert.rule.name,
        "raised_at": local(event.at, tz),
        "value": alert.value,
        "unit": alert.signal.unit if alert.signal_id else "",
        "link": link,
        "ack_url": ack_url,
    }
    text = render_to_string("notify/alert.txt", context)
    html = render_to_string("notify/alert_email.html", context)
    data = {
        "type": "alert.escalated" if escalated else "alert.raised",
        "alert_id": alert.pk,
        "event_id": event.pk,
        "title": title,
        "priority": alert.priority,
        "tier": tier,
        "asset": alert.asset.name,
        "line": line.name,
        "site": line.area.site.name,
        "raised_at": event.at.astimezone(tz).isoformat(),
        "value": alert.value,
        "unit": alert.signal.unit if alert.signal_id else "",
        "link": link,
    }
    return Text(subject=subject, text=text, html=html, data=data, link=link)


def flood_text(line: Line, *, started_at: datetime, alerts: list[Alert], tier: int) -> Text:
    """One summary for a line in an alarm flood, instead of a message per alert."""
    with in_site_language():
        return _flood_text(line, started_at=started_at, alerts=alerts, tier=tier)


def _flood_text(line: Line, *, started_at: datetime, alerts: list[Alert], tier: int) -> Text:
    tz = site_zone(line)
    link = absolute(reverse("alerts-inbox") + f"?line={line.pk}")
    # A flood is more than ten alerts: never one.
    subject = gettext("[FLOOD] %(count)s alerts on %(line)s since %(since)s") % {
        "count": len(alerts),
        "line": line.name,
        "since": local(started_at, tz),
    }
    shown = alerts[:10]
    context = {
        "line": line.name,
        "site": line.area.site.name,
        "started_at": local(started_at, tz),
        "count": len(alerts),
        "alerts": [
            {
                "title": alert_title(a),
                "priority": a.priority,
                "priority_label": priority_label(a.priority),
                "asset": a.asset.name,
            }
            for a in shown
        ],
        "more": len(alerts) - len(shown),
        "tier": tier,
        "link": link,
    }
    data = {
        "type": "alert.flood",
        "line": line.name,
        "site": line.area.site.name,
        "started_at": started_at.astimezone(tz).isoformat(),
        "alerts": len(alerts),
        "tier": tier,
        "link": link,
    }
    return Text(
        subject=subject,
        text=render_to_string("notify/flood.txt", context),
        html=render_to_string("notify/flood_email.html", context),
        data=data,
        link=link,
    )


def channel_failing_text(channel: Any) -> Text:
    """To the admins: a channel keeps failing, with its last error and where to look."""
    with in_site_language():
        return _channel_failing_text(channel)


def _channel_failing_text(channel: Any) -> Text:
    link = absolute(reverse("pipeline"))
    context = {
        "channel": channel.name,
        "kind": str(channel.get_kind_display()),
        "failures": channel.consecutive_failures,
        "error": channel.last_error,
        # A channel serves the whole plant: its clock is the plant's site's.
        "since": local(channel.failing_since, plant_zone()),
        "link": link,
    }
    return Text(
        subject=gettext("[PlantOps] Notification channel “%(channel)s” is failing")
        % {"channel": channel.name},
        text=render_to_string("notify/channel_failing.txt", context),
        html="",
        data={"type": "channel.failing", "channel": channel.name, "link": link},
        link=link,
    )
