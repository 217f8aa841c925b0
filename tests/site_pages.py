"""Every screen of the site, on a plant with history and on a freshly configured one.

Use it from a test (database access needed):

    plant = seed_site(with_data=True)     # or with_data=False: configured, nothing happened yet
    users = role_users(plant)             # {"operator": User, …, "admin": User}
    for page in site_pages(plant):        # Page(name, url, roles)
        for role in ROLES:                # plus ANONYMOUS
            client = client_for(role, users)
            response = client.get(page.url)
            # role in page.roles: 200; otherwise 403 or a redirect to a login page

`Page.roles` holds the roles allowed to see the page, read from the roles' permissions
(`plantops.core.roles`) and the decorator each view carries; ANONYMOUS is in it only for pages
open without logging in (the login page, the API docs). The empty plant lists the same screens
except those about an object it does not have yet (a work order, an alert). `chart_data_urls`
lists the JSON the screens' charts draw from, for the same checks on status codes. A client
from `client_for` returns a server error as a 500 response instead of raising it. The seed
also suits a transactional (browser) test: it makes again the seeded rows a flush removes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from plantops.alerts.models import Alert
from plantops.assets.models import Asset, Line, Shift, Site
from plantops.core.roles import ROLE_PERMISSIONS
from plantops.health.models import FailureMode
from plantops.maintenance.models import WorkOrder
from plantops.oee import services as oee
from plantops.oee.models import StateEvent, StopCategory, StopReason
from plantops.oee.snapshots import hours_make_recent
from plantops.pipeline.services import batch_store
from tests.factories import (
    ROLE_GROUPS,
    logged_in,
    make_alert,
    make_asset,
    make_batch,
    make_prediction_alert,
    make_user,
    make_work_order,
    past_work_order,
)

ROLES = ("operator", "technician", "supervisor", "manager", "admin")
ANONYMOUS = "anonymous"


@dataclass(frozen=True)
class Page:
    """A screen: a readable name, its URL, and the roles allowed to see it."""

    name: str
    url: str
    roles: frozenset[str]


@dataclass
class SeededSite:
    """What `seed_site` made. `work_orders` and `alerts` are empty on an empty plant."""

    with_data: bool
    site: Site
    line: Line
    asset: Asset
    shift_day: date  # the local date the running shift ("Day") began on
    work_orders: dict[str, WorkOrder] = field(default_factory=dict)
    alerts: list[Alert] = field(default_factory=list)


def seed_site(*, with_data: bool = True) -> SeededSite:
    """A line with one motor (vibration, temperature) and a shift running now; with data, the
    last three hours of its life as the plant would have stored them: readings, running time,
    stops (one the machine explained with its own code, one an operator explained, one still
    open), parts made, the hours' OEE, an alert, a prediction and work orders in several states.
    """
    asset = make_asset()
    asset.ideal_cycle_time_s = 10
    asset.save(update_fields=["ideal_cycle_time_s"])
    line = asset.line
    # A shift that began three hours ago (at the site) and lasts the whole day: it is running.
    began = timezone.localtime(timezone=ZoneInfo(line.area.site.timezone)) - timedelta(hours=3)
    start = began.time().replace(second=0, microsecond=0)
    Shift.objects.create(line=line, name="Day", start=start, end=start, weekdays="0123456")
    plant = SeededSite(
        with_data=with_data, site=line.area.site, line=line, asset=asset, shift_day=began.date()
    )
    if with_data:
        _history(plant)
    return plant


def _history(plant: SeededSite) -> None:
    asset = plant.asset
    now = timezone.now()
    now_us = int(now.timestamp() * 1_000_000)
    minute_us = 60_000_000
    signals = {signal.slug: signal.pk for signal in asset.signals.all()}
    readings = [
        (signals["vibration"], now_us - m * minute_us, 2.0 + (m % 7) * 0.3) for m in range(1, 180)
    ] + [
        (signals["temperature"], now_us - m * minute_us, 4.0 + (m % 5) * 0.2) for m in range(1, 180)
    ]
    # Machine states on the wire: running, a minor stop it named itself, a breakdown without
    # a reason (explained below by an operator), a stop still open to explanation.
    states = [
        (asset.pk, now_us - 170 * minute_us, "running", ""),
        (asset.pk, now_us - 120 * minute_us, "down", "minor_stop"),
        (asset.pk, now_us - 118 * minute_us, "running", ""),
        (asset.pk, now_us - 80 * minute_us, "down", ""),
        (asset.pk, now_us - 60 * minute_us, "running", ""),
        (asset.pk, now_us - 30 * minute_us, "down", ""),
        (asset.pk, now_us - 20 * minute_us, "running", ""),
    ]
    counts = [(asset.pk, now_us - m * minute_us, 5, m % 2) for m in range(5, 170, 10)]
    batch_store(batch=make_batch(readings=readings, states=states, counts=counts))
    explained = StateEvent.objects.get(asset=asset, ts=now - timedelta(minutes=80))
    # Seeded by a migration, which a transactional test's flush takes away.
    jam, _ = StopReason.objects.get_or_create(
        code="jam", defaults={"label": "Jam", "category": StopCategory.EQUIPMENT}
    )
    oee.stop_reason_assign(event=explained, reason=jam, user=None)
    hours_make_recent(hours=4)

    FailureMode.objects.get_or_create(code="bearing", defaults={"label": "Bearing degradation"})
    # The prediction first: its builder finds its alert as the asset's only one.
    plant.alerts = [make_prediction_alert(asset=asset)[0]]
    plant.alerts.append(make_alert(asset=asset))
    operator = make_user(role="operator", lines=[plant.line])
    supervisor = make_user(role="supervisor")
    technician = make_user(role="technician")
    plant.work_orders = {
        "requested": make_work_order(by=operator, asset=asset, title="Guard rattles"),
        "in progress": make_work_order(
            by=supervisor,
            asset=asset,
            title="Bearing noise",
            checklist=["Lock out", "Check the bearing"],
            assignee=technician,
            started=True,
        ),
        "done": past_work_order(
            asset=asset,
            title="Belt replaced",
            created_at=now - timedelta(days=3),
            started_at=now - timedelta(days=3) + timedelta(hours=1),
            completed_at=now - timedelta(days=3) + timedelta(hours=2),
            outcome="repaired",
            notes="Belt worn through; replaced.",
        ),
    }


def role_users(plant: SeededSite) -> dict[str, User]:
    """One user per role; the operator stands at the plant's line."""
    return {
        role: make_user(role=role, lines=[plant.line] if role == "operator" else ())
        for role in ROLES
    }


def client_for(role: str, users: dict[str, User]) -> Client:
    """A test client logged in as the role's user, or not logged in for ANONYMOUS."""
    # A server error comes back as a 500 to look at, not as the view's exception.
    if role == ANONYMOUS:
        return Client(raise_request_exception=False)
    return logged_in(users[role], raise_request_exception=False)


def _allowed(permission: str | None) -> frozenset[str]:
    """The roles whose group holds `permission` (None: any logged-in user), and the admin."""
    if permission is None:
        return frozenset(ROLES)
    return frozenset(
        {"admin"}
        | {role for role, group in ROLE_GROUPS.items() if permission in ROLE_PERMISSIONS[group]}
    )


STAFF = frozenset({"admin"})


def site_pages(plant: SeededSite) -> list[Page]:
    """Every HTML screen of the site for this plant (see the module docstring)."""
    line, asset = plant.line, plant.asset
    pages = [
        Page("login", "/login/", frozenset({ANONYMOUS})),
        Page("floor overview", "/", _allowed("assets.view_asset")),
        Page("floor overview, one line", f"/?line={line.pk}", _allowed("assets.view_asset")),
        Page("asset page", f"/assets/{asset.pk}/", _allowed("assets.view_asset")),
        Page("OEE board", "/oee/", _allowed("assets.view_asset")),
        Page("OEE line page", f"/lines/{line.pk}/oee/", _allowed("assets.view_asset")),
        Page(
            "shift report",
            f"/lines/{line.pk}/oee/report/?day={plant.shift_day:%Y-%m-%d}&shift=Day",
            _allowed("assets.view_asset"),
        ),
        Page("alerts inbox", "/alerts/", _allowed("alerts.view_alert")),
        Page("alerts panel", f"/alerts/panel?line={line.pk}", _allowed("alerts.view_alert")),
        Page("alarm KPIs", "/alerts/kpis/", _allowed("alerts.view_alert")),
        Page("alarm KPIs, 30 days", "/alerts/kpis/?range=30d", _allowed("alerts.view_alert")),
        Page("alert rules", "/alerts/rules/", _allowed("alerts.view_alertrule")),
        Page("work orders", "/work/", _allowed("maintenance.view_workorder")),
        *(
            Page(
                f"work orders: {which}",
                f"/work/?list={which}",
                _allowed("maintenance.view_workorder"),
            )
            for which in ("mine", "approve", "schedule", "open", "done")
        ),
        Page("work search", "/work/?q=belt", _allowed("maintenance.view_workorder")),
        Page("report a problem: pick", "/work/report/", _allowed("maintenance.add_workorder")),
        Page(
            "report a problem", f"/work/report/{asset.pk}/", _allowed("maintenance.add_workorder")
        ),
        Page("maintenance KPIs", "/work/kpis/", _allowed("maintenance.view_workorder")),
        Page(
            "maintenance KPIs, 7 days",
            "/work/kpis/?range=7d",
            _allowed("maintenance.view_workorder"),
        ),
        Page("model health", "/health/models/", _allowed("health.view_healthmodel")),
        Page("notification subscriptions", "/notifications/", _allowed(None)),
        Page("my settings", "/me/", _allowed(None)),
        Page("pipeline health", "/pipeline/", STAFF),
        Page("API docs", "/api/v1/docs", frozenset({ANONYMOUS, *ROLES})),
        Page("admin index", "/admin/", STAFF),
        *(
            Page(f"admin: {model}", f"/admin/{model}/", STAFF)
            for model in (
                "assets/asset",
                "assets/line",
                "oee/stopreason",
                "alerts/alertrule",
                "alerts/alert",
                "maintenance/workorder",
                "health/prediction",
                "notify/subscription",
                "telemetry/gateway",
                "auth/user",
            )
        ),
        Page("admin: asset", f"/admin/assets/asset/{asset.pk}/change/", STAFF),
    ]
    for state, work in plant.work_orders.items():
        pages.append(
            Page(
                f"work order, {state}", f"/work/{work.pk}/", _allowed("maintenance.view_workorder")
            )
        )
    return pages


def chart_data_urls(plant: SeededSite) -> list[Page]:
    """The JSON the screens' charts and live parts draw from."""
    line, asset = plant.line, plant.asset
    return [
        Page(
            "asset trend, 24 h",
            f"/assets/{asset.pk}/trend?range=24h",
            _allowed("assets.view_asset"),
        ),
        Page("asset health", f"/assets/{asset.pk}/health.json", _allowed("health.view_prediction")),
        Page("OEE line screen", f"/lines/{line.pk}/oee.json", _allowed("assets.view_asset")),
    ]
