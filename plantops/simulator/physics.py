"""The machine model behind `simulate_plant`. Pure: no Django.

Each `SimulatedAsset` is stepped in *simulated* seconds and draws every random number from its
own `random.Random`, so the same seed and the same sequence of steps replay the same plant.
The model is deliberately simple but physically shaped, so that regime-aware anomaly detection
and remaining-useful-life estimation have something honest to work on:

- the speed setpoint and the load wander slowly (operating regimes change, and with them the
  healthy vibration, current and temperature levels);
- vibration RMS grows with speed squared and with load; current grows with load and speed;
  temperature follows the electrical losses, (I/I_rated)², through a first-order thermal lag;
- unplanned stops arrive as a Poisson process in running time, with realistic reasons and
  durations; while stopped, speed and vibration fall away and the machine cools;
- an injected bearing fault follows a P-F curve: invisible at first, then accelerating, with
  impulsive spikes, extra heat and finally a bearing failure that leaves the machine down.

Signals the model does not know (any slug other than vibration, temperature, current, speed)
drift gently around the middle of their expected range, so an asset configured in the admin
with extra signals still reports all of them.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from plantops.assets.states import MachineState

AMBIENT_C = 22.0
THERMAL_TIME_CONSTANT_S = 20 * 60.0
# Drives ramp to a new speed within a few seconds; a stop coasts down just as quickly.
SPEED_RAMP_TIME_CONSTANT_S = 4.0
# Longest stretch integrated in one go between events. The wandering setpoint and load and the
# speed ramp are integrated exactly; this only bounds how long the heat input is held constant,
# which is harmless at 30 s against a 20-minute thermal time constant.
MAX_SUBSTEP_S = 30.0

RATED_SPEED_OF_MAX = 0.8
RATED_CURRENT_OF_MAX = 0.75
# Magnetising current of an induction motor is roughly a quarter to a third of rated current.
NO_LOAD_CURRENT_OF_RATED = 0.3
SPEED_FRACTION_RANGE = (0.55, 1.0)
LOAD_RANGE = (0.3, 1.0)
SETPOINT_TIME_CONSTANT_S = 30 * 60.0
LOAD_TIME_CONSTANT_S = 8 * 60.0
# Healthy vibration at rated speed and full load, as a share of the signal's expected max.
VIBRATION_BASE_OF_MAX = (0.35, 0.45)
# What a stopped machine still picks up from its neighbours and the floor.
VIBRATION_BACKGROUND_OF_MAX = 0.015
# Temperature rise at rated current, as a share of the headroom between ambient and max.
THERMAL_RISE_OF_HEADROOM = 0.45
SCRAP_RATE_RANGE = (0.01, 0.03)
MEAN_TIME_BETWEEN_STOPS_RANGE_S = (40 * 60.0, 60 * 60.0)

# With k = 20 a machine at a typical operating point (0.8 of rated speed, load 0.65) crosses its
# expected max at about 55% of the P-F interval, and even the gentlest regime does by about 85%.
BEARING_VIBRATION_GAIN = 20.0
BEARING_MAX_HEATING_C = 15.0
BEARING_SPIKE_PROBABILITY = 0.3  # per reading, at full severity
BEARING_FAILURE_REASON = "bearing_failure"
MAINTENANCE_REASON = "maintenance"
FAULT_MODES = frozenset({"bearing"})

# Used when a signal has no expected max configured.
DEFAULT_MAX = {"vibration": 4.5, "temperature": 80.0, "current": 20.0, "speed": 1500.0}
MODELLED_SIGNALS = frozenset(DEFAULT_MAX)

RUNNING = MachineState.RUNNING
STATES = frozenset(MachineState)


@dataclass(frozen=True, slots=True)
class StopKind:
    """One kind of stop: its reason code, the state it puts the machine in, how often it is
    drawn relative to the others and the range its duration is drawn from (log-uniform, so
    short stops of a kind are commoner than long ones)."""

    reason: str
    state: str
    weight: float
    min_s: float
    max_s: float


STOP_KINDS: tuple[StopKind, ...] = (
    StopKind("minor_stop", "down", 0.40, 30.0, 120.0),
    StopKind("jam", "down", 0.18, 60.0, 600.0),
    StopKind("starved", "idle", 0.14, 60.0, 900.0),
    StopKind("material_shortage", "down", 0.08, 300.0, 1800.0),
    StopKind("tool_change", "changeover", 0.10, 600.0, 1800.0),
    StopKind("electrical_fault", "down", 0.05, 600.0, 1800.0),
    StopKind("cleaning", "planned_stop", 0.05, 600.0, 1200.0),
)
_STOP_WEIGHTS = [kind.weight for kind in STOP_KINDS]


@dataclass(frozen=True, slots=True)
class SignalSpec:
    slug: str
    expected_min: float | None = None
    expected_max: float | None = None


@dataclass(frozen=True, slots=True)
class AssetSpec:
    """What the model needs to know about one asset; `ideal_cycle_time_s` is seconds per part
    at rated speed, or None for an asset that makes no parts."""

    slug: str
    signals: tuple[SignalSpec, ...]
    ideal_cycle_time_s: float | None = None


@dataclass(frozen=True, slots=True)
class StateChange:
    """A state change at `at_s` simulated seconds; `reason` is empty when running."""

    at_s: float
    state: str
    reason: str


@dataclass(slots=True)
class StepResult:
    """What one step produced: readings by signal slug at the end of the step, the state
    changes during it, in order, and the parts completed during it."""

    readings: dict[str, float]
    state_changes: list[StateChange] = field(default_factory=list)
    good: int = 0
    scrap: int = 0


@dataclass(frozen=True, slots=True)
class BearingFault:
    """A bearing degrading from `started_s` to failure `life_s` later (simulated seconds)."""

    started_s: float
    life_s: float

    @property
    def fails_at_s(self) -> float:
        return self.started_s + self.life_s

    def severity(self, at_s: float) -> float:
        """Return 0 (new) … 1 (failed): a cubic P-F curve, flat at first and then accelerating."""
        elapsed = min(max(at_s - self.started_s, 0.0), self.life_s)
        return (elapsed / self.life_s) ** 3


def healthy_vibration(base: float, speed_fraction: float, load: float) -> float:
    """Return the vibration RMS of a healthy machine at a speed fraction of rated and a load."""
    return base * speed_fraction**2 * (0.6 + 0.4 * load)


def motor_current(rated: float, no_load: float, speed_fraction: float, load: float) -> float:
    """Return the current drawn while running: no-load current plus the share of the rest
    that the mechanical power (speed times load) asks for."""
    return no_load + (rated - no_load) * load * speed_fraction


def _clamp(value: float, low: float, high: float) -> float:
    return low if value < low else high if value > high else value


class _Wander:
    """A mean-reverting (Ornstein-Uhlenbeck) random walk kept inside [low, high], integrated
    exactly so that one long step and many short ones have the same statistics."""

    __slots__ = ("high", "low", "mean", "spread", "tau_s", "value")

    def __init__(
        self, value: float, *, mean: float, spread: float, tau_s: float, low: float, high: float
    ) -> None:
        self.value = value
        self.mean = mean
        self.spread = spread
        self.tau_s = tau_s
        self.low = low
        self.high = high

    def advance(self, dt_s: float, rng: random.Random) -> float:
        decay = math.exp(-dt_s / self.tau_s)
        noise = self.spread * math.sqrt(1.0 - decay * decay) * rng.gauss(0.0, 1.0)
        self.value = _clamp(
            self.mean + (self.value - self.mean) * decay + noise, self.low, self.high
        )
        return self.value


class SimulatedAsset:
    """One machine, stepped in simulated time.

    `mean_time_between_stops_s` is the mean *running* time between unplanned stops (None:
    drawn between 40 and 60 minutes; 0: the machine never stops on its own). `warm_start`
    starts the machine at its thermal equilibrium instead of at ambient.
    """

    def __init__(
        self,
        spec: AssetSpec,
        rng: random.Random,
        *,
        mean_time_between_stops_s: float | None = None,
        warm_start: bool = True,
    ) -> None:
        self.spec = spec
        self.rng = rng
        self.time_s = 0.0
        self.state = RUNNING
        self.reason = ""
        self.bearing_fault: BearingFault | None = None
        self.failed = False
        # Longer substeps simulate a long past faster, at the cost of holding the heat input
        # constant for longer (still well inside the thermal time constant at a few minutes).
        self.max_substep_s = MAX_SUBSTEP_S

        by_slug = {signal.slug: signal for signal in spec.signals}
        self._signal_slugs = tuple(signal.slug for signal in spec.signals)

        def maximum(slug: str) -> float:
            signal = by_slug.get(slug)
            # A missing or non-positive max would give a zero rated value to divide by.
            if signal is not None and signal.expected_max is not None and signal.expected_max > 0:
                return signal.expected_max
            return DEFAULT_MAX[slug]

        self.rated_speed = RATED_SPEED_OF_MAX * maximum("speed")
        self.vibration_max = maximum("vibration")
        self.vibration_base = self.vibration_max * rng.uniform(*VIBRATION_BASE_OF_MAX)
        self.rated_current = RATED_CURRENT_OF_MAX * maximum("current")
        self.no_load_current = NO_LOAD_CURRENT_OF_RATED * self.rated_current
        # Machines on the same floor do not sit at exactly the same ambient.
        self.ambient_c = AMBIENT_C + rng.uniform(-1.0, 1.0)
        self.thermal_rise_c = THERMAL_RISE_OF_HEADROOM * max(
            maximum("temperature") - AMBIENT_C, 10.0
        )
        self.scrap_rate = rng.uniform(*SCRAP_RATE_RANGE)
        self.mean_time_between_stops_s = (
            rng.uniform(*MEAN_TIME_BETWEEN_STOPS_RANGE_S)
            if mean_time_between_stops_s is None
            else mean_time_between_stops_s
        )

        low, high = SPEED_FRACTION_RANGE
        self._setpoint = _Wander(
            rng.uniform(low, high),
            mean=(low + high) / 2,
            spread=(high - low) / 3,
            tau_s=SETPOINT_TIME_CONSTANT_S,
            low=low,
            high=high,
        )
        low, high = LOAD_RANGE
        self._load = _Wander(
            rng.uniform(0.5, 0.9),
            mean=0.7,
            spread=0.18,
            tau_s=LOAD_TIME_CONSTANT_S,
            low=low,
            high=high,
        )
        self._held: tuple[float, float] | None = None
        self.speed = self._setpoint.value * self.rated_speed
        self._others = {
            signal.slug: self._other_signal_wander(signal)
            for signal in spec.signals
            if signal.slug not in MODELLED_SIGNALS
        }
        self.temperature_c = self.thermal_target_c() if warm_start else self.ambient_c
        self._parts_due = 0.0
        self._next_stop_s = self._draw_next_stop(0.0)
        self._stop_ends_s = math.inf

    # --- what tests and the publisher look at --------------------------------------------------

    @property
    def speed_fraction(self) -> float:
        return self.speed / self.rated_speed

    @property
    def load(self) -> float:
        return self._held[1] if self._held else self._load.value

    @property
    def setpoint_fraction(self) -> float:
        return self._held[0] if self._held else self._setpoint.value

    @property
    def fault_severity(self) -> float:
        """Return the bearing fault's severity now, 0 without a fault."""
        if self.bearing_fault is None:
            return 0.0
        return self.bearing_fault.severity(self.time_s)

    def current_a(self) -> float:
        """Return the noise-free motor current now."""
        if self.state == RUNNING:
            friction = 1.0 + 0.05 * self.fault_severity
            return (
                motor_current(
                    self.rated_current, self.no_load_current, self.speed_fraction, self.load
                )
                * friction
            )
        # An idle (starved) drive stays energised; other stops lock it out.
        return self.no_load_current if self.state == "idle" else 0.0

    def thermal_target_c(self) -> float:
        """Return the temperature the machine would settle at if nothing changed."""
        rise = self.thermal_rise_c * (self.current_a() / self.rated_current) ** 2
        # Friction heat needs rotation, so a stopped faulty bearing cools like a healthy one.
        fault_heat = BEARING_MAX_HEATING_C * self.fault_severity * min(self.speed_fraction, 1.0)
        return self.ambient_c + rise + fault_heat

    def vibration_level(self) -> float:
        """Return the noise-free vibration RMS now, without background or spikes."""
        healthy = healthy_vibration(self.vibration_base, self.speed_fraction, self.load)
        return healthy * (1.0 + BEARING_VIBRATION_GAIN * self.fault_severity)

    # --- control ----------------------------------------------------------------------------

    def hold_operating_point(self, speed_fraction: float, load: float) -> None:
        """Pin the speed setpoint (fraction of rated) and the load, as on a test bench."""
        self._held = (speed_fraction, load)

    def inject_bearing_fault(self, days: float, *, after_days: float = 0.0) -> BearingFault:
        """Start a bearing degradation `after_days` from now (simulated) that ends in failure
        `days` after it starts."""
        if days <= 0:
            raise ValueError("a bearing fault needs a positive life in days")
        if after_days < 0:
            raise ValueError("a bearing fault cannot start in the past")
        self.bearing_fault = BearingFault(
            started_s=self.time_s + after_days * 86_400.0, life_s=days * 86_400.0
        )
        return self.bearing_fault

    def repair(self, *, stop_s: float = 0.0) -> StateChange | None:
        """Replace the bearing: the fault is gone. A machine down for it runs again at once;
        one still running stops for the `stop_s` the work takes (a planned stop), then runs.
        Returns the state change, if any."""
        was_failed = self.failed
        self.bearing_fault = None
        self.failed = False
        if was_failed:
            self._stop_ends_s = math.inf
            self._next_stop_s = self._draw_next_stop(self.time_s)
            return self._change(RUNNING, "")
        if stop_s > 0 and self.state == RUNNING:
            self._stop_ends_s = self.time_s + stop_s
            return self._change(MachineState.PLANNED_STOP, MAINTENANCE_REASON)
        return None

    # --- stepping ---------------------------------------------------------------------------

    def step(self, dt_s: float) -> StepResult:
        """Advance by `dt_s` simulated seconds; return the readings at the end of the step,
        the state changes on the way, and the parts completed."""
        if dt_s < 0:
            raise ValueError("time only runs forward")
        result = StepResult(readings={})
        end_s = self.time_s + dt_s
        while True:
            event_s = self._next_event_s()
            until_s = min(end_s, event_s, self.time_s + self.max_substep_s)
            if until_s > self.time_s:
                self._advance(until_s - self.time_s, result)
                self.time_s = until_s
            if self.time_s >= event_s:
                result.state_changes.append(self._handle_event())
            elif self.time_s >= end_s:
                break
        result.readings = self._sample()
        return result

    def _next_event_s(self) -> float:
        if self.failed:
            return math.inf
        fails_s = self.bearing_fault.fails_at_s if self.bearing_fault else math.inf
        if self.state == RUNNING:
            return min(self._next_stop_s, fails_s)
        return min(self._stop_ends_s, fails_s)

    def _handle_event(self) -> StateChange:
        if self.bearing_fault is not None and self.time_s >= self.bearing_fault.fails_at_s:
            self.failed = True
            return self._change("down", BEARING_FAILURE_REASON)
        if self.state == RUNNING:
            kind = self.rng.choices(STOP_KINDS, weights=_STOP_WEIGHTS)[0]
            duration_s = math.exp(self.rng.uniform(math.log(kind.min_s), math.log(kind.max_s)))
            self._stop_ends_s = self.time_s + duration_s
            if kind.state == "changeover":
                # A new product brings a new operating regime.
                self._setpoint.value = self.rng.uniform(*SPEED_FRACTION_RANGE)
            return self._change(kind.state, kind.reason)
        self._stop_ends_s = math.inf
        self._next_stop_s = self._draw_next_stop(self.time_s)
        return self._change(RUNNING, "")

    def _change(self, state: str, reason: str) -> StateChange:
        self.state = state
        self.reason = reason
        return StateChange(at_s=self.time_s, state=state, reason=reason)

    def _draw_next_stop(self, from_s: float) -> float:
        if self.mean_time_between_stops_s <= 0:
            return math.inf
        return from_s + self.rng.expovariate(1.0 / self.mean_time_between_stops_s)

    def _advance(self, dt_s: float, result: StepResult) -> None:
        rng = self.rng
        self._setpoint.advance(dt_s, rng)
        self._load.advance(dt_s, rng)
        for wander in self._others.values():
            wander.advance(dt_s, rng)

        target = self.setpoint_fraction * self.rated_speed if self.state == RUNNING else 0.0
        decay = math.exp(-dt_s / SPEED_RAMP_TIME_CONSTANT_S)
        start_speed = self.speed
        self.speed = target + (start_speed - target) * decay
        if self.state != RUNNING and self.speed < 1e-6 * self.rated_speed:
            self.speed = 0.0

        if self.state == RUNNING and self.spec.ideal_cycle_time_s:
            # Mean speed over the step, exact for the first-order ramp.
            mean_speed = target + (start_speed - target) * (1.0 - decay) * (
                SPEED_RAMP_TIME_CONSTANT_S / dt_s
            )
            self._parts_due += (mean_speed / self.rated_speed) * dt_s / self.spec.ideal_cycle_time_s
            parts = int(self._parts_due)
            self._parts_due -= parts
            # A worn bearing costs quality too: chatter shows on the parts before it fails.
            scrap_rate = self.scrap_rate * (1.0 + 2.0 * self.fault_severity)
            scrap = sum(1 for _ in range(parts) if rng.random() < scrap_rate)
            result.good += parts - scrap
            result.scrap += scrap

        thermal_decay = math.exp(-dt_s / THERMAL_TIME_CONSTANT_S)
        target_c = self.thermal_target_c()
        self.temperature_c = target_c + (self.temperature_c - target_c) * thermal_decay

    def _sample(self) -> dict[str, float]:
        rng = self.rng
        readings: dict[str, float] = {}
        for slug in self._signal_slugs:
            if slug == "vibration":
                readings[slug] = self._sample_vibration()
            elif slug == "temperature":
                readings[slug] = self.temperature_c + rng.gauss(0.0, 0.1)
            elif slug == "current":
                current = self.current_a()
                if current == 0.0:
                    # A current transformer on a locked-out motor still shows a little noise.
                    readings[slug] = abs(rng.gauss(0.0, 0.002 * self.rated_current))
                else:
                    noise = rng.gauss(0.0, 0.01 * self.rated_current)
                    readings[slug] = max(current + noise, 0.0)
            elif slug == "speed":
                noise = rng.gauss(0.0, 0.003)
                readings[slug] = self.speed * (1.0 + noise) if self.speed > 0 else 0.0
            else:
                readings[slug] = self._others[slug].value
        return readings

    def _sample_vibration(self) -> float:
        rng = self.rng
        background = VIBRATION_BACKGROUND_OF_MAX * self.vibration_max * abs(rng.gauss(1.0, 0.3))
        level = self.vibration_level()
        value = level * (1.0 + rng.gauss(0.0, 0.04)) + background
        # Rolling elements passing a spall give short impacts; more and more as it spreads.
        # Both numbers are drawn whether or not there is a fault, so that a fault changes no
        # other draw: a faulty machine and its healthy twin of the same seed stop alike.
        chance, size = rng.random(), rng.uniform(0.5, 2.0)
        if level > 0 and chance < BEARING_SPIKE_PROBABILITY * self.fault_severity:
            value += level * size
        return max(value, 0.0)

    @staticmethod
    def _other_signal_wander(signal: SignalSpec) -> _Wander:
        low = signal.expected_min if signal.expected_min is not None else 0.0
        high = signal.expected_max if signal.expected_max is not None else low + 100.0
        middle, span = (low + high) / 2, high - low
        return _Wander(
            middle,
            mean=middle,
            spread=0.05 * span,
            tau_s=10 * 60.0,
            low=low + 0.2 * span,
            high=high - 0.2 * span,
        )


def parse_fault(text: str) -> tuple[str, str, float, float]:
    """Return `(asset, mode, days, after_days)` from `asset:mode:days[@after_days]`; raise
    ValueError saying what is wrong. `@after_days` starts the fault that many simulated days
    in (default 0: at once), so a health model can learn the healthy machine first."""
    parts = text.rsplit(":", 2)
    if len(parts) != 3 or not parts[0]:
        raise ValueError("expected <asset-slug>:bearing:<days>[@<start after days>]")
    asset, mode, raw = parts
    if mode not in FAULT_MODES:
        known = ", ".join(sorted(FAULT_MODES))
        raise ValueError(f"unknown fault mode {mode!r}; known modes: {known}")
    raw_days, _, raw_after = raw.partition("@")
    days = _positive_days(raw_days, what="days")
    after = 0.0
    if raw_after:
        after = _positive_days(raw_after, what="start after", zero=True)
    return asset, mode, days, after


def _positive_days(raw: str, *, what: str, zero: bool = False) -> float:
    try:
        days = float(raw)
    except ValueError:
        raise ValueError(f"{what} {raw!r} is not a number") from None
    if not math.isfinite(days) or days < 0 or (days == 0 and not zero):
        raise ValueError(f"{what} must be a positive number, not {raw!r}")
    return days
