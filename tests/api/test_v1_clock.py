"""API v1's times: RFC 3339 with the offset of the caller's zone (their own, else their plant's
site's), for a session and a token alike; the readings' points stay in UTC with a Z."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest
from django.test import Client

from plantops.core import services
from plantops.core.time import datetime_to_us
from plantops.pipeline.services import batch_store
from tests.api.tokens import bearer
from tests.factories import logged_in, make_asset, make_batch, make_user, make_work_order

pytestmark = pytest.mark.django_db

V1 = "/api/v1"
# The night Chicago leaves summer time: 01:30 CDT (06:30 UTC), then 01:30 CST (07:30 UTC).
CDT = datetime(2026, 11, 1, 6, 30, tzinfo=UTC)
CST = datetime(2026, 11, 1, 7, 30, tzinfo=UTC)


@pytest.fixture
def chicago_motor():
    asset = make_asset(signals=("vibration",))
    site = asset.line.area.site
    site.timezone = "America/Chicago"
    site.save()
    return asset


def test_a_work_orders_times_carry_the_plants_offset_on_either_side_of_the_change(
    chicago_motor,
):
    sam = make_user(role="supervisor")
    summer = make_work_order(by=sam, asset=chicago_motor, title="Before")
    winter = make_work_order(by=sam, asset=chicago_motor, title="After")
    type(summer).objects.filter(pk=summer.pk).update(created_at=CDT)
    type(winter).objects.filter(pk=winter.pk).update(created_at=CST)
    rows = Client().get(f"{V1}/work-orders", **bearer(sam)).json()["results"]
    created = {row["title"]: row["created_at"] for row in rows}
    assert created == {"Before": "2026-11-01T01:30:00-05:00", "After": "2026-11-01T01:30:00-06:00"}
    # Both are the instants stored.
    assert {datetime.fromisoformat(t) for t in created.values()} == {CDT, CST}


def test_a_users_own_zone_wins_for_a_session_and_a_token(chicago_motor):
    ivy = make_user(role="supervisor")
    services.preferences_set(user=ivy, time_zone="Asia/Kolkata")
    order = make_work_order(by=ivy, asset=chicago_motor)
    type(order).objects.filter(pk=order.pk).update(created_at=CST)
    for client, headers in ((logged_in(ivy), {}), (Client(), bearer(ivy))):
        (row,) = client.get(f"{V1}/work-orders", **headers).json()["results"]
        assert row["created_at"] == "2026-11-01T13:00:00+05:30"


def test_readings_say_their_range_in_the_callers_zone_and_their_points_in_utc(chicago_motor):
    signal = chicago_motor.signals.get(slug="vibration")
    batch_store(batch=make_batch(readings=[(signal.pk, datetime_to_us(CDT), 1.5)]))
    response = Client().get(
        f"{V1}/readings",
        {
            "signal_id": signal.pk,
            "from": "2026-11-01T06:00:00Z",
            "to": "2026-11-01T08:00:00Z",
            "aggregation": "raw",
        },
        **bearer(make_user(role="manager")),
    )
    body = orjson.loads(b"".join(response.streaming_content))
    assert (body["from"], body["to"]) == ("2026-11-01T01:00:00-05:00", "2026-11-01T02:00:00-06:00")
    assert body["signals"][0]["points"]["ts"] == ["2026-11-01T06:30:00Z"]
    assert body["signals"][0]["site_timezone"] == "America/Chicago"


def test_the_schema_says_which_times_are_in_which_zone():
    schema = Client().get(f"{V1}/openapi.json").json()
    readings = schema["paths"]["/api/v1/readings"]["get"]["description"]
    assert "stay in UTC" in readings
    assert "in the caller's zone" in schema["info"]["description"]
    assert "UTC, ISO 8601" not in str(schema)
