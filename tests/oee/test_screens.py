"""The OEE screens: a line's shift and the floor's board, and operators closing the gaps."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from plantops.assets.models import Shift
from plantops.oee import screens
from plantops.oee.models import (
    CountEvent,
    ScrapEntry,
    StateEvent,
    StopCategory,
    StopReason,
    StopReasonEntry,
)
from tests.factories import logged_in, make_asset, make_user

pytestmark = pytest.mark.django_db


def stop_reasons() -> None:
    """The seeded reasons the screens offer; a transactional test's flush removes the seed."""
    StopReason.objects.get_or_create(
        code="jam", defaults={"label": "Jam", "category": StopCategory.EQUIPMENT}
    )


@pytest.fixture
def line_with_a_stop():
    """A line whose shift is running now: 2 h running, then a stop nobody has explained."""
    stop_reasons()
    asset = make_asset(signals=())
    asset.ideal_cycle_time_s = 10
    asset.save()
    now = timezone.now()
    start = (now - timedelta(hours=3)).time().replace(second=0, microsecond=0)
    Shift.objects.create(line=asset.line, name="Day", start=start, end=start, weekdays="0123456")
    StateEvent.objects.create(asset=asset, ts=now - timedelta(hours=2), state="running")
    stop = StateEvent.objects.create(asset=asset, ts=now - timedelta(minutes=20), state="down")
    StateEvent.objects.create(asset=asset, ts=now - timedelta(minutes=5), state="running")
    CountEvent.objects.create(asset=asset, ts=now - timedelta(hours=1), good=300, scrap=10)
    return asset, stop


def test_the_line_page_shows_the_shift_oee_and_the_stop_waiting_for_a_reason(line_with_a_stop):
    asset, stop = line_with_a_stop
    page = logged_in(make_user(role="operator", lines=[asset.line])).get(
        f"/lines/{asset.line_id}/oee/"
    )
    assert page.status_code == 200
    screen = page.context["screen"]
    assert screen["shift"]["name"] == "Day"
    assert screen["shift"]["running"]
    assert screen["oee"]["availability"] is not None
    assert [s["id"] for s in screen["stops"]] == [stop.pk]
    assert screen["stops"][0]["seconds"] == 900
    assert screen["pareto"] == [{"code": "", "label": "Not explained yet", "seconds": 900}]
    html = page.content.decode()
    assert f'action="/lines/{asset.line_id}/stops/{stop.pk}/reason"' in html
    assert 'value="jam"' in html


def test_the_time_before_the_machine_first_reported_shows_as_no_data_not_as_lost_availability(
    line_with_a_stop,
):
    # The shift began 3 h ago, the machine first reported 2 h ago: a third of the shift is no
    # data. Of the 2 h known, it ran all but the 15 min stop: availability 105/120.
    asset, _ = line_with_a_stop
    page = logged_in(make_user(role="operator", lines=[asset.line])).get(
        f"/lines/{asset.line_id}/oee/"
    )
    screen = page.context["screen"]
    oee = screen["oee"]
    # The shift starts on a whole minute, up to a minute before "3 h ago".
    began = datetime.fromisoformat(screen["shift"]["start"])
    now = datetime.fromisoformat(screen["at"])
    first = asset.state_events.order_by("ts").first().ts
    silent_s, planned_s = (first - began).total_seconds(), (now - began).total_seconds()
    assert oee["no_data_s"] == pytest.approx(silent_s, abs=0.01)
    assert oee["losses"]["no_data_s"] == pytest.approx(silent_s, abs=0.01)
    assert oee["no_data_share"] == pytest.approx(silent_s / planned_s, abs=0.0001)
    assert oee["availability"] == pytest.approx(105 / 120, abs=0.0001)
    # As the page rounds them (widthratio): a third, and 87.5% give or take a millisecond.
    html = page.content.decode()
    no_data, availability = (round(oee[key] * 100) for key in ("no_data_share", "availability"))
    assert (no_data, availability) in ((33, 87), (33, 88), (34, 87), (34, 88))
    assert f'<dt>No data</dt><dd data-role="no-data">{no_data}%</dd>' in html
    assert f'<dt>Availability</dt><dd data-role="availability">{availability}%</dd>' in html


def test_an_operator_explains_a_stop_and_the_pareto_moves(line_with_a_stop):
    asset, stop = line_with_a_stop
    operator = logged_in(make_user(role="operator", lines=[asset.line]))
    response = operator.post(f"/lines/{asset.line_id}/stops/{stop.pk}/reason", {"reason": "jam"})
    assert response.status_code == 302
    assert StopReasonEntry.objects.get(event=stop).reason.code == "jam"
    screen = operator.get(f"/lines/{asset.line_id}/oee.json").json()
    assert screen["stops"] == []
    assert screen["pareto"] == [{"code": "jam", "label": "Jam", "seconds": 900}]


def test_the_line_s_json_speaks_the_viewer_s_language_with_english_keys(line_with_a_stop):
    asset, stop = line_with_a_stop
    operator = logged_in(make_user(role="operator", lines=[asset.line]))
    operator.cookies[settings.LANGUAGE_COOKIE_NAME] = "es"
    screen = operator.get(f"/lines/{asset.line_id}/oee.json").json()
    assert screen["stops"][0] | {"start": None} == {
        "id": stop.pk,
        "asset": asset.name,
        "state": "down",
        "state_label": "Averiado",
        "start": None,
        "seconds": 900,
        "ongoing": False,
    }
    assert screen["pareto"] == [{"code": "", "label": "Aún sin motivo", "seconds": 900}]
    assert screen["figures"]["pareto"]["data"][0]["y"] == ["Aún sin motivo"]
    assert screen["figures"]["hourly"]["layout"]["xaxis"]["title"]["text"].startswith("Hora en ")
    # A refusal, whole in the viewer's language.
    response = operator.post(f"/lines/{asset.line_id}/scrap", {"asset": asset.pk}, follow=True)
    assert "Indique con un número entero cuántas piezas son rechazo." in response.content.decode()


def test_a_reason_for_running_time_is_refused_with_a_message(line_with_a_stop):
    asset, _ = line_with_a_stop
    running = StateEvent.objects.filter(asset=asset, state="running").first()
    operator = logged_in(make_user(role="operator", lines=[asset.line]))
    response = operator.post(
        f"/lines/{asset.line_id}/stops/{running.pk}/reason", {"reason": "jam"}, follow=True
    )
    assert "Only a stop gets a reason" in response.content.decode()
    assert not StopReasonEntry.objects.exists()


def test_scrap_is_recorded_and_refused_above_the_good_count(line_with_a_stop):
    asset, _ = line_with_a_stop
    operator = logged_in(make_user(role="operator", lines=[asset.line]))
    url = f"/lines/{asset.line_id}/scrap"
    refused = operator.post(url, {"asset": asset.pk, "quantity": 301}, follow=True)
    assert "at most 300 can be scrapped" in refused.content.decode()
    not_a_number = operator.post(url, {"asset": asset.pk, "quantity": "many"}, follow=True)
    assert "whole number" in not_a_number.content.decode()
    operator.post(url, {"asset": asset.pk, "quantity": 20, "reason": "burr"})
    assert ScrapEntry.objects.get().quantity == 20
    screen = screens.line_screen(asset.line)
    assert screen["oee"]["quality"] == pytest.approx(280 / 310, abs=1e-4)


def test_users_without_the_operator_role_see_but_cannot_change(line_with_a_stop):
    asset, stop = line_with_a_stop
    viewer = logged_in(make_user(role="technician"))
    page = viewer.get(f"/lines/{asset.line_id}/oee/")
    assert page.status_code == 200
    assert "reason-grid" not in page.content.decode()
    assert (
        viewer.post(f"/lines/{asset.line_id}/stops/{stop.pk}/reason", {"reason": "jam"}).status_code
        == 403
    )
    assert (
        viewer.post(f"/lines/{asset.line_id}/scrap", {"asset": asset.pk, "quantity": 1}).status_code
        == 403
    )
    assert Client().get(f"/lines/{asset.line_id}/oee/").status_code == 302  # to the login


def test_the_board_shows_every_line(line_with_a_stop):
    asset, _ = line_with_a_stop
    quiet = make_asset(signals=()).line
    page = logged_in(make_user(role="operator")).get("/oee/")
    board = {line["id"]: line for line in page.context["board"]}
    assert board[asset.line_id]["shift"] == "Day"
    assert board[asset.line_id]["oee"] is not None
    assert board[quiet.pk]["shift"] is None
    assert "No shift planned" in page.content.decode()


def test_pushes_for_a_line_are_coalesced_to_one_per_interval(settings, monkeypatch):
    from plantops.core.redis import key, redis_client
    from plantops.oee import services, tasks

    settings.OEE_PUSH_EVERY_S = 2
    scheduled = []
    for task in (tasks.push_line_screen, tasks.push_board):
        monkeypatch.setattr(
            task,
            "apply_async",
            lambda args, countdown, name=task.name: scheduled.append((name, args)),
        )
    line = make_asset(signals=()).line
    other = make_asset(signals=()).line
    claims = [f"oee-line-{line.pk}", f"oee-line-{other.pk}", "oee-board"]
    redis_client().delete(*(key("push-soon", claim) for claim in claims))
    for _ in range(50):
        services.oee_push_soon(line_ids=[line.pk, line.pk, other.pk])
    # One push per line and one of the board for all of them, however many events.
    assert sorted(scheduled, key=str) == sorted(
        [
            ("oee.push_line_screen", [line.pk]),
            ("oee.push_line_screen", [other.pk]),
            ("oee.push_board", []),
        ],
        key=str,
    )


def test_an_operator_of_another_line_sees_but_cannot_explain_or_scrap(line_with_a_stop):
    asset, stop = line_with_a_stop
    elsewhere = logged_in(make_user(role="operator", lines=[make_asset(signals=()).line]))
    page = elsewhere.get(f"/lines/{asset.line_id}/oee/")
    assert page.status_code == 200
    assert "reason-grid" not in page.content.decode()
    refused = elsewhere.post(
        f"/lines/{asset.line_id}/stops/{stop.pk}/reason", {"reason": "jam"}, follow=True
    )
    assert "You may act only on your own lines" in refused.content.decode()
    assert not StopReasonEntry.objects.exists()
    scrap = elsewhere.post(
        f"/lines/{asset.line_id}/scrap", {"asset": asset.pk, "quantity": 1}, follow=True
    )
    assert "You may act only on your own lines" in scrap.content.decode()
    assert not ScrapEntry.objects.exists()
