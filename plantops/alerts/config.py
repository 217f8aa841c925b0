"""What every stored batch's rules need to know of the plant: the enabled reading rules and
the signals' fixed facts (names, asset, line), kept in the process for `CONFIG_TTL_S`
(`core.kept`). An asset's state and maintenance status change all the time and are read
fresh, with the rules' states.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

from plantops.alerts.evaluation import RuleKind, RuleSpec
from plantops.alerts.models import AlertRule
from plantops.assets.models import Signal
from plantops.assets.states import MachineState
from plantops.core.kept import Kept

READING_KINDS = (RuleKind.HIGH.value, RuleKind.LOW.value, RuleKind.RATE.value)
# States in which an asset's alerts are suppressed (ISA-18.2 "suppressed by design").
SUPPRESSING_STATES = frozenset({MachineState.PLANNED_STOP.value})


@dataclasses.dataclass(frozen=True)
class SignalInfo:
    """A signal's fixed facts for the rules and their messages, with its asset's current state."""

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
    out_of_service: bool

    @property
    def suppressed(self) -> bool:
        return self.asset_state in SUPPRESSING_STATES or self.out_of_service


CONFIG_TTL_S = 10.0


class PlantConfig(Kept):
    """The enabled reading rules and the signals' fixed facts (names, asset, line), kept for
    `CONFIG_TTL_S`. An asset's state and maintenance status change all the time and are read
    fresh, with the rules' states."""

    def clear(self) -> None:
        super().clear()
        self.rules: list[AlertRule] | None = None
        self.signals: dict[int, SignalInfo] = {}
        # Signal id → the (rule, signal) pairs of the rules that watch it (often none).
        self.pairs: dict[int, list[tuple[AlertRule, SignalInfo]]] = {}
        self.specs: dict[int, RuleSpec] = {}

    def reading_rules(self) -> list[AlertRule]:
        self.fresh()
        if self.rules is None:
            self.rules = list(
                AlertRule.objects.filter(enabled=True, kind__in=READING_KINDS).order_by("pk")
            )
        return self.rules

    def signal_infos(self, signal_ids: Iterable[int]) -> dict[int, SignalInfo]:
        self.fresh()
        wanted = list(signal_ids)
        missing = [pk for pk in wanted if pk not in self.signals]
        if missing:
            self.signals.update(signal_infos(missing))
        return {pk: self.signals[pk] for pk in wanted if pk in self.signals}

    def watched(self, signal_ids: Iterable[int]) -> list[tuple[AlertRule, SignalInfo]]:
        """The (rule, signal) pairs of the enabled reading rules that watch these signals, by
        signal then rule: a dictionary look-up per signal, however many rules there are."""
        rules = self.reading_rules()
        wanted = list(signal_ids)
        missing = [pk for pk in wanted if pk not in self.pairs]
        if missing:
            infos = self.signal_infos(missing)
            for pk in missing:
                info = infos.get(pk)
                self.pairs[pk] = (
                    [(rule, info) for rule in rules if rule_applies(rule, info)] if info else []
                )
        return [pair for pk in wanted for pair in self.pairs[pk]]

    def spec(self, rule: AlertRule) -> RuleSpec:
        """The rule's spec for the evaluator, made once per kept rule."""
        spec = self.specs.get(rule.pk)
        if spec is None:
            spec = self.specs[rule.pk] = rule.spec()
        return spec


config = PlantConfig(ttl_s=CONFIG_TTL_S)


def plant_config_changed(**kwargs: Any) -> None:
    """Forget the kept configuration (connected to saves and deletes of rules and the plant)."""
    config.clear()


def signal_infos(signal_ids: Iterable[int]) -> dict[int, SignalInfo]:
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
    return {row[0]: SignalInfo(*row[:-1], out_of_service=row[-1] is not None) for row in rows}


def rule_applies(rule: AlertRule, info: SignalInfo) -> bool:
    if rule.signal_id is not None:
        return rule.signal_id == info.pk
    return rule.asset_type == info.asset_type and rule.signal_slug == info.slug
