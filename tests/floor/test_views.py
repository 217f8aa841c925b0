"""The floor pages: login required, server-rendered values before any JavaScript runs."""

from __future__ import annotations

import uuid

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from plantops.telemetry.batches import Batch
from plantops.telemetry.payloads import now_us
from plantops.telemetry.services import batch_store
from tests.factories import make_asset

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator_client(client):
    client.force_login(User.objects.create_user("bob", password="a-long-password-1"))
    return client


def test_it_sends_anonymous_users_to_the_login_page(client):
    asset = make_asset()
    for url in (reverse("floor:overview"), reverse("floor:asset", args=[asset.pk])):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_it_logs_in_with_the_login_page(client):
    User.objects.create_user("carol", password="a-long-password-1")
    assert client.get(reverse("login")).status_code == 200
    response = client.post(reverse("login"), {"username": "carol", "password": "a-long-password-1"})
    assert response.status_code == 302
    client.logout()
    bad = client.post(reverse("login"), {"username": "carol", "password": "wrong"})
    assert bad.status_code == 200
    assert bad.context["form"].errors


def test_the_overview_shows_every_asset_with_its_latest_value_and_status(operator_client):
    asset = make_asset()
    signal = asset.signals.get(slug="vibration")
    batch_store(
        batch=Batch(
            batch_id=uuid.uuid4().hex,
            readings=[(signal.pk, now_us(), 9.5)],
            states=[(asset.pk, now_us(), "running", "")],
        )
    )
    page = operator_client.get(reverse("floor:overview"))
    html = page.content.decode()
    assert page.status_code == 200
    assert asset.name in html
    assert "9.5" in html
    tile = next(t for line in page.context["lines"] for t in line["tiles"] if t["id"] == asset.pk)
    assert tile["status"] == "out_of_range"  # 9.5 mm/s is above the 7.1 limit


def test_the_asset_page_carries_the_last_hour_for_its_charts(operator_client):
    asset = make_asset()
    signal = asset.signals.get(slug="vibration")
    t = now_us()
    batch_store(
        batch=Batch(
            batch_id=uuid.uuid4().hex,
            readings=[(signal.pk, t - 7200_000_000, 1.0), (signal.pk, t, 2.0)],
        )
    )
    page = operator_client.get(reverse("floor:asset", args=[asset.pk]))
    assert page.status_code == 200
    assert page.context["initial"]["points"] == {"vibration": [(t // 1000, 2.0)]}
    assert 'id="asset-initial"' in page.content.decode()


def test_an_unknown_asset_is_a_404(operator_client):
    assert operator_client.get(reverse("floor:asset", args=[987654])).status_code == 404


def test_static_plotly_is_served_locally(operator_client):
    response = operator_client.get("/static/vendor/plotly/plotly.min.js")
    assert response.status_code == 200
