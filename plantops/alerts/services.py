"""Writes for alerts: rules evaluated on stored batches, operators' actions, the periodic sweep.

Every change goes through the pure lifecycle (`lifecycle.py`) and is recorded as an
`AlertEvent`. Events are written under one transaction-level lock, so their ids become
visible in increasing order and each knows the id before it: a tablet that replays "after id
N" never skips one that committed late. Live pushes go out after commit.
"""

from __future__ import annotations

import dataclasses
import time
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.db.models import Max, Q
from django.utils import timezone

from plantops.alerts import demo_rules, lifecycle
from plantops.alerts.evaluation import (
    ConditionChange,
    ExternalCondition,
    RuleKind,
    evaluate,
    evaluate_no_data,
    render_message,
)
from plantops.alerts.evaluation import RuleState as EvaluatorState
from plantops.alerts.lifecycle import AlertStatus, EventKind, IllegalTransition, Transition
from plantops.alerts.models import Alert, AlertEvent, AlertRule, RuleSource, RuleState
from plantops.assets.models import Asset, MachineState, Signal
from plantops.core import realtime
from plantops.telemetry.models import LatestReading
from plantops.telemetry.payloads import datetime_to_us, us_to_datetime

# Any constant of our own: pg_advisory_xact_lock serialises the writers of alert events.
EVENT_LOCK_KEY = 0x504C_4E41  # "PLNA"
READING_KINDS = (RuleKind.HIGH.value, RuleKind.LOW.value, RuleKind.RATE.value)
# States in which an asset's alerts are suppressed (ISA-18.2 "suppressed by design").
SUPPRESSING_STATES = frozenset({MachineState.PLANNED_STOP.value})


class AlertActionRefused(Exception):
    """An operator's action that the lifecycle or the user's role does not allow."""


@dataclasses.dataclass(frozen=True)
class _SignalInfo:
    pk: int
    slug: str
    name: str
    unit: str
    asset_id: int
    asset_name: str
    asset_type: str
    asset_state: str
    line_id: int
    line_name: str
    out_of_service_since: datetime | None

    @property
    def suppressed(self) -> bool:
        return self.asset_state in SUPPRESSING_STATES or self.out_of_service_since is not None


# --- evaluation on stored readings ---------------------------------------------------------


def alerts_evaluate_readings(*, readings: Iterable[tuple[int, int, float]]) -> int:
    """Evaluate the enabled rules on a stored batch's readings; return the events recorded.

    A fixed number of queries whatever the batch size: the signals, the rules that apply, the
    evaluators' states, and one upsert of those states; alerts are touched only on an edge.
    Call inside the batch's transaction, so evaluation state and readings commit together.
    """
    readings = list(readings)
    rules = _config.reading_rules()
    if not rules or not readings:
        return 0
    signals = _config.signal_infos({signal_id for signal_id, _, _ in readings})
    pairs = [(rule, info) for info in signals.values() for rule in rules if _applies(rule, info)]
    if not pairs:
        return 0
    # Only the watched signals' readings are grouped: most of a batch may have no rule.
    watched = {info.pk for _, info in pairs}
    by_signal: dict[int, list[tuple[int, float]]] = defaultdict(list)
    for signal_id, ts_us, value in readings:
        if signal_id in watched:
            by_signal[signal_id].append((ts_us, value))
    pairs = _with_asset_states(pairs)
    states = _evaluator_states(pairs)
    edges: list[tuple[AlertRule, _SignalInfo, ConditionChange]] = []
    new_states: list[RuleState] = []
    for rule, info in pairs:
        evaluation = evaluate(
            rule.spec(), states.get((rule.pk, info.pk), EvaluatorState()), by_signal[info.pk]
        )
        new_states.append(RuleState(rule=rule, signal_id=info.pk, state=evaluation.state.as_dict()))
        edges.extend((rule, info, change) for change in evaluation.changes)
    _store_evaluator_states(new_states)
    return _apply_edges(edges)


# --- the plant configuration every batch reads ---------------------------------------------

# How long a worker keeps the rules and the signals' names before reading them again. An edit
# in this process (the admin, a test) clears them at once; other processes see it within this.
CONFIG_TTL_S = 10.0


class _PlantConfig:
    """The enabled reading rules and the signals' fixed facts (names, asset, line), kept for
    `CONFIG_TTL_S`: every stored batch needs them, and they change rarely. An asset's state
    and maintenance status change all the time and are read fresh (`_with_asset_states`)."""

    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        self.expires_at = 0.0
        self.rules: list[AlertRule] | None = None
        self.signals: dict[int, _SignalInfo] = {}

    def _expire(self) -> None:
        now = time.monotonic()
        if now >= self.expires_at:
            self.clear()
            self.expires_at = now + CONFIG_TTL_S

    def reading_rules(self) -> list[AlertRule]:
        self._expire()
        if self.rules is None:
            self.rules = list(
                AlertRule.objects.filter(enabled=True, kind__in=READING_KINDS).order_by("pk")
            )
        return self.rules

    def signal_infos(self, signal_ids: Iterable[int]) -> dict[int, _SignalInfo]:
        self._expire()
        wanted = list(signal_ids)
        missing = [pk for pk in wanted if pk not in self.signals]
        if missing:
            self.signals.update(_signal_infos(missing))
        return {pk: self.signals[pk] for pk in wanted if pk in self.signals}


_config = _PlantConfig()


def plant_config_changed(**kwargs: Any) -> None:
    """Forget the kept configuration (connected to saves and deletes of rules and the plant)."""
    _config.clear()


def _with_asset_states(
    pairs: list[tuple[AlertRule, _SignalInfo]],
) -> list[tuple[AlertRule, _SignalInfo]]:
    """The pairs with their assets' current state and maintenance status, read now."""
    current = {
        pk: (state, out_of_service_since)
        for pk, state, out_of_service_since in Asset.objects.filter(
            pk__in={info.asset_id for _, info in pairs}
        ).values_list("pk", "state", "out_of_service_since")
    }
    return [
        (
            rule,
            dataclasses.replace(
                info,
                asset_state=current.get(info.asset_id, ("", None))[0],
                out_of_service_since=current.get(info.asset_id, ("", None))[1],
            ),
        )
        for rule, info in pairs
    ]


def _signal_infos(signal_ids: Iterable[int]) -> dict[int, _SignalInfo]:
    rows = Signal.objects.filter(pk__in=list(signal_ids)).values_list(
        "pk",
        "slug",
        "name",
        "unit",
        "asset_id",
        "asset__name",
        "asset__asset_type",
        "asset__state",
        "asset__line_id",
        "asset__line__name",
        "asset__out_of_service_since",
    )
    return {row[0]: _SignalInfo(*row) for row in rows}


def _applies(rule: AlertRule, info: _SignalInfo) -> bool:
    if rule.signal_id is not None:
        return rule.signal_id == info.pk
    return rule.asset_type == info.asset_type and rule.signal_slug == info.slug


def _evaluator_states(
    pairs: list[tuple[AlertRule, _SignalInfo]],
) -> dict[tuple[int, int], EvaluatorState]:
    """The evaluators' states, locked until the transaction ends.

    Two workers may store batches of the same signal at once. Without the lock both would
    start from the same state and the last to commit would overwrite the other's; with it the
    second waits and continues from the first's state (its readings may then be the older
    ones, which `evaluate` handles). Rows are created first and locked in key order, so
    concurrent workers cannot deadlock on them.
    """
    if not pairs:
        return {}
    keys = sorted({(rule.pk, info.pk) for rule, info in pairs})
    states = _locked_states(keys)
    missing = [key for key in keys if key not in states]
    if missing:  # a rule's first readings of a signal
        RuleState.objects.bulk_create(
            [RuleState(rule_id=r, signal_id=s, state={}) for r, s in missing],
            ignore_conflicts=True,
        )
        states |= _locked_states(missing)
    return states


def _locked_states(keys: list[tuple[int, int]]) -> dict[tuple[int, int], EvaluatorState]:
    rows = (
        RuleState.objects.select_for_update()
        .filter(rule_id__in={r for r, _ in keys}, signal_id__in={s for _, s in keys})
        .order_by("rule_id", "signal_id")
        .values_list("rule_id", "signal_id", "state")
    )
    wanted = set(keys)
    return {(r, s): EvaluatorState.from_dict(st) for r, s, st in rows if (r, s) in wanted}


def _store_evaluator_states(states: list[RuleState]) -> None:
    if states:
        RuleState.objects.bulk_create(
            states, update_conflicts=True, unique_fields=["rule", "signal"], update_fields=["state"]
        )


def _apply_edges(edges: list[tuple[AlertRule, _SignalInfo, ConditionChange]]) -> int:
    """Turn condition edges into alert transitions and events, oldest first."""
    if not edges:
        return 0
    _lock_events()
    alerts = _alerts_for({(rule.pk, info.asset_id) for rule, info, _ in edges})
    recorder = _Recorder()
    for rule, info, change in sorted(edges, key=lambda edge: edge[2].ts_us):
        alert = alerts.get((rule.pk, info.asset_id))
        if alert is None:
            alert = Alert(rule=rule, asset_id=info.asset_id, priority=rule.priority)
            alerts[(rule.pk, info.asset_id)] = alert
        at = us_to_datetime(change.ts_us)
        if change.change == "raise":
            _raise(recorder, alert, rule, info, at, change.value)
        elif alert.status().active:
            alert.value = change.value
            recorder.apply(
                alert, lifecycle.return_to_normal(alert.status(), at), at, line_id=info.line_id
            )
    return recorder.flush()


def _raise(
    recorder: _Recorder,
    alert: Alert,
    rule: AlertRule,
    info: _SignalInfo,
    at: datetime,
    value: float,
) -> None:
    suppress = info.suppressed
    if suppress != alert.status().suppressed:
        recorder.apply(
            alert, lifecycle.suppress(alert.status(), at, suppress), at, line_id=info.line_id
        )
    alert.signal_id = info.pk
    alert.value = value
    alert.priority = rule.priority
    alert.message = render_message(
        rule.message_template,
        {
            "asset": info.asset_name,
            "signal": info.name,
            "value": value,
            "unit": "/s"
            if rule.kind == RuleKind.RATE
            else ("s" if rule.kind == RuleKind.NO_DATA else info.unit),
            "limit": rule.limit,
            "rule": rule.name,
            "line": info.line_name,
        },
    )
    recorder.apply(alert, lifecycle.raise_condition(alert.status(), at), at, line_id=info.line_id)


class _Recorder:
    """Collects alert changes; writes the alerts, then their events in order, on flush."""

    def __init__(self) -> None:
        self.pending: list[tuple[Alert, AlertEvent]] = []
        self.alerts: dict[int, Alert] = {}  # by id(): new alerts have no pk until flush

    def apply(
        self,
        alert: Alert,
        transition: Transition,
        at: datetime,
        *,
        line_id: int,
        user: AbstractBaseUser | None = None,
        note: str = "",
    ) -> None:
        alert.apply(transition.status)
        for kind in transition.events:
            # The system expires a shelve; the user did the rest.
            actor = None if kind is EventKind.SHELVE_EXPIRED else user
            self.record(
                alert,
                kind.value,
                at,
                line_id=line_id,
                user=actor,
                note=note if actor is not None else "",
                activated=transition.activated and kind is EventKind.RAISED,
            )

    def record(
        self,
        alert: Alert,
        kind: str,
        at: datetime,
        *,
        line_id: int,
        user: AbstractBaseUser | None = None,
        note: str = "",
        activated: bool = False,
    ) -> None:
        """Queue one event on the alert as it stands now (also for events without a transition)."""
        self.alerts[id(alert)] = alert
        event = AlertEvent(
            alert=alert,
            kind=kind,
            at=at,
            user=user,
            note=note[:500],
            state=alert.state,
            priority=alert.priority,
            message=alert.message,
            line_id=line_id,
            activated=activated,
        )
        self.pending.append((alert, event))

    def flush(self) -> int:
        for alert in self.alerts.values():
            alert.save()
        if not self.pending:
            return 0
        previous = AlertEvent.objects.aggregate(last=Max("id"))["last"] or 0
        pushes: list[dict[str, Any]] = []
        for alert, event in self.pending:
            # The event's own snapshot is taken now, after every transition of this batch.
            event.prev_id = previous
            event.save()
            previous = event.pk
            pushes.append(event_json(event, alert=alert))
        realtime.send_on_commit(
            [
                (realtime.ALERTS_GROUP, {"type": "alert.event", "event": payload})
                for payload in pushes
            ]
        )
        return len(self.pending)


def _lock_events() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [EVENT_LOCK_KEY])
    # SQLite: the IMMEDIATE transaction already holds the only write lock.


def _alerts_for(keys: set[tuple[int, int]]) -> dict[tuple[int, int], Alert]:
    rules = {rule for rule, _ in keys}
    assets = {asset for _, asset in keys}
    found = Alert.objects.select_for_update().filter(rule_id__in=rules, asset_id__in=assets)
    return {(a.rule_id, a.asset_id): a for a in found if (a.rule_id, a.asset_id) in keys}


def event_json(event: AlertEvent, *, alert: Alert | None = None) -> dict[str, Any]:
    """The JSON shape of an event for the API and the live push."""
    alert = alert or event.alert
    return {
        "id": event.pk,
        "prev_id": event.prev_id,
        "alert_id": event.alert_id,
        "kind": event.kind,
        "at": event.at.isoformat(),
        "state": event.state,
        "priority": event.priority,
        "message": event.message,
        "line_id": event.line_id,
        "asset_id": alert.asset_id,
        "rule_id": alert.rule_id,
        "note": event.note,
        "shelved_until": alert.shelved_until.isoformat() if alert.shelved_until else None,
        "suppressed": alert.suppressed,
    }


# --- operators' actions --------------------------------------------------------------------


def _act(
    alert_ids: Iterable[int],
    *,
    user: AbstractBaseUser,
    note: str,
    action,
) -> list[int]:
    """Apply `action(status, now, alert) -> Transition` to each alert under the event lock."""
    now = timezone.now()
    with transaction.atomic():
        _lock_events()
        alerts = list(
            Alert.objects.select_for_update()
            .select_related("asset")
            .filter(pk__in=list(alert_ids))
            .order_by("pk")
        )
        recorder = _Recorder()
        refused: list[str] = []
        for alert in alerts:
            try:
                transition = action(alert.status(), now, alert)
            except IllegalTransition as error:
                refused.append(f"{alert}: {error.why}")
                continue
            recorder.apply(
                alert, transition, now, line_id=alert.asset.line_id, user=user, note=note
            )
        if refused and not recorder.pending:
            raise AlertActionRefused("; ".join(refused))
        recorder.flush()
    return [alert.pk for alert in recorder.alerts.values()]


def alerts_acknowledge(
    *, alert_ids: Iterable[int], user: AbstractBaseUser, note: str = ""
) -> list[int]:
    """Acknowledge the alerts that await it; return the ids acknowledged."""
    return _act(
        alert_ids,
        user=user,
        note=note,
        action=lambda status, now, _: lifecycle.acknowledge(status, now),
    )


def max_shelve_s(user: AbstractBaseUser, rule: AlertRule) -> int:
    """How long this user may shelve this rule's alerts: operators have a plant-wide limit."""
    if user.has_perm("alerts.supervise_alerts"):
        return rule.max_shelve_s
    return min(settings.ALERT_OPERATOR_MAX_SHELVE_S, rule.max_shelve_s)


def alert_shelve(*, alert_id: int, user: AbstractBaseUser, until: datetime, reason: str) -> None:
    """Shelve an alert until `until`, within the user's limit; a reason is required."""
    if not reason.strip():
        raise AlertActionRefused("Say why the alert is shelved.")

    def shelve(status: AlertStatus, now: datetime, alert: Alert) -> Transition:
        limit = max_shelve_s(user, alert.rule)
        if (until - now).total_seconds() > limit:
            raise AlertActionRefused(
                f"You may shelve this alert for at most {timedelta(seconds=limit)}."
            )
        return lifecycle.shelve(status, now, until, limit, by=user.get_username(), reason=reason)

    _act([alert_id], user=user, note=reason, action=shelve)


def alert_unshelve(*, alert_id: int, user: AbstractBaseUser, note: str = "") -> None:
    _act(
        [alert_id],
        user=user,
        note=note,
        action=lambda status, now, _: lifecycle.unshelve(status, now),
    )


def alert_assign(
    *, alert_id: int, user: AbstractBaseUser, assignee: AbstractBaseUser | None, note: str = ""
) -> None:
    """Give the alert to someone (or to nobody); recorded as an event with the note."""
    text = f"assigned to {assignee.get_username()}" if assignee else "unassigned"
    with transaction.atomic():
        alert = _locked_alert(alert_id)
        alert.assignee = assignee
        _record_note(alert, user=user, kind="assigned", note=f"{text}. {note}".strip(" ."))


def alert_comment(*, alert_id: int, user: AbstractBaseUser, note: str) -> None:
    if not note.strip():
        raise AlertActionRefused("A comment needs some text.")
    with transaction.atomic():
        _record_note(_locked_alert(alert_id), user=user, kind="commented", note=note)


def _locked_alert(alert_id: int) -> Alert:
    _lock_events()
    return Alert.objects.select_for_update().select_related("asset").get(pk=alert_id)


def _record_note(alert: Alert, *, user: AbstractBaseUser, kind: str, note: str) -> None:
    """Record an event that changes no alert state (and save the alert as it stands)."""
    recorder = _Recorder()
    recorder.record(alert, kind, timezone.now(), line_id=alert.asset.line_id, user=user, note=note)
    recorder.flush()


# --- conditions from detectors (anomaly scores, remaining-life predictions) ----------------


def external_rule_applies(
    rule: AlertRule, *, asset_type: str, condition: ExternalCondition
) -> bool:
    """Whether an anomaly or prediction rule takes this condition of an asset of this type."""
    if rule.kind != condition.source or rule.signal_id is not None:
        return False
    if rule.asset_type and rule.asset_type != asset_type:
        return False
    if rule.kind == RuleSource.ANOMALY:
        # A warning-level rule also takes alarms; an alarm-level rule only alarms.
        return condition.key in (
            {"warning", "alarm"} if rule.anomaly_level == "warning" else {"alarm"}
        )
    # A prediction: only when the whole interval lies inside the rule's horizon.
    high = condition.evidence.get("rul_high_days")
    return high is not None and high <= rule.horizon_days


@transaction.atomic
def alerts_apply_conditions(*, conditions: Iterable[ExternalCondition]) -> int:
    """Raise or return the alerts of the anomaly and prediction rules; return events written.

    Conditions are levels: each one is compared with its alert, and only a change is a
    transition, because a raise while active counts another occurrence. An active alert whose
    detector now says something new (a narrower interval) takes the new message and evidence
    without a new event. A condition no enabled rule takes is ignored.
    """
    conditions = list(conditions)
    if not conditions:
        return 0
    assets = {
        row[0]: row
        for row in Asset.objects.filter(pk__in={c.asset_id for c in conditions}).values_list(
            "pk", "name", "asset_type", "line_id", "line__name", "state", "out_of_service_since"
        )
    }
    rules = list(
        AlertRule.objects.filter(
            enabled=True, kind__in={c.source for c in conditions}, signal__isnull=True
        )
    )
    # Levels of one detector are exclusive: the "warning" rule and the "alarm" rule of the same
    # source see the asset's one current level; a level that no longer holds returns.
    wanted: dict[tuple[int, int], ExternalCondition] = {}
    judged: dict[tuple[int, int], ExternalCondition] = {}
    for condition in conditions:
        asset = assets.get(condition.asset_id)
        if asset is None:
            continue
        for rule in rules:
            if rule.kind != condition.source or (rule.asset_type and rule.asset_type != asset[2]):
                continue
            key = (rule.pk, condition.asset_id)
            judged[key] = condition
            if condition.active and external_rule_applies(
                rule, asset_type=asset[2], condition=condition
            ):
                wanted[key] = condition
    if not judged:
        return 0
    _lock_events()
    alerts = _alerts_for(set(judged))
    by_pk = {rule.pk: rule for rule in rules}
    recorder = _Recorder()
    for key, condition in judged.items():
        rule = by_pk[key[0]]
        _, asset_name, _, line_id, line_name, state, out_of_service_since = assets[key[1]]
        alert = alerts.get(key)
        raised = wanted.get(key)
        if raised is None:
            if alert is not None and alert.status().active:
                recorder.apply(
                    alert,
                    lifecycle.return_to_normal(alert.status(), condition.at),
                    condition.at,
                    line_id=line_id,
                )
            continue
        if alert is None:
            alert = Alert(rule=rule, asset_id=key[1], priority=rule.priority)
        alert.evidence = dict(raised.evidence)
        alert.value = raised.evidence.get("value")
        alert.message = (
            render_message(
                rule.message_template,
                {
                    "asset": asset_name,
                    "line": line_name,
                    "rule": rule.name,
                    "message": raised.message,
                    "value": alert.value,
                },
            )
            if rule.message_template
            else raised.message
        )[:500]
        if alert.status().active:
            recorder.alerts[id(alert)] = alert  # saved with the new message, no event
            continue
        at = raised.at
        suppress = state in SUPPRESSING_STATES or out_of_service_since is not None
        if suppress != alert.status().suppressed:
            recorder.apply(
                alert, lifecycle.suppress(alert.status(), at, suppress), at, line_id=line_id
            )
        alert.priority = raised.priority.value if raised.priority else rule.priority
        recorder.apply(alert, lifecycle.raise_condition(alert.status(), at), at, line_id=line_id)
    return recorder.flush()


# --- the periodic sweep --------------------------------------------------------------------


def alerts_sweep(*, now: datetime | None = None) -> int:
    """Expire shelving, re-alarm, follow suppression and judge no-data rules; return events.

    Run by beat every few seconds. Also pushes a tick with the newest event id, so a tablet
    that missed the last live message notices and fetches it.
    """
    now = now or timezone.now()
    with transaction.atomic():
        count = _sweep_no_data(now)
        _lock_events()
        recorder = _Recorder()
        open_or_hidden = (
            Alert.objects.select_for_update()
            .select_related("rule", "asset")
            .filter(
                ~Q(state=lifecycle.AlarmState.NORMAL.value)
                | Q(shelved_until__isnull=False)
                | Q(suppressed=True)
            )
            .order_by("pk")
        )
        for alert in open_or_hidden:
            line_id = alert.asset.line_id
            status = alert.status()
            if status.shelved_until is not None and status.shelved_until <= now:
                recorder.apply(alert, lifecycle.expire_shelving(status, now), now, line_id=line_id)
                status = alert.status()
            asset = alert.asset
            suppress = status.is_open and (
                asset.state in SUPPRESSING_STATES or asset.out_of_service_since is not None
            )
            if suppress != status.suppressed and (status.is_open or status.suppressed):
                recorder.apply(
                    alert, lifecycle.suppress(status, now, suppress), now, line_id=line_id
                )
                status = alert.status()
            after = alert.rule.realarm_after_s
            if after and lifecycle.realarm_due(status, now, after):
                recorder.apply(alert, lifecycle.realarm(status, now, after), now, line_id=line_id)
        count += recorder.flush()
        newest = AlertEvent.objects.aggregate(last=Max("id"))["last"] or 0
    realtime.send_now([(realtime.ALERTS_GROUP, {"type": "alert.tick", "last_id": newest})])
    return count


def _sweep_no_data(now: datetime) -> int:
    rules = list(AlertRule.objects.filter(enabled=True, kind=RuleKind.NO_DATA.value))
    if not rules:
        return 0
    signal_scope = Q(pk__in=[r.signal_id for r in rules if r.signal_id]) | Q(
        asset__asset_type__in={r.asset_type for r in rules if not r.signal_id},
        slug__in={r.signal_slug for r in rules if not r.signal_id},
    )
    infos = _signal_infos(Signal.objects.filter(signal_scope).values_list("pk", flat=True))
    pairs = [(rule, info) for info in infos.values() for rule in rules if _applies(rule, info)]
    states = _evaluator_states(pairs)
    last_seen = dict(
        LatestReading.objects.filter(signal_id__in=list(infos)).values_list("signal_id", "ts")
    )
    now_us = datetime_to_us(now)
    edges = []
    new_states = []
    for rule, info in pairs:
        seen = last_seen.get(info.pk)
        if seen is None:
            continue  # never reported: nothing to go silent yet
        evaluation = evaluate_no_data(
            rule.spec(),
            states.get((rule.pk, info.pk), EvaluatorState()),
            datetime_to_us(seen),
            now_us,
        )
        new_states.append(RuleState(rule=rule, signal_id=info.pk, state=evaluation.state.as_dict()))
        edges.extend((rule, info, change) for change in evaluation.changes)
    _store_evaluator_states(new_states)
    return _apply_edges(edges)


@transaction.atomic
def alerts_demo_rules_seed() -> int:
    """Create or update the demo plant's alert rules (by name); return how many there are."""
    rules = demo_rules.demo_rules()
    for rule in rules:
        fields = dataclasses.asdict(rule)
        AlertRule.objects.update_or_create(name=fields.pop("name"), defaults=fields)
    return len(rules)
