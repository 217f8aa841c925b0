"""The tablet screens over HTTP: each role on every view, the operator's report, a technician's
work order from start to done with checklist, parts, photo and codes, one tap from an alert
or a prediction, the search of past work, and the feedback on the rule and model pages."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from plantops.health.models import FailureEvent, FailureMode
from plantops.maintenance import services
from plantops.maintenance.models import FailureCode, Part, WorkOrder, WorkOrderPhoto
from plantops.maintenance.selectors import asset_maintenance
from plantops.oee.models import StateEvent
from tests.factories import (
    make_asset,
    make_prediction_alert,
    make_user,
    make_work_order,
    past_work_order,
)
from tests.maintenance.test_photos import camera_jpeg

pytestmark = pytest.mark.django_db


def one_pixel_png() -> bytes:
    """A one-pixel transparent PNG: the smallest photo there is."""
    out = io.BytesIO()
    Image.new("RGBA", (1, 1), (0, 0, 0, 0)).save(out, format="PNG")
    return out.getvalue()


PNG = one_pixel_png()


@pytest.fixture(autouse=True)
def media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"


def stored_bytes(photo: WorkOrderPhoto) -> bytes:
    with photo.image.open("rb") as stored:
        return stored.read()


def as_user(client, user: User | None):
    client.logout()
    if user is not None:
        client.force_login(user)
    return client


def code(kind: str, value: str) -> FailureCode:
    return FailureCode.objects.get(kind=kind, code=value)


def scheduled_work(crew, asset=None, checklist=("Lock out", "Replace belt")) -> WorkOrder:
    """Sam's work on the belt, scheduled for Tom."""
    return make_work_order(by=crew["sam"], asset=asset, checklist=checklist, assignee=crew["tom"])


# --- every view, every role ---------------------------------------------------------------


def view_urls(work: WorkOrder, asset_id: int, alert_id: int) -> list[tuple[str, str, dict]]:
    item = work.checklist.first()
    photo = WorkOrderPhoto.objects.filter(work_order=work).first()
    return [
        ("get", reverse("maintenance:list"), {}),
        ("get", reverse("maintenance:detail", args=[work.pk]), {}),
        ("get", reverse("floor:report_asset"), {}),
        ("get", reverse("maintenance:report", args=[asset_id]), {}),
        ("get", reverse("maintenance:photo", args=[work.pk, photo.pk]), {}),
        ("get", reverse("maintenance:rules"), {}),
        ("get", reverse("maintenance:kpis"), {}),
        ("get", reverse("maintenance:api"), {}),
        ("post", reverse("maintenance:move", args=[work.pk]), {"to": "on_hold"}),
        ("post", reverse("maintenance:schedule", args=[work.pk]), {}),
        ("post", reverse("maintenance:checklist", args=[work.pk, item.pk]), {"done": "1"}),
        ("post", reverse("maintenance:parts", args=[work.pk]), {}),
        ("post", reverse("maintenance:note", args=[work.pk]), {"note": "x"}),
        ("post", reverse("maintenance:photo_add", args=[work.pk]), {}),
        ("post", reverse("maintenance:complete", args=[work.pk]), {}),
        ("post", reverse("maintenance:from_alert", args=[alert_id]), {}),
        ("post", reverse("maintenance:from_prediction", args=[asset_id]), {"mode": "bearing"}),
        ("post", reverse("maintenance:report", args=[asset_id]), {"problem": "vib"}),
    ]


# Which views each role reaches (anything else is a 403): operators look and report;
# technicians also execute; supervisors also schedule and see the rules' precision.
OPERATOR_VIEWS = {
    "list",
    "kpis",
    "api",
    "detail",
    "report_asset",
    "report",
    "photo",
    "move",
    "note",
    "photo_add",
    "from_alert",
    "from_prediction",
}
TECHNICIAN_VIEWS = OPERATOR_VIEWS | {"checklist", "parts", "complete"}
SUPERVISOR_VIEWS = TECHNICIAN_VIEWS | {"schedule", "rules"}


def name_of(url: str) -> str:
    from django.urls import resolve

    return resolve(url).url_name


@pytest.mark.parametrize(
    ("who", "allowed"),
    [
        ("nobody", set()),
        ("olga", OPERATOR_VIEWS),
        ("tom", TECHNICIAN_VIEWS),
        ("sam", SUPERVISOR_VIEWS),
        ("admin", SUPERVISOR_VIEWS),
    ],
)
def test_every_view_lets_in_exactly_the_roles_it_is_for(client, crew, who, allowed):
    crew["nobody"] = make_user(username="nobody")
    crew["admin"] = make_user(role="admin", username="admin")
    asset = make_asset()
    alert, _ = make_prediction_alert(asset=asset)
    work = scheduled_work(crew, asset=asset)
    services.workorder_move(work_order=work, target="in_progress", user=crew["tom"])
    services.photo_add(work_order=work, upload=SimpleUploadedFile("a.png", PNG), user=crew["tom"])
    for method, url, data in view_urls(work, asset.pk, alert.pk):
        as_user(client, None)
        anonymous = getattr(client, method)(url, data)
        if name_of(url) == "api":
            assert anonymous.status_code == 401
        else:
            assert (anonymous.status_code, "/login/" in anonymous["Location"]) == (302, True), url
        response = getattr(as_user(client, crew[who]), method)(url, data)
        if name_of(url) in allowed:
            assert response.status_code in (200, 302, 400), (who, url, response.status_code)
        else:
            assert response.status_code == 403, (who, url, response.status_code)


def test_what_a_role_may_do_to_one_work_order_is_checked_again_behind_the_view(
    client,
    crew,
):
    work = scheduled_work(crew)
    # Tina is a technician, but the work is Tom's: the view lets her in, the flow does not.
    response = as_user(client, crew["tina"]).post(
        reverse("maintenance:move", args=[work.pk]), {"to": "in_progress"}, follow=True
    )
    assert "Only the assigned technician may start" in response.content.decode()
    work.refresh_from_db()
    assert work.status == "scheduled"
    # An operator may not cancel it.
    response = as_user(client, crew["olga"]).post(
        reverse("maintenance:move", args=[work.pk]), {"to": "cancelled"}, follow=True
    )
    assert "An operator may not cancel a work order." in response.content.decode()
    # Moves offered on the screen are exactly the role's own.
    page = as_user(client, crew["tom"]).get(reverse("maintenance:detail", args=[work.pk]))
    assert [m.action for m in page.context["moves"]] == ["start"]
    page = as_user(client, crew["tina"]).get(reverse("maintenance:detail", args=[work.pk]))
    assert page.context["moves"] == []
    assert b'data-action="start"' not in page.content
    page = as_user(client, crew["sam"]).get(reverse("maintenance:detail", args=[work.pk]))
    assert [m.action for m in page.context["moves"]] == ["start", "cancel"]


# --- the operator's report ------------------------------------------------------------------


def test_an_operator_reports_a_problem_with_one_tap_on_the_asset_page(client, crew):
    asset = make_asset()
    StateEvent.objects.create(asset=asset, ts=timezone.now() - timedelta(minutes=7), state="down")
    as_user(client, crew["olga"])
    asset_page = client.get(reverse("floor:asset", args=[asset.pk])).content.decode()
    assert reverse("maintenance:report", args=[asset.pk]) in asset_page
    report_page = client.get(reverse("maintenance:report", args=[asset.pk])).content.decode()
    assert 'value="vib"' in report_page
    assert "Something else" in report_page

    response = client.post(reverse("maintenance:report", args=[asset.pk]), {"problem": "vib"})

    work = WorkOrder.objects.get()
    assert response["Location"] == reverse("maintenance:detail", args=[work.pk])
    assert (work.kind, work.status, work.problem.code, work.requested_by) == (
        "request",
        "requested",
        "vib",
        crew["olga"],
    )
    assert work.title == f"Vibration on {asset.name}"
    assert work.priority == "high"  # the machine is down
    assert work.downtime == StateEvent.objects.get(asset=asset)  # linked to the stop
    page = client.get(response["Location"]).content.decode()
    assert "Down since" in page
    assert "maintenance has it" in page

    # The same report again, by her or by another operator on the line, adds to the open
    # one rather than making a twin.
    client.post(reverse("maintenance:report", args=[asset.pk]), {"problem": "vib"})
    other = make_user(role="operator", username="otto")
    again = as_user(client, other).post(
        reverse("maintenance:report", args=[asset.pk]), {"problem": "vib"}, follow=True
    )
    assert f"Reported as WO-{work.pk}: maintenance has it." in again.content.decode()
    assert "Add a photo" not in again.content.decode()  # it is not his request
    assert WorkOrder.objects.count() == 1
    reported = work.events.filter(kind="reported", note="Reported again.")
    assert sorted(reported.values_list("user__username", flat=True)) == ["olga", "otto"]
    as_user(client, crew["olga"])
    # A made-up problem gets a message, not a work order.
    response = client.post(
        reverse("maintenance:report", args=[asset.pk]), {"problem": "nonsense"}, follow=True
    )
    assert "Tap what is wrong." in response.content.decode()
    assert WorkOrder.objects.count() == 1


def test_the_linked_stop_shows_how_long_the_machine_was_down(client, crew):
    asset = make_asset()
    start = timezone.now() - timedelta(hours=2)
    StateEvent.objects.create(asset=asset, ts=start, state="down", reason="jam")
    work = services.problem_report(asset=asset, problem=code("problem", "brd"), user=crew["olga"])
    StateEvent.objects.create(asset=asset, ts=start + timedelta(minutes=45), state="running")
    page = as_user(client, crew["sam"]).get(reverse("maintenance:detail", args=[work.pk]))
    assert page.context["downtime"]["end"] == start + timedelta(minutes=45)
    assert "45\xa0minutes" in page.content.decode()
    assert "jam" in page.content.decode()


# --- a technician's work order, start to done ------------------------------------------------


def test_a_technician_does_the_work_on_the_tablet_from_start_to_done(client, crew):
    work = scheduled_work(crew)
    belt = Part.objects.create(number="belt-a42", name="V-belt A42", stock=3)
    as_user(client, crew["tom"])
    mine = client.get(reverse("maintenance:list")).content.decode()
    assert f'data-work-order-id="{work.pk}"' in mine  # "my work" is his first list

    detail = reverse("maintenance:detail", args=[work.pk])
    client.post(reverse("maintenance:move", args=[work.pk]), {"to": "in_progress"})
    first, second = work.checklist.all()
    tick = reverse("maintenance:checklist", args=[work.pk, first.pk])
    client.post(tick, {"done": "1"})
    # Completing with an item left open is refused, with the reason on the screen.
    refused = client.post(reverse("maintenance:complete", args=[work.pk]), {}, follow=True)
    assert "Tick every checklist item first" in refused.content.decode()
    client.post(reverse("maintenance:checklist", args=[work.pk, second.pk]), {"done": "1"})
    # Pause and resume, as when waiting for a part.
    client.post(reverse("maintenance:move", args=[work.pk]), {"to": "on_hold"})
    client.post(reverse("maintenance:move", args=[work.pk]), {"to": "in_progress"})
    client.post(reverse("maintenance:parts", args=[work.pk]), {"part": belt.pk, "quantity": 1})
    too_many = client.post(
        reverse("maintenance:parts", args=[work.pk]), {"part": belt.pk, "quantity": 5}, follow=True
    )
    assert "Only 2 pcs of belt-a42 in stock; 5 asked." in too_many.content.decode()
    client.post(reverse("maintenance:note", args=[work.pk]), {"note": "Pulley worn too."})
    client.post(
        reverse("maintenance:photo_add", args=[work.pk]),
        {"photo": SimpleUploadedFile("belt.png", PNG, "image/png"), "caption": "Old belt"},
    )
    response = client.post(
        reverse("maintenance:complete", args=[work.pk]),
        {
            "problem": code("problem", "noi").pk,
            "cause": code("cause", "wear").pk,
            "remedy": code("remedy", "replace").pk,
            "notes": "Replaced belt; pulley to watch.",
            "actual_minutes": "35",
        },
    )
    assert response["Location"] == detail

    work.refresh_from_db()
    belt.refresh_from_db()
    assert (work.status, work.remedy.code, work.actual_minutes, belt.stock) == (
        "done",
        "replace",
        35,
        2,
    )
    kinds = list(work.events.order_by("at", "pk").values_list("kind", flat=True))
    assert kinds == [
        "created",
        "assigned",
        "status",
        "status",
        "checklist",
        "checklist",
        "status",
        "status",
        "part",
        "note",
        "photo",
        "status",
    ]
    assert all(e.user is not None for e in work.events.all())
    photo = work.photos.get()
    served = client.get(reverse("maintenance:photo", args=[work.pk, photo.pk]))
    assert served["Content-Type"] == "image/png"
    assert b"".join(served.streaming_content) == stored_bytes(photo)
    assert Image.open(io.BytesIO(stored_bytes(photo))).size == (1, 1)
    page = client.get(detail).content.decode()
    assert "Findings" in page
    assert "Replaced belt; pulley to watch." in page
    assert "Complete the work" not in page


def test_bad_photos_get_a_message_and_keep_nothing(client, crew, settings):
    work = scheduled_work(crew)
    services.workorder_move(work_order=work, target="in_progress", user=crew["tom"])
    as_user(client, crew["tom"])
    url = reverse("maintenance:photo_add", args=[work.pk])
    text = client.post(
        url, {"photo": SimpleUploadedFile("x.jpg", b"not an image at all")}, follow=True
    )
    assert "not a JPEG, PNG or WebP photo" in text.content.decode()
    settings.PHOTO_MAX_BYTES = 10
    big = client.post(url, {"photo": SimpleUploadedFile("x.png", PNG)}, follow=True)
    assert "larger than" in big.content.decode()
    none = client.post(url, {}, follow=True)
    assert "Take or choose a photo first." in none.content.decode()
    # Another technician, not given the work, may not add to it.
    settings.PHOTO_MAX_BYTES = 10_000
    other = as_user(client, crew["tina"]).post(
        url, {"photo": SimpleUploadedFile("x.png", PNG)}, follow=True
    )
    assert "You may not add photos" in other.content.decode()
    assert not WorkOrderPhoto.objects.exists()
    assert not (settings.MEDIA_ROOT / "work-orders").exists() or not any(
        (settings.MEDIA_ROOT / "work-orders").rglob("*.*")
    )


def test_a_supervisor_approves_and_schedules_from_the_screen(client, crew):
    work = services.problem_report(asset=make_asset(), problem=None, user=crew["olga"])
    assert work.title.startswith("Problem reported on")
    as_user(client, crew["sam"])
    assert (
        f'data-work-order-id="{work.pk}"'
        in client.get(reverse("maintenance:list")).content.decode()
    )
    client.post(reverse("maintenance:move", args=[work.pk]), {"to": "approved"})
    page = client.get(reverse("maintenance:detail", args=[work.pk]))
    assert crew["tom"] in page.context["technicians"]
    assert crew["olga"] not in page.context["technicians"]
    bad = client.post(
        reverse("maintenance:schedule", args=[work.pk]),
        {"assignee": crew["tom"].pk, "due_at": "tomorrow"},
        follow=True,
    )
    assert "Due at" in bad.content.decode() or "valid date" in bad.content.decode()
    not_a_technician = client.post(
        reverse("maintenance:schedule", args=[work.pk]),
        {"assignee": crew["olga"].pk, "due_at": "2026-12-03T08:00"},
        follow=True,
    )
    assert "is not a technician" in not_a_technician.content.decode()
    assert not_a_technician.status_code == 400
    # The refused form comes back as it was filled in.
    assert 'value="2026-12-03T08:00"' in not_a_technician.content.decode()
    client.post(
        reverse("maintenance:schedule", args=[work.pk]),
        {"assignee": crew["tom"].pk, "due_at": "2026-12-03T08:00", "estimated_minutes": "90"},
    )
    work.refresh_from_db()
    assert (work.status, work.assignee, work.due_at.isoformat(), work.estimated_minutes) == (
        "scheduled",
        crew["tom"],
        "2026-12-03T08:00:00+00:00",
        90,
    )
    assert work.events.get(kind="assigned").note == "to tom, about 90 min"


# --- one tap from an alert or a prediction ---------------------------------------------------


def test_one_tap_from_the_inbox_opens_a_work_order_with_the_evidence(client, crew):
    asset = make_asset()
    alert, prediction = make_prediction_alert(asset=asset)
    as_user(client, crew["sam"])
    inbox = client.get(reverse("alerts-inbox")).content.decode()
    assert reverse("maintenance:from_alert", args=[alert.pk]) in inbox

    response = client.post(reverse("maintenance:from_alert", args=[alert.pk]))
    work = WorkOrder.objects.get()
    assert response["Location"] == reverse("maintenance:detail", args=[work.pk])
    assert (work.kind, work.alert, work.prediction) == ("predictive", alert, prediction)
    page = client.get(response["Location"]).content.decode()
    assert "Alert history (1)" in page
    # A second tap, on the alert or on its prediction, opens the same work order.
    again = client.post(reverse("maintenance:from_alert", args=[alert.pk]))
    assert again["Location"] == response["Location"]
    from_prediction = client.post(
        reverse("maintenance:from_prediction", args=[asset.pk]), {"mode": "bearing"}
    )
    assert from_prediction["Location"] == response["Location"]
    assert WorkOrder.objects.count() == 1


def test_one_tap_from_a_prediction_without_an_alert_carries_its_interval(client, crew):
    asset = make_asset()
    alert, prediction = make_prediction_alert(asset=asset)
    alert.delete()
    as_user(client, crew["tom"])
    asset_page = client.get(reverse("floor:asset", args=[asset.pk])).content.decode()
    assert reverse("maintenance:from_prediction", args=[asset.pk]) in asset_page
    client.post(reverse("maintenance:from_prediction", args=[asset.pk]), {"mode": "bearing"})
    work = WorkOrder.objects.get()
    assert (work.kind, work.status, work.prediction, work.failure_mode.code) == (
        "predictive",
        "requested",  # a technician's work waits for a supervisor's approval
        prediction,
        "bearing",
    )
    assert work.title == f"Bearing degradation predicted in 3–8 days on {asset.name}"
    assert work.evidence["rul_low_days"] == 3
    assert work.evidence["confidence"] == 0.9
    page = client.get(reverse("maintenance:detail", args=[work.pk])).content.decode()
    assert "3–8 days" in page
    assert "90% confidence" in page
    missing = client.post(
        reverse("maintenance:from_prediction", args=[asset.pk]), {"mode": "seal"}, follow=True
    )
    assert "no prediction of that failure" in missing.content.decode()


# --- the loop closes: the rule and model pages, and what the asset page remembers -----------


def close_from_alert(crew, alert, outcome: str, problem: str = "vib") -> WorkOrder:
    work = services.workorder_from_alert(alert=alert, user=crew["sam"])
    services.workorder_schedule(
        work_order=work, assignee=crew["tom"], due_at=timezone.now(), user=crew["sam"]
    )
    services.workorder_move(work_order=work, target="in_progress", user=crew["tom"])
    return services.workorder_complete(
        work_order=work,
        user=crew["tom"],
        outcome=outcome,
        problem=code("problem", problem),
        cause=code("cause", "lubrication"),
        remedy=code("remedy", "replace"),
        notes="Bearing dry and pitted: replaced, regreased the other side.",
    )


def test_failure_found_shows_on_the_rule_page_the_model_page_and_the_asset_page(
    client,
    crew,
):
    asset = make_asset()
    alert, prediction = make_prediction_alert(asset=asset)
    as_user(client, crew["sam"])
    rules = client.get(reverse("maintenance:rules")).content.decode()
    assert f'data-rule-id="{alert.rule_id}"' in rules
    assert "—" in rules

    close_from_alert(crew, alert, "failure_found")

    rules = client.get(reverse("maintenance:rules"))
    row = next(r for r in rules.context["rules"] if r["rule"].pk == alert.rule_id)
    assert (row["raised"], row["judged"], row["confirmed"], row["precision"]) == (1, 1, 1, 1.0)
    assert "100%" in rules.content.decode()
    models = client.get(reverse("maintenance:model_health"))
    group = models.context["page"]["groups"][0]
    assert group["outcomes"]["failure_found"] == 1
    assert group["outcomes"]["precision"] == 1.0
    assert 'data-role="precision">100%' in models.content.decode()
    prediction.refresh_from_db()
    assert prediction.failure == FailureEvent.objects.get(asset=asset)

    asset_page = client.get(reverse("floor:asset", args=[asset.pk]))
    knowledge = asset_page.context["maintenance"]["frequent"]
    assert [(k["key"], k["times"]) for k in knowledge] == [("code:vib", 1)]
    assert "Bearing dry and pitted" in asset_page.content.decode()


def test_no_fault_found_lowers_the_precision_shown(client, crew):
    first, second = make_asset(), make_asset()
    alert_one, _ = make_prediction_alert(asset=first)
    close_from_alert(crew, alert_one, "failure_found")
    alert_two, _ = make_prediction_alert(asset=second)
    close_from_alert(crew, alert_two, "no_fault_found")
    rules = as_user(client, crew["sam"]).get(reverse("maintenance:rules"))
    row = next(r for r in rules.context["rules"] if r["rule"].pk == alert_one.rule_id)
    assert (row["judged"], row["confirmed"]) == (2, 1)
    assert "50%" in rules.content.decode()
    group = client.get(reverse("maintenance:model_health")).context["page"]["groups"][0]
    assert (group["outcomes"]["judged"], group["outcomes"]["no_fault_found"]) == (2, 1)


def test_past_work_is_found_by_asset_code_and_words(client, crew):
    pump, fan = make_asset(), make_asset()
    for asset, title, problem, notes in (
        (pump, "Pump leaking", "elu", "Mechanical seal replaced"),
        (pump, "Pump noisy", "noi", "Impeller rubbing: shimmed"),
        (fan, "Fan noisy", "noi", "Bearing replaced"),
    ):
        work = scheduled_work(crew, asset=asset, checklist=())
        services.workorder_move(work_order=work, target="in_progress", user=crew["tom"])
        services.workorder_complete(
            work_order=work,
            user=crew["tom"],
            problem=code("problem", problem),
            notes=notes,
        )
        WorkOrder.objects.filter(pk=work.pk).update(title=title)
    as_user(client, crew["olga"])

    def titles(**query) -> list[str]:
        page = client.get(reverse("maintenance:list"), {"list": "done", **query})
        return sorted(w.title for w in page.context["work_orders"])

    assert titles() == ["Fan noisy", "Pump leaking", "Pump noisy"]
    assert titles(asset=pump.pk) == ["Pump leaking", "Pump noisy"]
    assert titles(code=code("problem", "noi").pk) == ["Fan noisy", "Pump noisy"]
    assert titles(q="bearing") == ["Fan noisy"]  # found in the closing note
    assert titles(q="seal replaced", asset=pump.pk) == ["Pump leaking"]
    assert titles(q="seal", asset=fan.pk) == []
    open_one = scheduled_work(crew, asset=fan, checklist=())
    services.workorder_note(work_order=open_one, user=crew["sam"], note="Coupling guard loose")
    page = client.get(reverse("maintenance:list"), {"list": "bogus"})
    assert page.context["which"] == "open"  # an operator's first list: open work
    assert [w.pk for w in page.context["work_orders"]] == [open_one.pk]
    found = client.get(reverse("maintenance:list"), {"list": "open", "q": "guard"})
    assert [w.pk for w in found.context["work_orders"]] == [open_one.pk]  # a note made on it


def test_a_camera_photo_is_kept_scaled_and_stripped_under_a_name_the_server_chooses(crew):
    work = scheduled_work(crew)
    services.workorder_move(work_order=work, target="in_progress", user=crew["tom"])
    photo = services.photo_add(
        work_order=work,
        upload=SimpleUploadedFile("../../etc/passwd.jpg", camera_jpeg(4000, 3000)),
        user=crew["tom"],
    )
    assert photo.content_type == "image/jpeg"
    assert re.fullmatch(rf"work-orders/{work.pk}/\d{{8}}T\d{{6}}(_\w+)?\.jpg", photo.image.name)
    kept = Image.open(io.BytesIO(stored_bytes(photo)))
    assert kept.size == (2048, 1536)
    assert not kept.getexif().get_ifd(0x8825)  # no GPS position


def test_a_photo_whose_rows_cannot_be_written_leaves_no_file(crew, monkeypatch, settings):
    work = scheduled_work(crew)
    services.workorder_move(work_order=work, target="in_progress", user=crew["tom"])

    def broken(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(services, "_record", broken)
    with pytest.raises(RuntimeError):
        services.photo_add(
            work_order=work, upload=SimpleUploadedFile("a.png", PNG), user=crew["tom"]
        )
    stored = settings.MEDIA_ROOT / "work-orders"
    assert [p for p in stored.rglob("*") if p.is_file()] == []
    assert stored.exists()  # the file was written, then removed


def test_a_refused_completion_keeps_what_was_typed(client, crew):
    work = scheduled_work(crew)
    services.workorder_move(work_order=work, target="in_progress", user=crew["tom"])
    remedy = code("remedy", "replace")
    response = as_user(client, crew["tom"]).post(
        reverse("maintenance:complete", args=[work.pk]),
        {"remedy": remedy.pk, "notes": "Belt glazed; replaced.", "actual_minutes": "25"},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Tick every checklist item first" in page
    assert "Belt glazed; replaced.</textarea>" in page
    assert f'<option value="{remedy.pk}" selected>' in page
    assert 'value="25"' in page
    work.refresh_from_db()
    assert work.status == "in_progress"


def test_the_asset_page_ranks_its_failures_and_shows_the_last_fix_of_each(client, crew):
    asset = make_asset()
    base = timezone.now() - timedelta(days=30)

    def done(days: int, notes: str, **fields) -> WorkOrder:
        return past_work_order(
            asset=asset,
            title=notes,
            notes=notes,
            created_at=base,
            completed_at=base + timedelta(days=days),
            **fields,
        )

    noise, leak = code("problem", "noi"), code("problem", "elu")
    done(1, "Noise: tightened guard", problem=noise, remedy=code("remedy", "adjust"))
    last_leak = done(5, "Leak: seal replaced", problem=leak, remedy=code("remedy", "replace"))
    last_noise = done(9, "Noise: bearing replaced", problem=noise, remedy=code("remedy", "replace"))
    winding = FailureMode.objects.get(code="winding")
    by_mode = done(12, "Winding burnt", failure_mode=winding, outcome="failure_found")
    done(14, "Nothing wrong", problem=noise, outcome="no_fault_found")  # no failure: not counted
    done(15, "No code at all")

    panel = asset_maintenance(asset=asset)
    assert [(row["label"], row["times"], row["last"]) for row in panel["frequent"]] == [
        ("Noise", 2, last_noise),
        ("External leakage", 1, last_leak),
        ("Motor winding insulation failure", 1, by_mode),
    ]
    assert panel["frequent"][0]["last"].notes == "Noise: bearing replaced"
    assert panel["done_count"] == 6
    page = as_user(client, crew["olga"]).get(reverse("floor:asset", args=[asset.pk]))
    text = page.content.decode()
    assert "Noise: bearing replaced" in text
    assert "Noise: tightened guard" not in text  # only the last fix of each failure


def test_the_feedback_pages_are_linked_for_those_who_may_open_them(client, crew):
    links = [
        reverse("maintenance:rules"),
        reverse("maintenance:model_health"),
        reverse("maintenance:kpis"),
    ]
    work = as_user(client, crew["sam"]).get(reverse("maintenance:list")).content.decode()
    assert all(f'href="{link}"' in work for link in links)
    assert f'href="{links[0]}"' in client.get(reverse("alerts-inbox")).content.decode()
    work = as_user(client, crew["tom"]).get(reverse("maintenance:list")).content.decode()
    assert [f'href="{link}"' in work for link in links] == [False, False, True]
