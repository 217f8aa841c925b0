"""The plant model is set up in the Django admin: every page renders and validates."""

from __future__ import annotations

import pytest
from django.urls import reverse

from plantops.telemetry.models import DeadLetter
from tests.factories import make_asset, make_user

pytestmark = pytest.mark.django_db

MODELS = [
    ("assets", "site"),
    ("assets", "area"),
    ("assets", "line"),
    ("assets", "asset"),
    ("assets", "signal"),
    ("telemetry", "deadletter"),
    ("oee", "stateevent"),
    ("oee", "countevent"),
]


@pytest.fixture
def admin_client(client):
    client.force_login(make_user(role="admin", username="root"))
    return client


@pytest.mark.parametrize(("app", "model"), MODELS)
def test_it_renders_the_list_and_search_of_each_model(admin_client, app, model):
    make_asset()
    url = reverse(f"admin:{app}_{model}_changelist")
    assert admin_client.get(url).status_code == 200
    assert admin_client.get(url, {"q": "asset"}).status_code == 200


@pytest.mark.parametrize("model", ["site", "area", "line", "asset", "signal"])
def test_it_renders_the_add_and_change_forms(admin_client, model):
    asset = make_asset()
    objects = {
        "site": asset.line.area.site,
        "area": asset.line.area,
        "line": asset.line,
        "asset": asset,
        "signal": asset.signals.first(),
    }
    assert admin_client.get(reverse(f"admin:assets_{model}_add")).status_code == 200
    assert (
        admin_client.get(
            reverse(f"admin:assets_{model}_change", args=[objects[model].pk])
        ).status_code
        == 200
    )


def signal_form(asset, **overrides) -> dict:
    data = {
        "asset": asset.pk,
        "slug": "pressure",
        "name": "Pressure",
        "unit": "bar",
        "expected_min": "0",
        "expected_max": "10",
        "sampling_interval_s": "1",
    }
    data.update(overrides)
    return data


def test_it_adds_a_valid_signal(admin_client):
    asset = make_asset()
    response = admin_client.post(reverse("admin:assets_signal_add"), signal_form(asset))
    assert response.status_code == 302
    assert asset.signals.filter(slug="pressure").exists()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"slug": "vibration"}, "Signal with this Asset and Slug already exists."),
        ({"unit": ""}, "This field is required."),
        ({"unit": "   "}, "This field is required."),
        ({"expected_min": "10", "expected_max": "5"}, "Expected max must be above expected min."),
        ({"sampling_interval_s": "0"}, "Ensure this value is greater than or equal to 0.001."),
    ],
)
def test_it_refuses_an_invalid_signal_with_a_message(admin_client, overrides, message):
    asset = make_asset()
    response = admin_client.post(
        reverse("admin:assets_signal_add"), signal_form(asset, **overrides)
    )
    assert response.status_code == 200
    assert message in response.content.decode()


def test_it_refuses_a_duplicate_asset_slug_on_the_same_line_but_not_on_another(admin_client):
    first = make_asset(slug="press-1")
    other = make_asset(slug="press-1")  # another line: allowed
    data = {
        "line": first.line_id,
        "position": 0,
        "slug": "press-1",
        "name": "Press",
        "asset_type": "press",
        "signals-TOTAL_FORMS": 0,
        "signals-INITIAL_FORMS": 0,
    }
    response = admin_client.post(reverse("admin:assets_asset_add"), data)
    assert "Asset with this Line and Slug already exists." in response.content.decode()
    assert other.slug == first.slug


def test_it_refuses_an_unknown_site_time_zone(admin_client):
    response = admin_client.post(
        reverse("admin:assets_site_add"),
        {
            "slug": "x",
            "name": "X",
            "timezone": "Mars/Olympus",
            "areas-TOTAL_FORMS": 0,
            "areas-INITIAL_FORMS": 0,
        },
    )
    assert "Unknown time zone" in response.content.decode()


def test_it_shows_dead_letters_read_only(admin_client):
    letter = DeadLetter.objects.create(
        batch_id="0" * 32,
        position=0,
        received_at="2026-11-22T10:00:00Z",
        topic="plantops/x",
        payload="{",
        reason="invalid_json",
        detail="payload is not valid UTF-8 JSON",
    )
    page = admin_client.get(reverse("admin:telemetry_deadletter_change", args=[letter.pk]))
    assert page.status_code == 200
    assert "payload is not valid UTF-8 JSON" in page.content.decode()
    assert admin_client.get(reverse("admin:telemetry_deadletter_add")).status_code == 403
