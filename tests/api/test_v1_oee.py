"""GET /api/v1/oee: a line's or an asset's OEE over a range, in all, per hour and per shift,
with the losses, from the same events and hour snapshots as the OEE screens."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from django.test import Client

from plantops.assets.models import Asset, Shift
from plantops.core.time import datetime_to_us
from plantops.oee import selectors as oee_selectors
from plantops.oee.models import OeeHour, StopCategory, StopReason
from plantops.pipeline.services import batch_store
from tests.api.tokens import bearer
from tests.factories import logged_in, make_asset, make_batch, make_user
from tests.oee.test_selectors import AFTER, MONDAY, at, press, run_the_shift

pytestmark = pytest.mark.django_db

V1 = "/api/v1/oee"


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


DAY = {"from": iso(MONDAY), "to": iso(AFTER)}


@pytest.fixture
def asset() -> Asset:
    """The hand-computed shift of tests/oee/test_calculation.py: OEE = 567/729."""
    asset = press()
    run_the_shift(asset)
    return asset


@pytest.fixture
def alice(asset) -> Client:
    """The operator of the asset's line."""
    return logged_in(make_user(role="operator", username="alice", lines=[asset.line]))


def test_it_gives_a_lines_oee_over_a_day_in_minutes_with_its_losses(alice, asset):
    response = alice.get(V1, {"line_id": asset.line_id, **DAY})

    assert response.status_code == 200
    body = response.json()
    assert (body["line_id"], body["asset_id"], body["asset_ids"]) == (
        asset.line_id,
        None,
        [asset.pk],
    )
    assert (body["group"], body["timezone"], body["buckets"]) == ("none", "UTC", [])
    total = body["total"]
    assert (total["start"], total["end"]) == ("2026-11-23T00:00:00Z", "2026-11-24T00:00:00Z")
    assert total["oee"] == pytest.approx(567 / 729)
    assert (total["availability"], total["performance"]) == (pytest.approx(0.9),) * 2
    assert total["quality"] == pytest.approx(700 / 729)
    assert (total["planned_minutes"], total["run_minutes"], total["down_minutes"]) == (450, 405, 45)
    assert (total["total_count"], total["good_count"], total["status"]) == (729, 700, "ok")
    assert total["losses"] == {
        "by_reason": [{"code": "", "label": "Not explained yet", "minutes": 45}],
        "breakdowns": 1,
        "breakdown_minutes": 45,
        "setup_changeover_minutes": 0,
        "small_stop_minutes": 0,
        "reduced_speed_minutes": 40.5,
        "startup_rejects": 4,
        "production_rejects": 25,
        "no_data_minutes": 0,
    }
    # The figure of the OEE screens and of GET /api/oee, to the second.
    line_total, _ = oee_selectors.line_oee(asset.line, MONDAY, AFTER)
    assert total["planned_minutes"] * 60 == line_total.planned_s
    assert total["oee"] == pytest.approx(line_total.oee)


def test_it_gives_one_assets_oee_and_names_its_stop_reasons(alice, asset):
    jam = StopReason.objects.create(code="jam-v1", label="Jam", category=StopCategory.EQUIPMENT)
    from plantops.oee import services
    from plantops.oee.models import StateEvent

    stop = StateEvent.objects.get(asset=asset, ts=at(8))
    services.stop_reason_assign(event=stop, reason=jam, user=None)

    body = alice.get(V1, {"asset_id": asset.pk, **DAY}).json()

    assert (body["asset_id"], body["asset_ids"]) == (asset.pk, [asset.pk])
    assert body["total"]["losses"]["by_reason"] == [
        {"code": "jam-v1", "label": "Jam", "minutes": 45}
    ]


def test_per_hour_it_reads_the_closed_hours_from_their_snapshots(alice, asset):
    body = alice.get(
        V1, {"line_id": asset.line_id, "from": iso(at(6)), "to": iso(at(14)), "group": "hour"}
    ).json()

    hours = body["buckets"]
    assert [h["start"] for h in hours] == [f"2026-11-23T{h:02}:00:00Z" for h in range(6, 14)]
    assert hours[-1]["end"] == "2026-11-23T14:00:00Z"
    assert [h["planned_minutes"] for h in hours] == [60, 60, 60, 60, 30, 60, 60, 60]
    assert [h["run_minutes"] for h in hours] == [60, 60, 15, 60, 30, 60, 60, 60]
    eight = hours[2]
    assert (eight["availability"], eight["down_minutes"]) == (0.25, 45)
    assert (eight["losses"]["breakdowns"], eight["losses"]["startup_rejects"]) == (1, 4)
    assert [h["total_count"] for h in hours] == [0, 205, 104, 0, 0, 0, 420, 0]
    assert body["total"]["oee"] == pytest.approx(567 / 729)
    assert OeeHour.objects.filter(asset=asset).count() == 8


def test_per_hour_the_hours_at_the_edges_of_the_range_are_clipped(alice, asset):
    body = alice.get(
        V1, {"asset_id": asset.pk, "from": iso(at(6, 30)), "to": iso(at(9, 30)), "group": "hour"}
    ).json()

    hours = body["buckets"]
    assert [(h["start"][11:16], h["end"][11:16]) for h in hours] == [
        ("06:30", "07:00"),
        ("07:00", "08:00"),
        ("08:00", "09:00"),
        ("09:00", "09:30"),
    ]
    assert [h["planned_minutes"] for h in hours] == [30, 60, 60, 30]
    assert body["total"]["planned_minutes"] == 180


def test_per_shift_each_shift_has_its_name_and_local_date_and_they_add_up(alice, asset):
    body = alice.get(
        V1,
        {
            "line_id": asset.line_id,
            "from": iso(MONDAY),
            "to": iso(MONDAY + timedelta(days=2)),
            "group": "shift",
        },
    ).json()

    monday, tuesday = body["buckets"]
    assert (monday["shift"], monday["shift_date"], monday["start"], monday["end"]) == (
        "Early",
        "2026-11-23",
        "2026-11-23T06:00:00Z",
        "2026-11-23T14:00:00Z",
    )
    assert monday["oee"] == pytest.approx(567 / 729)
    # Tuesday the press stood idle all shift, as it was left at 14:00 on Monday.
    assert (tuesday["shift"], tuesday["shift_date"]) == ("Early", "2026-11-24")
    assert (tuesday["run_minutes"], tuesday["oee"]) == (0, 0)
    assert tuesday["losses"]["by_reason"] == [
        {"code": "end of shift", "label": "End of shift", "minutes": 450}
    ]
    total = body["total"]
    assert total["planned_minutes"] == monday["planned_minutes"] + tuesday["planned_minutes"]
    assert total["run_minutes"] == 405
    assert total["availability"] == pytest.approx(405 / 900)


def test_a_night_shift_belongs_to_its_local_start_day_and_is_clipped_to_the_range():
    asset = make_asset(signals=())
    alice = logged_in(make_user(role="operator", lines=[asset.line]))
    asset.ideal_cycle_time_s = 60
    asset.save()
    site = asset.line.area.site
    site.timezone = "Europe/Berlin"  # UTC+1 in November
    site.save()
    Shift.objects.create(line=asset.line, name="Night", start=time(22), end=time(6))
    StopReason.objects.create(code="jam-night", label="Jam", category=StopCategory.EQUIPMENT)
    night = datetime(2026, 11, 23, 21, tzinfo=UTC)  # 22:00 in Berlin
    batch_store(
        batch=make_batch(
            states=[
                (asset.pk, datetime_to_us(night), "running", ""),
                (asset.pk, datetime_to_us(night + timedelta(hours=4)), "down", "jam-night"),
                (asset.pk, datetime_to_us(night + timedelta(hours=4, minutes=30)), "running", ""),
            ],
            counts=[(asset.pk, datetime_to_us(night + timedelta(hours=3)), 100, 0)],
        )
    )

    body = alice.get(
        V1,
        {
            "asset_id": asset.pk,
            "from": "2026-11-24T00:00:00+01:00",
            "to": "2026-11-24T06:00:00Z",
            "group": "shift",
        },
    ).json()

    assert body["timezone"] == "Europe/Berlin"
    (shift,) = body["buckets"]
    assert (shift["shift"], shift["shift_date"]) == ("Night", "2026-11-23")
    # In the caller's zone, the plant's site's: Berlin, an hour ahead of UTC in November.
    assert (shift["start"], shift["end"]) == (
        "2026-11-24T00:00:00+01:00",
        "2026-11-24T06:00:00+01:00",
    )
    assert (shift["planned_minutes"], shift["run_minutes"], shift["total_count"]) == (360, 330, 100)
    assert shift["losses"]["by_reason"] == [{"code": "jam-night", "label": "Jam", "minutes": 30}]
    assert shift["losses"]["breakdown_minutes"] == 30


def test_a_range_reaching_past_now_counts_only_what_has_happened(alice, asset):
    later = datetime.now(UTC) + timedelta(days=3)
    body = alice.get(
        V1, {"asset_id": asset.pk, "from": iso(MONDAY), "to": iso(later), "group": "shift"}
    ).json()
    assert all(datetime.fromisoformat(s["start"]) < datetime.now(UTC) for s in body["buckets"])
    assert body["buckets"][0]["oee"] == pytest.approx(567 / 729)


def test_a_line_without_shifts_says_no_plan():
    line = make_asset(signals=()).line
    alice = logged_in(make_user(role="operator", lines=[line]))
    total = alice.get(V1, {"line_id": line.pk, "from": iso(MONDAY), "to": iso(AFTER)}).json()[
        "total"
    ]
    assert (total["status"], total["oee"], total["availability"]) == ("no_plan", None, None)


def test_every_role_reads_every_lines_oee_and_an_operator_their_own(asset):
    # Through the API an operator is shown their own lines: another's is not there for them.
    elsewhere = make_asset().line
    bob = make_user(role="operator", lines=[elsewhere])
    params = {"line_id": asset.line_id, **DAY}
    assert logged_in(bob).get(V1, params).status_code == 404
    asset_params = {"asset_id": asset.pk, **DAY}
    assert logged_in(bob).get(V1, asset_params).status_code == 404
    asset.line.operators.add(bob)
    assert logged_in(bob).get(V1, params).status_code == 200
    for role in ("technician", "supervisor", "manager"):
        response = Client().get(V1, params, **bearer(make_user(role=role)))
        assert response.status_code == 200, role
        assert response.json()["total"]["oee"] == pytest.approx(567 / 729)


def test_a_user_without_a_role_is_refused_in_words_and_nobody_is_401(asset):
    params = {"line_id": asset.line_id, **DAY}
    response = logged_in(make_user()).get(V1, params)
    assert response.status_code == 403
    assert response.json() == {"detail": "Your role may not see the plant's OEE."}
    # Refused before it looks anything up: what exists is not told to whoever may not see it.
    response = logged_in(make_user()).get(V1, {**params, "line_id": 999_999})
    assert response.status_code == 403
    assert Client().get(V1, params).status_code == 401


def test_a_line_or_asset_that_is_not_there_is_404(alice, asset):
    for params in ({"line_id": 999_999}, {"asset_id": 999_999}):
        response = alice.get(V1, {**params, **DAY})
        assert response.status_code == 404
        assert response.json() == {"detail": "not found"}


@pytest.mark.parametrize(
    ("params", "field", "words"),
    [
        ({"from": None}, "from", None),
        ({"from": "yesterday", "to": "2026-11-24T00:00:00Z"}, "from", None),
        ({"group": "week"}, "group", None),
        ({"line_id": "press"}, "line_id", None),
        ({"asset_id": "{asset}"}, "line_id", "either line_id or asset_id"),
        ({"line_id": None}, "line_id", "either line_id or asset_id"),
        ({"from": "2026-11-24T00:00:00Z", "to": "2026-11-23T00:00:00Z"}, "to", "after from"),
        ({"from": "2026-11-23T00:00:00"}, "from", "offset"),
        (
            {"from": "2026-10-01T00:00:00Z", "to": "2026-11-02T00:00:00Z", "group": "hour"},
            "to",
            "At most 31 days from from to to with group=hour",
        ),
        (
            {"from": "2026-10-01T00:00:00Z", "to": "2026-11-02T00:00:00Z", "group": "shift"},
            "to",
            "At most 31 days",
        ),
        (
            {"from": "2025-01-01T00:00:00Z", "to": "2026-11-02T00:00:00Z"},
            "to",
            "At most 400 days",
        ),
    ],
)
def test_bad_parameters_are_400_naming_the_parameter(alice, asset, params, field, words):
    query = {"line_id": asset.line_id, **DAY, **params}
    query = {k: str(v).format(asset=asset.pk) for k, v in query.items() if v is not None}
    response = alice.get(V1, query)
    assert response.status_code == 400
    detail = response.json()["detail"]
    if words is None:  # refused by the schema: a list of errors with their location
        assert detail[0]["loc"][-1] == field
    else:  # refused by the selector: messages by parameter
        assert words in detail[field][0]
