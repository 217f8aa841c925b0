"""Maintenance KPIs from work orders. Pure: no Django.

Definitions (EN 15341 in spirit):
- MTBF: running time per failure. Failures are corrective work orders, and predictive ones
  that found the failure; where a period has none, the caller falls back on the breakdown
  states the machines reported (`oee.calculation.Oee.mtbf_s`).
- MTTR: mean repair time of those work orders, from start to completion (the technician's
  own minutes where given).
- PM compliance: preventive work orders due in the period and done by their due moment, over
  all preventive work orders due in the period.
- Backlog: work orders not yet done or cancelled, and their estimated hours.
- Planned vs unplanned: preventive and predictive work against corrective work and requests,
  of the work orders created in the period.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

PLANNED_KINDS = frozenset({"preventive", "predictive"})
FINAL = frozenset({"done", "cancelled"})


@dataclass(frozen=True, slots=True)
class WorkFacts:
    """What the KPIs need of one work order; times are aware UTC."""

    kind: str
    status: str
    created_at: datetime
    due_at: datetime | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    actual_minutes: int | None = None
    estimated_minutes: int | None = None
    outcome: str = ""

    @property
    def is_failure(self) -> bool:
        if self.status != "done":
            return False
        return self.kind == "corrective" or (
            self.kind == "predictive" and self.outcome in ("failure_found", "different_mode")
        )

    @property
    def repair_s(self) -> float | None:
        if self.actual_minutes is not None:
            return self.actual_minutes * 60.0
        if self.started_at is None or self.completed_at is None:
            return None
        return (self.completed_at - self.started_at).total_seconds()


@dataclass(frozen=True, slots=True)
class MaintenanceKpis:
    failures: int
    mtbf_s: float | None
    mttr_s: float | None
    pm_due: int
    pm_on_time: int
    backlog: int
    backlog_hours: float
    planned: int
    unplanned: int

    @property
    def pm_compliance(self) -> float | None:
        return self.pm_on_time / self.pm_due if self.pm_due else None

    @property
    def planned_ratio(self) -> float | None:
        total = self.planned + self.unplanned
        return self.planned / total if total else None


def maintenance_kpis(
    work: Iterable[WorkFacts], *, start: datetime, end: datetime, run_s: float
) -> MaintenanceKpis:
    """Return the KPIs of [start, end) from the work orders of an asset (or a line's assets,
    with `run_s` their running time summed), open or closed at any time."""
    work = list(work)
    failures = [
        w for w in work if w.is_failure and w.completed_at and start <= w.completed_at < end
    ]
    repairs = [r for r in (w.repair_s for w in failures) if r is not None]
    pm = [w for w in work if w.kind == "preventive" and w.due_at and start <= w.due_at < end]
    on_time = [w for w in pm if w.completed_at is not None and w.completed_at <= w.due_at]
    open_work = [w for w in work if w.status not in FINAL and w.created_at < end]
    created = [w for w in work if start <= w.created_at < end and w.status != "cancelled"]
    return MaintenanceKpis(
        failures=len(failures),
        mtbf_s=run_s / len(failures) if failures else None,
        mttr_s=sum(repairs) / len(repairs) if repairs else None,
        pm_due=len(pm),
        pm_on_time=len(on_time),
        backlog=len(open_work),
        backlog_hours=sum((w.estimated_minutes or 0) for w in open_work) / 60.0,
        planned=sum(w.kind in PLANNED_KINDS for w in created),
        unplanned=sum(w.kind not in PLANNED_KINDS for w in created),
    )
