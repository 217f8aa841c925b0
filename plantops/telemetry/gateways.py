"""Gateways' MQTT identities: issue passwords, revoke, delete, and keep the broker in step.

What the broker enforces is described on `Gateway`. A change is saved first and told to the
broker once it commits: at once, from the process that made it, so a revocation is in force
within a second even while the Celery queue is busy with telemetry; and through the
`telemetry.sync_gateway` task, retried with backoff, when the broker cannot be reached then.
Each sync locks the gateway's row and sends what the row says at that moment, so an old
retry never undoes a newer change. `manage.py sync_broker_identities` brings the whole broker
in step (`broker_sync_all`) at start-up and after an outage.

A password is generated here, handed to the broker in the same call and returned to be shown
once; nothing keeps it. A broker that has lost a gateway (a new store) gets it back without a
password, which it cannot log in with until someone issues a new one.
"""

from __future__ import annotations

import logging
import secrets
import threading
from dataclasses import dataclass, field
from functools import partial

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from plantops.assets.models import Area, Asset, Line, Site
from plantops.env import MqttSettings
from plantops.telemetry import dynsec, identities
from plantops.telemetry.dynsec import (
    TIMEOUT_S,
    BrokerError,
    BrokerRefused,
    BrokerUnavailable,
    ControlSession,
    control_session,
)
from plantops.telemetry.models import Gateway
from plantops.telemetry.selectors import gateway_topic_prefixes, gateways_through

__all__ = [
    "BrokerError",
    "BrokerNotManaged",
    "BrokerRefused",
    "BrokerUnavailable",
    "broker_sync_all",
    "gateway_changed",
    "gateway_delete",
    "gateway_issue_password",
    "gateway_reinstate",
    "gateway_revoke",
    "gateway_sync",
]

logger = logging.getLogger(__name__)

# 24 random bytes: 192 bits, 32 URL-safe characters that any gateway's config file can hold.
PASSWORD_BYTES = 24
# The first retry through Celery; the task then backs off on its own.
RETRY_AFTER_S = 5
NOT_FOUND = {"Client not found", "Role not found"}


class BrokerNotManaged(BrokerError):
    """MQTT_ADMIN_URL is not set: PlantOps cannot tell the broker anything."""

    def __init__(self) -> None:
        super().__init__("MQTT_ADMIN_URL is not set: the broker has not been told")


@dataclass
class BrokerSyncReport:
    gateways: int = 0
    removed: list[str] = field(default_factory=list)
    # Gateways the broker had lost, now back on it without a password.
    without_password: list[str] = field(default_factory=list)
    # Gateways the broker would not take, with why (also recorded on each gateway).
    refused: dict[str, str] = field(default_factory=dict)
    ingest: str = ""


# --- changes made in the admin ------------------------------------------------------------


def gateway_issue_password(*, gateway: Gateway) -> str:
    """Give the gateway a new password on the broker and return it; it is kept nowhere.

    The gateway's connections made with the old password are dropped. Raises `BrokerError`
    (and changes nothing) when the broker does not take it. Called inside a transaction that
    then fails, the broker keeps a client that `broker_sync_all` removes.
    """
    admin = _admin()
    password = secrets.token_urlsafe(PASSWORD_BYTES)
    with transaction.atomic():
        locked = Gateway.objects.select_for_update().get(pk=gateway.pk)
        with control_session(admin) as session:
            _push(session, locked, password=password)
        now = timezone.now()
        Gateway.objects.filter(pk=gateway.pk).update(
            password_set_at=now, broker_synced_at=now, broker_error=""
        )
    gateway.password_set_at = gateway.broker_synced_at = now
    gateway.broker_error = ""
    return password


def gateway_changed(*, gateway: Gateway) -> None:
    """Tell the broker about a gateway saved with new assets, lines or areas, after commit."""
    _sync_after_commit([gateway])


def gateway_revoke(*, gateway: Gateway) -> None:
    """Revoke the gateway: once committed, the broker refuses it and drops its connections."""
    if gateway.revoked_at is None:
        gateway.revoked_at = timezone.now()
        Gateway.objects.filter(pk=gateway.pk).update(revoked_at=gateway.revoked_at)
    _sync_after_commit([gateway])


def gateway_reinstate(*, gateway: Gateway) -> None:
    """Let a revoked gateway log in again, with the password it had."""
    gateway.revoked_at = None
    Gateway.objects.filter(pk=gateway.pk).update(revoked_at=None)
    _sync_after_commit([gateway])


def gateway_delete(*, gateway: Gateway) -> None:
    """Delete the gateway; once committed, its client and role leave the broker."""
    pk, username = gateway.pk, gateway.username
    gateway.delete()
    transaction.on_commit(partial(_sync_now_or_later, pk, username))


def plant_renamed(sender: type, instance: Site | Area | Line | Asset, **kwargs) -> None:
    """Re-sync the gateways whose topics run through a place saved (perhaps with a new slug)
    or about to be deleted. Connected to post_save and pre_delete of the plant model."""
    if kwargs.get("created"):
        return  # nobody's topics name a new place yet (a line's gateway covers it by wildcard)
    update_fields = kwargs.get("update_fields")
    if update_fields is not None and "slug" not in update_fields:
        return
    _sync_after_commit(list(gateways_through(instance).only("pk", "username")))


# --- telling the broker -------------------------------------------------------------------


def gateway_sync(*, gateway_id: int, username: str) -> None:
    """Make the broker hold gateway `gateway_id` as saved, or remove `username` if it is gone.

    Records the outcome on the gateway. Raises `BrokerUnavailable` (worth retrying) and
    `BrokerRefused`; `BrokerNotManaged` is only recorded.
    """
    admin = settings.MQTT_ADMIN
    error: BrokerError | None = None
    with transaction.atomic():
        gateway = Gateway.objects.select_for_update().filter(pk=gateway_id).first()
        if gateway is None:
            # Its user name may already belong to a new gateway: that one is synced instead.
            gateway = Gateway.objects.select_for_update().filter(username=username).first()
        if admin is None:
            error = BrokerNotManaged()
        else:
            try:
                with control_session(admin) as session:
                    if gateway is None:
                        _remove(session, username)
                        return
                    lost = _push(session, gateway)
            except BrokerError as failed:
                error = failed
            else:
                _record_synced(gateway, lost=lost)
    if gateway is not None and error is not None:
        Gateway.objects.filter(pk=gateway.pk).update(
            broker_synced_at=None, broker_error=str(error)[:300]
        )
    if error is not None and not isinstance(error, BrokerNotManaged):
        raise error


def broker_sync_all() -> BrokerSyncReport:
    """Bring the broker fully in step: default access, the ingest, every gateway, no leftovers.

    Idempotent: a broker already in step is sent no change, and nobody is disconnected.
    """
    admin = _admin()
    report = BrokerSyncReport()
    with control_session(admin) as session:
        observed = session.execute([{"command": "getDefaultACLAccess"}])[0]["data"]["acls"]
        session.execute(identities.default_access_commands(observed))
        report.ingest = _sync_ingest(session, settings.MQTT)
        for pk in Gateway.objects.order_by("pk").values_list("pk", flat=True):
            with transaction.atomic():
                gateway = Gateway.objects.select_for_update().filter(pk=pk).first()
                if gateway is None:
                    continue
                try:
                    lost = _push(session, gateway)
                except BrokerRefused as error:
                    # One gateway the broker will not take must not keep the others out of step.
                    Gateway.objects.filter(pk=pk).update(
                        broker_synced_at=None, broker_error=str(error)[:300]
                    )
                    report.refused[gateway.username] = str(error)
                    continue
                _record_synced(gateway, lost=lost)
            report.gateways += 1
            if lost:
                report.without_password.append(gateway.username)
        clients, roles = session.execute(
            [
                {"command": "listClients", "verbose": True, "count": -1},
                {"command": "listRoles", "verbose": False, "count": -1},
            ]
        )
        known = set(Gateway.objects.values_list("username", flat=True))
        for username in sorted(
            identities.leftover_usernames(clients["data"]["clients"], roles["data"]["roles"], known)
        ):
            _remove(session, username)
            report.removed.append(username)
    return report


def _admin() -> MqttSettings:
    if settings.MQTT_ADMIN is None:
        raise BrokerNotManaged()
    return settings.MQTT_ADMIN


def _observe(
    session: ControlSession, *, username: str, rolename: str
) -> tuple[dict | None, dict | None]:
    """Return what the broker holds for client `username` and role `rolename` (None: nothing)."""
    client, role = session.run(
        [
            {"command": "getClient", "username": username},
            {"command": "getRole", "rolename": rolename},
        ]
    )
    for answer in (client, role):
        if answer.get("error") and answer["error"] not in NOT_FOUND:
            raise BrokerRefused(f"{answer['command']}: {answer['error']}")
    return (
        None if client.get("error") else client["data"]["client"],
        None if role.get("error") else role["data"]["role"],
    )


def _push(session: ControlSession, gateway: Gateway, *, password: str | None = None) -> bool:
    """Send the broker what it lacks for `gateway`; return whether it had to be created
    without a password (the broker had lost it)."""
    try:
        prefixes = gateway_topic_prefixes(gateway=gateway)
        identities.sparkplug_acls(gateway.sparkplug_node_ids())
    except ValueError as error:
        raise BrokerRefused(f"its topics cannot be named: {error}") from None
    observed_client, observed_role = _observe(
        session,
        username=gateway.username,
        rolename=identities.gateway_rolename(gateway.username),
    )
    session.execute(
        identities.gateway_commands(
            gateway.username,
            prefixes=prefixes,
            enabled=not gateway.revoked,
            observed_client=observed_client,
            observed_role=observed_role,
            password=password,
            textname=gateway.name,
            sparkplug_nodes=gateway.sparkplug_node_ids(),
        )
    )
    return observed_client is None and password is None


def _remove(session: ControlSession, username: str) -> None:
    observed_client, observed_role = _observe(
        session, username=username, rolename=identities.gateway_rolename(username)
    )
    session.execute(
        identities.removal_commands(
            username, observed_client=observed_client, observed_role=observed_role
        )
    )


def _record_synced(gateway: Gateway, *, lost: bool) -> None:
    changes: dict = {"broker_synced_at": timezone.now(), "broker_error": ""}
    if lost:
        changes.update(
            password_set_at=None,
            broker_error="The broker had lost this gateway: issue a new password."
            if gateway.password_set_at
            else "No password yet: issue one.",
        )
    Gateway.objects.filter(pk=gateway.pk).update(**changes)


def _sync_ingest(session: ControlSession, mqtt_settings: MqttSettings) -> str:
    """Give the ingest's user (from MQTT_URL) the read-only ingest role and its password."""
    username, password = mqtt_settings.username, mqtt_settings.password
    if not username or not password:
        return "MQTT_URL names no user and password: a broker that refuses anonymous clients refuses the ingest"
    observed_client, observed_role = _observe(
        session, username=username, rolename=identities.INGEST_ROLE
    )
    session.execute(
        identities.ingest_commands(
            username,
            observed_client=observed_client,
            observed_role=observed_role,
            password=password,
        )
    )
    if observed_client is None:
        return f"created {username}"
    # Setting a password drops the client's connections, so it is set only when MQTT_URL's no
    # longer opens the door (the ingest is then not connected anyway).
    if _can_log_in(mqtt_settings):
        return f"{username} in step"
    session.execute([{"command": "setClientPassword", "username": username, "password": password}])
    return f"{username} given the password in MQTT_URL"


def _can_log_in(mqtt_settings: MqttSettings) -> bool:
    """Whether the broker accepts MQTT_URL's user and password (a fresh client id, no session)."""
    client = dynsec.login_client(
        mqtt_settings, f"plantops-check-{secrets.token_hex(6)}", timeout_s=TIMEOUT_S
    )
    answered = threading.Event()
    outcome = []

    def on_connect(client, userdata, flags, reason_code, properties) -> None:
        outcome.append(reason_code)
        answered.set()

    client.on_connect = on_connect
    try:
        client.connect(mqtt_settings.host, mqtt_settings.port, clean_start=True)
    except (OSError, ValueError) as error:
        raise BrokerUnavailable(f"cannot reach the MQTT broker: {error}") from None
    client.loop_start()
    try:
        if not answered.wait(TIMEOUT_S):
            raise BrokerUnavailable("the MQTT broker did not answer the ingest's login")
    finally:
        client.disconnect()
        client.loop_stop()
    return not outcome[0].is_failure


def _sync_after_commit(gateways: list[Gateway]) -> None:
    if not gateways:
        return
    Gateway.objects.filter(pk__in=[g.pk for g in gateways]).update(broker_synced_at=None)
    for gateway in gateways:
        transaction.on_commit(partial(_sync_now_or_later, gateway.pk, gateway.username))


def _sync_now_or_later(gateway_id: int, username: str) -> None:
    """Sync now; if the broker cannot be reached, hand the sync to Celery to retry."""
    try:
        gateway_sync(gateway_id=gateway_id, username=username)
        return
    except BrokerRefused:
        logger.exception("the broker refused gateway %s's identity", username)
        return  # recorded on the gateway; the same commands would be refused again
    except Exception:
        logger.warning("gateway %s: broker not told yet, retrying through Celery", username)
    # Imported here: the task module calls into this one.
    from plantops.telemetry.tasks import sync_gateway

    try:
        sync_gateway.apply_async((gateway_id, username), countdown=RETRY_AFTER_S)
    except Exception:
        logger.exception(
            "gateway %s: could not queue the broker sync; run manage.py sync_broker_identities",
            username,
        )
