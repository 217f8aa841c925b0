"""A simulated plant's past as batches, for storing through the real pipeline without MQTT.

The same physics as `simulate_plant`, stepped in simulated time from a start instant: each
asset's readings (at each signal's sampling interval, or more coarsely where asked), state
changes and part counts, cut into one batch per asset per slice of time, in time order. What
is made is decided by the seed (and the repairs asked for) alone, so the same calls give the
same batches, whichever way they are then delivered — live, late, or twice.

`PlantHistory` keeps its machines between stretches: a long past can be sampled coarsely and
its last hours at full rate, and a machine can be repaired between two slices.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from plantops.simulator.physics import MAX_SUBSTEP_S, AssetSpec, SignalSpec, SimulatedAsset
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


@dataclass(frozen=True, slots=True)
class Sampling:
    """How finely a stretch is simulated: physics steps of `step_s`, each signal read at its
    own interval or every `sample_s` if that is longer, parts counted every `count_every_s`
    (a multiple of the step), heat integrated over at most `max_substep_s`."""

    step_s: float = 1.0
    sample_s: float = 0.0
    count_every_s: float = COUNT_EVERY_S
    max_substep_s: float = MAX_SUBSTEP_S


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
    next_count_s: float = COUNT_EVERY_S
    # State changes made between slices (a repair): sent with the asset's next slice.
    pending: list[tuple[int, int, str, str]] = field(default_factory=list)


class PlantHistory:
    """A simulated plant stepped through its past from `start_us`, one stretch at a time."""

    def __init__(self, assets: list[HistoryAsset], *, seed: int, start_us: int) -> None:
        self.start_us = start_us
        self.clock_s = 0.0
        self._running: list[_Running] = []
        for asset in assets:
            spec = AssetSpec(
                slug=asset.slug,
                ideal_cycle_time_s=asset.ideal_cycle_time_s,
                signals=tuple(
                    SignalSpec(slug, *asset.limits.get(slug, (None, None)))
                    for slug in asset.signals
                ),
            )
            machine = SimulatedAsset(
                spec,
                random.Random(f"{seed}:{asset.slug}"),
                mean_time_between_stops_s=asset.mean_time_between_stops_s,
            )
            self._running.append(_Running(asset, machine, dict.fromkeys(asset.signals, 0.0)))
        self._by_id = {each.asset.asset_id: each for each in self._running}

    @property
    def now_us(self) -> int:
        """Where the simulation has got to."""
        return self.start_us + round(self.clock_s * US)

    def machine(self, asset_id: int) -> SimulatedAsset:
        return self._by_id[asset_id].machine

    def report_states(self) -> None:
        """Have each machine report the state it is in with its next slice (as the live
        simulator does when it starts): without it, what a machine did until its first
        change would be unknown."""
        for each in self._running:
            at_us = max(self.now_us, each.last_state_us + 1)
            each.last_state_us = at_us
            each.pending.append(
                (each.asset.asset_id, at_us, each.machine.state, each.machine.reason)
            )

    def repair(self, asset_id: int, *, stop_s: float = 0.0) -> None:
        """Replace the machine's bearing now (`SimulatedAsset.repair`); the state change it
        makes goes with the asset's next slice."""
        each = self._by_id[asset_id]
        change = each.machine.repair(stop_s=stop_s)
        if change is not None:
            at_us = max(self.start_us + round(change.at_s * US), each.last_state_us + 1)
            each.last_state_us = at_us
            each.pending.append((asset_id, at_us, change.state, change.reason))

    def slices(
        self,
        *,
        seconds: float,
        slice_s: float = 60.0,
        sampling: Sampling = Sampling(),
        per_asset: Mapping[int, Sampling] | None = None,
    ) -> Iterator[Slice]:
        """Yield each asset's batch for each slice of `slice_s` seconds of the next `seconds`,
        slice by slice, simulated at `sampling` (or at the asset's own in `per_asset`; its
        step must divide the slice)."""
        per_asset = per_asset or {}
        steps_per_slice = max(1, round(slice_s / sampling.step_s))
        slice_len_s = steps_per_slice * sampling.step_s
        slices = max(1, round(seconds / slice_s))
        base_s = self.clock_s
        start_us = self.start_us
        for each in self._running:
            each.machine.max_substep_s = per_asset.get(each.asset.asset_id, sampling).max_substep_s
        for index in range(slices):
            slice_start_s = base_s + index * slice_len_s
            for each in self._running:
                own = per_asset.get(each.asset.asset_id, sampling)
                step_s = own.step_s
                readings: list[tuple[int, int, float]] = []
                states, counts = each.pending, []
                each.pending = []
                for step in range(max(1, round(slice_len_s / step_s))):
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
                            each.next_due_s[slug] += max(interval_s, own.sample_s)
                            readings.append((signal_id, ts_us, round(result.readings[slug], 3)))
                    if clock_s + 1e-9 >= each.next_count_s:
                        each.next_count_s += own.count_every_s
                        if each.asset.ideal_cycle_time_s and each.good + each.scrap:
                            counts.append((each.asset.asset_id, ts_us, each.good, each.scrap))
                            each.good = each.scrap = 0
                yield Slice(
                    asset_id=each.asset.asset_id,
                    start_us=start_us + round(slice_start_s * US),
                    end_us=start_us + round((slice_start_s + slice_len_s) * US),
                    batch=Batch.of(readings=readings, states=states, counts=counts),
                )
            self.clock_s = base_s + (index + 1) * slice_len_s


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
    history = PlantHistory(assets, seed=seed, start_us=start_us)
    return history.slices(seconds=seconds, slice_s=slice_s, sampling=Sampling(step_s=step_s))
