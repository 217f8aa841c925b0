"""The floor pages: login required, server-rendered values before any JavaScript runs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.templatetags.static import static
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from plantops.core.time import now_us
from plantops.pipeline.services import batch_store
from plantops.telemetry.models import MinuteRollup
from tests.factories import PASSWORD, make_asset, make_batch, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator_client(client):
    client.force_login(make_user(role="operator", username="bob"))
    return client


def test_it_sends_anonymous_users_to_the_login_page(client):
    asset = make_asset()
    for url in (reverse("floor:overview"), reverse("floor:asset", args=[asset.pk])):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_it_logs_in_with_the_login_page(client):
    make_user(role="operator", username="carol")
    assert client.get(reverse("login")).status_code == 200
    response = client.post(reverse("login"), {"username": "carol", "password": PASSWORD})
    assert response.status_code == 302
    client.logout()
    bad = client.post(reverse("login"), {"username": "carol", "password": "wrong"})
    assert bad.status_code == 200
    assert bad.context["form"].errors


def test_the_overview_shows_every_asset_with_its_latest_value_and_status(operator_client):
    asset = make_asset()
    signal = asset.signals.get(slug="vibration")
    batch_store(
        batch=make_batch(
            readings=[(signal.pk, now_us(), 9.5)], states=[(asset.pk, now_us(), "running", "")]
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
        batch=make_batch(readings=[(signal.pk, t - 7200_000_000, 1.0), (signal.pk, t, 2.0)])
    )
    page = operator_client.get(reverse("floor:asset", args=[asset.pk]))
    assert page.status_code == 200
    assert page.context["initial"]["points"] == {"vibration": [(t // 1000, 2.0)]}
    assert 'id="asset-initial"' in page.content.decode()


def test_the_asset_page_offers_live_and_four_trend_ranges_with_live_chosen(operator_client):
    asset = make_asset()
    page = operator_client.get(reverse("floor:asset", args=[asset.pk]))
    html = page.content.decode()
    ranges = [(c["key"], c["label"]) for c in page.context["chart_ranges"]]
    assert ranges == [
        ("live", "Live"),
        ("8h", "8 h"),
        ("24h", "24 h"),
        ("7d", "7 days"),
        ("30d", "30 days"),
    ]
    for key, _ in ranges:
        assert f'data-range="{key}"' in html
    assert html.count('aria-pressed="true"') == 1
    assert f'data-trend-url="{reverse("floor:asset_trend", args=[asset.pk])}"' in html


def trend_url(asset, query: str = "range=24h") -> str:
    return f"{reverse('floor:asset_trend', args=[asset.pk])}?{query}"


def test_the_trend_needs_a_login(client):
    response = client.get(trend_url(make_asset()))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_trend_serves_the_rollups_of_the_chosen_range_as_json(operator_client):
    asset = make_asset()
    signal = asset.signals.get(slug="vibration")
    minute = timezone.now().replace(second=0, microsecond=0) - timedelta(hours=3)
    MinuteRollup.objects.create(
        signal=signal, minute=minute, value_min=1.0, value_max=5.0, value_sum=9.0, value_count=3
    )
    response = operator_client.get(trend_url(asset))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    trend = response.json()
    assert trend["range"] == "24h"
    assert trend["signals"] == {
        "temperature": [],
        "vibration": [[int(minute.timestamp()) * 1000, 1.0, 3.0, 5.0]],
    }


@pytest.mark.parametrize("query", ["range=2h", "range=live", "range=", "", "days=7"])
def test_an_unknown_or_missing_range_is_a_400_that_names_the_ranges(operator_client, query):
    response = operator_client.get(trend_url(make_asset(), query))
    assert response.status_code == 400
    assert "use one of 8h, 24h, 7d, 30d" in response.json()["error"]


def test_the_trend_of_an_unknown_asset_is_a_404(operator_client):
    response = operator_client.get(f"{reverse('floor:asset_trend', args=[987654])}?range=24h")
    assert response.status_code == 404


def test_the_trend_is_read_only(operator_client):
    response = operator_client.post(trend_url(make_asset()))
    assert response.status_code == 405


def test_the_trend_costs_the_same_queries_for_one_signal_or_many(operator_client):
    one = make_asset(signals=("vibration",))
    many = make_asset(signals=("vibration", "temperature", "current", "speed"))
    operator_client.get(trend_url(one))  # the session is loaded once per request either way
    counts = []
    for asset in (one, many):
        with CaptureQueriesContext(connection) as queries:
            assert operator_client.get(trend_url(asset, "range=7d")).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_an_unknown_asset_is_a_404(operator_client):
    assert operator_client.get(reverse("floor:asset", args=[987654])).status_code == 404


def test_static_plotly_is_served_locally(operator_client):
    page = operator_client.get(reverse("floor:asset", args=[make_asset().pk])).text
    bundle = static("vendor/plotly/plotly-basic.min.js")
    assert f'<script src="{bundle}" defer>' in page

    response = operator_client.get(bundle)

    assert response.status_code == 200
    assert b"plotly.js (basic - minified)" in b"".join(response.streaming_content)
