"""Writes that raise and return alerts from conditions: the limit rules judged on stored
readings, the no-data rules judged on the time of each signal's last reading, and the levels
the detectors (anomaly scores, remaining-life predictions) report.

The rules are judged by the pure `evaluation` module, which keeps a small state per (rule,
signal) between batches; their edges drive the pure `lifecycle`, and `events` records them.
Each edge is live or late (`delivery`): a late one is recorded at its own time, against the
asset as it stood then, and a late raise is held back from the operators until the signal's
data has caught up, so a backlog pages nobody for what has already returned to normal.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Sequence
from datetime import datetime

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from plantops.alerts import lifecycle
from plantops.alerts.config import (
    SUPPRESSING_STATES,
    SignalInfo,
    config,
    rule_applies,
    signal_infos,
)
from plantops.alerts.delivery import Delivery, EdgeDelivery, plan
from plantops.alerts.evaluation import (
    ConditionChange,
    ExternalCondition,
    RuleKind,
    evaluate,
    evaluate_no_data,
    render_message,
)
from plantops.alerts.evaluation import RuleState as EvaluatorState
from plantops.alerts.events import EventRecorder, lock_events, locked_alerts
from plantops.alerts.following import states_to_follow
from plantops.alerts.models import Alert, AlertEvent, AlertRule, RuleSource, RuleState
from plantops.assets.models import Asset, Signal
from plantops.core.db import batch_cursor
from plantops.core.time import datetime_to_us, us_to_datetime
from plantops.oee.models import StateEvent
from plantops.telemetry.columns import ReadingColumns
from plantops.telemetry.models import LatestReading

_US = 1_000_000
# Kept beside the evaluator's state of a (rule, signal): when a batch last left one of its
# raises held back (µs since the epoch, on the server's clock), for the sweep.
HELD_KEY = "held_at_us"

Edge = tuple[AlertRule, SignalInfo, ConditionChange, EdgeDelivery]


def late_after_us() -> int:
    """`ALERT_LATE_AFTER_S` in microseconds: older readings are late when judged."""
    return round(settings.ALERT_LATE_AFTER_S * _US)


def alerts_evaluate_readings(*, readings: ReadingColumns, now: datetime | None = None) -> int:
    """Evaluate the enabled rules on a stored batch's readings; return the events recorded.

    `now` is when they are judged (default: the clock); it decides which edges are late.
    Two queries whatever the batch size: the evaluators' states (with their assets' state),
    and one update of those states; alerts are touched only on an edge. Rules and signals come
    from `config`. Call inside the batch's transaction, so evaluation state and readings
    commit together.
    """
    if not len(readings):
        return 0
    pairs = config.watched(readings.distinct_signal_ids())
    if not pairs:
        return 0
    # Only the watched signals' readings are grouped: most of a batch may have no rule.
    by_signal = readings.of_signals(sorted({info.pk for _, info in pairs})).per_signal()
    states, assets = _evaluator_states(pairs)
    now_us = datetime_to_us(now or timezone.now())
    late_us = late_after_us()
    edges: list[Edge] = []
    to_announce: list[tuple[AlertRule, SignalInfo]] = []
    new_states: list[tuple[int, int, dict]] = []
    for rule, info in pairs:
        kept = states.get((rule.pk, info.pk), {})
        evaluation = evaluate(
            config.spec(rule), EvaluatorState.from_dict(kept), by_signal.get(info.pk, ())
        )
        delivered = plan(
            [(change.ts_us, change.change) for change in evaluation.changes],
            held=kept.get(HELD_KEY) is not None,
            newest_us=evaluation.state.last_ts_us,
            now_us=now_us,
            late_after_us=late_us,
        )
        new_state = evaluation.state.as_dict()
        if delivered.held:
            new_state[HELD_KEY] = now_us
        new_states.append((rule.pk, info.pk, new_state))
        if evaluation.changes or delivered.announce_held:
            state, out_of_service = assets.get(info.pk, ("", False))
            info = dataclasses.replace(info, asset_state=state, out_of_service=out_of_service)
            edges.extend(
                (rule, info, change, how)
                for change, how in zip(evaluation.changes, delivered.edges, strict=True)
            )
            if delivered.announce_held:
                to_announce.append((rule, info))
    _store_evaluator_states(new_states)
    return _apply_edges(edges, announce=to_announce, now=us_to_datetime(now_us))


def _evaluator_states(
    pairs: list[tuple[AlertRule, SignalInfo]],
) -> tuple[dict[tuple[int, int], dict], dict[int, tuple[str, bool]]]:
    """The evaluators' states, locked until the transaction ends, and the current state of
    each signal's asset and whether it is out of service (what suppresses its alerts).

    Two workers may store batches of the same signal at once. Without the lock both would
    start from the same state and the last to commit would overwrite the other's; with it the
    second waits and continues from the first's state (its readings may then be the older
    ones, which `evaluate` handles). Rows are created first and locked in key order, so
    concurrent workers cannot deadlock on them.
    """
    if not pairs:
        return {}, {}
    keys = sorted({(rule.pk, info.pk) for rule, info in pairs})
    states, assets = _locked_states(keys)
    missing = [key for key in keys if key not in states]
    if missing:  # a rule's first readings of a signal
        RuleState.objects.bulk_create(
            [RuleState(rule_id=r, signal_id=s, state={}) for r, s in missing],
            ignore_conflicts=True,
        )
        more_states, more_assets = _locked_states(missing)
        states |= more_states
        assets |= more_assets
    return states, assets


def _locked_states(
    keys: list[tuple[int, int]],
) -> tuple[dict[tuple[int, int], dict], dict[int, tuple[str, bool]]]:
    """The stored states of these (rule, signal) keys, locked, with their assets' state and
    whether they are out of service.

    Written out rather than through the ORM: this runs on every batch, and building the query
    cost more than running it; its text is the same from batch to batch, so it is prepared
    (`core.db`)."""
    rule_state, signal, asset = (
        connection.ops.quote_name(model._meta.db_table) for model in (RuleState, Signal, Asset)
    )
    rule_ids = sorted({r for r, _ in keys})
    signal_ids = sorted({s for _, s in keys})
    lock = f" FOR UPDATE OF {rule_state}" if connection.features.has_select_for_update_of else ""
    with batch_cursor() as cursor:
        cursor.execute(
            f"SELECT {rule_state}.rule_id, {rule_state}.signal_id, {rule_state}.state,"
            f" {asset}.state, {asset}.out_of_service_since IS NOT NULL"
            f" FROM {rule_state}"
            f" JOIN {signal} ON {signal}.id = {rule_state}.signal_id"
            f" JOIN {asset} ON {asset}.id = {signal}.asset_id"
            f" WHERE {rule_state}.rule_id IN ({', '.join(['%s'] * len(rule_ids))})"
            f" AND {rule_state}.signal_id IN ({', '.join(['%s'] * len(signal_ids))})"
            f" ORDER BY {rule_state}.rule_id, {rule_state}.signal_id{lock}",
            [*rule_ids, *signal_ids],
        )
        rows = cursor.fetchall()
    wanted = set(keys)
    states: dict[tuple[int, int], dict] = {}
    assets: dict[int, tuple[str, bool]] = {}
    for rule_id, signal_id, state, asset_state, out_of_service in rows:
        if (rule_id, signal_id) in wanted:
            states[(rule_id, signal_id)] = json.loads(state) if isinstance(state, str) else state
            assets[signal_id] = (asset_state, bool(out_of_service))
    return states, assets


# SQLite takes at most 999 parameters per statement.
_STATES_PER_STATEMENT = 300


def _store_evaluator_states(states: list[tuple[int, int, dict]]) -> None:
    """Write the evaluators' new states `(rule id, signal id, state)`, in one statement.

    Written out rather than through `bulk_create`: this runs on every batch, and building
    and preparing a model instance per state cost more than the statement itself (which is
    prepared, `core.db`)."""
    table = connection.ops.quote_name(RuleState._meta.db_table)
    with batch_cursor() as cursor:
        for start in range(0, len(states), _STATES_PER_STATEMENT):
            chunk = states[start : start + _STATES_PER_STATEMENT]
            cursor.execute(
                f"INSERT INTO {table} (rule_id, signal_id, state) VALUES "
                + ", ".join(["(%s, %s, %s)"] * len(chunk))
                + " ON CONFLICT (rule_id, signal_id) DO UPDATE SET state = excluded.state",
                [v for r, s, state in chunk for v in (r, s, json.dumps(state))],
            )


def _apply_edges(
    edges: list[Edge],
    *,
    announce: Sequence[tuple[AlertRule, SignalInfo]] = (),
    now: datetime,
) -> int:
    """Turn condition edges into alert transitions and events, oldest first; then tell the
    operators of the alarms in `announce`, raised earlier from late data and held back."""
    if not edges and not announce:
        return 0
    lock_events()
    keys = {(rule.pk, info.asset_id) for rule, info, *_ in [*edges, *announce]}
    alerts = locked_alerts(keys)
    recorder = EventRecorder()
    for rule, info, change, how in sorted(edges, key=lambda edge: edge[2].ts_us):
        alert = alerts.get((rule.pk, info.asset_id))
        if alert is None:
            alert = Alert(rule=rule, asset_id=info.asset_id, priority=rule.priority)
            alerts[(rule.pk, info.asset_id)] = alert
        at = us_to_datetime(change.ts_us)
        delay_s = how.delay_us / _US if how.delay_us is not None else None
        if change.change == "raise":
            _raise(recorder, alert, rule, info, at, change.value, how=how)
        elif alert.status().active:
            alert.value = change.value
            recorder.apply(
                alert,
                lifecycle.return_to_normal(alert.status(), at),
                at,
                line_id=info.line_id,
                delivery=how.delivery,
                delay_s=delay_s,
            )
    for rule, info in announce:
        alert = alerts.get((rule.pk, info.asset_id))
        # Acknowledged, shelved or announced by the sweep since: nothing to tell.
        if alert is not None and lifecycle.held_back(alert.status()):
            alert.apply(lifecycle.announce(alert.status(), now))
            recorder.announce(alert, line_id=info.line_id)
    return recorder.flush()


def _raise(
    recorder: EventRecorder,
    alert: Alert,
    rule: AlertRule,
    info: SignalInfo,
    at: datetime,
    value: float,
    *,
    how: EdgeDelivery,
) -> None:
    late = how.delivery is Delivery.LATE
    suppress = _suppressed_then(info, at) if late else info.suppressed
    delay_s = how.delay_us / _US if how.delay_us is not None else None
    if suppress != alert.status().suppressed:
        recorder.apply(
            alert,
            lifecycle.suppress(alert.status(), at, suppress),
            at,
            line_id=info.line_id,
            delivery=how.delivery,
            delay_s=delay_s,
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
    recorder.apply(
        alert,
        # A late raise is told now only when it still holds now (`delivery.plan`).
        lifecycle.raise_condition(alert.status(), at, announce=how.announce),
        at,
        line_id=info.line_id,
        delivery=how.delivery,
        delay_s=delay_s,
    )


def held_stalled(alerts: Iterable[Alert], *, now: datetime) -> list[Alert]:
    """Those of these alerts held back whose signal has had no batch judged for
    `ALERT_LATE_AFTER_S`: their late data stopped before it caught up, so nothing will release
    them but an announcement."""
    alerts = [alert for alert in alerts if lifecycle.held_back(alert.status())]
    if not alerts:
        return []
    held_at = {
        (rule_id, signal_id): (state or {}).get(HELD_KEY)
        for rule_id, signal_id, state in RuleState.objects.filter(
            rule_id__in={alert.rule_id for alert in alerts},
            signal_id__in={alert.signal_id for alert in alerts},
        ).values_list("rule_id", "signal_id", "state")
    }
    cutoff = datetime_to_us(now) - late_after_us()
    return [
        alert for alert in alerts if (held_at.get((alert.rule_id, alert.signal_id)) or 0) <= cutoff
    ]


def _suppressed_then(info: SignalInfo, at: datetime) -> bool:
    """Whether the asset's alerts were suppressed at `at`: its machine state then, from the
    state events (else its state now), and out of service then.

    Only for late edges, which are rare: a live edge takes the state read with the rules'
    states. Out of service is known only since the asset's current spell; an earlier spell,
    already ended, is not kept, so it does not suppress."""
    state = (
        StateEvent.objects.filter(asset_id=info.asset_id, ts__lte=at)
        .order_by("-ts")
        .values_list("state", flat=True)
        .first()
    ) or info.asset_state
    if state in SUPPRESSING_STATES:
        return True
    if not info.out_of_service:
        return False
    since = (
        Asset.objects.filter(pk=info.asset_id)
        .values_list("out_of_service_since", flat=True)
        .first()
    )
    return since is not None and since <= at


def alerts_evaluate_no_data(*, now: datetime) -> int:
    """Judge the no-data rules on each signal's last reading time; return the events written.
    Call inside a transaction."""
    rules = list(AlertRule.objects.filter(enabled=True, kind=RuleKind.NO_DATA.value))
    if not rules:
        return 0
    signal_scope = Q(pk__in=[r.signal_id for r in rules if r.signal_id]) | Q(
        asset__asset_type__in={r.asset_type for r in rules if not r.signal_id},
        slug__in={r.signal_slug for r in rules if not r.signal_id},
    )
    infos = signal_infos(Signal.objects.filter(signal_scope).values_list("pk", flat=True))
    pairs = [(rule, info) for info in infos.values() for rule in rules if rule_applies(rule, info)]
    states, _ = _evaluator_states(pairs)
    last_seen = dict(
        LatestReading.objects.filter(signal_id__in=list(infos)).values_list("signal_id", "ts")
    )
    now_us = datetime_to_us(now)
    late_us = late_after_us()
    edges: list[Edge] = []
    new_states: list[tuple[int, int, dict]] = []
    for rule, info in pairs:
        seen = last_seen.get(info.pk)
        if seen is None:
            continue  # never reported: nothing to go silent yet
        evaluation = evaluate_no_data(
            rule.spec(),
            EvaluatorState.from_dict(states.get((rule.pk, info.pk), {})),
            datetime_to_us(seen),
            now_us,
        )
        new_states.append((rule.pk, info.pk, evaluation.state.as_dict()))
        # A silence is judged against now, so a raise still holds now: never held back.
        delivered = plan(
            [(change.ts_us, change.change) for change in evaluation.changes],
            held=False,
            newest_us=now_us,
            now_us=now_us,
            late_after_us=late_us,
        )
        edges.extend(
            (rule, info, change, how)
            for change, how in zip(evaluation.changes, delivered.edges, strict=True)
        )
    _store_evaluator_states(new_states)
    return _apply_edges(edges, now=now)


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
    lock_events()
    alerts = locked_alerts(set(judged))
    by_pk = {rule.pk: rule for rule in rules}
    recorder = EventRecorder()
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


def alerts_evaluate_batch(
    *, readings: ReadingColumns, states: Sequence[tuple[int, int, str, str]]
) -> int:
    """Judge a batch's readings and follow its machine states, in time order; return events.

    The readings before each state change are judged before the change suppresses or
    unsuppresses the asset's open alerts, so a batch holding hours of backlog records what the
    same data delivered a few seconds at a time would have. A state suppresses only its own
    asset's alerts: the other assets' readings are judged in one go.
    """
    followed = states_to_follow(states) if states else []
    if not followed:
        return alerts_evaluate_readings(readings=readings)
    count, since = 0, None
    cut_signals = Signal.objects.filter(asset_id__in={row[0] for row in followed})
    theirs = np.isin(readings.signal_ids, list(cut_signals.values_list("pk", flat=True)))
    if not theirs.all():
        count += alerts_evaluate_readings(readings=readings[~theirs])
        readings = readings[theirs]
    for cut in sorted({ts_us for _, ts_us, _, _ in followed}):
        ts = readings.ts_us
        mask = ts < cut if since is None else (ts >= since) & (ts < cut)
        if mask.any():
            count += alerts_evaluate_readings(readings=readings[mask])
        count += alerts_follow_machine_states(states=[s for s in followed if s[1] == cut])
        since = cut
    rest = readings.ts_us >= since
    if rest.any():
        count += alerts_evaluate_readings(readings=readings[rest])
    return count


def alerts_follow_machine_states(
    *, states: Iterable[tuple[int, int, str, str]], now: datetime | None = None
) -> int:
    """Suppress and unsuppress the asset's open alerts at the moment its machine state said so
    (a planned stop begins, the machine runs again), at the state's own time; return events.

    So the history says when the stop began and ended whether the states came live or in a
    backlog; the sweep only catches what no state brought (out of service). Late states record
    late events. (`alerts_evaluate_batch` leaves out the states that a newer one, stored from
    another batch, has overtaken: it decided.)
    """
    now = now or timezone.now()
    by_asset: dict[int, list[tuple[int, str]]] = {}
    for asset_id, ts_us, state, _reason in states:
        by_asset.setdefault(asset_id, []).append((ts_us, state))
    if not by_asset:
        return 0
    candidates = list(
        Alert.objects.filter(asset_id__in=by_asset)
        .filter(~Q(state=lifecycle.AlarmState.NORMAL.value) | Q(suppressed=True))
        .values_list("pk", flat=True)
    )
    if not candidates:
        return 0
    lock_events()
    recorder = EventRecorder()
    out_of_service = dict(
        Asset.objects.filter(pk__in=by_asset).values_list("pk", "out_of_service_since")
    )
    alerts = (
        Alert.objects.select_for_update()
        .select_related("asset")
        .filter(pk__in=candidates)
        .order_by("pk")
    )
    now_us = datetime_to_us(now)
    for alert in alerts:
        for ts_us, state in sorted(by_asset[alert.asset_id]):
            at = us_to_datetime(ts_us)
            status = alert.status()
            suppress = status.is_open and (
                state in SUPPRESSING_STATES or out_of_service.get(alert.asset_id) is not None
            )
            if suppress == status.suppressed or not (status.is_open or status.suppressed):
                continue
            if alert.pk and AlertEvent.objects.filter(alert=alert, at=at).exists():
                continue  # the same states again (a redelivered batch): followed already
            delay_us = now_us - ts_us
            late = delay_us > late_after_us()
            recorder.apply(
                alert,
                lifecycle.suppress(status, at, suppress),
                at,
                line_id=alert.asset.line_id,
                delivery=Delivery.LATE if late else Delivery.LIVE,
                delay_s=delay_us / _US if late else None,
            )
    return recorder.flush()
