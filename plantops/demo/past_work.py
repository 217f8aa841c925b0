"""What maintenance does in the demo's past: work orders through their flow, at the moments the
plant's people would have acted, by the real maintenance services (`history` drives it).

Maintenance is called to long breakdowns of the machines that make parts and to a failed
bearing; the supervisor plans predictive work on a prediction and what the preventive schedules
make; technicians start, tick, take parts (restocked weekly) and complete with failure codes and
a note. A repair changes the simulated machine (`PlantHistory.repair`), at a moment on which a
batch ends (`Agenda`).
"""

from __future__ import annotations

import functools
import heapq
import itertools
import math
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import F
from django.utils import timezone

from plantops.assets.models import Asset
from plantops.core.time import us_to_datetime
from plantops.demo import maintenance as demo_maintenance
from plantops.demo import past
from plantops.health.models import Prediction
from plantops.health.monitoring import health_monitoring_start
from plantops.maintenance.models import (
    FailureCode,
    Part,
    WorkOrder,
    WorkOrderKind,
    WorkOrderPriority,
)
from plantops.maintenance.preventive import preventive_run_all
from plantops.maintenance.services import (
    checklist_tick,
    workorder_complete,
    workorder_create,
    workorder_from_prediction,
    workorder_move,
    workorder_schedule,
)
from plantops.maintenance.workflow import Status
from plantops.oee.models import StateEvent
from plantops.simulator.history import PlantHistory
from plantops.simulator.physics import BEARING_FAILURE_REASON

BEARING_PARTS = {"conveyor": "brg-6205-2rs"}
DEFAULT_BEARING = "brg-6308-zz"
GREASE, FILTER = "grease-ep2", "filter-hyd-10"
PREVENTIVE_PARTS = {"conveyor": [(GREASE, 1)], "pump": [(FILTER, 1)]}


@contextmanager
def at_moment(moment: datetime) -> Iterator[None]:
    """The clock stands at `moment` (everything reads and stamps it)."""
    # Imported here: the demo's past is the only place outside the tests that moves the clock.
    import time_machine

    with time_machine.travel(moment, tick=False):
        yield


@dataclass(order=True)
class _Task:
    at: datetime
    order: int
    action: Callable[[], None] = field(compare=False)
    # It changes the simulated machine (a repair): a batch ends at its moment.
    physical: bool = field(default=False, compare=False)


class Agenda:
    """What is to be done when, done once the plant's batches have reached it."""

    def __init__(self, *, start: datetime) -> None:
        self.start = start
        self._tasks: list[_Task] = []
        self._order = itertools.count()

    def at(self, moment: datetime, action: Callable[[], None], *, physical: bool = False) -> None:
        """Do `action` at `moment`. A `physical` action changes a machine: its moment is put on
        the far past's step, and a batch ends there, so the machine changes when the people say
        it did."""
        if physical:
            moment = self.on_step(moment)
        heapq.heappush(self._tasks, _Task(moment, next(self._order), action, physical))

    def on_step(self, moment: datetime) -> datetime:
        """The first moment at or after `moment` on which every stretch of the past has a step."""
        step_s = past.FAR.step_s
        offset_s = math.ceil((moment - self.start).total_seconds() / step_s) * step_s
        return self.start + timedelta(seconds=offset_s)

    def next_physical(self, after: datetime) -> datetime | None:
        return min((t.at for t in self._tasks if t.physical and t.at > after), default=None)

    def do_until(self, until: datetime) -> None:
        """Do what is due up to `until`, in time order, each at its own moment."""
        while self._tasks and self._tasks[0].at <= until:
            task = heapq.heappop(self._tasks)
            with at_moment(task.at):
                task.action()

    def clear(self) -> None:
        self._tasks.clear()


class PastMaintenance:
    """The maintenance team of the demo's past: a supervisor and a technician."""

    def __init__(
        self,
        *,
        agenda: Agenda,
        plant: PlantHistory,
        supervisor: AbstractBaseUser,
        technician: AbstractBaseUser,
        rng: random.Random,
    ) -> None:
        self.agenda, self.plant, self.rng = agenda, plant, rng
        self.supervisor, self.technician = supervisor, technician
        self.stops: dict[int, StateEvent] = {}
        self.codes = {(c.kind, c.code): c for c in FailureCode.objects.all()}
        self.parts = {part.number: part for part in Part.objects.all()}
        self.stock = {part.number: part.stock for part in self.parts.values()}
        self.preventive_planned = 0
        self.work_orders = 0

    def followed(self, asset: Asset, ts_us: int, state: str, reason: str) -> None:
        """Maintenance answers what the machines report: a failed bearing, a long breakdown."""
        at = us_to_datetime(ts_us)
        stop = self.stops.pop(asset.pk, None)
        if stop is not None and (at - stop.ts).total_seconds() >= past.CALLED_OUT_AFTER_S:
            self._breakdown_work(asset, stop, until=at)
        if state == "down" and reason == BEARING_FAILURE_REASON:
            self.agenda.at(
                at + timedelta(minutes=10), functools.partial(self._bearing_work, asset, at)
            )
        elif state == "down" and reason in past.CALLED_OUT_REASONS and asset.ideal_cycle_time_s:
            event = StateEvent.objects.filter(asset=asset, ts=at).first()
            if event is not None:
                self.stops[asset.pk] = event

    def _breakdown_work(self, asset: Asset, stop: StateEvent, *, until: datetime) -> None:
        notes = past.BREAKDOWN_NOTES.get(stop.reason, ["Repaired."])
        called = stop.ts + timedelta(minutes=5)

        def call() -> None:
            work = workorder_create(
                asset=asset,
                kind=WorkOrderKind.CORRECTIVE,
                title=f"{stop.reason.replace('_', ' ').capitalize()} on {asset.name}",
                user=self.supervisor,
                priority=WorkOrderPriority.HIGH,
                downtime=stop,
                problem=self.codes.get(("problem", "brd")),
            )
            self.work_orders += 1
            self.agenda.at(
                called + timedelta(minutes=3), functools.partial(self._assign, work, called)
            )
            self.agenda.at(called + timedelta(minutes=8), functools.partial(self._start, work))
            self.agenda.at(
                until - timedelta(minutes=1),
                functools.partial(
                    self._complete,
                    work,
                    problem="brd",
                    cause="electrical" if stop.reason == "electrical_fault" else "operating-error",
                    remedy="repair" if stop.reason == "electrical_fault" else "inspect",
                    notes=self.rng.choice(notes),
                    minutes=round((until - called).total_seconds() / 60),
                ),
            )

        self.agenda.at(called, call)

    def _bearing_work(self, asset: Asset, failed_at: datetime) -> None:
        work = workorder_create(
            asset=asset,
            kind=WorkOrderKind.CORRECTIVE,
            title=f"{asset.name} stopped: drive-end bearing failed",
            user=self.supervisor,
            priority=WorkOrderPriority.URGENT,
            problem=self.codes.get(("problem", "noi")),
        )
        self.work_orders += 1
        now = timezone.now()
        self._assign(work, now)
        self.agenda.at(now + timedelta(minutes=20), functools.partial(self._start, work))
        done = self.agenda.on_step(failed_at + timedelta(seconds=past.REPAIR_AFTER_FAILURE_S))
        self.agenda.at(
            done,
            functools.partial(
                self._complete,
                work,
                problem="noi",
                cause="wear",
                remedy="replace",
                notes=past.BEARING_NOTES,
                minutes=round((done - now).total_seconds() / 60) - 20,
                parts=[(_bearing_part(asset), 2), (GREASE, 1)],
                bearing_replaced=True,
            ),
            physical=True,
        )

    def plan_swap(self, asset: Asset, swap: datetime) -> None:
        """Predictive work on the latest prediction, the bearing swapped at `swap`."""
        prediction = Prediction.objects.filter(asset=asset).order_by("-made_at").first()
        if prediction is None:
            return
        work = workorder_from_prediction(prediction=prediction, user=self.supervisor)
        self.work_orders += 1
        swap = self.agenda.on_step(swap)
        self._assign(work, swap)
        self.agenda.at(
            swap, functools.partial(self._start, work, stop_s=past.PLANNED_SWAP_S), physical=True
        )
        self.agenda.at(
            swap + timedelta(seconds=past.PLANNED_SWAP_S),
            functools.partial(
                self._complete,
                work,
                outcome="failure_found",
                problem="vib",
                cause="wear",
                remedy="replace",
                notes=past.PREDICTIVE_NOTES,
                minutes=round(past.PLANNED_SWAP_S / 60),
                parts=[(_bearing_part(asset), 1), (GREASE, 1)],
                bearing_replaced=True,
            ),
        )

    def _assign(self, work: WorkOrder, due: datetime) -> None:
        work.refresh_from_db()
        if work.status == Status.REQUESTED:
            workorder_move(work_order=work, target=Status.APPROVED, user=self.supervisor)
        if work.status == Status.APPROVED:
            workorder_schedule(
                work_order=work, assignee=self.technician, due_at=due, user=self.supervisor
            )

    def _start(self, work: WorkOrder, *, stop_s: float = 0.0) -> None:
        work.refresh_from_db()
        if work.status != Status.SCHEDULED:
            return
        workorder_move(work_order=work, target=Status.IN_PROGRESS, user=self.technician)
        if stop_s:
            self.plant.repair(work.asset_id, stop_s=stop_s)
        for item in work.checklist.all():
            checklist_tick(item=item, user=self.technician)

    def _complete(
        self,
        work: WorkOrder,
        *,
        problem: str,
        cause: str,
        remedy: str,
        notes: str,
        minutes: int | None,
        outcome: str = "",
        parts: list[tuple[str, int]] | None = None,
        bearing_replaced: bool = False,
    ) -> None:
        work.refresh_from_db()
        if work.status != Status.IN_PROGRESS:
            return
        taken = [
            (self.parts[number], quantity)
            for number, quantity in parts or []
            if number in self.parts and self._take(number, quantity)
        ]
        workorder_complete(
            work_order=work,
            user=self.technician,
            outcome=outcome,
            problem=self.codes.get(("problem", problem)),
            cause=self.codes.get(("cause", cause)),
            remedy=self.codes.get(("remedy", remedy)),
            notes=notes,
            actual_minutes=minutes,
            parts=taken,
        )
        if bearing_replaced:
            # A failed machine runs again (a running one was stopped for the work, `_start`),
            # and its monitoring starts afresh: the new bearing is its new normal.
            self.plant.repair(work.asset_id)
            health_monitoring_start(asset_ids=[work.asset_id], at=timezone.now())

    def _take(self, number: str, quantity: int) -> bool:
        if self.stock[number] < quantity:
            return False
        self.stock[number] -= quantity
        return True

    def restock(self) -> None:
        """The weekly delivery fills up what fell to its reorder level."""
        for number, _, _, stock, reorder_at, _ in demo_maintenance.PARTS:
            if number in self.stock and self.stock[number] <= reorder_at:
                Part.objects.filter(number=number).update(stock=F("stock") + stock)
                self.stock[number] += stock

    def preventive_round(self) -> None:
        """Beat reads the schedules; the supervisor plans what they made; technicians do it by
        its due time (every few, late)."""
        preventive_run_all()
        now = timezone.now()
        for work in WorkOrder.objects.filter(
            kind=WorkOrderKind.PREVENTIVE, status=Status.APPROVED
        ).select_related("asset"):
            self.work_orders += 1
            due = max(work.due_at or now, now + timedelta(hours=2))
            self.preventive_planned += 1
            if self.preventive_planned % past.LATE_EVERY == 0:
                due += timedelta(hours=self.rng.uniform(26, 50))
            self._assign(work, due)
            start = due - timedelta(hours=2)
            minutes = work.estimated_minutes or 30
            self.agenda.at(max(start, now), functools.partial(self._start, work))
            self.agenda.at(
                max(start, now) + timedelta(minutes=minutes + self.rng.randint(-5, 20)),
                functools.partial(
                    self._complete,
                    work,
                    problem="",
                    cause="",
                    remedy="lubricate" if work.asset.asset_type == "conveyor" else "inspect",
                    notes=self.rng.choice(past.PREVENTIVE_NOTES),
                    minutes=minutes,
                    parts=PREVENTIVE_PARTS.get(work.asset.asset_type, []),
                ),
            )


def _bearing_part(asset: Asset) -> str:
    return BEARING_PARTS.get(asset.asset_type, DEFAULT_BEARING)
