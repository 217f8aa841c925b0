"""The demo plant's past, as data: how finely each stretch of it is simulated, the bearings
that wear out, the alarm rule set up badly, and what the people on the floor write. Pure: no
Django.

A past of months cannot be stored at the signals' own rate (80 signals at 1 Hz for 90 days
are 600 million readings). The far past keeps one reading per signal every ten minutes, the
last week one a minute, and the last hour every signal at its own rate (1 s, temperature
5 s). A conveyor whose bearing wears out is read once a minute for its whole run to failure,
as the health model needs; the asset whose alarm chatters, at its own rate for its last day.
State changes are exact at every rate; part counts come every ten minutes in the far past and
every minute after. Rollups are of the readings stored.
"""

from __future__ import annotations

from dataclasses import dataclass

from plantops.simulator.history import Sampling

HOUR_S = 3_600.0
DAY_S = 86_400.0

FAR = Sampling(step_s=600.0, sample_s=600.0, count_every_s=600.0, max_substep_s=120.0)
RECENT = Sampling(step_s=60.0, sample_s=60.0, count_every_s=60.0, max_substep_s=60.0)
FULL = Sampling(step_s=1.0, sample_s=0.0, count_every_s=60.0)

RECENT_S = 7 * DAY_S
FULL_S = HOUR_S


@dataclass(frozen=True)
class Stretch:
    """`seconds` of the past from `start_s` (seconds from its beginning), simulated at
    `sampling` and stored in batches of `batch_s` (the clock stands at each batch's end)."""

    start_s: float
    seconds: float
    sampling: Sampling
    batch_s: float


def stretches(total_s: float) -> list[Stretch]:
    """The past of `total_s` seconds cut into its far, recent and full-rate stretches, oldest
    first; a short past has only the later ones."""
    full_from = max(0.0, total_s - FULL_S)
    recent_from = max(0.0, total_s - RECENT_S)
    cut = [
        (0.0, recent_from, FAR, 6 * HOUR_S),
        (recent_from, full_from, RECENT, 3 * HOUR_S),
        (full_from, total_s, FULL, 300.0),
    ]
    return [
        Stretch(start, end - start, sampling, batch_s)
        for start, end, sampling, batch_s in cut
        if end > start
    ]


@dataclass(frozen=True)
class Wear:
    """A conveyor bearing that wears out: monitored from `watch_s` (seconds from the start of
    the past), the fault from `fault_s`, failing `life_s` later unless `repair_at_s` comes
    first (predictive work found it: the bearing is replaced then)."""

    asset_slug: str
    watch_s: float
    fault_s: float
    life_s: float
    repair_at_s: float | None = None

    @property
    def fails_at_s(self) -> float:
        return self.fault_s + self.life_s

    @property
    def ends_s(self) -> float:
        """When the run ends: the repair before failure, else the failure."""
        return self.repair_at_s if self.repair_at_s is not None else self.fails_at_s

    @property
    def swap_planned_s(self) -> float | None:
        """When the supervisor plans the swap on the latest prediction: a day and a half
        ahead, or halfway through the fault if it is younger."""
        if self.repair_at_s is None:
            return None
        return self.repair_at_s - min(1.5 * DAY_S, (self.repair_at_s - self.fault_s) / 2)


# How long the bearing swap takes after a failure, and as planned work (a planned stop).
REPAIR_AFTER_FAILURE_S = 3 * HOUR_S
PLANNED_SWAP_S = 1.5 * HOUR_S


def wear_plan(total_s: float, *, learning_s: float) -> list[Wear]:
    """The bearings that wear out in a past of `total_s`: three in a quarter (two run to
    failure, one found by predictive work two days before it would have failed), or two at
    once in a short past (one of each). Each is watched for `learning_s` first, so the health
    model has learned the machine's normal before the fault begins."""
    if total_s >= 60 * DAY_S:
        days = total_s / DAY_S
        plan = [
            ("infeed-conveyor", days / 6, 9.0, None),
            ("outfeed-conveyor", days * 0.4, 8.0, 6.0),
            ("packer-infeed-conveyor", days * 0.7, 10.0, None),
        ]
        return [
            Wear(
                asset_slug=slug,
                watch_s=start * DAY_S,
                fault_s=start * DAY_S + learning_s + DAY_S,
                life_s=life * DAY_S,
                repair_at_s=None
                if repair is None
                else start * DAY_S + learning_s + DAY_S + repair * DAY_S,
            )
            for slug, start, life, repair in plan
        ]
    # A short past (the tests): learn (it takes the detector up to twice its learning time to
    # see enough running), then faults that end before its last few hours.
    watch_s = 0.02 * total_s
    fault_s = watch_s + 2 * learning_s + 6 * HOUR_S
    span_s = total_s - 6 * HOUR_S - fault_s
    if span_s < 12 * HOUR_S:
        return []
    return [
        Wear("outfeed-conveyor", watch_s, fault_s, span_s),
        Wear("infeed-conveyor", watch_s, fault_s, 2 * span_s, repair_at_s=fault_s + 0.8 * span_s),
    ]


# The alarm set up badly months ago: a limit inside the press's normal current and neither
# deadband nor delay, so the noise around it raises and clears it again and again.
BAD_ACTOR = {
    "asset_slug": "press-2",
    "signal_slug": "current",
    "name": "Press 2: main motor current high",
    "limit": 65.0,
    "priority": "low",
    "message_template": "{asset}: motor current {value:.0f} {unit}, above {limit:.0f} {unit}",
}
# The chattering alarm's asset is read at its own rate for this long before now (an eighth of
# a shorter past).
BAD_ACTOR_FULL_S = DAY_S
# What the alarm review changed once the history was written: the rule keeps quiet now.
BAD_ACTOR_FIXED = {"deadband": 3.0, "on_delay_s": 10.0, "off_delay_s": 30.0}

# Breakdowns long enough to call maintenance for, on the machines that make parts.
CALLED_OUT_REASONS = ("electrical_fault",)
CALLED_OUT_AFTER_S = 25 * 60.0

# Minutes after an alarm sounds that an operator acknowledges it, drawn per alarm.
ACK_DELAY_S = (60.0, 15 * 60.0)

BREAKDOWN_NOTES = {
    "electrical_fault": [
        "Main contactor chattering: replaced the coil and checked the wiring.",
        "Tripped motor protection. Found a loose terminal in the drive cabinet, tightened.",
        "Light curtain fault. Cleaned the lenses and realigned the receiver.",
        "Drive fault F0002 (DC link overvoltage). Reset, braking resistor checked.",
    ],
}
BEARING_NOTES = (
    "Drive-end bearing seized: outer race spalled, grease burnt. Replaced both bearings, "
    "greased, checked alignment and belt tension."
)
PREDICTIVE_NOTES = (
    "Replaced the drive-end bearing on the prediction: outer race spalling at 20% of the "
    "track, grease discoloured. Caught before failure."
)
PREVENTIVE_NOTES = [
    "Done as per checklist.",
    "Done. Slight belt wear noted, no action needed yet.",
    "Done. Topped up the lube reservoir.",
    "Done; gib clearance at the upper limit, recheck next time.",
]
# Some preventive work is done late: every n-th due point slips by a day or two.
LATE_EVERY = 6
