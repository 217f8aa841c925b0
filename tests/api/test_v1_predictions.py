"""GET /api/v1/predictions and /api/v1/assets/{id}/predictions: each asset's current remaining
life prediction, as its page shows it, and the history of its predictions."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone

from plantops.health import failures, predictions
from plantops.health.models import FailureMode, HealthModel
from tests.api.tokens import bearer
from tests.factories import logged_in, make_asset, make_prediction, make_user
from tests.health.test_predictions import COLUMNS, degrading_run, fitted_model, run_steps

pytestmark = pytest.mark.django_db

CURRENT = "/api/v1/predictions"


def history_of(asset) -> str:
    return f"/api/v1/assets/{asset.pk}/predictions"


def mode(code: str) -> FailureMode:
    return FailureMode.objects.get_or_create(code=code, defaults={"label": code.title()})[0]


def health_model(code: str = "bearing") -> HealthModel:
    return HealthModel.objects.get_or_create(
        asset_type="motor",
        failure_mode=mode(code),
        version=1,
        defaults={
            "algorithm": "test",
            "step_s": 3600,
            "cap_steps": 720,
            "estimator": b"",
            "fitted_at": timezone.now() - timedelta(days=90),
        },
    )[0]


def ago(**delta: float) -> datetime:
    return timezone.now() - timedelta(**delta)


@pytest.fixture
def alice() -> Client:
    """A technician: shown every line."""
    return logged_in(make_user(role="technician", username="alice"))


def walk(client: Client, url: str) -> list[int]:
    """The ids of every page of a list, following `next`, two to a page."""
    seen: list[int] = []
    url = url + ("&" if "?" in url else "?") + "page_size=2"
    while url:
        page = client.get(url).json()
        assert len(page["results"]) <= 2
        seen += [row["id"] for row in page["results"]]
        url = page["next"]
    return seen


def test_a_real_prediction_says_its_interval_confidence_health_drivers_and_model(alice):
    fitted_model()
    asset = make_asset()
    run_steps(asset, degrading_run(130, seed=99, observed=100))
    (made,) = predictions.prediction_make(asset_id=asset.pk, now=timezone.now())

    response = alice.get(CURRENT, {"asset_id": asset.pk})

    assert response.status_code == 200
    (body,) = response.json()["results"]
    assert (body["id"], body["asset_id"], body["line_id"]) == (made.pk, asset.pk, asset.line_id)
    assert (body["failure_mode"], body["failure_mode_label"]) == ("bearing", "Bearing degradation")
    assert body["remaining_life"] == {
        "low": pytest.approx(made.rul_low_days),
        "estimate": pytest.approx(made.rul_days),
        "high": pytest.approx(made.rul_high_days),
        "unit": "days",
    }
    assert body["remaining_life"]["low"] <= 30 / 24 <= body["remaining_life"]["high"]
    assert body["confidence"] == pytest.approx(0.9)
    assert body["health_index"] == pytest.approx(made.health_index)
    assert 0 <= body["health_index"] < 0.7  # 100 steps into a 130-step life
    assert body["drivers"]
    assert {d["column"] for d in body["drivers"]} <= set(COLUMNS)
    weights = [d["weight"] for d in body["drivers"]]
    assert weights == sorted(weights, reverse=True)
    assert (body["model"]["name"], body["model"]["version"]) == ("motor/bearing/v1", 1)
    assert body["made_at"].endswith("Z") or body["made_at"].endswith("+00:00")
    assert body["outcome"] is None


def test_only_each_modes_latest_prediction_of_the_last_60_days_is_current(alice):
    bearing, imbalance = health_model("bearing"), health_model("imbalance")
    motor, other, forgotten = make_asset(), make_asset(), make_asset()
    make_prediction(asset=motor, model=bearing, made_at=ago(days=2))
    newest = make_prediction(asset=motor, model=bearing, made_at=ago(hours=1))
    rotor = make_prediction(asset=motor, model=imbalance, made_at=ago(days=10))
    on_other_line = make_prediction(asset=other, model=bearing, made_at=ago(days=1))
    make_prediction(asset=forgotten, model=bearing, made_at=ago(days=61))

    everything = {row["id"] for row in alice.get(CURRENT).json()["results"]}
    assert everything == {newest.pk, rotor.pk, on_other_line.pk}
    of_line = alice.get(CURRENT, {"line_id": motor.line_id}).json()["results"]
    assert {row["id"] for row in of_line} == {newest.pk, rotor.pk}
    of_asset = alice.get(CURRENT, {"asset_id": other.pk}).json()["results"]
    assert [row["id"] for row in of_asset] == [on_other_line.pk]


def test_current_predictions_page_with_a_cursor_by_asset(alice):
    model = health_model()
    made = [
        make_prediction(asset=make_asset(), model=model, made_at=ago(hours=n)) for n in range(5)
    ]
    assert walk(alice, CURRENT) == [p.pk for p in made]  # assets in the order they were made


def test_the_history_is_newest_first_paged_and_cut_by_from_and_to(alice):
    model, asset = health_model(), make_asset()
    made = [make_prediction(asset=asset, model=model, made_at=ago(days=n)) for n in range(5)]
    # Two made at one moment (two models' runs) are both kept, one after the other.
    twin = make_prediction(asset=asset, model=model, made_at=made[2].made_at)
    make_prediction(asset=make_asset(), model=model, made_at=ago(days=1))  # another asset's

    newest_first = [made[0].pk, made[1].pk, twin.pk, made[2].pk, made[3].pk, made[4].pk]
    assert walk(alice, history_of(asset)) == newest_first
    window = {
        "from": made[3].made_at.isoformat(),
        "to": made[1].made_at.isoformat(),
    }
    rows = alice.get(history_of(asset), window).json()["results"]
    assert [row["id"] for row in rows] == [twin.pk, made[2].pk, made[3].pk]


def test_a_scored_prediction_tells_how_it_fared(alice):
    asset, model = make_asset(), health_model()
    made = make_prediction(asset=asset, model=model, made_at=ago(days=3), days=(3, 5, 8))
    failures.failure_record(asset=asset, failure_mode=model.failure_mode, failed_at=ago(days=1))

    (row,) = alice.get(history_of(asset)).json()["results"]
    assert row["id"] == made.pk
    assert row["outcome"]["inside_interval"] is False  # it failed after 2 days, not 3 to 8
    assert row["outcome"]["actual_days"] == pytest.approx(2, abs=0.01)
    assert row["outcome"]["error_days"] == pytest.approx(3, abs=0.01)


def test_every_role_sees_every_lines_predictions_and_an_operator_their_own():
    asset = make_asset()
    made = make_prediction(asset=asset, model=health_model(), made_at=ago(hours=2))
    # Through the API an operator is shown their own lines' predictions, and no other's.
    bob = make_user(role="operator", lines=[make_asset().line])
    assert logged_in(bob).get(CURRENT).json()["results"] == []
    assert logged_in(bob).get(history_of(asset)).status_code == 404
    asset.line.operators.add(bob)
    assert [r["id"] for r in logged_in(bob).get(CURRENT).json()["results"]] == [made.pk]
    for role in ("technician", "supervisor", "manager"):
        headers = bearer(make_user(role=role))
        assert Client().get(CURRENT, **headers).status_code == 200, role
        assert Client().get(history_of(asset), **headers).json()["results"][0]["id"] == made.pk


def test_a_user_whose_role_may_not_see_predictions_is_refused_in_words():
    asset = make_asset()
    make_prediction(asset=asset, model=health_model(), made_at=ago(hours=2))
    nobody = logged_in(make_user())
    for url in (CURRENT, history_of(asset), "/api/v1/assets/999999/predictions"):
        response = nobody.get(url)
        assert response.status_code == 403, url
        assert response.json() == {"detail": "Your role may not see predictions."}
    # Seeing the plant model is not seeing predictions.
    viewer = make_user(username="viewer")
    viewer.user_permissions.add(Permission.objects.get(codename="view_asset"))
    assert logged_in(viewer).get(f"/api/v1/assets/{asset.pk}").status_code == 200
    assert logged_in(viewer).get(history_of(asset)).status_code == 403
    assert Client().get(CURRENT).status_code == 401


def test_the_history_of_an_asset_that_is_not_there_is_404(alice):
    response = alice.get("/api/v1/assets/999999/predictions")
    assert response.status_code == 404
    assert response.json() == {"detail": "not found"}


@pytest.mark.parametrize(
    ("url", "params", "field"),
    [
        ("current", {"line_id": "press"}, "line_id"),
        ("history", {"from": "last week"}, "from"),
        ("history", {"to": "2026-11-23T00:00:00"}, "to"),
        ("history", {"cursor": "not a cursor"}, "cursor"),
    ],
)
def test_bad_parameters_are_400_naming_the_parameter(alice, url, params, field):
    asset = make_asset()
    response = alice.get(CURRENT if url == "current" else history_of(asset), params)
    assert response.status_code == 400
    detail = response.json()["detail"]
    if isinstance(detail, dict):  # refused by the selector: messages by parameter
        named = set(detail)
    else:  # refused by the schema or the pager: errors with their location or key
        named = {str(e["loc"][-1]) if "loc" in e else next(iter(e)) for e in detail}
    assert field in named, detail


def test_nothing_is_current_for_an_asset_never_predicted(alice):
    asset = make_asset()
    assert alice.get(CURRENT, {"asset_id": asset.pk}).json()["results"] == []
    assert alice.get(history_of(asset)).json()["results"] == []
