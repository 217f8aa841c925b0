"""Daily and per-shift digests: one e-mail per subscription and period of what is open, due
and lost on the subscription's lines (`digest_content`).

`send_due_digests` runs every minute (beat). A daily digest is due once the site's local time
has passed the subscription's `send_at` that day, and covers the day before. A shift digest
is due once a shift of the subscribed lines has ended (until SHIFT_GRACE after), and covers
that shift; lines whose shifts start and end together share one digest. Each digest is a
`Notification` keyed by its period, subscription and recipient
(`digest:daily:2026-11-23:sub7/user:5/channel:1`, `digest:shift:2026-11-23T06:00-14:00:…`),
so however often this runs each one is recorded, and sent, once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Case, IntegerField, Value, When
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.translation import gettext, ngettext_lazy, pgettext

from plantops.assets.models import Line
from plantops.core.time import datetime_to_us, us_to_datetime
from plantops.notify import dispatch, messages, selectors
from plantops.notify.digest_content import Section, digest_sections
from plantops.notify.models import (
    Channel,
    ChannelKind,
    DigestFrequency,
    DigestSubscription,
    Notification,
    NotificationKind,
)
from plantops.oee.events import line_plan

log = logging.getLogger(__name__)

# A shift that ended longer ago than this gets no digest any more: the beat was stopped, or
# the subscription is new, and a pile of stale digests would help nobody.
SHIFT_GRACE = timedelta(hours=2)
WHY = "your digest subscription"


@dataclass(frozen=True)
class Period:
    """One digest's period: what it covers, on which lines, and how its key names it; a
    shift's period has the names of its shifts."""

    id: str
    start: datetime
    end: datetime
    lines: list[Line]
    tz: ZoneInfo
    shifts: tuple[str, ...] = ()

    @property
    def title(self) -> str:
        """ "Monday 23 November 2026", or "Early shift, Mon 23 Nov 2026 06:00–14:00 CET": in
        the active language, with its day and month names and its order of a date."""
        start, end = self.start.astimezone(self.tz), self.end.astimezone(self.tz)
        if not self.shifts:
            # Translators: a date in Django's date format (l: weekday, d: day, F: month).
            return dateformat.format(start, pgettext("a digest's day", "l d F Y"))
        return gettext("%(shift)s shift, %(start)s–%(end)s %(zone)s") % {
            "shift": " / ".join(self.shifts),
            # Translators: a date and time in Django's date format (D: weekday, M: month).
            "start": dateformat.format(start, pgettext("a shift's start", "D d M Y H:i")),
            "end": f"{end:%H:%M}",
            "zone": end.tzname(),
        }


def send_due_digests(*, now: datetime | None = None) -> int:
    """Record and queue every digest whose time has come and that was not recorded before;
    return how many were recorded."""
    now = now or timezone.now()
    subscriptions = (
        DigestSubscription.objects.filter(enabled=True, user__is_active=True)
        .exclude(user__email="")
        .select_related("user")
        .prefetch_related("lines__area__site")
        .order_by("pk")
    )
    channel = None
    recorded = 0
    for subscription in subscriptions:
        channel = channel or mail_channel()
        if channel is None:
            log.error("digests are due and no e-mail channel is enabled to send them")
            return recorded
        try:
            recorded += _send_subscription(subscription, channel, now)
        except Exception:
            # One subscription's trouble (a line with a broken calendar) must not hold back
            # everyone else's digest; it is tried again at the next beat.
            log.exception("could not make the digests of subscription %s", subscription.pk)
    return recorded


def mail_channel() -> Channel | None:
    """The enabled e-mail channel digests go by: one that is not failing, if there is one."""
    failing_last = Case(
        When(failing_since__isnull=True, then=Value(0)),
        default=Value(1),
        output_field=IntegerField(),
    )
    return (
        Channel.objects.filter(kind=ChannelKind.EMAIL, enabled=True)
        .order_by(failing_last, "pk")
        .first()
    )


def _send_subscription(subscription: DigestSubscription, channel: Channel, now: datetime) -> int:
    user = subscription.user
    recipient = selectors.Recipient(channel, user, user.email, WHY)
    recorded = 0
    for period in due_periods(subscription, now):
        key = f"digest:{subscription.frequency}:{period.id}:sub{subscription.pk}/{recipient.key}"
        # Every beat after the time has come finds the digest recorded: skip the reading.
        if Notification.objects.filter(key=key).exists():
            continue
        text = digest_text(subscription, period, now=now)
        with transaction.atomic():
            pk = dispatch.record(key, NotificationKind.DIGEST, recipient, text, tier=0)
            if pk is not None:
                dispatch.queue([pk])
                recorded += 1
    return recorded


def subscribed_lines(subscription: DigestSubscription) -> list[Line]:
    """The subscription's lines, or every line when it names none, in floor order."""
    lines = list(subscription.lines.all())
    if not lines:
        lines = list(Line.objects.select_related("area__site"))
    return sorted(lines, key=lambda line: (line.position, line.name, line.pk))


def due_periods(subscription: DigestSubscription, now: datetime) -> list[Period]:
    """The periods whose digest is due at `now` (recorded or not)."""
    lines = subscribed_lines(subscription)
    if not lines:
        return []
    if subscription.frequency == DigestFrequency.SHIFT:
        return ended_shifts(lines, now)
    daily = day_due(lines, subscription.send_at, now)
    return [] if daily is None else [daily]


def _midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz)


def day_due(lines: list[Line], send_at: time, now: datetime) -> Period | None:
    """Yesterday, in the zone of the first line's site, once today's `send_at` has passed."""
    tz = ZoneInfo(lines[0].area.site.timezone)
    today = now.astimezone(tz)
    if today.time() < send_at:
        return None
    day = today.date() - timedelta(days=1)
    return Period(
        id=day.isoformat(),
        start=_midnight(day, tz),
        end=_midnight(day + timedelta(days=1), tz),
        lines=lines,
        tz=tz,
    )


def ended_shifts(lines: list[Line], now: datetime) -> list[Period]:
    """The shifts of `lines` that ended within SHIFT_GRACE before `now`; shifts of several
    lines with the same start and end are one period of those lines."""
    now_us = datetime_to_us(now)
    since_us = datetime_to_us(now - SHIFT_GRACE)
    ended: dict[tuple[int, int], tuple[list[str], list[Line]]] = {}
    for line in lines:
        for shift in line_plan(line).shifts(since_us, now_us):
            if since_us < shift.end_us <= now_us:
                names, shift_lines = ended.setdefault((shift.start_us, shift.end_us), ([], []))
                if shift.name not in names:
                    names.append(shift.name)
                if line not in shift_lines:
                    shift_lines.append(line)
    periods = []
    for (start_us, end_us), (names, shift_lines) in sorted(ended.items()):
        tz = ZoneInfo(shift_lines[0].area.site.timezone)
        start, end = us_to_datetime(start_us), us_to_datetime(end_us)
        local_start, local_end = start.astimezone(tz), end.astimezone(tz)
        periods.append(
            Period(
                id=f"{local_start:%Y-%m-%dT%H:%M}-{local_end:%H:%M}",
                start=start,
                end=end,
                lines=shift_lines,
                tz=tz,
                shifts=tuple(names),
            )
        )
    return periods


def digest_text(
    subscription: DigestSubscription, period: Period, *, now: datetime
) -> messages.Text:
    """The digest's subject, plain text and HTML: its sections as the user may see them, in
    the site's language."""
    with messages.in_site_language():
        return _digest_text(subscription, period, now=now)


def _digest_text(
    subscription: DigestSubscription, period: Period, *, now: datetime
) -> messages.Text:
    sections = digest_sections(
        user=subscription.user,
        lines=period.lines,
        start=period.start,
        end=period.end,
        now=now,
        tz=period.tz,
    )
    daily = subscription.frequency == DigestFrequency.DAILY
    every_line = not subscription.lines.all()
    line_names = ", ".join(line.name for line in period.lines)
    title = period.title
    subject = (
        gettext("[PlantOps] Daily digest for %(period)s") % {"period": title}
        if daily
        else gettext("[PlantOps] Digest of the %(period)s") % {"period": title}
    )
    if not every_line and len(period.lines) <= 3:
        subject += f" — {line_names}"
    link = messages.absolute(reverse("alerts-inbox"))
    context = {
        "daily": daily,
        "period": title,
        "lines": line_names,
        "every_line": every_line,
        "zone": period.tz.key,
        "now": messages.local(now, period.tz),
        "sections": sections,
        "counts": _counts(sections),
        "link": link,
        "settings_link": messages.absolute(reverse("notify:subscriptions")),
    }
    data = {
        "type": "digest",
        "frequency": subscription.frequency,
        "period_start": period.start.astimezone(period.tz).isoformat(),
        "period_end": period.end.astimezone(period.tz).isoformat(),
        "lines": [line.name for line in period.lines],
        "link": link,
    }
    return messages.Text(
        subject=subject[:300],
        text=render_to_string("notify/digest.txt", context),
        html=render_to_string("notify/digest_email.html", context),
        data=data,
        link=link,
    )


COUNTED = {
    "alerts": ngettext_lazy("%(count)s open alert", "%(count)s open alerts", "count"),
    "predictions": ngettext_lazy(
        "%(count)s predicted failure", "%(count)s predicted failures", "count"
    ),
    "work": ngettext_lazy("%(count)s overdue work order", "%(count)s overdue work orders", "count"),
}


def _counts(sections: list[Section]) -> str:
    """ "3 open alerts · 1 predicted failure · 0 overdue work orders": the headline of what
    the reader may see."""
    parts = []
    for section in sections:
        if section.key in COUNTED and not section.hidden:
            parts.append(COUNTED[section.key] % {"count": section.total})
    return " · ".join(parts)
