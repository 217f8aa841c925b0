"""API v1's plant model, its schema and docs, its authentication and its paging, against the
real database."""

from __future__ import annotations

import pytest
from django.templatetags.static import static
from django.test import Client

from tests.api.tokens import bearer
from tests.factories import logged_in, make_asset, make_user

pytestmark = pytest.mark.django_db

V1 = "/api/v1"


def test_the_schema_is_openapi_3_and_names_every_plant_operation():
    schema = Client().get(f"{V1}/openapi.json").json()
    assert schema["openapi"].startswith("3.")
    assert {"/api/v1/sites", "/api/v1/lines", "/api/v1/assets", "/api/v1/signals"} <= set(
        schema["paths"]
    )
    assert "/api/v1/shifts" in schema["paths"]


def test_the_docs_are_served_from_our_own_static_files():
    page = Client().get(f"{V1}/docs").text
    assert static("ninja/swagger-ui-bundle.js") in page
    assert "cdn" not in page.lower()


def test_without_a_login_or_token_it_says_401_in_words(client):
    response = client.get(f"{V1}/assets")
    assert response.status_code == 401
    assert "API token" in response.json()["detail"]


def test_an_unknown_token_is_401_and_a_user_without_a_role_403():
    response = Client().get(f"{V1}/assets", HTTP_AUTHORIZATION="Bearer pot_nope")
    assert response.status_code == 401
    assert response.json()["detail"] == "unknown or revoked API token"

    nobody = make_user(username="visitor")
    response = Client().get(f"{V1}/assets", **bearer(nobody))
    assert response.status_code == 403
    assert "may not see the plant model" in response.json()["detail"]


def test_a_read_token_sees_the_plant_model_as_its_user():
    asset = make_asset()
    signal = asset.signals.get(slug="vibration")
    headers = bearer(make_user(role="operator", lines=[asset.line]))

    assets = Client().get(f"{V1}/assets?line_id={asset.line_id}", **headers).json()
    assert [a["slug"] for a in assets["results"]] == [asset.slug]
    signals = Client().get(f"{V1}/signals?asset_id={asset.pk}", **headers).json()["results"]
    assert {s["slug"]: s["unit"] for s in signals} == {"vibration": "mm/s", "temperature": "mm/s"}
    assert signal.pk in {s["id"] for s in signals}
    line = Client().get(f"{V1}/lines/{asset.line_id}", **headers).json()
    assert line["oee_target"] == 0.85


def test_an_operator_is_shown_their_own_lines_and_a_technician_every_line():
    mine, theirs = make_asset(), make_asset()
    operator = bearer(make_user(role="operator", lines=[mine.line]))
    for path, key in (("assets", "slug"), ("lines", "slug")):
        shown = Client().get(f"{V1}/{path}", **operator).json()["results"]
        assert [row[key] for row in shown] == [
            getattr(mine, key) if path == "assets" else mine.line.slug
        ]
    assert Client().get(f"{V1}/assets/{theirs.pk}", **operator).status_code == 404
    signals = Client().get(f"{V1}/signals", **operator).json()["results"]
    assert {s["asset_id"] for s in signals} == {mine.pk}
    technician = bearer(make_user(role="technician"))
    shown = Client().get(f"{V1}/assets", **technician).json()["results"]
    assert {a["id"] for a in shown} == {mine.pk, theirs.pk}


def test_a_missing_thing_is_404_and_a_bad_parameter_400():
    client = logged_in(make_user(role="technician"))
    missing = client.get(f"{V1}/assets/999999")
    assert missing.status_code == 404
    assert missing.json() == {"detail": "not found"}
    bad = client.get(f"{V1}/assets?line_id=press")
    assert bad.status_code == 400
    assert bad.json()["detail"][0]["loc"][-1] == "line_id"


def test_lists_page_with_a_cursor_until_every_row_was_seen_once():
    made = [make_asset() for _ in range(5)]
    client = logged_in(make_user(role="supervisor"))
    seen: list[int] = []
    url = f"{V1}/sites?page_size=2"
    while url:
        page = client.get(url).json()
        seen += [site["id"] for site in page["results"]]
        assert len(page["results"]) <= 2
        url = page["next"]
    assert seen == sorted(a.line.area.site_id for a in made)
