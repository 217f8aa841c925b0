"""Reads: who is to be told of an alert on a line, and how the channels are doing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, Q
from django.utils import timezone

from plantops.assets.models import Line
from plantops.core.time import datetime_to_us
from plantops.notify import rules
from plantops.notify.models import (
    NOT_SENT,
    Channel,
    ChannelKind,
    Contact,
    EscalationPolicy,
    Notification,
    OnCall,
    RoutingRule,
    Subscription,
    Team,
    TeamShift,
)
from plantops.oee.events import line_plan

VIEW_ALERTS = "alerts.view_alert"


@dataclass(frozen=True, slots=True)
class Recipient:
    """One message's destination: a user on a personal channel, or a room channel (no user)."""

    channel: Channel
    user: Any | None
    address: str
    why: str

    @property
    def key(self) -> str:
        who = f"user:{self.user.pk}" if self.user is not None else "room"
        return f"{who}/channel:{self.channel.pk}"


def _covers(lines: set[int], areas: set[int], line: Line) -> bool:
    return (not lines and not areas) or line.pk in lines or line.area_id in areas


def people_on_duty(team: Team, line: Line, at: datetime) -> tuple[list[Any], str]:
    """Who of `team` answers for `line` at `at`, and why: the people of the line's shift
    running then, else those on call then, else every member. Only active users count: a
    rota left naming only people who have gone falls through to the next."""
    at_us = datetime_to_us(at)
    active = get_user_model().objects.filter(is_active=True).order_by("pk")
    running = {shift.name for shift in line_plan(line).shifts(at_us, at_us + 1)}
    if running:
        rota = TeamShift.objects.filter(team=team, shift__line=line, shift__name__in=running)
        people = list(active.filter(pk__in=rota.values("people")))
        if people:
            return people, "on shift"
    on_call = OnCall.objects.filter(team=team, starts_at__lte=at, ends_at__gt=at)
    people = list(active.filter(pk__in=on_call.values("user")))
    if people:
        return people, "on call"
    return list(team.members.order_by("pk")), "team member"


def _address(channel: Channel, user: Any, contacts: dict[tuple[int, int], str]) -> str:
    own = contacts.get((user.pk, channel.pk))
    if own:
        return own
    return user.email if channel.kind == ChannelKind.EMAIL else ""


def _may_see(user: Any) -> bool:
    return user.is_active and user.has_perm(VIEW_ALERTS)


def recipients(line: Line, *, priority: str, at: datetime, tier: int) -> list[Recipient]:
    """Everyone to be told at `tier` of an alert of `priority` raised on `line` at `at`.

    Tier 1 also takes the users' own subscriptions (within their quiet hours only what they
    let through); routing rules of the tier reach their team's people on duty by the team's
    channels, and post once to their rooms. One recipient per (user, channel) or room."""
    found: dict[str, Recipient] = {}
    users_contacts = {(c.user_id, c.channel_id): c.address for c in Contact.objects.all()}
    local = at.astimezone(line_plan(line).tz).time()

    def add(channel: Channel, user: Any | None, why: str) -> None:
        if not channel.enabled:
            return
        if user is None:
            if channel.personal:
                return
            found.setdefault(f"room/channel:{channel.pk}", Recipient(channel, None, "", why))
            return
        if not channel.personal or not _may_see(user):
            return
        address = _address(channel, user, users_contacts)
        if address:
            recipient = Recipient(channel, user, address, why)
            found.setdefault(recipient.key, recipient)

    if tier == 1:
        subscriptions = (
            Subscription.objects.filter(enabled=True, user__is_active=True)
            .select_related("user")
            .prefetch_related("lines", "areas", "channels")
        )
        for sub in subscriptions:
            if not rules.at_least(priority, sub.min_priority):
                continue
            lines = {x.pk for x in sub.lines.all()}
            areas = {x.pk for x in sub.areas.all()}
            if not _covers(lines, areas, line):
                continue
            if rules.quiet_blocks(
                local,
                sub.quiet_start,
                sub.quiet_end,
                priority=priority,
                allows_critical=sub.quiet_allows_critical,
            ):
                continue
            for channel in sub.channels.all():
                add(channel, sub.user, "your subscription")
    for rule in routing_rules(line, priority=priority, tier=tier):
        if rule.team is not None:
            people, duty = people_on_duty(rule.team, line, at)
            for channel in rule.team.channels.all():
                for person in people:
                    add(channel, person, f"{rule.name} ({rule.team.name}, {duty})")
        for channel in rule.channels.all():
            add(channel, None, rule.name)
    return list(found.values())


def routing_rules(line: Line, *, priority: str, tier: int) -> list[RoutingRule]:
    candidates = (
        RoutingRule.objects.filter(enabled=True, tier=tier)
        .select_related("team")
        .prefetch_related("lines", "areas", "channels", "team__channels")
    )
    return [
        rule
        for rule in candidates
        if rules.at_least(priority, rule.min_priority)
        and _covers({x.pk for x in rule.lines.all()}, {x.pk for x in rule.areas.all()}, line)
    ]


def highest_tier(priority: str) -> int:
    """The highest tier any enabled routing rule names for this priority (1 if none)."""
    tiers = [
        rule.tier
        for rule in RoutingRule.objects.filter(enabled=True)
        if rules.at_least(priority, rule.min_priority)
    ]
    return max(tiers, default=1)


def escalation_steps() -> dict[str, int]:
    """Minutes per tier, by priority; a priority not listed does not escalate."""
    return dict(EscalationPolicy.objects.values_list("priority", "step_minutes"))


def channel_health() -> list[dict[str, Any]]:
    """Each channel with its state and the last day's sent and failed tries (a message not
    sent because nobody needed it any more is neither)."""
    since = timezone.now() - timedelta(days=1)
    tried = Q(notifications__delivery_attempts__started_at__gte=since) & ~Q(
        notifications__delivery_attempts__answer__startswith=NOT_SENT
    )
    channels = Channel.objects.order_by("name").annotate(
        sent=Count(
            "notifications__delivery_attempts",
            filter=tried & Q(notifications__delivery_attempts__ok=True),
        ),
        failed=Count(
            "notifications__delivery_attempts",
            filter=tried & Q(notifications__delivery_attempts__ok=False),
        ),
    )
    return [
        {
            "channel": channel,
            "failing": channel.failing_since is not None,
            "sent": channel.sent,
            "failed": channel.failed,
        }
        for channel in channels
    ]


def notifications_of(user: Any, *, limit: int = 50) -> list[Notification]:
    """A user's own latest notifications (their page)."""
    return list(
        Notification.objects.filter(user=user).select_related("channel").order_by("-id")[:limit]
    )
