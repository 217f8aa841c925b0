"""API v1's work orders, preventive schedules and maintenance KPIs against the real database:
the same search, board moves and completion as the tablet screens, refused in the services'
own words."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from plantops.core.models import TokenScope
from plantops.health.models import FailureEvent
from plantops.maintenance import preventive, selectors, services
from plantops.maintenance.models import (
    FailureCode,
    Part,
    PreventiveSchedule,
    WorkOrder,
    WorkOrderEvent,
)
from plantops.maintenance.selectors import kpis as kpi_selectors
from tests.api.tokens import bearer
from tests.factories import logged_in, make_asset, make_user, make_work_order, past_work_order

pytestmark = pytest.mark.django_db

V1 = "/api/v1"


@pytest.fixture
def crew() -> dict[str, User]:
    """Olga the operator, Tom and Tina the technicians, Sam the supervisor, Mia the plant
    manager (who only watches) and Nina, who has no role."""
    return {
        "olga": make_user(role="operator", username="olga"),
        "tom": make_user(role="technician", username="tom"),
        "tina": make_user(role="technician", username="tina"),
        "sam": make_user(role="supervisor", username="sam"),
        "mia": make_user(role="manager", username="mia"),
        "nina": make_user(username="nina"),
    }


def operator_of(user: User, *assets) -> None:
    """Make `user` the operator of the assets' lines: through the API an operator is shown
    their own lines' work (and the requests they made)."""
    for asset in assets:
        asset.line.operators.add(user)


def writer(user: User) -> Client:
    """A client holding a read and write token of `user`."""
    return Client(**bearer(user, TokenScope.WRITE))


def reader(user: User) -> Client:
    return Client(**bearer(user, TokenScope.READ))


def post(client: Client, url: str, body: dict):
    return client.post(f"{V1}{url}", body, content_type="application/json")


def code(kind: str, value: str) -> FailureCode:
    return FailureCode.objects.get(kind=kind, code=value)


def started_work(crew, **fields) -> WorkOrder:
    """Sam's work on a new asset, scheduled for Tom, who has started it."""
    return make_work_order(by=crew["sam"], assignee=crew["tom"], started=True, **fields)


def moment(text: str) -> datetime:
    """A time as the API returns it (UTC, to the millisecond)."""
    assert text.endswith("Z")
    return datetime.fromisoformat(text)


def near(text: str, expected: datetime) -> bool:
    return abs(moment(text) - expected) < timedelta(milliseconds=1)


def fields_of(response) -> set[str]:
    """The fields a 400 names: the services' by key, the schema's by the end of `loc`."""
    detail = response.json()["detail"]
    if isinstance(detail, dict):
        return set(detail)
    # ["query", name, …] or ["body", "body", name, …]
    return {error["loc"][1] if error["loc"][0] == "query" else error["loc"][2] for error in detail}


# --- schema and reading --------------------------------------------------------------------------


def test_the_schema_names_every_work_order_operation():
    paths = Client().get(f"{V1}/openapi.json").json()["paths"]
    assert set(paths[f"{V1}/work-orders"]) == {"get", "post"}
    assert "get" in paths[f"{V1}/work-orders/{{work_order_id}}"]
    assert "post" in paths[f"{V1}/work-orders/{{work_order_id}}/move"]
    assert "post" in paths[f"{V1}/work-orders/{{work_order_id}}/complete"]
    assert "get" in paths[f"{V1}/maintenance/schedules"]
    kpis = paths[f"{V1}/maintenance/kpis"]["get"]
    assert {p["name"] for p in kpis["parameters"]} == {"from", "to", "line_id"}


def test_without_a_login_or_token_it_is_401_and_without_a_role_403_in_the_services_words(crew):
    assert Client().get(f"{V1}/work-orders").status_code == 401
    for url in ("/work-orders", "/maintenance/schedules", "/maintenance/kpis"):
        response = reader(crew["nina"]).get(f"{V1}{url}")
        assert response.status_code == 403, url
        assert response.json() == {"detail": "Your role may not see work orders."}


def test_a_read_token_lists_work_orders_by_status_kind_asset_line_and_assignee(crew):
    pump, fan = make_asset(), make_asset()
    request = services.workorder_create(
        asset=pump, kind="request", title="Pump drips", user=crew["olga"]
    )
    toms = make_work_order(by=crew["sam"], asset=fan, assignee=crew["tom"], title="Fan guard")
    pm = make_work_order(by=crew["sam"], asset=fan, kind="preventive", title="Grease fan")
    done = past_work_order(asset=pump, status="done", title="Old repair")
    client = reader(crew["mia"])

    def ids(**query) -> list[int]:
        response = client.get(f"{V1}/work-orders", query)
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["results"]]

    assert ids() == [done.pk, pm.pk, toms.pk, request.pk]  # newest first
    assert ids(status="requested") == [request.pk]
    assert ids(status="open") == [pm.pk, toms.pk, request.pk]
    assert ids(kind="preventive") == [pm.pk]
    assert ids(asset_id=pump.pk) == [done.pk, request.pk]
    assert ids(line_id=fan.line_id) == [pm.pk, toms.pk]
    assert ids(assignee="tom") == [toms.pk]
    assert ids(assignee="tina") == []
    row = client.get(f"{V1}/work-orders", {"assignee": "tom"}).json()["results"][0]
    assert row["number"] == f"WO-{toms.pk}"
    assert (row["status"], row["requested_by"], row["assignee"]) == ("scheduled", "sam", "tom")
    assert (row["asset_id"], row["line_id"]) == (fan.pk, fan.line_id)
    assert near(row["created_at"], toms.created_at)  # UTC
    olgas = client.get(f"{V1}/work-orders", {"status": "requested"}).json()["results"][0]
    assert (olgas["requested_by"], olgas["assignee"], olgas["outcome"]) == ("olga", None, None)


def test_a_bad_filter_is_a_400_naming_it(crew):
    client = reader(crew["sam"])
    for query, field in (
        ({"status": "finished"}, "status"),
        ({"kind": "magic"}, "kind"),
        ({"line_id": "press"}, "line_id"),
        ({"q": "x" * 201}, "q"),
    ):
        response = client.get(f"{V1}/work-orders", query)
        assert response.status_code == 400, query
        assert fields_of(response) == {field}


def test_the_list_pages_with_a_cursor_until_every_work_order_was_seen_once(crew):
    asset = make_asset()
    made = [
        services.workorder_create(asset=asset, kind="request", title=f"Leak {n}", user=crew["olga"])
        for n in range(5)
    ]
    client = reader(crew["tom"])
    seen: list[int] = []
    url = f"{V1}/work-orders?page_size=2&asset_id={asset.pk}"
    pages = 0
    while url:
        page = client.get(url).json()
        assert len(page["results"]) <= 2
        seen += [row["id"] for row in page["results"]]
        url, pages = page["next"], pages + 1
    assert seen == sorted((w.pk for w in made), reverse=True)
    assert pages == 3


def test_a_page_is_read_in_the_same_few_queries_however_many_work_orders_it_holds(crew):
    client = reader(crew["sam"])

    def queries() -> int:
        with CaptureQueriesContext(connection) as seen:
            assert client.get(f"{V1}/work-orders?page_size=50").status_code == 200
        return len(seen)

    make_work_order(by=crew["sam"], assignee=crew["tom"])
    few = queries()
    for _ in range(6):
        make_work_order(by=crew["olga"], problem=code("problem", "vib"))
        make_work_order(by=crew["sam"], assignee=crew["tina"])
    assert queries() == few


def test_the_search_finds_work_as_the_screens_search_does(crew):
    pump, fan = make_asset(), make_asset()
    for asset, title, problem, notes in (
        (pump, "Pump leaking", "elu", "Mechanical seal replaced"),
        (pump, "Pump noisy", "noi", "Impeller rubbing: shimmed"),
        (fan, "Fan noisy", "noi", "Bearing replaced"),
    ):
        work = started_work(crew, asset=asset, title=title)
        services.workorder_complete(
            work_order=work, user=crew["tom"], problem=code("problem", problem), notes=notes
        )
    guarded = make_work_order(by=crew["sam"], asset=fan, title="Coupling")
    services.workorder_note(work_order=guarded, user=crew["sam"], note="Coupling guard loose")
    operator_of(crew["olga"], pump, fan)
    client = reader(crew["olga"])

    def titles(**query) -> list[str]:
        return sorted(
            row["title"] for row in client.get(f"{V1}/work-orders", query).json()["results"]
        )

    def on_screen(which: str, **query) -> list[str]:
        found = selectors.work_order_list(user=crew["olga"], which=which, **query)
        return sorted(w.title for w in found)

    assert titles(q="bearing") == ["Fan noisy"] == on_screen("done", text="bearing")
    assert titles(q="seal replaced", asset_id=pump.pk) == ["Pump leaking"]
    assert titles(q="seal", asset_id=fan.pk) == []
    noise = code("problem", "noi").pk
    assert titles(code_id=noise) == ["Fan noisy", "Pump noisy"] == on_screen("done", code_id=noise)
    # A note made during the work is searched too, as on the screen's open list.
    assert titles(q="guard") == ["Coupling"] == on_screen("open", text="guard")
    assert titles(q="GUARD loose", status="open") == ["Coupling"]
    assert titles(q="guard", status="done") == []


def test_one_work_order_comes_with_its_codes_minutes_parts_history_and_the_callers_moves(crew):
    work = started_work(crew, checklist=["Lock out"])
    bearing = Part.objects.create(number="6205-2rs", name="Ball bearing", stock=4)
    services.part_use(work_order=work, part=bearing, quantity=2, user=crew["tom"])
    services.workorder_note(work_order=work, user=crew["tom"], note="Outer race pitted")

    as_tom = reader(crew["tom"]).get(f"{V1}/work-orders/{work.pk}").json()
    assert as_tom["checklist"] == [
        {"position": 0, "text": "Lock out", "done_at": None, "done_by": None}
    ]
    assert [(p["part"], p["quantity"], p["used_by"]) for p in as_tom["parts_used"]] == [
        ("6205-2rs", 2, "tom")
    ]
    assert [(e["kind"], e["user"], e["to_status"]) for e in as_tom["history"]] == [
        ("created", "sam", "approved"),
        ("assigned", "sam", ""),
        ("status", "sam", "scheduled"),
        ("status", "tom", "in_progress"),
        ("part", "tom", ""),
        ("note", "tom", ""),
    ]
    assert as_tom["history"][-1]["note"] == "Outer race pitted"
    assert [m["action"] for m in as_tom["moves"]] == ["pause", "complete"]
    as_tina = reader(crew["tina"]).get(f"{V1}/work-orders/{work.pk}").json()
    assert as_tina["moves"] == []  # not her work
    as_sam = reader(crew["sam"]).get(f"{V1}/work-orders/{work.pk}").json()
    assert [m["to"] for m in as_sam["moves"]] == ["on_hold", "done", "cancelled"]

    item = work.checklist.get()
    services.checklist_tick(item=item, user=crew["tom"])
    services.workorder_complete(
        work_order=work,
        user=crew["tom"],
        problem=code("problem", "vib"),
        cause=code("cause", FailureCode.objects.filter(kind="cause").first().code),
        actual_minutes=40,
        notes="Bearing replaced",
    )
    done = reader(crew["mia"]).get(f"{V1}/work-orders/{work.pk}").json()
    assert (done["status"], done["actual_minutes"], done["notes"]) == (
        "done",
        40,
        "Bearing replaced",
    )
    assert (done["problem"]["code"], done["problem"]["kind"]) == ("vib", "problem")
    assert done["cause"]["kind"] == "cause"
    assert done["remedy"] is None
    assert done["checklist"][0]["done_by"] == "tom"
    assert done["moves"] == []


def test_a_missing_work_order_is_404_for_reading_and_writing(crew):
    client = writer(crew["sam"])
    assert client.get(f"{V1}/work-orders/999999").json() == {"detail": "not found"}
    assert client.get(f"{V1}/work-orders/999999").status_code == 404
    assert post(client, "/work-orders/999999/move", {"to": "approved"}).status_code == 404
    assert post(client, "/work-orders/999999/complete", {}).status_code == 404


# --- creating ------------------------------------------------------------------------------------


def test_an_operator_reports_a_request_and_a_supervisors_work_is_approved_at_once(crew):
    asset = make_asset()
    response = post(
        writer(crew["olga"]),
        "/work-orders",
        {
            "asset_id": asset.pk,
            "title": "Belt tracks off",
            "description": "Drifts left at speed",
            "priority": "high",
            "problem": "vib",
            "checklist": ["Look", "Measure"],
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["kind"], body["priority"], body["requested_by"]) == (
        "requested",
        "request",
        "high",
        "olga",
    )
    assert body["problem"]["code"] == "vib"
    assert [item["text"] for item in body["checklist"]] == ["Look", "Measure"]
    stored = WorkOrder.objects.get(pk=body["id"])
    assert (stored.requested_by, stored.asset) == (crew["olga"], asset)
    assert stored.events.get().user == crew["olga"]

    due = (timezone.now() + timedelta(days=2)).isoformat()
    by_sam = post(
        writer(crew["sam"]),
        "/work-orders",
        {"asset_id": asset.pk, "title": "Realign belt", "kind": "corrective", "due_at": due},
    ).json()
    assert (by_sam["status"], by_sam["kind"]) == ("approved", "corrective")


def test_creating_is_refused_to_a_watching_role_and_to_a_read_token(crew):
    asset = make_asset()
    body = {"asset_id": asset.pk, "title": "Gripper slips"}
    manager = post(writer(crew["mia"]), "/work-orders", body)
    assert (manager.status_code, manager.json()) == (
        403,
        {"detail": "Your role may not create work orders."},
    )
    read_only = post(reader(crew["olga"]), "/work-orders", body)
    assert read_only.status_code == 403
    assert "may only read" in read_only.json()["detail"]
    assert not WorkOrder.objects.exists()


def test_creating_with_bad_fields_is_a_400_naming_them(crew):
    client = writer(crew["sam"])
    asset = make_asset()
    missing = post(client, "/work-orders", {"title": "x"})
    assert (missing.status_code, fields_of(missing)) == (400, {"asset_id"})
    wrong = post(client, "/work-orders", {"asset_id": asset.pk, "title": "x", "kind": "magic"})
    assert (wrong.status_code, fields_of(wrong)) == (400, {"kind"})
    naive = post(
        client, "/work-orders", {"asset_id": asset.pk, "title": "x", "due_at": "2030-01-01T10:00"}
    )
    assert (naive.status_code, fields_of(naive)) == (400, {"due_at"})
    unknown = post(client, "/work-orders", {"asset_id": 999999, "title": "x", "problem": "zzz"})
    assert unknown.status_code == 400
    assert unknown.json()["detail"] == {
        "asset_id": ["There is no asset 999999."],
        "problem": ["There is no problem code 'zzz'."],
    }
    blank = post(client, "/work-orders", {"asset_id": asset.pk, "title": "  "})
    assert blank.status_code == 400
    assert blank.json()["detail"] == {"title": ["Say in a few words what is wrong or what to do."]}
    assert not WorkOrder.objects.exists()


def test_text_the_database_cannot_hold_is_a_400_not_a_server_error(crew):
    work = started_work(crew)
    client = writer(crew["sam"])
    assert fields_of(client.get(f"{V1}/work-orders?q=seal%00")) == {"q"}
    assert fields_of(client.get(f"{V1}/work-orders?assignee=t%00m")) == {"assignee"}
    made = post(client, "/work-orders", {"asset_id": work.asset_id, "title": "Guard\x00"})
    assert (made.status_code, fields_of(made)) == (400, {"title"})
    moved = post(client, f"/work-orders/{work.pk}/move", {"to": "on_hold", "note": "\x00"})
    assert (moved.status_code, fields_of(moved)) == (400, {"note"})
    done = post(client, f"/work-orders/{work.pk}/complete", {"notes": "ok\x00"})
    assert (done.status_code, fields_of(done)) == (400, {"notes"})


# --- moving on the board -------------------------------------------------------------------------


def test_a_request_moves_through_the_board_by_the_roles_whose_move_it_is(crew):
    work = services.workorder_create(
        asset=make_asset(), kind="request", title="Guard loose", user=crew["olga"]
    )
    url = f"/work-orders/{work.pk}/move"
    approved = post(writer(crew["sam"]), url, {"to": "approved", "note": "Go ahead"})
    assert approved.status_code == 200, approved.content
    assert approved.json()["status"] == "approved"
    due = (timezone.now() + timedelta(hours=3)).isoformat()
    scheduled = post(
        writer(crew["sam"]),
        url,
        {"to": "scheduled", "assignee": "tom", "due_at": due, "estimated_minutes": 90},
    ).json()
    assert (scheduled["status"], scheduled["assignee"], scheduled["estimated_minutes"]) == (
        "scheduled",
        "tom",
        90,
    )
    started = post(writer(crew["tom"]), url, {"to": "in_progress"}).json()
    assert started["status"] == "in_progress"
    assert moment(started["started_at"]) <= timezone.now()
    assert post(writer(crew["tom"]), url, {"to": "on_hold", "note": "No part"}).status_code == 200

    moves = list(
        WorkOrderEvent.objects.filter(work_order=work, kind="status").values_list(
            "user__username", "to_status", "note"
        )
    )
    assert moves == [
        ("sam", "approved", "Go ahead"),
        ("sam", "scheduled", ""),
        ("tom", "in_progress", ""),
        ("tom", "on_hold", "No part"),
    ]


def test_a_move_is_refused_in_the_flows_own_words(crew):
    work = make_work_order(by=crew["sam"], assignee=crew["tom"])
    operator_of(crew["olga"], work.asset)
    url = f"/work-orders/{work.pk}/move"
    for who, body, words in (
        ("olga", {"to": "cancelled"}, "An operator may not cancel a work order."),
        ("tina", {"to": "in_progress"}, "Only the assigned technician may start this work order."),
        ("tom", {"to": "approved"}, "A work order cannot go from scheduled to approved."),
        ("mia", {"to": "in_progress"}, "An operator may not start a work order."),
    ):
        response = post(writer(crew[who]), url, body)
        assert (response.status_code, response.json()) == (403, {"detail": words}), who
    nobody = post(writer(crew["nina"]), url, {"to": "cancelled"})
    assert nobody.json() == {"detail": "Your role may not see work orders."}
    read_only = post(reader(crew["tom"]), url, {"to": "in_progress"})
    assert read_only.status_code == 403
    work.refresh_from_db()
    assert work.status == "scheduled"


def test_a_bad_move_is_a_400_naming_the_fields(crew):
    work = make_work_order(by=crew["sam"])
    url = f"/work-orders/{work.pk}/move"
    client = writer(crew["sam"])
    done = post(client, url, {"to": "done"})
    assert (done.status_code, fields_of(done)) == (400, {"to"})
    bare = post(client, url, {"to": "scheduled"})
    assert (bare.status_code, fields_of(bare)) == (400, {"assignee", "due_at"})
    later = (timezone.now() + timedelta(days=1)).isoformat()
    stray = post(client, url, {"to": "cancelled", "assignee": "tom"})
    assert (stray.status_code, fields_of(stray)) == (400, {"assignee"})
    not_a_technician = post(client, url, {"to": "scheduled", "assignee": "olga", "due_at": later})
    assert not_a_technician.json() == {"detail": {"assignee": ["olga is not a technician."]}}
    nobody = post(client, url, {"to": "scheduled", "assignee": "ghost", "due_at": later})
    assert nobody.json() == {"detail": {"assignee": ["There is no user 'ghost'."]}}
    # The role comes before the choice: an operator scheduling is told she may not.
    operator_of(crew["olga"], work.asset)
    olga = post(writer(crew["olga"]), url, {"to": "scheduled", "assignee": "olga", "due_at": later})
    assert olga.json() == {"detail": "An operator may not schedule a work order."}
    work.refresh_from_db()
    assert (work.status, work.assignee) == ("approved", None)


# --- completing ----------------------------------------------------------------------------------


def test_the_technician_completes_with_the_outcome_codes_minutes_and_parts(crew):
    work = started_work(crew, title="Replace bearing")
    bearing = Part.objects.create(number="6205-2rs", name="Ball bearing", stock=3)
    grease = Part.objects.create(number="lgmt2", name="Grease", unit="g", stock=500)
    response = post(
        writer(crew["tom"]),
        f"/work-orders/{work.pk}/complete",
        {
            "outcome": "failure_found",
            "problem": "elu",
            "remedy": "replace",
            "actual_minutes": 35,
            "notes": "Seal worn through; replaced.",
            "parts": [{"part": "6205-2rs", "quantity": 2}, {"part": "lgmt2", "quantity": 20}],
        },
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["outcome"], body["actual_minutes"]) == (
        "done",
        "failure_found",
        35,
    )
    assert (body["problem"]["code"], body["remedy"]["code"]) == ("elu", "replace")
    assert body["notes"] == "Seal worn through; replaced."
    assert {(p["part"], p["quantity"]) for p in body["parts_used"]} == {
        ("6205-2rs", 2),
        ("lgmt2", 20),
    }
    bearing.refresh_from_db()
    grease.refresh_from_db()
    assert (bearing.stock, grease.stock) == (1, 480)
    # The outcome taught the health model: the failure of the problem code's mode.
    assert FailureEvent.objects.get(asset=work.asset).failure_mode.code == "seal"
    assert body["history"][-1]["to_status"] == "done"
    assert body["history"][-1]["user"] == "tom"


def test_completing_is_refused_to_others_and_takes_nothing(crew):
    work = started_work(crew)
    operator_of(crew["olga"], work.asset)
    bearing = Part.objects.create(number="6205-2rs", name="Ball bearing", stock=3)
    url = f"/work-orders/{work.pk}/complete"
    body = {"actual_minutes": 10, "parts": [{"part": "6205-2rs", "quantity": 1}]}
    for who, words in (
        ("olga", "An operator may not complete a work order."),
        ("tina", "Only the assigned technician may complete this work order."),
        ("mia", "An operator may not complete a work order."),
    ):
        response = post(writer(crew[who]), url, body)
        assert (response.status_code, response.json()) == (403, {"detail": words}), who
    assert post(reader(crew["tom"]), url, body).status_code == 403
    bearing.refresh_from_db()
    work.refresh_from_db()
    assert (bearing.stock, work.status) == (3, "in_progress")


def test_a_bad_completion_is_a_400_naming_the_fields_and_takes_nothing(crew):
    work = started_work(crew, checklist=["Lock out"])
    bearing = Part.objects.create(number="6205-2rs", name="Ball bearing", stock=1)
    url = f"/work-orders/{work.pk}/complete"
    client = writer(crew["tom"])

    wrong = post(client, url, {"outcome": "fixed", "actual_minutes": -5})
    assert (wrong.status_code, fields_of(wrong)) == (400, {"outcome", "actual_minutes"})
    unknown = post(client, url, {"problem": "zzz", "cause": "vib", "parts": [{"part": "nope"}]})
    assert unknown.status_code == 400
    assert fields_of(unknown) == {"parts"}  # the schema first: a part needs its quantity
    unknown = post(
        client, url, {"problem": "zzz", "cause": "vib", "parts": [{"part": "nope", "quantity": 1}]}
    )
    assert unknown.json()["detail"] == {
        "problem": ["There is no problem code 'zzz'."],
        "cause": ["There is no cause code 'vib'."],
        "parts": ["There is no part nope."],
    }
    unticked = post(client, url, {"parts": [{"part": "6205-2rs", "quantity": 1}]})
    assert unticked.json()["detail"] == {
        "checklist": ["Tick every checklist item first (or note why in the item)."]
    }
    services.checklist_tick(item=work.checklist.get(), user=crew["tom"])
    short = post(client, url, {"parts": [{"part": "6205-2rs", "quantity": 2}]})
    assert short.json()["detail"] == {"parts": ["Only 1 pcs of 6205-2rs in stock; 2 asked."]}

    bearing.refresh_from_db()
    work.refresh_from_db()
    assert (bearing.stock, work.status, work.parts_used.count()) == (1, "in_progress", 0)


# --- preventive schedules ------------------------------------------------------------------------


def test_schedules_say_when_they_fall_due_next_and_page(crew):
    fan, press = make_asset(), make_asset()
    now = timezone.now()
    weekly = PreventiveSchedule.objects.create(
        asset=fan,
        title="Grease fan",
        meter="calendar",
        interval=7,
        lead=1,
        starts_at=now - timedelta(days=10),
    )
    hourly = PreventiveSchedule.objects.create(
        asset=press,
        title="Change press oil",
        meter="runtime",
        interval=500,
        starts_at=now - timedelta(days=10),
        meter_value=250,
        meter_read_at=now,
    )
    PreventiveSchedule.objects.create(
        asset=press,
        title="Count dies",
        meter="cycles",
        interval=10_000,
        starts_at=now,
        active=False,
    )
    client = reader(crew["mia"])

    def rows(**query) -> dict[str, dict]:
        page = client.get(f"{V1}/maintenance/schedules", query).json()
        return {row["title"]: row for row in page["results"]}

    before = rows()["Grease fan"]
    # Ten days in, the first week's point is passed: its work order comes at the next run.
    assert (before["next_due"]["point"], before["last_work_order_id"]) == (1, None)
    assert near(before["next_due"]["at"], weekly.starts_at + timedelta(days=7))  # overdue
    made = preventive.preventive_schedule_run(schedule_id=weekly.pk)
    after = rows()["Grease fan"]
    assert after["last_work_order_id"] == made.pk
    assert (after["next_due"]["point"], after["next_due"]["meter"]) == (2, 14.0)
    assert near(after["next_due"]["at"], weekly.starts_at + timedelta(days=14))

    oil = rows()["Change press oil"]
    # 250 running hours in ten days: the 500th is foreseen ten days on.
    assert (oil["meter"], oil["next_due"]["point"], oil["next_due"]["meter"]) == (
        "runtime",
        1,
        500.0,
    )
    assert near(oil["next_due"]["at"], now + timedelta(days=10))
    assert hourly.pk == oil["id"]
    dies = rows(active="false")["Count dies"]
    assert dies["next_due"] == {"point": 1, "meter": 10_000.0, "at": None}
    assert set(rows(line_id=press.line_id)) == {"Change press oil", "Count dies"}
    assert set(rows(asset_id=fan.pk)) == {"Grease fan"}

    first = client.get(f"{V1}/maintenance/schedules?page_size=2").json()
    second = client.get(first["next"]).json()
    assert [r["title"] for r in first["results"] + second["results"]] == [
        "Grease fan",
        "Change press oil",
        "Count dies",
    ]
    assert second["next"] is None


# --- maintenance KPIs ----------------------------------------------------------------------------


def test_the_kpis_are_the_kpi_pages_per_line_and_asset_over_the_period_asked(crew):
    pump, fan = make_asset(), make_asset()
    end = timezone.now().replace(microsecond=0) - timedelta(days=1)
    start = end - timedelta(days=10)
    middle = start + timedelta(days=5)
    past_work_order(
        asset=pump,
        created_at=middle,
        started_at=middle,
        completed_at=middle + timedelta(hours=2),
        actual_minutes=90,
    )
    past_work_order(
        asset=pump,
        kind="preventive",
        created_at=start,
        due_at=middle,
        completed_at=middle - timedelta(hours=1),
    )
    past_work_order(
        asset=pump,
        kind="preventive",
        created_at=start,
        due_at=middle,
        status="scheduled",
        estimated_minutes=120,
    )
    past_work_order(asset=fan, created_at=middle, status="requested")
    client = reader(crew["mia"])

    response = client.get(
        f"{V1}/maintenance/kpis",
        {"from": start.isoformat(), "to": end.isoformat(), "line_id": pump.line_id},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert [line["id"] for line in body["lines"]] == [pump.line_id]
    kpis = body["lines"][0]["kpis"]
    assert (kpis["failures"], kpis["mttr_s"], kpis["reliability_from"]) == (
        1,
        5400.0,
        "work_orders",
    )
    assert (kpis["pm_due"], kpis["pm_on_time"], kpis["pm_compliance"]) == (2, 1, 0.5)
    assert (kpis["backlog"], kpis["backlog_hours"]) == (1, 2.0)
    assert (kpis["planned"], kpis["unplanned"]) == (2, 1)
    assert [a["name"] for a in body["lines"][0]["assets"]] == [pump.name]
    page = kpi_selectors.maintenance_kpi_page(start=start, end=end, line_ids=[pump.line_id])
    assert kpis["mtbf_s"] == page["lines"][0]["kpis"]["mtbf_s"]

    both = client.get(f"{V1}/maintenance/kpis?line_id={pump.line_id}&line_id={fan.line_id}").json()
    assert {line["id"] for line in both["lines"]} == {pump.line_id, fan.line_id}
    every = logged_in(crew["olga"]).get(f"{V1}/maintenance/kpis").json()
    assert {pump.line_id, fan.line_id} <= {line["id"] for line in every["lines"]}


def test_a_kpi_period_that_is_not_one_is_a_400_naming_from(crew):
    client = reader(crew["sam"])
    now = timezone.now()
    backwards = client.get(
        f"{V1}/maintenance/kpis",
        {"from": now.isoformat(), "to": (now - timedelta(days=1)).isoformat()},
    )
    assert (backwards.status_code, backwards.json()) == (
        400,
        {"detail": {"from": ["`from` must be before `to`."]}},
    )
    too_long = client.get(
        f"{V1}/maintenance/kpis", {"from": (now - timedelta(days=400)).isoformat()}
    )
    assert (too_long.status_code, fields_of(too_long)) == (400, {"from"})
    naive = client.get(f"{V1}/maintenance/kpis", {"from": "2030-01-01T00:00"})
    assert (naive.status_code, fields_of(naive)) == (400, {"from"})


def test_an_operator_is_shown_their_lines_work_and_the_requests_they_made_elsewhere(crew):
    mine, elsewhere = make_asset(), make_asset()
    operator_of(crew["olga"], mine)
    on_my_line = make_work_order(by=crew["sam"], asset=mine, title="Guard loose")
    reported = post(
        writer(crew["olga"]),
        "/work-orders",
        {"asset_id": elsewhere.pk, "title": "Oil on the floor", "description": "Under the press"},
    )
    assert reported.status_code == 201, reported.content
    not_mine = make_work_order(by=crew["sam"], asset=elsewhere, title="Belt worn")

    shown = reader(crew["olga"]).get(f"{V1}/work-orders").json()["results"]
    assert {w["id"] for w in shown} == {on_my_line.pk, reported.json()["id"]}
    assert reader(crew["olga"]).get(f"{V1}/work-orders/{not_mine.pk}").status_code == 404
    technician = reader(crew["tom"]).get(f"{V1}/work-orders").json()["results"]
    assert {w["id"] for w in technician} >= {on_my_line.pk, not_mine.pk}
