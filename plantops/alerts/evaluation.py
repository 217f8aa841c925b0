"""Evaluate alert rules on batches of readings, carrying a small state between batches.

Pure: no Django, no database. The caller keeps one `RuleState` per (rule, signal), passes it
in with the next batch of that signal's `(ts_us, value)` readings, in any order, and stores the
state it gets back (`as_dict()` / `from_dict()` round-trip through a JSON field). The output
is edges, not levels: `ConditionChange` `raise` or `clear` at the reading that completed the
condition, which `conditions.py` feeds to `lifecycle.raise_condition` / `return_to_normal`.
Kinds: `high` / `low` (limit and absolute deadband, in the signal's units), `rate` (units per
second over `window_s`) and `no_data` (`timeout_s` of silence, judged by `evaluate_no_data`).
On/off delays are judged at reading times only. Readings older than the newest judged (out
of order) may still raise a high or low rule once; a redelivered batch raises nothing twice.
Evaluation knows no clock: whether an edge was delivered live or late is `delivery`'s concern.
Also here: alert message templates, and `ExternalCondition` for levels from other detectors.

See docs/alert-lifecycle.md.
"""

from __future__ import annotations

import math
import re
import string
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Literal, NamedTuple, Protocol, runtime_checkable

from plantops.alerts.lifecycle import Priority

_US = 1_000_000


class RuleKind(StrEnum):
    HIGH = "high"
    LOW = "low"
    RATE = "rate"
    NO_DATA = "no_data"


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleSpec:
    """What one rule checks. `limit` is the value limit (high/low) or units per second (rate);
    `deadband` is absolute, in the same units; `window_s` is for rate, `timeout_s` for no_data."""

    kind: RuleKind
    limit: float = 0.0
    deadband: float = 0.0
    on_delay_s: float = 0.0
    off_delay_s: float = 0.0
    window_s: float = 0.0
    timeout_s: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", RuleKind(self.kind))
        for name in ("limit", "deadband", "on_delay_s", "off_delay_s", "window_s", "timeout_s"):
            value = getattr(self, name)
            if not math.isfinite(value):
                raise ValueError(f"{name} must be a finite number, not {value!r}")
        for name in ("deadband", "on_delay_s", "off_delay_s"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative, not {getattr(self, name)!r}")
        if self.kind is RuleKind.RATE:
            if self.window_s <= 0:
                raise ValueError("a rate rule needs window_s > 0")
            if self.limit <= 0:
                raise ValueError("a rate rule needs a limit > 0 (units per second)")
        if self.kind is RuleKind.NO_DATA and self.timeout_s <= 0:
            raise ValueError("a no_data rule needs timeout_s > 0")


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleState:
    """What one (rule, signal) remembers between batches. `RuleState()` is a fresh rule.

    `pending_since_us` is when the pending raise (inactive) or clear (active) condition started
    to hold, for the on/off delays; `last_ts_us` is the newest reading evaluated (for no_data:
    the last-seen time when the silence was raised); `history` holds the readings a rate rule
    still needs, oldest first.
    """

    active: bool = False
    pending_since_us: int | None = None
    last_ts_us: int | None = None
    history: tuple[tuple[int, float], ...] = ()
    # The value judged at `last_ts_us`, and when the condition last cleared: for late readings.
    last_value: float | None = None
    cleared_at_us: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """Return the state as JSON-ready builtins."""
        return {
            "active": self.active,
            "pending_since_us": self.pending_since_us,
            "last_ts_us": self.last_ts_us,
            "history": [[ts, value] for ts, value in self.history],
            "last_value": self.last_value,
            "cleared_at_us": self.cleared_at_us,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RuleState:
        """Return the state that `as_dict` produced; missing keys take their defaults."""
        return cls(
            active=bool(data.get("active", False)),
            pending_since_us=_optional_int(data.get("pending_since_us")),
            last_ts_us=_optional_int(data.get("last_ts_us")),
            history=tuple((int(ts), float(value)) for ts, value in data.get("history", ())),
            last_value=None if data.get("last_value") is None else float(data["last_value"]),
            cleared_at_us=_optional_int(data.get("cleared_at_us")),
        )


class ConditionChange(NamedTuple):
    """An edge of the rule's condition: at `ts_us`, raised or cleared, with the value judged
    (the reading for high/low, units per second for rate, seconds without data for no_data)."""

    ts_us: int
    change: Literal["raise", "clear"]
    value: float


@dataclass(frozen=True, slots=True)
class Evaluation:
    """The state to store and the edges found, oldest first."""

    state: RuleState
    changes: list[ConditionChange] = field(default_factory=list)


def evaluate(rule: RuleSpec, state: RuleState, readings: Iterable[tuple[int, float]]) -> Evaluation:
    """Return the new state and the raise/clear edges of a high, low or rate rule over a batch
    of `(ts_us, value)` readings in any order."""
    if rule.kind is RuleKind.NO_DATA:
        raise ValueError("no_data rules are evaluated by evaluate_no_data, not on readings")
    # One reading per timestamp: a signal has one value at a time (the lowest, so that the
    # order within a batch does not matter).
    readings = sorted((ts, v) for ts, v in readings if math.isfinite(v))
    readings = [r for i, r in enumerate(readings) if i == 0 or r[0] != readings[i - 1][0]]
    newest = state.last_ts_us
    late = [r for r in readings if newest is not None and r[0] <= newest]
    fresh = readings[len(late) :] if newest is not None else readings
    changes, cleared_at = _late_excursion(rule, state, late)
    active, pending, last_ts, changes_now, history, last_value, cleared = _run(
        rule,
        fresh,
        active=state.active,
        pending=state.pending_since_us,
        history=state.history,
    )
    changes.extend(changes_now)
    new_state = RuleState(
        active=active,
        pending_since_us=pending,
        last_ts_us=last_ts if last_ts is not None else newest,
        history=history,
        last_value=last_value if last_ts is not None else state.last_value,
        cleared_at_us=cleared or cleared_at or state.cleared_at_us,
    )
    return Evaluation(new_state, changes)


def _run(
    rule: RuleSpec,
    readings: Sequence[tuple[int, float]],
    *,
    active: bool,
    pending: int | None,
    history: Iterable[tuple[int, float]] = (),
) -> tuple[
    bool,
    int | None,
    int | None,
    list[ConditionChange],
    tuple[tuple[int, float], ...],
    float | None,
    int | None,
]:
    """Judge readings in time order from a state: (active, pending since, newest ts, edges,
    rate history, newest judged value, last clear)."""
    window: deque[tuple[int, float]] = deque(history)
    on_delay_us = round(rule.on_delay_s * _US)
    off_delay_us = round(rule.off_delay_s * _US)
    window_us = round(rule.window_s * _US)
    changes: list[ConditionChange] = []
    last_ts = judged = cleared = None
    for ts, value in readings:
        last_ts = ts
        judged = _rate(window, ts, value, window_us) if rule.kind is RuleKind.RATE else value
        if judged is None or not (_clears(rule, judged) if active else _raises(rule, judged)):
            pending = None
            continue
        if pending is None:
            pending = ts
        if ts - pending >= (off_delay_us if active else on_delay_us):
            active = not active
            pending = None
            changes.append(ConditionChange(ts, "raise" if active else "clear", judged))
            if not active:
                cleared = ts
    return active, pending, last_ts, changes, tuple(window), judged, cleared


def _late_excursion(
    rule: RuleSpec, state: RuleState, late: list[tuple[int, float]]
) -> tuple[list[ConditionChange], int | None]:
    """The edges of late readings judged on their own (see docs/alert-lifecycle.md), and the
    clear that closes them, if any."""
    newest = state.last_ts_us
    if (
        not late
        or newest is None
        or rule.kind is RuleKind.RATE
        or state.active
        or state.pending_since_us is not None
    ):
        return [], None
    after = state.cleared_at_us
    candidates = [r for r in late if r[0] < newest and (after is None or r[0] > after)]
    active, _, _, changes, _, judged, cleared = _run(rule, candidates, active=False, pending=None)
    if active:
        # Normal again by the newest reading already judged: that is where it returned.
        value = state.last_value if state.last_value is not None else judged
        changes.append(ConditionChange(newest, "clear", value))
        cleared = newest
    return changes, cleared


def evaluate_no_data(
    rule: RuleSpec, state: RuleState, last_seen_us: int, now_us: int
) -> Evaluation:
    """Return the new state and edges of a no_data rule, given the signal's newest reading time.

    The raise is dated when the silence reached `timeout_s` (last seen + timeout), not when a
    sweep noticed it, so the alert's time does not depend on how often the sweep runs. The
    clear is dated by the reading that ended the silence. For a signal that never reported,
    pass the time the rule was switched on as `last_seen_us`.
    """
    if rule.kind is not RuleKind.NO_DATA:
        raise ValueError(f"evaluate_no_data needs a no_data rule, not {rule.kind.value}")
    timeout_us = round(rule.timeout_s * _US)
    changes: list[ConditionChange] = []
    active = state.active
    silent_from = state.last_ts_us
    if active and silent_from is not None and last_seen_us > silent_from:
        changes.append(ConditionChange(last_seen_us, "clear", (last_seen_us - silent_from) / _US))
        active = False
    if not active and now_us - last_seen_us >= timeout_us:
        changes.append(
            ConditionChange(last_seen_us + timeout_us, "raise", (now_us - last_seen_us) / _US)
        )
        active = True
        silent_from = last_seen_us
    return Evaluation(RuleState(active=active, last_ts_us=silent_from if active else None), changes)


def no_data(last_seen_us: int, now_us: int, timeout_s: float) -> bool:
    """Return True when nothing has been seen for at least `timeout_s` seconds."""
    return now_us - last_seen_us >= round(timeout_s * _US)


def _raises(rule: RuleSpec, judged: float) -> bool:
    if rule.kind is RuleKind.LOW:
        return judged < rule.limit
    return judged > rule.limit


def _clears(rule: RuleSpec, judged: float) -> bool:
    # The deadband is the hysteresis: a value wobbling around the limit cannot clear and
    # raise again, which is what makes an alarm chatter.
    if rule.kind is RuleKind.LOW:
        return judged > rule.limit + rule.deadband
    return judged < rule.limit - rule.deadband


def _rate(history: deque[tuple[int, float]], ts: int, value: float, window_us: int) -> float | None:
    """Units per second from the newest reading at least a window old to this one; keeps in
    `history` only that reading and the ones after it."""
    history.append((ts, value))
    cutoff = ts - window_us
    while len(history) >= 2 and history[1][0] <= cutoff:
        history.popleft()
    then_ts, then_value = history[0]
    if then_ts > cutoff:
        return None
    return abs(value - then_value) / ((ts - then_ts) / _US)


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


# --- Messages ------------------------------------------------------------------------------

MAX_MESSAGE_CHARS = 500
_MAX_FORMAT_WIDTH = 100
_NUMBER = re.compile(r"\d+")


def render_message(template: str, context: Mapping[str, Any]) -> str:
    """Return the template filled from context, `str.format` style; never raises.

    Only plain names are looked up (`{value:.1f}`, not `{rule.__class__}`): templates are
    typed in the admin and must not reach into objects. A missing name (or a value that cannot
    be shown at all) stays as `{name}` so the gap is visible; a value that does not fit its
    format spec is shown as `str(value)`;
    a malformed or empty template gives a default built from `rule`, `asset` and `value`.
    The result is cut to `MAX_MESSAGE_CHARS`.
    """
    try:
        text = _render(template, context) if template and template.strip() else None
    except Exception:
        text = None
    if text is None:
        try:
            text = _default_message(context)
        except Exception:
            text = "Alert"
    return text[:MAX_MESSAGE_CHARS]


def _render(template: str, context: Mapping[str, Any]) -> str:
    parts: list[str] = []
    for literal, name, spec, conversion in string.Formatter().parse(template):
        parts.append(literal)
        if name is None:
            continue
        placeholder = "{" + name + "}"
        if not name.isidentifier() or name not in context:
            parts.append(placeholder)
            continue
        try:
            parts.append(_format_value(context[name], spec or "", conversion))
        except Exception:
            # A value that cannot even be shown as text: keep the gap visible, not the alert.
            parts.append(placeholder)
    return "".join(parts)


def _format_value(value: Any, spec: str, conversion: str | None) -> str:
    if conversion == "r":
        value = repr(value)
    elif conversion == "a":
        value = ascii(value)
    elif conversion == "s":
        value = str(value)
    # A width like {value:>999999999} would build a huge string before the cut.
    if any(int(n) > _MAX_FORMAT_WIDTH for n in _NUMBER.findall(spec)):
        return str(value)
    try:
        return format(value, spec)
    except Exception:
        return str(value)


def _default_message(context: Mapping[str, Any]) -> str:
    text = str(context.get("rule") or "Alert")
    if context.get("asset"):
        text += f" on {context['asset']}"
    if context.get("value") is not None:
        value = context["value"]
        shown = f"{value:g}" if isinstance(value, float) else str(value)
        unit = context.get("unit")
        text += f": {shown}{f' {unit}' if unit else ''}"
    return text


# --- External sources ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class ExternalCondition:
    """A condition reported by something other than a limit rule (anomaly score, RUL
    prediction) for one asset. `(source, key)` names the alarm, like a rule does; `active`
    is the level now, `at` when it was judged (aware UTC); `evidence` holds JSON-ready facts
    for the alert page (score, threshold, model version). `priority` overrides the configured
    one when given."""

    source: str
    asset_id: int
    key: str
    active: bool
    at: datetime
    message: str = ""
    evidence: Mapping[str, Any] = field(default_factory=dict)
    priority: Priority | None = None

    def __post_init__(self) -> None:
        if not self.source or not self.key:
            raise ValueError("an external condition needs a source and a key")
        offset = self.at.utcoffset()
        if offset is None:
            raise ValueError("at must be timezone-aware (UTC)")
        if offset != timedelta(0) or self.at.tzinfo is not UTC:
            object.__setattr__(self, "at", self.at.astimezone(UTC))
        if self.priority is not None:
            object.__setattr__(self, "priority", Priority(self.priority))


@runtime_checkable
class AlertSource(Protocol):
    """A detector (anomaly scores, RUL predictions) that alerts without knowing the storage.

    `name` is the `source` of every condition it reports; `conditions` returns the current
    level of each condition it watches. Levels, not edges: `conditions.py` compares each level
    with the alarm's status and call `raise_condition` or `return_to_normal` only on a change,
    because a raise while active counts another occurrence.
    """

    name: str

    def conditions(self, *, now: datetime) -> Sequence[ExternalCondition]: ...
