"""Work orders through their flow for each role, parts from stock, and the outcome that scores
the prediction and the alert rule behind the work."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from plantops.core.refusals import Refused
from plantops.health.models import FailureEvent
from plantops.maintenance import selectors, services
from plantops.maintenance.models import FailureCode, Part, WorkOrderEvent
from tests.factories import make_alert, make_asset, make_prediction_alert, make_work_order

pytestmark = pytest.mark.django_db


def test_an_operators_request_goes_all_the_way_to_done_with_who_and_when(crew):
    asset = make_asset()
    work = services.workorder_create(
        asset=asset,
        kind="request",
        title="Conveyor squeals at start",
        user=crew["olga"],
        checklist=["Isolate and lock out", "Check the drive-end bearing"],
    )
    assert work.status == "requested"
    services.workorder_move(work_order=work, target="approved", user=crew["sam"])
    services.workorder_schedule(
        work_order=work,
        assignee=crew["tom"],
        due_at=timezone.now() + timedelta(days=1),
        user=crew["sam"],
    )
    services.workorder_move(work_order=work, target="in_progress", user=crew["tom"])
    services.workorder_move(work_order=work, target="on_hold", user=crew["tom"], note="no part")
    services.workorder_move(work_order=work, target="in_progress", user=crew["tom"])
    with pytest.raises(ValidationError, match="checklist"):
        services.workorder_complete(work_order=work, user=crew["tom"])
    for item in work.checklist.all():
        services.checklist_tick(item=item, user=crew["tom"])
    done = services.workorder_complete(work_order=work, user=crew["tom"], actual_minutes=45)

    assert (done.status, done.actual_minutes) == ("done", 45)
    assert done.started_at <= done.completed_at
    moves = list(
        WorkOrderEvent.objects.filter(work_order=work, kind="status").values_list(
            "user__username", "from_status", "to_status"
        )
    )
    assert moves == [
        ("sam", "requested", "approved"),
        ("sam", "approved", "scheduled"),
        ("tom", "scheduled", "in_progress"),
        ("tom", "in_progress", "on_hold"),
        ("tom", "on_hold", "in_progress"),
        ("tom", "in_progress", "done"),
    ]


def test_each_role_is_held_to_its_own_moves(crew):
    work = services.workorder_create(
        asset=make_asset(), kind="request", title="Guard loose", user=crew["olga"]
    )
    with pytest.raises(Refused, match="An operator may not approve"):
        services.workorder_move(work_order=work, target="approved", user=crew["olga"])
    with pytest.raises(Refused, match="A technician may not approve"):
        services.workorder_move(work_order=work, target="approved", user=crew["tom"])
    services.workorder_move(work_order=work, target="approved", user=crew["sam"])
    with pytest.raises(ValidationError, match="not a technician"):
        services.workorder_schedule(
            work_order=work, assignee=crew["olga"], due_at=timezone.now(), user=crew["sam"]
        )
    services.workorder_schedule(
        work_order=work, assignee=crew["tom"], due_at=timezone.now(), user=crew["sam"]
    )
    with pytest.raises(Refused, match="Only the assigned technician"):
        services.workorder_move(work_order=work, target="in_progress", user=crew["tina"])
    services.workorder_move(work_order=work, target="cancelled", user=crew["sam"])
    with pytest.raises(Refused, match="final"):
        services.workorder_move(work_order=work, target="in_progress", user=crew["sam"])


def test_parts_come_out_of_stock_which_never_goes_negative(crew):
    work = make_work_order(
        by=crew["sam"], title="Replace bearing", assignee=crew["tom"], started=True
    )
    bearing = Part.objects.create(number="6205-2rs", name="Deep groove ball bearing", stock=3)

    services.part_use(work_order=work, part=bearing, quantity=2, user=crew["tom"])
    with pytest.raises(ValidationError, match="Only 1 pcs of 6205-2rs in stock; 2 asked"):
        services.part_use(work_order=work, part=bearing, quantity=2, user=crew["tom"])
    services.part_use(work_order=work, part=bearing, quantity=1, user=crew["tom"])
    with pytest.raises(ValidationError, match="Only 0"):
        services.part_use(work_order=work, part=bearing, quantity=1, user=crew["tom"])

    bearing.refresh_from_db()
    assert bearing.stock == 0
    assert sum(work.parts_used.values_list("quantity", flat=True)) == 3


def test_one_tap_from_a_prediction_alert_to_failure_found_scores_it_and_the_rule(crew):
    asset = make_asset()
    alert, prediction = make_prediction_alert(asset=asset)

    work = services.workorder_from_alert(alert=alert, user=crew["sam"])
    assert services.workorder_from_alert(alert=alert, user=crew["sam"]) == work  # no twin
    assert (work.kind, work.priority, work.prediction, work.failure_mode.code) == (
        "predictive",
        "high",
        prediction,
        "bearing",
    )
    assert work.evidence["rul_high_days"] == 8
    assert work.evidence["alert_history"][0]["kind"] == "raised"
    assert selectors.rule_precision()[alert.rule_id]["precision"] is None

    services.workorder_schedule(
        work_order=work, assignee=crew["tom"], due_at=timezone.now(), user=crew["sam"]
    )
    services.workorder_move(work_order=work, target="in_progress", user=crew["tom"])
    with pytest.raises(ValidationError, match="Say what was found"):
        services.workorder_complete(work_order=work, user=crew["tom"])
    services.workorder_complete(
        work_order=work,
        user=crew["tom"],
        outcome="failure_found",
        problem=FailureCode.objects.get(kind="problem", code="vib"),
        notes="Outer race spalled; bearing replaced.",
    )

    failure = FailureEvent.objects.get(asset=asset)
    assert (failure.source, failure.failure_mode.code) == ("work_order", "bearing")
    prediction.refresh_from_db()
    assert prediction.failure == failure
    assert prediction.inside_interval is True  # 5 days after it said 3–8
    assert selectors.rule_precision()[alert.rule_id] == {
        "judged": 1,
        "confirmed": 1,
        "precision": 1.0,
    }


def test_no_fault_found_refutes_the_rule_and_records_no_failure(crew):
    asset = make_asset()
    alert, _ = make_prediction_alert(asset=asset)
    work = services.workorder_from_alert(alert=alert, user=crew["sam"])
    services.workorder_schedule(
        work_order=work, assignee=crew["tom"], due_at=timezone.now(), user=crew["sam"]
    )
    services.workorder_move(work_order=work, target="in_progress", user=crew["tom"])
    services.workorder_complete(work_order=work, user=crew["tom"], outcome="no_fault_found")

    assert not FailureEvent.objects.filter(asset=asset).exists()
    assert selectors.rule_precision()[alert.rule_id]["precision"] == 0.0


def test_a_failure_found_says_which_failure(crew):
    work = make_work_order(
        by=crew["sam"], title="Replace bearing", assignee=crew["tom"], started=True
    )
    with pytest.raises(ValidationError, match="problem code of the failure"):
        services.workorder_complete(work_order=work, user=crew["tom"], outcome="failure_found")
    services.workorder_complete(
        work_order=work,
        user=crew["tom"],
        outcome="failure_found",
        problem=FailureCode.objects.get(kind="problem", code="elu"),
    )
    assert FailureEvent.objects.get(asset=work.asset).failure_mode.code == "seal"


def test_an_operator_opens_work_from_her_own_lines_alerts_only(crew):
    mine, theirs = make_alert(), make_alert()
    olga = crew["olga"]
    mine.asset.line.operators.add(olga)
    work = services.workorder_from_alert(alert=mine, user=olga)
    assert work.asset == mine.asset
    with pytest.raises(Refused, match="only on your own lines"):
        services.workorder_from_alert(alert=theirs, user=olga)
    assert not theirs.work_orders.exists()
    # A technician answers alerts anywhere.
    assert services.workorder_from_alert(alert=theirs, user=crew["tom"]).asset == theirs.asset
