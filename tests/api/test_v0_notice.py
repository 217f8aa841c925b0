"""The v0 endpoints keep their shape and name their API v1 successor in the headers."""

from __future__ import annotations

import pytest

from tests.api.tokens import bearer
from tests.factories import make_asset, make_user

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("path", "successor", "key"),
    [
        ("/api/alerts?since_id=0", "/api/v1/alert-events", "events"),
        ("/api/workorders", "/api/v1/work-orders", "work_orders"),
        (
            "/api/oee?line={line}&start=2026-01-01T00:00:00Z&end=2026-01-02T00:00:00Z",
            "/api/v1/oee",
            "oee",
        ),
    ],
)
def test_a_v0_answer_keeps_its_shape_and_names_its_successor(client, path, successor, key):
    asset = make_asset()
    headers = bearer(make_user(role="supervisor"))
    response = client.get(path.format(line=asset.line.slug), **headers)

    assert response.status_code == 200, response.content
    assert key in response.json()
    assert response["Deprecation"] == "true"
    assert response["Link"] == f'<{successor}>; rel="successor-version"'


def test_a_v0_refusal_names_its_successor_too(client):
    response = client.get("/api/alerts")
    assert response.status_code == 401
    assert response["Link"] == '</api/v1/alert-events>; rel="successor-version"'
