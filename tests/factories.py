"""Small builders for plant data, so each test states only what it cares about.

Every builder takes keyword arguments only and fills in the rest with plain defaults. Data that
the plant makes through its services (a raised alert, a work order moving through its flow) is
made through the same services here, so a test starts from what the plant would really hold.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from itertools import count

from django.contrib.auth.models import Group, User
from django.db import transaction
from django.test import Client
from django.utils import timezone

from plantops.alerts.conditions import alerts_apply_conditions, alerts_evaluate_readings
from plantops.alerts.evaluation import ExternalCondition
from plantops.alerts.models import Alert, AlertRule
from plantops.assets.models import Area, Asset, Line, Signal, Site
from plantops.core.roles import MANAGERS, OPERATORS, SUPERVISORS, TECHNICIANS, roles_ensure
from plantops.core.time import now_us
from plantops.health.models import FailureMode, HealthModel, Prediction
from plantops.maintenance import services as maintenance
from plantops.maintenance.models import WorkOrder
from plantops.pipeline.services import batch_store
from plantops.telemetry.batches import Batch, DeadLetterRecord
from plantops.telemetry.columns import ReadingColumns
from plantops.telemetry.gateways import gateway_issue_password
from plantops.telemetry.models import Gateway

_seq = count(1)

# The password of every user built here (the browser tests type it on the login page).
PASSWORD = "a-long-password-1"
ROLE_GROUPS = {
    "operator": OPERATORS,
    "technician": TECHNICIANS,
    "supervisor": SUPERVISORS,
    "manager": MANAGERS,
}


# --- the plant ---------------------------------------------------------------------------------


def make_asset(
    *,
    slug: str | None = None,
    signals: tuple[str, ...] = ("vibration", "temperature"),
    asset_type: str = "motor",
) -> Asset:
    """Return an asset on its own site/area/line with the named signals (mm/s, range 0–7.1)."""
    n = next(_seq)
    site = Site.objects.create(slug=f"site-{n}", name=f"Site {n}")
    area = Area.objects.create(site=site, slug="area", name="Area")
    line = Line.objects.create(area=area, slug="line", name=f"Line {n}")
    asset = Asset.objects.create(
        line=line, slug=slug or f"asset-{n}", name=f"Asset {n}", asset_type=asset_type
    )
    for signal_slug in signals:
        Signal.objects.create(
            asset=asset,
            slug=signal_slug,
            name=signal_slug.title(),
            unit="mm/s",
            expected_min=0.0,
            expected_max=7.1,
            sampling_interval_s=1.0,
        )
    return asset


def topic(asset: Asset, suffix: str) -> str:
    return f"plantops/{asset.topic_path}/{suffix}"


# --- people ------------------------------------------------------------------------------------


def make_user(
    *,
    role: str | None = None,
    username: str | None = None,
    staff: bool = False,
    lines: Iterable[Line] = (),
) -> User:
    """A user in a plant role: "operator", "technician", "supervisor", "manager", "admin" (a
    superuser), or None for no role at all, at the operator position of `lines`. Read back
    from the database, so no permission is cached."""
    if role is not None and role != "admin" and role not in ROLE_GROUPS:
        raise ValueError(f"unknown role {role!r}")
    username = username or f"{role or 'user'}-{next(_seq)}"
    if role == "admin":
        user = User.objects.create_superuser(username, f"{username}@example.com", PASSWORD)
    else:
        user = User.objects.create_user(username, password=PASSWORD, is_staff=staff)
    if role in ROLE_GROUPS:
        roles_ensure()  # a transactional test before this one flushed the groups
        user.groups.add(Group.objects.get(name=ROLE_GROUPS[role]))
    for line in lines:
        line.operators.add(user)
    return User.objects.get(pk=user.pk)


def logged_in(user: User, **options) -> Client:
    """A test client logged in as `user` (`options` go to the client, e.g. enforce_csrf_checks)."""
    client = Client(**options)
    client.force_login(user)
    return client


# --- telemetry ---------------------------------------------------------------------------------


def make_batch(
    *,
    readings: Iterable[tuple[int, int, float]] = (),
    states: Iterable[tuple[int, int, str, str]] = (),
    counts: Iterable[tuple[int, int, int, int]] = (),
    dead_letters: Iterable[tuple] = (),
) -> Batch:
    """A batch with a new id, from rows: readings `(signal_id, ts_us, value)`, states
    `(asset_id, ts_us, state, reason)`, counts `(asset_id, ts_us, good, scrap)` and dead
    letters `(topic, excerpt, reason, detail, received_us, replay)`."""
    batch = Batch.of(readings=readings, states=states, counts=counts)
    batch.dead_letters = [DeadLetterRecord(*row) for row in dead_letters]
    return batch


def judge_readings(*readings: tuple[int, int, float]) -> int:
    """Judge readings `(signal_id, ts_us, value)` against the alert rules as the worker does,
    inside one batch's transaction; return the alert events recorded."""
    with transaction.atomic():
        return alerts_evaluate_readings(readings=ReadingColumns.from_rows(list(readings)))


# --- alerts ------------------------------------------------------------------------------------


def make_rule(
    *,
    kind: str = "high",
    signal: Signal | None = None,
    name: str | None = None,
    priority: str = "high",
    **fields,
) -> AlertRule:
    """An alert rule: by default "<Signal> high" at 5.0 on `signal`. Rules of an asset type
    give `asset_type` (and `signal_slug`) instead of a signal."""
    if kind in ("high", "low"):
        fields.setdefault("limit", 5.0)
    if name is None:
        watched = signal.name if signal else fields.get("asset_type") or "every asset"
        name = f"{watched} {kind}"
    return AlertRule.objects.create(
        name=name, kind=kind, signal=signal, priority=priority, **fields
    )


def make_alert(
    *,
    asset: Asset | None = None,
    priority: str = "high",
    message: str = "Vibration high",
    value: float = 9.0,
    **rule_fields,
) -> Alert:
    """An alert raised the way readings raise them: a high rule on the vibration of `asset`
    (a new one by default), then a batch with a reading of `value` above it, stored."""
    signal = (asset or make_asset()).signals.get(slug="vibration")
    rule_fields.setdefault("message_template", message)
    rule = make_rule(signal=signal, name=f"{message} rule", priority=priority, **rule_fields)
    batch_store(batch=make_batch(readings=[(signal.pk, now_us(), value)]))
    return Alert.objects.get(rule=rule)


def event_kinds(alert: Alert) -> list[str]:
    """The kinds of the alert's events, oldest first."""
    return list(alert.events.order_by("id").values_list("kind", flat=True))


# --- health ------------------------------------------------------------------------------------


def make_prediction(
    *,
    asset: Asset,
    model: HealthModel,
    made_at: datetime,
    days: tuple[float, float, float] = (3, 5, 8),
    health_index: float = 0.5,
) -> Prediction:
    """A stored prediction by `model` of the remaining life, `days` = (low, central, high)."""
    low, central, high = days
    return Prediction.objects.create(
        asset=asset,
        failure_mode=model.failure_mode,
        model=model,
        made_at=made_at,
        rul_low_days=low,
        rul_days=central,
        rul_high_days=high,
        confidence=0.9,
        health_index=health_index,
    )


def make_prediction_alert(*, asset: Asset) -> tuple[Alert, Prediction]:
    """A bearing failure predicted in 3–8 days five days ago, and the alert a prediction rule
    raised on it through the alert services."""
    mode = FailureMode.objects.get(code="bearing")
    model, _ = HealthModel.objects.get_or_create(
        asset_type=asset.asset_type,
        failure_mode=mode,
        version=1,
        defaults={
            "algorithm": "x",
            "step_s": 3600,
            "cap_steps": 720,
            "estimator": b"",
            "fitted_at": timezone.now(),
        },
    )
    made = timezone.now() - timedelta(days=5)
    prediction = make_prediction(asset=asset, model=model, made_at=made, health_index=0.3)
    AlertRule.objects.get_or_create(
        name="Motors: failure predicted", kind="prediction", asset_type="motor", priority="high"
    )
    alerts_apply_conditions(
        conditions=[
            ExternalCondition(
                source="prediction",
                asset_id=asset.pk,
                key="bearing",
                active=True,
                at=made,
                message="Bearing degradation on X. Predicted failure in 3–8 days.",
                evidence={"prediction_id": prediction.pk, "rul_high_days": 8, "value": 5},
            )
        ]
    )
    return Alert.objects.get(asset=asset), prediction


# --- maintenance -------------------------------------------------------------------------------


def make_work_order(
    *,
    by: User,
    asset: Asset | None = None,
    kind: str = "corrective",
    title: str = "Belt slipping",
    checklist: Iterable[str] = (),
    assignee: User | None = None,
    due_at: datetime | None = None,
    started: bool = False,
    **fields,
) -> WorkOrder:
    """A work order made through the maintenance services by `by` (on a new asset by default);
    with an `assignee`, scheduled for them by `by` (a supervisor), due at `due_at` (now by
    default); `started`, moved to in progress by the assignee."""
    work = maintenance.workorder_create(
        asset=asset or make_asset(),
        kind=kind,
        title=title,
        user=by,
        checklist=list(checklist),
        due_at=None if assignee else due_at,
        **fields,
    )
    if assignee is not None:
        work = maintenance.workorder_schedule(
            work_order=work, assignee=assignee, due_at=due_at or timezone.now(), user=by
        )
        if started:
            work = maintenance.workorder_move(work_order=work, target="in_progress", user=assignee)
    return work


def past_work_order(
    *,
    asset: Asset,
    kind: str = "corrective",
    status: str = "done",
    created_at: datetime | None = None,
    **fields,
) -> WorkOrder:
    """A work order stored as the history has it (its times as given), for KPIs and the asset
    page's memory; no service is asked."""
    fields.setdefault("title", f"{kind} on {asset.name}")
    return WorkOrder.objects.create(
        asset=asset,
        kind=kind,
        status=status,
        created_at=created_at or timezone.now(),
        **fields,
    )


# --- gateways ----------------------------------------------------------------------------------


def make_gateway(
    *,
    assets: Iterable[Asset] = (),
    lines: Iterable[Line] = (),
    areas: Iterable[Area] = (),
) -> tuple[Gateway, str]:
    """A gateway allowed the given places, and the password the broker was given for it.

    Needs the broker PlantOps manages (settings.MQTT_ADMIN): the password is issued there.
    """
    n = next(_seq)
    gateway = Gateway.objects.create(name=f"Gateway {n}", username=f"gateway-{n}")
    gateway.assets.set(assets)
    gateway.lines.set(lines)
    gateway.areas.set(areas)
    return gateway, gateway_issue_password(gateway=gateway)
