"""Writes that make the demo: its plant, alert rules, stores, users, who is notified of what,
and a simulated fleet.

Everything here exists only for the demo (`make demo`) and the tests that use its plant; the
product never imports it. Each seed is idempotent: running it again changes nothing.
"""

from __future__ import annotations

import dataclasses
import functools
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.db import transaction
from django.utils import timezone

from plantops.alerts.models import AlertRule
from plantops.assets.models import Area, Asset, Line, Shift, ShiftBreak, Signal, Site
from plantops.core.roles import MANAGERS, OPERATORS, SUPERVISORS, TECHNICIANS, roles_ensure
from plantops.demo import fleet, maintenance, notifications, plant, rules
from plantops.health.anomaly import DAY_S, AnomalyDetector
from plantops.health.models import FailureMode
from plantops.health.selectors import REGIME_SIGNALS
from plantops.health.training import history_import
from plantops.maintenance.models import Part, PreventiveSchedule
from plantops.notify.models import (
    Channel,
    ChannelKind,
    DigestFrequency,
    DigestSubscription,
    EscalationPolicy,
    RoutingRule,
    Subscription,
    Team,
)
from plantops.simulator.physics import AssetSpec, SignalSpec

USERS = ("admin", "supervisor", "technician", "operator", "manager")
USER_GROUPS = {
    "operator": OPERATORS,
    "supervisor": SUPERVISORS,
    "technician": TECHNICIANS,
    "manager": MANAGERS,
}


@transaction.atomic
def demo_plant_seed() -> Site:
    """Create or update the demo plant: its site, areas, lines, shifts, assets and signals."""
    site_slug, site_name, tz = plant.SITE
    site, _ = Site.objects.update_or_create(
        slug=site_slug, defaults={"name": site_name, "timezone": tz}
    )
    line_position = 0
    for area_slug, area_name, lines in plant.AREAS:
        area, _ = Area.objects.update_or_create(
            site=site, slug=area_slug, defaults={"name": area_name}
        )
        for line_slug, line_name, assets in lines:
            line_position += 1
            line, _ = Line.objects.update_or_create(
                area=area, slug=line_slug, defaults={"name": line_name, "position": line_position}
            )
            for shift_name, start, end, breaks in plant.SHIFTS:
                shift, _ = Shift.objects.update_or_create(
                    line=line,
                    name=shift_name,
                    defaults={"start": start, "end": end, "weekdays": "0123456"},
                )
                shift.breaks.all().delete()
                ShiftBreak.objects.bulk_create(
                    [ShiftBreak(shift=shift, start=b_start, end=b_end) for b_start, b_end in breaks]
                )
            for asset_position, spec in enumerate(assets, start=1):
                asset, _ = Asset.objects.update_or_create(
                    line=line,
                    slug=spec.slug,
                    defaults={
                        "name": spec.name,
                        "asset_type": spec.asset_type,
                        "position": asset_position,
                        "ideal_cycle_time_s": spec.ideal_cycle_time_s,
                    },
                )
                for slug, name, unit, low, high, interval in plant.SIGNALS_BY_TYPE[spec.asset_type]:
                    Signal.objects.update_or_create(
                        asset=asset,
                        slug=slug,
                        defaults={
                            "name": name,
                            "unit": unit,
                            "expected_min": low,
                            "expected_max": high,
                            "sampling_interval_s": interval,
                        },
                    )
    return site


@transaction.atomic
def demo_rules_seed() -> int:
    """Create or update the demo plant's alert rules (by name); return how many there are."""
    demo_rules = rules.demo_rules()
    for rule in demo_rules:
        fields = dataclasses.asdict(rule)
        AlertRule.objects.update_or_create(name=fields.pop("name"), defaults=fields)
    return len(demo_rules)


@transaction.atomic
def demo_stores_seed(*, now: datetime | None = None) -> tuple[int, int]:
    """Create (once) the demo's spare parts and preventive schedules; return their counts."""
    now = now or timezone.now()
    for number, name, unit, stock, reorder_at, location in maintenance.PARTS:
        Part.objects.get_or_create(
            number=number,
            defaults={
                "name": name,
                "unit": unit,
                "stock": stock,
                "reorder_at": reorder_at,
                "location": location,
            },
        )
    calendar_start = now - timedelta(days=maintenance.CALENDAR_STARTED_DAYS_AGO)
    for asset_type, title, meter, interval, lead, checklist, minutes in maintenance.SCHEDULES:
        for asset in Asset.objects.filter(asset_type=asset_type):
            PreventiveSchedule.objects.get_or_create(
                asset=asset,
                title=title,
                defaults={
                    "meter": meter,
                    "interval": interval,
                    "lead": lead,
                    "checklist": checklist,
                    "estimated_minutes": minutes,
                    "starts_at": calendar_start if meter == "calendar" else now,
                },
            )
    return Part.objects.count(), PreventiveSchedule.objects.count()


def demo_users_create(*, credentials: Path) -> dict[str, str]:
    """Create the demo's users once, one per role; return username → password.

    Passwords are kept in `credentials` (readable by its owner only) and reused while they
    still work, so running this again prints the same ones. Each user gets an e-mail address
    of the demo's mail domain (the notifications are written to files, never sent). The
    operator stands at the first line, so the floor shows that line's alerts."""
    known = (
        dict(line.split(" ", 1) for line in credentials.read_text().splitlines())
        if credentials.exists()
        else {}
    )
    roles_ensure()
    for username in USERS:
        is_admin = username == "admin"
        user = User.objects.filter(username=username).first()
        password = known.get(username)
        if user is None or password is None or not user.check_password(password):
            password = secrets.token_urlsafe(9)
            if user is None:
                user = User(username=username)
            user.is_staff = user.is_superuser = is_admin
            user.set_password(password)
            user.save()
            known[username] = password
        if not user.email:
            user.email = f"{username}@{notifications.MAIL_DOMAIN}"
            user.save(update_fields=["email"])
        if username in USER_GROUPS:
            user.groups.add(Group.objects.get(name=USER_GROUPS[username]))
    operator = User.objects.get(username="operator")
    first_line = Line.objects.order_by("position", "name", "pk").first()
    if first_line is not None and not operator.operated_lines.exists():
        first_line.operators.add(operator)
    credentials.parent.mkdir(parents=True, exist_ok=True)
    credentials.write_text("".join(f"{name} {password}\n" for name, password in known.items()))
    credentials.chmod(0o600)
    return known


@transaction.atomic
def demo_notifications_seed() -> Channel:
    """Create (once) who the demo tells of its alerts: an e-mail channel, the maintenance,
    supervisors' and plant managers' teams with the demo users in them, routing rules at
    tiers 1 to 3 on every line, the escalation steps, the supervisor's subscription and the
    manager's daily digest. What an admin or a user changed afterwards is left as it is.
    Return the e-mail channel."""
    channel, _ = Channel.objects.get_or_create(
        name=notifications.EMAIL_CHANNEL, defaults={"kind": ChannelKind.EMAIL}
    )
    users = {user.username: user for user in User.objects.filter(username__in=USERS)}
    teams = {}
    for name, usernames in notifications.TEAMS.items():
        team, created = Team.objects.get_or_create(name=name)
        if created:
            team.channels.add(channel)
            team.members.add(*(users[u] for u in usernames if u in users))
        teams[name] = team
    for route in notifications.ROUTES:
        if not RoutingRule.objects.filter(name=route.name).exists():
            RoutingRule.objects.create(
                name=route.name,
                min_priority=route.min_priority,
                tier=route.tier,
                team=teams[route.team],
            )
    for priority, minutes in notifications.ESCALATION_MINUTES.items():
        EscalationPolicy.objects.get_or_create(
            priority=priority, defaults={"step_minutes": minutes}
        )
    for wanted in notifications.SUBSCRIPTIONS:
        user = users.get(wanted.username)
        if user is None or Subscription.objects.filter(user=user).exists():
            continue
        subscription = Subscription.objects.create(
            user=user,
            min_priority=wanted.min_priority,
            quiet_start=wanted.quiet_start,
            quiet_end=wanted.quiet_end,
        )
        subscription.channels.add(channel)
    for username, send_at in notifications.DAILY_DIGESTS.items():
        user = users.get(username)
        if user is not None:
            DigestSubscription.objects.get_or_create(
                user=user,
                frequency=DigestFrequency.DAILY,
                defaults={"send_at": send_at},
            )
    return channel


def simulated_spec(asset_type: str) -> AssetSpec:
    """The signals a simulated machine of this type reports: those of one of our own assets of
    the type (their expected ranges set its scale), else the demo plant's for the type."""
    signals = list(
        Signal.objects.filter(asset__asset_type=asset_type)
        .order_by("asset_id", "slug")
        .values_list("asset_id", "slug", "expected_min", "expected_max")
    )
    if signals:
        first = signals[0][0]
        specs = [SignalSpec(slug, low, high) for a, slug, low, high in signals if a == first]
    else:
        specs = [
            SignalSpec(slug, low, high)
            for slug, _, _, low, high, _ in plant.SIGNALS_BY_TYPE.get(
                asset_type, plant.SIGNALS_BY_TYPE["motor"]
            )
        ]
    return AssetSpec(asset_type, tuple(specs))


def fleet_simulate_import(
    *,
    asset_type: str,
    failure_mode: FailureMode,
    seeds: Sequence[int],
    sample_s: float,
    life_days: tuple[float, float] = (10.0, 40.0),
) -> int:
    """Simulate machines of a type running to a bearing failure and import their histories,
    so a plant with no failures of its own yet has a fleet to learn from.

    Each run is monitored exactly as our assets are (`fleet.failing_fleet`), with the
    detector and step the settings give; return how many runs were imported.
    """
    arguments = fleet_arguments(asset_type, seeds=seeds, sample_s=sample_s, life_days=life_days)
    runs = fleet.failing_fleet(**arguments)
    return fleet_runs_import(asset_type=asset_type, failure_mode=failure_mode, runs=runs)


def fleet_arguments(
    asset_type: str,
    *,
    seeds: Sequence[int],
    sample_s: float,
    life_days: tuple[float, float] = (10.0, 40.0),
) -> dict[str, Any]:
    """What `fleet.failing_fleet` needs to simulate machines of a type as our assets are
    monitored (the detector and step the settings give), as plain values: a process of its
    own can simulate them."""
    return {
        "spec": simulated_spec(asset_type),
        "seeds": list(seeds),
        "detector_factory": functools.partial(
            AnomalyDetector, learning_s=settings.HEALTH_LEARNING_DAYS * DAY_S
        ),
        "step_s": settings.HEALTH_STEP_S,
        "sample_s": sample_s,
        "learning_days": settings.HEALTH_LEARNING_DAYS,
        "life_days": life_days,
    }


def fleet_runs_import(
    *, asset_type: str, failure_mode: FailureMode, runs: Sequence[fleet.SimulatedRun]
) -> int:
    """Import simulated runs to failure of a type as its fleet; return how many."""
    for run in runs:
        history_import(
            asset_type=asset_type,
            failure_mode=failure_mode,
            name=f"simulated {asset_type} seed {run.seed}",
            step_s=settings.HEALTH_STEP_S,
            settings_values=run.settings,
            sensor_values=run.sensors,
            settings_columns=list(REGIME_SIGNALS),
            sensor_columns=run.step_names,
        )
    return len(runs)
