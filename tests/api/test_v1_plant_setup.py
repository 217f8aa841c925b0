"""Setting up the plant model through API v1: an admin's script creates and changes sites,
areas, lines, assets, signals and shifts; the model's validation and the admin permission
apply, with errors named by the fields as they were sent."""

from __future__ import annotations

import pytest
from django.test import Client

from plantops.assets.models import Signal, Site
from plantops.core.models import TokenScope
from tests.api.tokens import bearer
from tests.factories import make_asset, make_user

pytestmark = pytest.mark.django_db

V1 = "/api/v1"


def client_of(role: str, scope: str = TokenScope.WRITE) -> Client:
    return Client(**bearer(make_user(role=role), scope))


def send(client: Client, method: str, path: str, body: dict):
    return getattr(client, method)(f"{V1}{path}", body, content_type="application/json")


def test_an_admins_script_sets_up_a_site_down_to_a_signal_and_a_shift():
    admin = client_of("admin")
    site = send(
        admin, "post", "/sites", {"slug": "lyon", "name": "Lyon", "timezone": "Europe/Paris"}
    )
    assert site.status_code == 201, site.content
    area = send(
        admin,
        "post",
        "/areas",
        {"site_id": site.json()["id"], "slug": "press", "name": "Press shop"},
    )
    line = send(
        admin,
        "post",
        "/lines",
        {"area_id": area.json()["id"], "slug": "p1", "name": "Press line 1"},
    )
    asset = send(
        admin,
        "post",
        "/assets",
        {"line_id": line.json()["id"], "slug": "press-7", "name": "Press 7", "asset_type": "press"},
    )
    signal = send(
        admin,
        "post",
        "/signals",
        {
            "asset_id": asset.json()["id"],
            "slug": "vibration",
            "name": "Vibration",
            "unit": "mm/s",
            "expected_max": 7.1,
        },
    )
    shift = send(
        admin,
        "post",
        "/shifts",
        {"line_id": line.json()["id"], "name": "Night", "start": "22:00", "end": "06:00"},
    )
    assert [r.status_code for r in (area, line, asset, signal, shift)] == [201] * 5
    assert line.json()["oee_target"] == 0.85
    assert shift.json()["weekdays"] == "01234"
    stored = Signal.objects.select_related("asset__line__area__site").get(pk=signal.json()["id"])
    assert (stored.unit, stored.asset.line.area.site.timezone) == ("mm/s", "Europe/Paris")
    listed = admin.get(f"{V1}/assets?line_id={line.json()['id']}").json()["results"]
    assert [a["slug"] for a in listed] == ["press-7"]


def test_a_change_touches_only_the_fields_it_sends():
    asset = make_asset()
    signal = asset.signals.get(slug="vibration")
    admin = client_of("admin")

    changed = send(admin, "patch", f"/signals/{signal.pk}", {"expected_max": 11.0})
    assert changed.status_code == 200, changed.content
    signal.refresh_from_db()
    assert (signal.expected_max, signal.unit, signal.name) == (11.0, "mm/s", "Vibration")
    renamed = send(admin, "patch", f"/lines/{asset.line_id}", {"name": "Press line 2"})
    assert renamed.json()["name"] == "Press line 2"
    assert renamed.json()["slug"] == asset.line.slug


def test_what_the_model_refuses_is_a_400_naming_the_field_as_sent():
    asset = make_asset()
    admin = client_of("admin")

    zone = send(admin, "post", "/sites", {"slug": "x", "name": "X", "timezone": "Mars/Olympus"})
    assert zone.status_code == 400
    assert list(zone.json()["detail"]) == ["timezone"]
    parent = send(admin, "post", "/areas", {"site_id": 999_999, "slug": "a", "name": "A"})
    assert (parent.status_code, list(parent.json()["detail"])) == (400, ["site_id"])
    twice = send(
        admin,
        "post",
        "/signals",
        {"asset_id": asset.pk, "slug": "vibration", "name": "Again", "unit": "mm/s"},
    )
    assert twice.status_code == 400
    assert "already exists" in str(twice.json()["detail"])
    disordered = send(
        admin,
        "patch",
        f"/signals/{asset.signals.get(slug='vibration').pk}",
        {"expected_min": 5.0, "expected_max": 1.0},
    )
    assert disordered.status_code == 400
    assert "expected_max" in disordered.json()["detail"]
    unnamed = send(admin, "post", "/sites", {"slug": "y"})
    assert unnamed.status_code == 400
    assert unnamed.json()["detail"][0]["loc"][-1] == "name"
    assert not Site.objects.filter(slug__in=["x", "y"]).exists()


def test_only_an_admin_sets_up_the_plant_and_only_with_a_write_token():
    asset = make_asset()
    for role in ("operator", "technician", "supervisor", "manager"):
        response = send(client_of(role), "patch", f"/assets/{asset.pk}", {"name": "Renamed"})
        # An operator is not shown the line at all; the others are refused in words.
        assert response.status_code in (403, 404), role
        if response.status_code == 403:
            assert response.json() == {"detail": "Only an admin sets up the plant model."}, role
    refused = send(client_of("supervisor"), "post", "/sites", {"slug": "s", "name": "S"})
    assert refused.json() == {"detail": "Only an admin sets up the plant model."}
    read_only = send(
        client_of("admin", TokenScope.READ), "post", "/sites", {"slug": "s", "name": "S"}
    )
    assert read_only.status_code == 403
    missing = send(client_of("admin"), "patch", "/assets/999999", {"name": "Ghost"})
    assert missing.status_code == 404
    asset.refresh_from_db()
    assert asset.name != "Renamed"


def test_a_nul_character_is_bad_input_not_a_server_error():
    asset = make_asset()
    admin = client_of("admin")
    response = send(admin, "patch", f"/assets/{asset.pk}", {"name": "Press\x007"})
    assert response.status_code == 400
    assert response.json()["detail"][0]["loc"][-1] == "name"
    zone = send(admin, "post", "/sites", {"slug": "z", "name": "Z", "timezone": "Europe/\x00"})
    assert zone.status_code == 400
