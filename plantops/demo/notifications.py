"""Who the demo plant tells of its alerts, and how, as data. Pure: no Django.

Everything goes out by one e-mail channel; the demo writes its e-mails to files in var/mail
(`EMAIL_BACKEND=file`, set by scripts/demo.sh), so no mail server is needed to see them.
A critical or high alert is mailed to maintenance at once; still unacknowledged after one
escalation step (critical 5 minutes, high 15) it goes to the supervisors, and a critical one
after two steps to the plant managers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

EMAIL_CHANNEL = "E-mail"
# RFC 2606: a domain that can never receive mail by mistake.
MAIL_DOMAIN = "riverside.example"

# Team name → the demo users in it.
TEAMS: dict[str, tuple[str, ...]] = {
    "Maintenance": ("technician",),
    "Supervisors": ("supervisor",),
    "Plant managers": ("manager",),
}


@dataclass(frozen=True)
class DemoRoute:
    name: str
    min_priority: str
    tier: int
    team: str


# On every line (a rule naming no line or area covers them all).
ROUTES = (
    DemoRoute("Critical and high alerts to maintenance", "high", 1, "Maintenance"),
    DemoRoute(
        "Unacknowledged critical and high alerts to the supervisors", "high", 2, "Supervisors"
    ),
    DemoRoute(
        "Unacknowledged critical alerts to the plant managers", "critical", 3, "Plant managers"
    ),
)

# Priority → minutes each tier waits for an acknowledgement before the next is told.
ESCALATION_MINUTES = {"critical": 5, "high": 15}


@dataclass(frozen=True)
class DemoSubscription:
    username: str
    min_priority: str
    quiet_start: time | None
    quiet_end: time | None


# The supervisor also follows medium alerts on every line, except at night (critical still
# comes then).
SUBSCRIPTIONS = (DemoSubscription("supervisor", "medium", time(22), time(6)),)

# username → the local time of their daily digest.
DAILY_DIGESTS = {"manager": time(6)}
