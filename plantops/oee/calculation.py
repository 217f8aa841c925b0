"""OEE by ISO 22400-2, with the six big losses. Pure: no Django, no database.

Times are integers in microseconds since the Unix epoch (UTC), the pipeline's unit; durations
in results are seconds.

Definitions (ISO 22400-2 names in brackets):
- planned production time [planned busy time, PBT]: the shift calendar's production time,
  less the breaks, less what the machine itself reports as `planned_stop`;
- no data: planned time in which the machine's state is unknown (it had reported none yet);
- run time [actual production time, APT]: time in `running` within the planned time;
- availability = run time / (planned time − no data): time nobody knows about is its own
  loss, shown beside the ratios, never counted as a stop;
- performance [effectiveness] = ideal cycle time × total count / run time;
- quality [quality ratio] = good count / total count;
- OEE = availability × performance × quality.

Only what happens inside planned production time counts: running and parts made outside it
(overtime nobody planned) are neither losses nor output.

The six big losses (Nakajima), in seconds or parts:
- breakdowns: `down` spans at least `small_stop_s` long;
- setup and changeover: `changeover` time;
- small stops (idling and minor stoppages): `down` spans shorter than `small_stop_s`, and all
  `idle` time (starved, blocked, waiting);
- reduced speed: run time − ideal cycle time × total count (not below zero);
- start-up rejects: scrap counted within `startup_s` after the machine starts running again
  following a breakdown or changeover;
- production rejects: all other scrap.
A stop is judged small or not by its whole length, also when the period clips it.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from plantops.assets.states import MachineState

US = 1_000_000

RUNNING, IDLE, DOWN, PLANNED_STOP, CHANGEOVER = (
    MachineState.RUNNING,
    MachineState.IDLE,
    MachineState.DOWN,
    MachineState.PLANNED_STOP,
    MachineState.CHANGEOVER,
)


@dataclass(frozen=True, slots=True)
class Span:
    """A state from `start_us` (inclusive) to `end_us` (exclusive)."""

    start_us: int
    end_us: int
    state: str
    reason: str = ""

    @property
    def seconds(self) -> float:
        return (self.end_us - self.start_us) / US


@dataclass(frozen=True, slots=True)
class Count:
    ts_us: int
    good: int
    scrap: int
    # The product's ideal cycle time on this machine, where the parts had one; else the
    # machine's own (Params.ideal_cycle_s).
    ideal_cycle_s: float | None = None


@dataclass(frozen=True, slots=True)
class Params:
    ideal_cycle_s: float | None
    small_stop_s: float = 120.0
    startup_s: float = 600.0


@dataclass(slots=True)
class Losses:
    """The losses that add up over assets and periods; reduced speed is `Oee.reduced_speed_s`,
    taken from the totals, since faster hours make up for slower ones."""

    breakdowns_s: float = 0.0
    changeover_s: float = 0.0
    small_stops_s: float = 0.0
    startup_rejects: int = 0
    production_rejects: int = 0
    # How many breakdowns began in the period (whether in planned time or not): MTBF, MTTR.
    breakdowns: int = 0
    # Planned time with no machine state known (not one of the six big losses).
    no_data_s: float = 0.0


@dataclass(slots=True)
class Oee:
    """Totals of a period, from which the ratios follow; ratios are None without a basis."""

    planned_s: float = 0.0
    run_s: float = 0.0
    # Ideal cycle time × total count, summed per asset (assets differ in cycle time).
    ideal_run_s: float = 0.0
    total_count: int = 0
    good_count: int = 0
    # False when an asset has no ideal cycle time: performance (and OEE) are then unknown.
    ideal_known: bool = True
    losses: Losses = field(default_factory=Losses)
    # Down time per reason code ("" when nobody has said why yet), for the Pareto.
    downtime_by_reason: dict[str, float] = field(default_factory=dict)

    @property
    def has_plan(self) -> bool:
        return self.planned_s > 0

    @property
    def known_s(self) -> float:
        """Planned time whose machine state is known: what availability is judged on."""
        return max(0.0, self.planned_s - self.losses.no_data_s)

    @property
    def no_data_share(self) -> float | None:
        """The part of the planned time with no data (0–1); None without a plan."""
        return min(1.0, self.losses.no_data_s / self.planned_s) if self.planned_s > 0 else None

    @property
    def availability(self) -> float | None:
        known_s = self.known_s
        return self.run_s / known_s if known_s > 0 else None

    @property
    def performance(self) -> float | None:
        return self.ideal_run_s / self.run_s if self.run_s > 0 and self.ideal_known else None

    @property
    def quality(self) -> float | None:
        return self.good_count / self.total_count if self.total_count > 0 else None

    @property
    def reduced_speed_s(self) -> float | None:
        """Run time not explained by the parts made at ideal speed (not below zero)."""
        return max(0.0, self.run_s - self.ideal_run_s) if self.ideal_known else None

    def loss_figures(self) -> dict[str, float | int | None]:
        """The six big losses (seconds for the time losses, parts for the quality losses),
        and the planned seconds with no data."""
        losses = self.losses
        speed = self.reduced_speed_s
        return {
            "breakdowns_s": round(losses.breakdowns_s, 3),
            "setup_changeover_s": round(losses.changeover_s, 3),
            "small_stops_s": round(losses.small_stops_s, 3),
            "reduced_speed_s": None if speed is None else round(speed, 3),
            "startup_rejects": losses.startup_rejects,
            "production_rejects": losses.production_rejects,
            "no_data_s": round(losses.no_data_s, 3),
        }

    @property
    def mtbf_s(self) -> float | None:
        """Mean time between failures: run time per breakdown."""
        return self.run_s / self.losses.breakdowns if self.losses.breakdowns else None

    @property
    def mttr_s(self) -> float | None:
        """Mean time to repair: breakdown time (within planned time) per breakdown."""
        return self.losses.breakdowns_s / self.losses.breakdowns if self.losses.breakdowns else None

    @property
    def oee(self) -> float | None:
        availability = self.availability
        if availability is None or not self.ideal_known:
            return None
        # No running, or no parts, is an OEE of zero, not an unknown.
        return availability * (self.performance or 0.0) * (self.quality or 0.0)

    def __add__(self, other: Oee) -> Oee:
        reasons = dict(self.downtime_by_reason)
        for reason, seconds in other.downtime_by_reason.items():
            reasons[reason] = reasons.get(reason, 0.0) + seconds
        a, b = self.losses, other.losses
        return Oee(
            planned_s=self.planned_s + other.planned_s,
            run_s=self.run_s + other.run_s,
            ideal_run_s=self.ideal_run_s + other.ideal_run_s,
            total_count=self.total_count + other.total_count,
            good_count=self.good_count + other.good_count,
            ideal_known=self.ideal_known and other.ideal_known,
            losses=Losses(
                breakdowns_s=a.breakdowns_s + b.breakdowns_s,
                changeover_s=a.changeover_s + b.changeover_s,
                small_stops_s=a.small_stops_s + b.small_stops_s,
                startup_rejects=a.startup_rejects + b.startup_rejects,
                breakdowns=a.breakdowns + b.breakdowns,
                production_rejects=a.production_rejects + b.production_rejects,
                no_data_s=a.no_data_s + b.no_data_s,
            ),
            downtime_by_reason=reasons,
        )


def combine(results: Iterable[Oee]) -> Oee:
    """The OEE of several assets or periods together: their totals added, ratios taken after.

    This is how a line's OEE comes from its assets: availability is the line's run time over
    its planned time, performance its ideal time over its run time, quality its good parts
    over all parts, so each asset weighs by its planned time and output, never by averaging
    percentages.
    """
    total = Oee()
    for result in results:
        total = total + result
    return total


def spans_from_events(
    events: Sequence[tuple[int, str, str]], *, start_us: int, end_us: int
) -> list[Span]:
    """States in force over [start_us, end_us) from state changes `(ts_us, state, reason)`.

    Events may come in any order (late messages are placed by their timestamp). The state
    before the first event is unknown and yields no span; each state lasts until the next
    event or `end_us`. Spans are not clipped to `start_us`, so a stop keeps its whole length;
    `oee_of` clips them to the planned time. The span before the period comes too.
    """
    # A machine that repeats its state (every minute, say) has not changed it: consecutive
    # events of one state are one span, with the first reason given in it.
    changes: list[list] = []
    for ts_us, state, reason in sorted(events):
        if changes and changes[-1][1] == state:
            if not changes[-1][2]:
                changes[-1][2] = reason
            continue
        changes.append([ts_us, state, reason])
    spans: list[Span] = []
    for i, (ts_us, state, reason) in enumerate(changes):
        until = changes[i + 1][0] if i + 1 < len(changes) else end_us
        until = min(until, end_us)
        if until > ts_us:
            spans.append(Span(ts_us, until, state, reason))
    # From the one before the first that reaches the period: it tells whether that one is a
    # restart (start-up rejects); oee_of counts no time outside the period.
    first = next((i for i, span in enumerate(spans) if span.end_us > start_us), len(spans))
    return spans[max(0, first - 1) :]


def _overlap(a_start: int, a_end: int, b_start: int, b_end: int) -> int:
    return max(0, min(a_end, b_end) - max(a_start, b_start))


def _merge(windows: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(w for w in windows if w[1] > w[0]):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _within(spans_or_windows: list[tuple[int, int]], start_us: int, end_us: int) -> int:
    return sum(_overlap(s, e, start_us, end_us) for s, e in spans_or_windows)


def oee_of(
    *,
    spans: Sequence[Span],
    counts: Sequence[Count],
    planned: Iterable[tuple[int, int]],
    params: Params,
    period: tuple[int, int] | None = None,
) -> Oee:
    """OEE of one asset: its state spans and counts, over its planned production windows.

    `period` is the stretch of time the windows were cut from: a breakdown is counted where it
    begins, so periods that follow each other never count one twice.
    """
    windows = _merge(planned)
    if period is None:
        period = (windows[0][0], windows[-1][1]) if windows else (0, 0)
    result = Oee()
    planned_stop_us = 0
    by_state: dict[str, int] = {}
    small_stop_us = 0
    breakdown_us = 0
    for span in spans:
        is_breakdown = (
            span.state == DOWN and span.end_us - span.start_us >= params.small_stop_s * US
        )
        if is_breakdown and period[0] <= span.start_us < period[1]:
            result.losses.breakdowns += 1
        inside = _within(windows, span.start_us, span.end_us)
        if not inside:
            continue
        by_state[span.state] = by_state.get(span.state, 0) + inside
        if span.state == PLANNED_STOP:
            planned_stop_us += inside
        elif span.state == DOWN:
            if is_breakdown:
                breakdown_us += inside
            else:
                small_stop_us += inside
        if span.state in (DOWN, IDLE):
            key = span.reason
            result.downtime_by_reason[key] = result.downtime_by_reason.get(key, 0.0) + inside / US
    calendar_us = sum(end - start for start, end in windows)
    result.planned_s = (calendar_us - planned_stop_us) / US
    result.run_s = by_state.get(RUNNING, 0) / US

    # A machine with no ideal cycle time of its own, whose parts brought none, has no known
    # performance, even without parts.
    any_cycle = bool(params.ideal_cycle_s)
    starts = _restarts(spans)
    startup_window_us = int(params.startup_s * US)
    for count in counts:
        if not any(start <= count.ts_us < end for start, end in windows):
            continue
        result.good_count += count.good
        result.total_count += count.good + count.scrap
        cycle_s = count.ideal_cycle_s or params.ideal_cycle_s
        if cycle_s:
            result.ideal_run_s += cycle_s * (count.good + count.scrap)
            any_cycle = True
        elif count.good + count.scrap:
            result.ideal_known = False  # parts of unknown speed: performance is unknown
        if any(0 <= count.ts_us - t < startup_window_us for t in starts):
            result.losses.startup_rejects += count.scrap
        else:
            result.losses.production_rejects += count.scrap
    if not any_cycle:
        result.ideal_known = False
    losses = result.losses
    losses.breakdowns_s = breakdown_us / US
    losses.small_stops_s = (small_stop_us + by_state.get(IDLE, 0)) / US
    losses.changeover_s = by_state.get(CHANGEOVER, 0) / US
    # Spans do not overlap: what they leave of the planned windows has no known state.
    losses.no_data_s = max(0, calendar_us - sum(by_state.values())) / US
    return result


def _restarts(spans: Sequence[Span]) -> list[int]:
    """When the machine started running again after a breakdown or a changeover."""
    ordered = sorted(spans, key=lambda s: s.start_us)
    return [
        span.start_us
        for before, span in itertools.pairwise(ordered)
        if span.state == RUNNING and before.state in (DOWN, CHANGEOVER)
    ]
