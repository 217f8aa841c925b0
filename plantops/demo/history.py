"""Writes that give the demo plant its past: months of a plant at work, stored through the
real pipeline and services as if they had happened, so every screen has a story on first open.
What maintenance does in it is `past_work`; what is stored when, `past`.

The simulated plant (`simulator.history.PlantHistory`) is stepped from the start of the past
to now; its batches go through `pipeline.batch_store` with the clock moved to each batch's
end (`time_machine`), so everything stores, judges and stamps what it would have then. Between
batches the plant's people and beat do their part at their own moments: operators and the
supervisor acknowledge alerts, maintenance is called to long breakdowns and failed bearings,
predictive work follows a prediction, preventive schedules make work that technicians do
(some of it late), stores are restocked, the health model watches the conveyors whose
bearings wear out, predicts, and is fitted again on the plant's own failures.

The past runs at the plant's own pace (`PLANT_TIME_SCALE` 1) and is judged live, a batch at
a time; at its end the health monitoring starts afresh for the sped-up demo, and no one is
notified of history. Only run on a plant with no data yet: a second run stores nothing.
"""

from __future__ import annotations

import functools
import math
import multiprocessing
import random
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ImproperlyConfigured
from django.test.utils import override_settings
from django.utils import timezone

from plantops.alerts.lifecycle import AlarmState
from plantops.alerts.models import Alert, AlertEvent, AlertRule
from plantops.alerts.services import alerts_acknowledge
from plantops.assets.models import Asset, Signal
from plantops.core.refusals import Refused
from plantops.core.time import datetime_to_us, us_to_datetime
from plantops.demo import fleet, past
from plantops.demo import maintenance as demo_maintenance
from plantops.demo.past_work import Agenda, PastMaintenance, at_moment
from plantops.demo.services import fleet_arguments, fleet_runs_import
from plantops.health.models import FailureMode, HealthModel
from plantops.health.monitoring import health_monitoring_start, health_update_asset
from plantops.health.predictions import prediction_make
from plantops.health.selectors import monitored_asset_ids
from plantops.health.training import health_model_fit
from plantops.maintenance.models import PreventiveSchedule
from plantops.notify.dispatch import dispatch_skip_to
from plantops.oee.models import StateEvent
from plantops.oee.snapshots import hours_make_recent
from plantops.pipeline.services import batch_store
from plantops.simulator.history import HistoryAsset, PlantHistory, Sampling
from plantops.telemetry.batches import Batch
from plantops.telemetry.columns import ReadingColumns
from plantops.telemetry.models import Reading

SEED = 2026
# The worker stores a batch this long after its last reading.
STORE_DELAY = timedelta(seconds=2)
# A batch is judged when it is stored, as a live one is: its oldest edge must not count as
# late data (that pages nobody and says so on the alert).
LATE_AFTER_S = 7 * past.HOUR_S
# The demo's health settings: the past runs at the plant's own pace.
PAST_SETTINGS = {"PLANT_TIME_SCALE": 1.0, "HEALTH_LEARNING_DAYS": 1.0}
PREDICT_EVERY = timedelta(hours=6)
# A plant with no fitted model for its conveyors starts from a simulated fleet run to failure,
# sampled as the live simulator samples (scripts/demo.sh's health_simulate_fleet).
FLEET_TYPE, FLEET_SEED, FLEET_SAMPLE_S, FLEET_LIFE_DAYS = "conveyor", 5000, 60.0, (4.0, 12.0)


class PastExists(Exception):
    """The plant has data already: its past is what it recorded."""


@dataclass
class PastOutcome:
    """What was stored, and how long it took."""

    start: datetime
    end: datetime
    batches: int = 0
    readings: int = 0
    states: int = 0
    counts: int = 0
    acknowledged: int = 0
    work_orders: int = 0
    predictions: int = 0
    seconds: float = 0.0
    # Of which simulating and storing the batches and what people did between them (the rest:
    # the first model's fleet, and closing the past).
    batches_s: float = 0.0

    def summary(self) -> str:
        days = (self.end - self.start).total_seconds() / past.DAY_S
        return (
            f"{days:g} days in {self.seconds:.1f} s: {self.batches} batches, "
            f"{self.readings:,} readings, {self.states:,} state changes, {self.counts:,} counts, "
            f"{self.acknowledged} acknowledgements, {self.work_orders} work orders, "
            f"{self.predictions} predictions"
        )


def demo_past_exists() -> bool:
    """Whether the plant has data already (stored live, or a past written before)."""
    return StateEvent.objects.exists() or Reading.objects.exists()


def demo_history_seed(
    *,
    days: float = 90.0,
    end: datetime | None = None,
    fleet_units: int = 20,
    bulk: bool = True,
    catch_up: bool = True,
    report: Callable[[str], None] | None = None,
) -> PastOutcome:
    """Store `days` of the demo plant's past up to `end` (default now), through the pipeline
    and the services; return what was stored. Raises PastExists on a plant with data.

    `bulk` False stores each asset's minute as its own batch, as gateways deliver live (for
    the benchmark's baseline). With `catch_up`, the minutes that storing took are simulated
    too, until the past reaches the real now, so the live plant goes on where it ends.
    """
    if demo_past_exists():
        raise PastExists("the plant has data already; its past is what it recorded")
    started = time.perf_counter()
    end = (end or timezone.now()).replace(microsecond=0)
    with override_settings(**PAST_SETTINGS, ALERT_LATE_AFTER_S=LATE_AFTER_S):
        writer = _PastWriter(
            start=end - timedelta(days=days), end=end, bulk=bulk, report=report or (lambda _: None)
        )
        try:
            writer.prepare(fleet_units=fleet_units)
            batches_from = time.perf_counter()
            for stretch in past.stretches(days * past.DAY_S):
                writer.run(stretch)
            while catch_up and (behind := timezone.now() - writer.clock) > timedelta(seconds=5):
                seconds = math.floor(behind.total_seconds())
                writer.run(past.Stretch(writer.elapsed_s, seconds, past.FULL, min(seconds, 300.0)))
            writer.outcome.batches_s = time.perf_counter() - batches_from
            writer.finish()
        finally:
            writer.close()
    writer.outcome.end = writer.clock
    writer.outcome.seconds = time.perf_counter() - started
    return writer.outcome


class _PastWriter:
    """The past being written: the simulated plant, the clock, and what people do when."""

    def __init__(
        self, *, start: datetime, end: datetime, bulk: bool, report: Callable[[str], None]
    ) -> None:
        self.start, self.end, self.bulk, self.report = start, end, bulk, report
        self.outcome = PastOutcome(start=start, end=end)
        self.clock = start
        self.agenda = Agenda(start=start)
        users = {u.username: u for u in User.objects.filter(username__in=_PEOPLE)}
        missing = set(_PEOPLE) - set(users)
        if missing:
            raise ImproperlyConfigured(
                f"the demo users {sorted(missing)} are missing: run create_demo_users first"
            )
        self.operator, self.supervisor, self.technician = (users[name] for name in _PEOPLE)
        self.operator_lines = set(self.operator.operated_lines.values_list("pk", flat=True))
        self.assets = {
            asset.pk: asset
            for asset in Asset.objects.select_related("line").prefetch_related("signals")
        }
        self.by_slug = {asset.slug: asset for asset in self.assets.values()}
        self.plant = PlantHistory(
            [_history_asset(asset) for asset in self.assets.values()],
            seed=SEED,
            start_us=datetime_to_us(start),
        )
        total_s = (end - start).total_seconds()
        learning_s = settings.HEALTH_LEARNING_DAYS * past.DAY_S
        self.wears = [
            wear
            for wear in past.wear_plan(total_s, learning_s=learning_s)
            if wear.asset_slug in self.by_slug
        ]
        self.watched: dict[int, past.Wear] = {}
        self.predicted_at: dict[int, datetime] = {}
        self._fleet_pool: ProcessPoolExecutor | None = None
        self._fleet_runs: Future[list[fleet.SimulatedRun]] | None = None
        self.bad_actor = self._bad_actor()
        self.maintenance = PastMaintenance(
            agenda=self.agenda,
            plant=self.plant,
            supervisor=self.supervisor,
            technician=self.technician,
            rng=random.Random(SEED),
        )

    @property
    def elapsed_s(self) -> float:
        return (self.clock - self.start).total_seconds()

    # --- before the first batch ---------------------------------------------------------------

    def prepare(self, *, fleet_units: int) -> None:
        self._fleet_start(fleet_units)
        with at_moment(self.start):
            # The meters count from the start of the past; the calendar, as the demo's plan
            # says, from some weeks before it.
            schedules = PreventiveSchedule.objects.filter(asset__in=list(self.assets))
            schedules.update(meter_value=0.0, meter_read_at=None, recount_from=None)
            schedules.exclude(meter="calendar").update(starts_at=self.start)
            schedules.filter(meter="calendar").update(
                starts_at=self.start - timedelta(days=demo_maintenance.CALENDAR_STARTED_DAYS_AGO)
            )
        self.plant.report_states()
        for wear in self.wears:
            asset = self.by_slug[wear.asset_slug]
            self.plant.machine(asset.pk).inject_bearing_fault(
                wear.life_s / past.DAY_S, after_days=wear.fault_s / past.DAY_S
            )
            self.agenda.at(self._moment(wear.watch_s), functools.partial(self._watch, asset, wear))
            if wear.swap_planned_s is not None:
                self.agenda.at(
                    self._moment(wear.swap_planned_s),
                    functools.partial(
                        self.maintenance.plan_swap, asset, self._moment(wear.repair_at_s)
                    ),
                )
        if len(self.wears) > 1:
            # Fitted again once the plant's own failures can teach it.
            second = self.wears[1]
            self.agenda.at(self._moment(second.ends_s + past.DAY_S), self._refit)
        day = self.start.replace(hour=5, minute=0, second=0) + timedelta(days=1)
        while day < self.end:
            self.agenda.at(day, self.maintenance.preventive_round)
            if (day - self.start).days % 7 == 0:
                self.agenda.at(day + timedelta(hours=2), self.maintenance.restock)
            day += timedelta(days=1)

    def _moment(self, offset_s: float) -> datetime:
        return self.start + timedelta(seconds=offset_s)

    def _fleet_start(self, units: int) -> None:
        """Simulate the conveyors' fleet for a first model, if there is none, in a process of
        its own while the far past is stored (a core each)."""
        mode = FailureMode.objects.get(code="bearing")
        if HealthModel.objects.filter(asset_type=FLEET_TYPE, failure_mode=mode, active=True):
            return
        self.report(f"simulating a fleet of {units} conveyors run to failure, meanwhile")
        self._fleet_pool = ProcessPoolExecutor(
            max_workers=1, mp_context=multiprocessing.get_context("spawn")
        )
        self._fleet_runs = self._fleet_pool.submit(
            fleet.failing_fleet,
            **fleet_arguments(
                FLEET_TYPE,
                seeds=range(FLEET_SEED, FLEET_SEED + units),
                sample_s=FLEET_SAMPLE_S,
                life_days=FLEET_LIFE_DAYS,
            ),
        )

    def _fleet_model(self) -> None:
        """The first model, fitted on the fleet at the start of the past (before anything
        predicts)."""
        if self._fleet_runs is None:
            return
        runs, self._fleet_runs = self._fleet_runs.result(), None
        self.close()
        mode = FailureMode.objects.get(code="bearing")
        with at_moment(self.start):
            fleet_runs_import(asset_type=FLEET_TYPE, failure_mode=mode, runs=runs)
            health_model_fit(asset_type=FLEET_TYPE, failure_mode=mode, now=self.start)

    def close(self) -> None:
        if self._fleet_pool is not None:
            self._fleet_pool.shutdown(cancel_futures=True)
            self._fleet_pool = None

    def _bad_actor(self) -> AlertRule | None:
        spec = past.BAD_ACTOR
        signal = Signal.objects.filter(
            asset__slug=spec["asset_slug"], slug=spec["signal_slug"]
        ).first()
        if signal is None:
            return None
        rule, _ = AlertRule.objects.update_or_create(
            name=spec["name"],
            defaults={
                "kind": "high",
                "signal": signal,
                "limit": spec["limit"],
                "priority": spec["priority"],
                "message_template": spec["message_template"],
                "deadband": 0.0,
                "on_delay_s": 0.0,
                "off_delay_s": 0.0,
            },
        )
        return rule

    # --- the batches --------------------------------------------------------------------------

    def run(self, stretch: past.Stretch) -> None:
        """Simulate and store a stretch of the past, batch by batch, doing what is due between."""
        self.report(
            f"{self.clock:%Y-%m-%d %H:%M}: {stretch.seconds / past.DAY_S:.2f} days, a reading "
            f"every {stretch.sampling.sample_s or 'own interval'} s"
        )
        remaining = stretch.seconds
        while remaining > 1e-6:
            batch_s = min(stretch.batch_s, remaining)
            physical = self.agenda.next_physical(self.clock)
            if physical is not None:
                batch_s = min(batch_s, (physical - self.clock).total_seconds())
            per_asset = self._finer(stretch.sampling, batch_s)
            if self.bulk:
                pieces = list(
                    self.plant.slices(
                        seconds=batch_s,
                        slice_s=batch_s,
                        sampling=stretch.sampling,
                        per_asset=per_asset,
                    )
                )
                self.clock = us_to_datetime(pieces[0].end_us)
                self._store(_merged([piece.batch for piece in pieces]), self.clock)
            else:
                # One batch per asset per minute, each stored as it would arrive live.
                for piece in self.plant.slices(
                    seconds=batch_s, slice_s=60.0, sampling=stretch.sampling, per_asset=per_asset
                ):
                    self.clock = us_to_datetime(piece.end_us)
                    self._store(piece.batch, self.clock)
            remaining -= batch_s
            self._after_batch()

    def _finer(self, sampling: Sampling, batch_s: float) -> dict[int, Sampling]:
        """Assets read more finely than the stretch: a watched conveyor once a minute, the
        chattering alarm's asset at its own rate over its last day."""
        finer: dict[int, Sampling] = {}
        batch_end = self.clock + timedelta(seconds=batch_s)
        for wear in self.wears:
            asset = self.by_slug[wear.asset_slug]
            watching = self._moment(wear.watch_s) < batch_end and self.clock < self._moment(
                wear.ends_s + past.REPAIR_AFTER_FAILURE_S
            )
            if watching and sampling.sample_s > past.RECENT.sample_s:
                finer[asset.pk] = past.RECENT
        if self.bad_actor is not None:
            full_s = min(past.BAD_ACTOR_FULL_S, (self.end - self.start).total_seconds() / 8)
            full_from = self.end - timedelta(seconds=full_s)
            if batch_end > full_from:
                finer[self.bad_actor.signal.asset_id] = past.FULL
        return finer

    def _store(self, batch: Batch, at: datetime) -> None:
        with at_moment(at + STORE_DELAY):
            batch_store(batch=batch, push=False)
        outcome = self.outcome
        outcome.batches += 1
        outcome.readings += len(batch.readings)
        outcome.states += len(batch.states)
        outcome.counts += len(batch.counts)
        for row in batch.states:
            self.maintenance.followed(self.assets[row.asset_id], row.ts_us, row.state, row.reason)

    def _after_batch(self) -> None:
        self.agenda.do_until(self.clock)
        self._acknowledge()
        with at_moment(self.clock + STORE_DELAY):
            self._health_round()

    # --- people -------------------------------------------------------------------------------

    def _acknowledge(self) -> None:
        """Operators acknowledge what sounds a few minutes after it does (the supervisor, on
        the lines without an operator of the demo); what sounded in the last minutes before
        now stays in the inbox."""
        waiting = Alert.objects.filter(
            state__in=[AlarmState.ACTIVE_UNACK.value, AlarmState.RTN_UNACK.value],
            last_at__lte=self.clock,
        ).values_list("pk", "asset__line_id", "last_at")
        for pk, line_id, raised_at in waiting.order_by("last_at"):
            delay_s = random.Random(f"{pk}:{raised_at.isoformat()}").uniform(*past.ACK_DELAY_S)
            at = raised_at + timedelta(seconds=delay_s)
            if at > self.clock:
                continue
            user = self.operator if line_id in self.operator_lines else self.supervisor
            # Refused: shelved or suppressed meanwhile, nothing to acknowledge.
            with at_moment(at), suppress(Refused):
                self.outcome.acknowledged += len(alerts_acknowledge(alert_ids=[pk], user=user))

    # --- health -------------------------------------------------------------------------------

    def _watch(self, asset: Asset, wear: past.Wear) -> None:
        self._fleet_model()
        health_monitoring_start(asset_ids=[asset.pk], at=timezone.now())
        self.watched[asset.pk] = wear

    def _health_round(self) -> None:
        """Health judges the watched conveyors and predicts every few hours (as beat would,
        less often), up to the end of their run."""
        for asset_id, wear in list(self.watched.items()):
            if self.clock >= self._moment(wear.ends_s):
                del self.watched[asset_id]
                continue
            last = self.predicted_at.get(asset_id)
            if last is None or self.clock - last >= PREDICT_EVERY:
                health_update_asset(asset_id=asset_id, now=self.clock)
                self.outcome.predictions += len(prediction_make(asset_id=asset_id, now=self.clock))
                self.predicted_at[asset_id] = self.clock

    def _refit(self) -> None:
        mode = FailureMode.objects.get(code="bearing")
        # ValueError: nothing to learn from, the first version stays in use.
        with suppress(ValueError):
            health_model_fit(asset_type=FLEET_TYPE, failure_mode=mode)

    # --- after the last batch -----------------------------------------------------------------

    def finish(self) -> None:
        """Close the past: OEE snapshots of its hours, health monitoring afresh for the live
        plant, the alarm review's fix of the chattering rule, and no notifications of it."""
        self._fleet_model()
        self.agenda.clear()  # work planned after the end stays planned: the backlog
        self.outcome.work_orders = self.maintenance.work_orders
        with at_moment(self.clock + STORE_DELAY):
            # The closed hours wholly inside the past (the one it began in had no data before).
            first = math.ceil(self.start.timestamp() / past.HOUR_S)
            hours = math.floor(self.clock.timestamp() / past.HOUR_S) - first
            hours_make_recent(hours=hours, now=self.clock)
        health_monitoring_start(asset_ids=monitored_asset_ids(), at=self.clock)
        if self.bad_actor is not None:
            for name, value in past.BAD_ACTOR_FIXED.items():
                setattr(self.bad_actor, name, value)
            self.bad_actor.save(update_fields=list(past.BAD_ACTOR_FIXED))
        newest = AlertEvent.objects.order_by("-id").values_list("id", flat=True).first()
        if newest is not None:
            dispatch_skip_to(last_id=newest)


_PEOPLE = ("operator", "supervisor", "technician")


def _history_asset(asset: Asset) -> HistoryAsset:
    signals = list(asset.signals.all())
    return HistoryAsset(
        asset_id=asset.pk,
        slug=asset.slug,
        signals={s.slug: (s.pk, s.sampling_interval_s) for s in signals},
        limits={s.slug: (s.expected_min, s.expected_max) for s in signals},
        ideal_cycle_time_s=asset.ideal_cycle_time_s,
    )


def _merged(batches: list[Batch]) -> Batch:
    """One batch of every asset's slice: a gateway per line would send about this much."""
    return Batch(
        batch_id=batches[0].batch_id,
        readings=functools.reduce(ReadingColumns.joined, (b.readings for b in batches)),
        states=[row for b in batches for row in b.states],
        counts=[row for b in batches for row in b.counts],
    )
