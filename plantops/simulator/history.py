"""A simulated plant's past as batches, for storing through the real pipeline without MQTT.

The same physics as `simulate_plant`, stepped in simulated time from a start instant: each
asset's readings (at each signal's sampling interval), state changes and part counts (one count
per `COUNT_EVERY_S`), cut into one batch per asset per slice of time, in time order. What is
made is decided by the seed alone, so the same call gives the same batches, whichever way
they are then delivered — live, late, or twice.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field

from plantops.simulator.physics import AssetSpec, SignalSpec, SimulatedAsset
from plantops.telemetry.batches import Batch

COUNT_EVERY_S = 60.0
US = 1_000_000


@dataclass(slots=True)
class HistoryAsset:
    """One asset to simulate: its id, its signals' ids and sampling intervals (by slug)."""

    asset_id: int
    slug: str
    signals: dict[str, tuple[int, float]]
    limits: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)
    ideal_cycle_time_s: float | None = None
    mean_time_between_stops_s: float | None = None


@dataclass(slots=True)
class Slice:
    """What one asset sent during `[start_us, end_us)`."""

    asset_id: int
    start_us: int
    end_us: int
    batch: Batch


@dataclass(slots=True)
class _Running:
    asset: HistoryAsset
    machine: SimulatedAsset
    next_due_s: dict[str, float]
    good: int = 0
    scrap: int = 0
    last_state_us: int = 0


def history_slices(
    assets: list[HistoryAsset],
    *,
    seed: int,
    start_us: int,
    seconds: float,
    step_s: float = 1.0,
    slice_s: float = 60.0,
) -> Iterator[Slice]:
    """Yield each asset's batch for each slice of `slice_s` seconds, slice by slice."""
    running = []
    for asset in assets:
        spec = AssetSpec(
            slug=asset.slug,
            ideal_cycle_time_s=asset.ideal_cycle_time_s,
            signals=tuple(
                SignalSpec(slug, *asset.limits.get(slug, (None, None))) for slug in asset.signals
            ),
        )
        machine = SimulatedAsset(
            spec,
            random.Random(f"{seed}:{asset.slug}"),
            mean_time_between_stops_s=asset.mean_time_between_stops_s,
        )
        running.append(_Running(asset, machine, dict.fromkeys(asset.signals, 0.0)))
    steps_per_slice = max(1, round(slice_s / step_s))
    slices = max(1, round(seconds / slice_s))
    next_count_s = COUNT_EVERY_S
    for index in range(slices):
        slice_start_s = index * steps_per_slice * step_s
        for each in running:
            readings, states, counts = [], [], []
            count_due = next_count_s
            for step in range(steps_per_slice):
                clock_s = slice_start_s + (step + 1) * step_s
                result = each.machine.step(step_s)
                for change in result.state_changes:
                    at_us = max(start_us + round(change.at_s * US), each.last_state_us + 1)
                    each.last_state_us = at_us
                    states.append((each.asset.asset_id, at_us, change.state, change.reason))
                each.good += result.good
                each.scrap += result.scrap
                ts_us = start_us + round(clock_s * US)
                for slug, (signal_id, interval_s) in each.asset.signals.items():
                    if clock_s + 1e-9 >= each.next_due_s[slug]:
                        each.next_due_s[slug] += interval_s
                        readings.append((signal_id, ts_us, round(result.readings[slug], 3)))
                if clock_s + 1e-9 >= count_due:
                    count_due += COUNT_EVERY_S
                    if each.asset.ideal_cycle_time_s and each.good + each.scrap:
                        counts.append((each.asset.asset_id, ts_us, each.good, each.scrap))
                        each.good = each.scrap = 0
            end_us = start_us + round((slice_start_s + steps_per_slice * step_s) * US)
            yield Slice(
                asset_id=each.asset.asset_id,
                start_us=start_us + round(slice_start_s * US),
                end_us=end_us,
                batch=Batch.of(readings=readings, states=states, counts=counts),
            )
        next_count_s = count_due
