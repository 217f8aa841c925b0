"""Small builders for the notification tests: people with addresses, lines of one area, teams,
and sending what dispatch recorded."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import User

from plantops.assets.models import Area, Asset, Line, Signal
from plantops.notify import sending
from plantops.notify.models import Channel, Notification, NotificationStatus, Team
from tests.factories import make_user

TO_SEND = [NotificationStatus.PENDING, NotificationStatus.RETRYING]


def person(role: str | None, username: str, *, active: bool = True, **options) -> User:
    """A user in `role` with the e-mail address `<username>@example.com`."""
    user = make_user(role=role, username=username, **options)
    user.email = f"{username}@example.com"
    user.is_active = active
    user.save(update_fields=["email", "is_active"])
    return user


def line_in(area: Area, name: str) -> Line:
    return Line.objects.create(area=area, slug=name.lower().replace(" ", "-"), name=name)


def asset_on(line: Line, *, signals: Iterable[str] = ("vibration",)) -> Asset:
    """An asset on `line` with the named signals (mm/s, range 0–7.1)."""
    n = Asset.objects.count() + 1
    asset = Asset.objects.create(line=line, slug=f"{line.slug}-asset-{n}", name=f"Asset {n}")
    for slug in signals:
        Signal.objects.create(
            asset=asset,
            slug=slug,
            name=slug.title(),
            unit="mm/s",
            expected_min=0.0,
            expected_max=7.1,
            sampling_interval_s=1.0,
        )
    return asset


def team(name: str, *, members: Iterable[User] = (), channels: Iterable[Channel] = ()) -> Team:
    crew = Team.objects.create(name=name)
    crew.members.set(members)
    crew.channels.set(channels)
    return crew


def send_all() -> dict[int, str]:
    """Send every notification waiting to be sent, oldest first; return the outcome of each."""
    pks = (
        Notification.objects.filter(status__in=TO_SEND).order_by("pk").values_list("pk", flat=True)
    )
    return {pk: sending.send_notification(pk) for pk in list(pks)}


def addressed_to(mails) -> list[str]:
    """The envelope recipients of the mails, sorted."""
    return sorted(to for mail in mails for to in mail.envelope_to)
