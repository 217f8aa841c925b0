"""How a plant maps Sparkplug B edge nodes, devices and metrics onto its own model. Pure.

A node or device (`Source`) maps to one asset, and each of its metrics by name to a signal, the
machine's state, a running total of good or scrap parts, or nothing (`Target`). The mapping
is kept in the admin (`SparkplugSource`, `SparkplugMetric`) and read by ingest with the topics.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import NamedTuple


class Source(NamedTuple):
    """Where a metric comes from: a group's edge node, or one of its devices."""

    group: str
    node: str
    device: str = ""

    def __str__(self) -> str:
        return "/".join(part for part in self if part)


class Target(StrEnum):
    """What a mapped metric feeds. Counters are running totals, as PLCs keep them: each
    message counts the parts made since the total before it."""

    SIGNAL = "signal"
    STATE = "state"
    GOOD_TOTAL = "good_total"
    SCRAP_TOTAL = "scrap_total"
    IGNORE = "ignore"


class MetricTarget(NamedTuple):
    target: Target
    signal_id: int = 0


@dataclass(frozen=True, slots=True)
class SparkplugMap:
    """The plant's mapping: sources to asset ids, and `(*source, metric name)` to targets."""

    assets: dict[Source, int] = field(default_factory=dict)
    metrics: dict[tuple[str, str, str, str], MetricTarget] = field(default_factory=dict)
