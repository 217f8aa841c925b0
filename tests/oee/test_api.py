"""GET /api/oee: a line's or an asset's OEE over a period, for a login or an API token."""

from __future__ import annotations

import pytest
from django.test import Client

from plantops.core.models import ApiToken
from tests.factories import logged_in, make_user
from tests.oee.test_selectors import press, run_the_shift

pytestmark = pytest.mark.django_db

SHIFT = {"start": "2026-11-23T06:00:00Z", "end": "2026-11-23T14:00:00Z"}
KEYS = {
    "availability",
    "performance",
    "quality",
    "oee",
    "planned_s",
    "run_s",
    "total_count",
    "good_count",
    "losses",
}


@pytest.fixture
def alice() -> Client:
    return logged_in(make_user(role="operator", username="alice"))


@pytest.fixture
def asset():
    asset = press()
    run_the_shift(asset)
    return asset


def test_it_returns_the_hand_computed_oee_of_a_line_and_its_assets(alice, asset):
    response = alice.get("/api/oee", {"line": asset.line.slug, **SHIFT})
    assert response.status_code == 200
    body = response.json()
    assert set(body) >= KEYS
    assert body["oee"] == pytest.approx(567 / 729)
    assert (body["planned_s"], body["run_s"], body["total_count"], body["good_count"]) == (
        27_000,
        24_300,
        729,
        700,
    )
    assert body["losses"] == {
        "breakdowns_s": 2_700,
        "setup_changeover_s": 0,
        "small_stops_s": 0,
        "reduced_speed_s": 2_430,
        "startup_rejects": 4,
        "production_rejects": 25,
        "no_data_s": 0,
    }
    assert (body["breakdowns"], body["mtbf_s"], body["mttr_s"]) == (1, 24_300, 2_700)
    assert [a["asset"] for a in body["assets"]] == [asset.slug]


def test_it_returns_one_asset_by_its_slug(alice, asset):
    body = alice.get("/api/oee", {"line": asset.line.slug, "asset": asset.slug, **SHIFT}).json()
    assert body["asset"] == asset.slug
    assert body["availability"] == pytest.approx(0.9)
    assert body["performance"] == pytest.approx(0.9)


def test_it_accepts_an_api_token(asset):
    _, secret = ApiToken.issue(name="mes", user=make_user(role="technician", username="mes"))
    line = asset.line
    path = f"{line.area.site.slug}/{line.area.slug}/{line.slug}"  # the unambiguous form
    response = Client().get(
        "/api/oee", {"line": path, **SHIFT}, headers={"Authorization": f"Bearer {secret}"}
    )
    assert response.status_code == 200
    assert Client().get("/api/oee", {"line": asset.line.slug, **SHIFT}).status_code == 401


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"start": SHIFT["start"], "end": SHIFT["end"]}, "line is required"),
        ({"line": "nowhere", **SHIFT}, "no line 'nowhere'"),
        ({"line": "{line}", "start": "yesterday", "end": SHIFT["end"]}, "not an RFC 3339"),
        ({"line": "{line}", "start": "2026-11-23T06:00:00", "end": SHIFT["end"]}, "offset"),
        ({"line": "{line}", "start": SHIFT["end"], "end": SHIFT["start"]}, "end must be after"),
        ({"line": "{line}", "asset": "ghost", **SHIFT}, "has no asset 'ghost'"),
    ],
)
def test_bad_parameters_get_a_400_that_says_why(alice, asset, params, message):
    params = {k: v.format(line=asset.line.slug) for k, v in params.items()}
    response = alice.get("/api/oee", params)
    assert response.status_code == 400
    assert message in response.json()["error"]


def test_a_line_without_shifts_answers_no_plan(alice):
    from tests.factories import make_asset

    line = make_asset(signals=()).line
    body = alice.get("/api/oee", {"line": f"{line.area.site.slug}/area/line", **SHIFT}).json()
    assert body["status"] == "no_plan"
    assert body["oee"] is None
