"""Maintenance KPIs on hand-computed cases."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from plantops.assets.models import Shift
from plantops.maintenance import services
from plantops.maintenance.kpis import WorkFacts, maintenance_kpis
from plantops.maintenance.selectors import kpis as kpi_selectors
from plantops.oee.models import StateEvent
from tests.factories import make_asset, make_user, make_work_order

START = datetime(2026, 11, 1, tzinfo=UTC)
END = START + timedelta(days=30)


def day(n: float) -> datetime:
    return START + timedelta(days=n)


def test_the_month_of_one_asset():
    work = [
        # Two breakdowns repaired in 2 h (times) and 90 min (the technician's own minutes).
        WorkFacts(
            "corrective",
            "done",
            day(3),
            started_at=day(3),
            completed_at=day(3) + timedelta(hours=2),
        ),
        WorkFacts(
            "corrective",
            "done",
            day(20),
            started_at=day(20),
            completed_at=day(21),
            actual_minutes=90,
        ),
        # A prediction that found the bearing failing: a failure too, repaired in an hour.
        WorkFacts(
            "predictive",
            "done",
            day(10),
            started_at=day(12),
            completed_at=day(12) + timedelta(hours=1),
            outcome="failure_found",
        ),
        # One that found nothing: no failure.
        WorkFacts("predictive", "done", day(14), completed_at=day(15), outcome="no_fault_found"),
        # Preventive: one done on time, one late, one still open past due; one due next month.
        WorkFacts("preventive", "done", day(1), due_at=day(5), completed_at=day(4)),
        WorkFacts("preventive", "done", day(1), due_at=day(8), completed_at=day(9)),
        WorkFacts("preventive", "scheduled", day(20), due_at=day(25), estimated_minutes=120),
        WorkFacts("preventive", "approved", day(28), due_at=day(35), estimated_minutes=30),
        WorkFacts("request", "requested", day(29)),
        WorkFacts("request", "cancelled", day(29)),
    ]

    kpis = maintenance_kpis(work, start=START, end=END, run_s=600 * 3600)

    assert kpis.failures == 3
    assert kpis.mtbf_s == 200 * 3600
    assert kpis.mttr_s == (2 + 1.5 + 1) * 3600 / 3
    assert (kpis.pm_due, kpis.pm_on_time, kpis.pm_compliance) == (3, 1, 1 / 3)
    assert (kpis.backlog, kpis.backlog_hours) == (3, 2.5)
    # Created in the month and not cancelled: 2 corrective + 1 request against 2 + 4 planned.
    assert (kpis.planned, kpis.unplanned) == (6, 3)
    assert kpis.planned_ratio == 6 / 9


def test_a_quiet_month_has_no_division_by_zero():
    kpis = maintenance_kpis([], start=START, end=END, run_s=0)
    assert (kpis.mtbf_s, kpis.mttr_s, kpis.pm_compliance, kpis.planned_ratio) == (None,) * 4


@pytest.mark.django_db
def test_an_assets_reliability_comes_from_work_orders_or_else_from_its_breakdowns():
    asset = make_asset()
    Shift.objects.create(
        line=asset.line, name="Round the clock", start=time(0), end=time(0), weekdays="0123456"
    )
    StateEvent.objects.create(asset=asset, ts=day(1), state="running")
    StateEvent.objects.create(asset=asset, ts=day(2), state="down", reason="jam")
    StateEvent.objects.create(asset=asset, ts=day(2) + timedelta(minutes=30), state="running")

    from_states = kpi_selectors.asset_kpis(asset=asset, start=START, end=day(3))
    admin = make_user(role="admin", username="ada")
    work = make_work_order(
        by=admin, asset=asset, title="Jam", assignee=admin, due_at=day(2), started=True
    )
    services.workorder_complete(work_order=work, user=admin, actual_minutes=25)
    now = work.created_at
    from_work = kpi_selectors.asset_kpis(
        asset=asset, start=now - timedelta(days=1), end=now + timedelta(days=1)
    )

    assert from_states["reliability_from"] == "states"
    assert from_states["failures"] == 1
    assert (from_states["mtbf_s"], from_states["mttr_s"]) == (47.5 * 3600, 30 * 60)
    assert (from_work["reliability_from"], from_work["failures"], from_work["mttr_s"]) == (
        "work_orders",
        1,
        25 * 60,
    )
    assert (from_work["planned"], from_work["unplanned"]) == (0, 1)
