"""API v1 readings: raw readings and minute and hour aggregates from the rollups the worker
keeps, and each asset's latest values, against the real database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import orjson
import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from plantops.api.readings import ReadingsOut
from plantops.assets.models import Signal
from plantops.core.time import datetime_to_us
from plantops.pipeline.services import batch_store
from plantops.telemetry import history
from plantops.telemetry.history import Aggregation
from plantops.telemetry.models import MinuteRollup
from tests.api.tokens import bearer
from tests.factories import logged_in, make_asset, make_batch, make_user

pytestmark = pytest.mark.django_db

V1 = "/api/v1"
T0 = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
Z = "%Y-%m-%dT%H:%M:%SZ"


def store(*readings: tuple[Signal, datetime, float]) -> None:
    """Store readings the way the worker does, rollups and latest values included."""
    batch_store(batch=make_batch(readings=[(s.pk, datetime_to_us(at), v) for s, at, v in readings]))


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def read(client: Client, signals, start: datetime, end: datetime, aggregation: str, **headers):
    ids = "&".join(f"signal_id={s.pk}" for s in signals)
    return client.get(
        f"{V1}/readings?{ids}&from={start.strftime(Z)}&to={end.strftime(Z)}"
        f"&aggregation={aggregation}",
        **headers,
    )


def streamed(response) -> dict:
    """The body of a readings response, which streams a signal at a time."""
    assert response.status_code == 200, response
    return orjson.loads(b"".join(response.streaming_content))


@pytest.fixture
def alice() -> Client:
    """A supervisor, logged in."""
    return logged_in(make_user(role="supervisor", username="alice"))


@pytest.fixture
def asset():
    return make_asset(signals=("vibration", "temperature"))


def test_it_answers_minutes_with_min_max_mean_last_and_count_of_each_signal(alice, asset):
    vibration, temperature = (
        asset.signals.get(slug="vibration"),
        asset.signals.get(slug="temperature"),
    )
    store((vibration, at(0), 2.0), (vibration, at(30), 4.0), (vibration, at(61), 10.0))
    # A late reading of the first minute: counted, but the newer 30 s one stays its last.
    store((vibration, at(10), 0.5), (temperature, at(5), 40.0))

    response = read(alice, [vibration, temperature], T0, at(600), "minute")

    assert response.status_code == 200
    body = streamed(response)
    assert (body["aggregation"], body["source"]) == ("minute", "minute rollups")
    assert (body["from"], body["to"]) == ("2026-11-22T10:00:00Z", "2026-11-22T10:10:00Z")
    first, second = body["signals"]
    assert (first["signal_id"], first["slug"], first["unit"]) == (vibration.pk, "vibration", "mm/s")
    assert first["site_timezone"] == "UTC"
    assert first["points"] == {
        "ts": ["2026-11-22T10:00:00Z", "2026-11-22T10:01:00Z"],
        "min": [0.5, 10.0],
        "max": [4.0, 10.0],
        "mean": [pytest.approx(6.5 / 3), 10.0],
        "last": [4.0, 10.0],
        "count": [3, 1],
    }
    assert second["slug"] == "temperature"
    assert second["points"]["ts"] == ["2026-11-22T10:00:00Z"]
    assert second["points"]["last"] == [40.0]


def test_hours_come_from_the_hour_rollups_not_from_the_minutes(alice, asset):
    vibration = asset.signals.get(slug="vibration")
    store(
        (vibration, at(0), 1.0),
        (vibration, at(1800), 3.0),
        (vibration, at(3599), 2.0),
        (vibration, at(3600), 7.0),
    )
    # Were hours merged from minutes on each read, this would empty them.
    MinuteRollup.objects.filter(signal=vibration).delete()

    body = streamed(read(alice, [vibration], T0, at(7200), "hour"))

    assert body["source"] == "hour rollups"
    assert body["signals"][0]["points"] == {
        "ts": ["2026-11-22T10:00:00Z", "2026-11-22T11:00:00Z"],
        "min": [1.0, 7.0],
        "max": [3.0, 7.0],
        "mean": [2.0, 7.0],
        "last": [2.0, 7.0],
        "count": [3, 1],
    }


def test_raw_readings_keep_their_microseconds_and_the_range_excludes_its_end(alice, asset):
    vibration = asset.signals.get(slug="vibration")
    store((vibration, at(0.25), 1.5), (vibration, at(1), 2.5), (vibration, at(2), 3.5))

    body = streamed(read(alice, [vibration], T0, at(2), "raw"))

    assert body["source"] == "readings"
    assert body["signals"][0]["points"] == {
        "ts": ["2026-11-22T10:00:00.250000Z", "2026-11-22T10:00:01Z"],
        "value": [1.5, 2.5],
    }


def test_a_bucket_belongs_to_the_range_when_it_starts_within_it(alice, asset):
    vibration = asset.signals.get(slug="vibration")
    store((vibration, at(10), 1.0), (vibration, at(70), 2.0), (vibration, at(130), 3.0))

    body = streamed(read(alice, [vibration], at(30), at(120), "minute"))

    assert body["signals"][0]["points"]["ts"] == ["2026-11-22T10:01:00Z"]


def test_signals_come_in_the_order_asked_once_each_and_empty_when_silent(alice, asset):
    vibration, temperature = (
        asset.signals.get(slug="vibration"),
        asset.signals.get(slug="temperature"),
    )
    store((vibration, at(0), 1.0))

    body = streamed(read(alice, [temperature, vibration, temperature], T0, at(60), "minute"))

    assert [s["slug"] for s in body["signals"]] == ["temperature", "vibration"]
    silent = body["signals"][0]["points"]
    assert silent == {"ts": [], "min": [], "max": [], "mean": [], "last": [], "count": []}


def test_the_body_is_what_the_schema_says(alice, asset):
    vibration = asset.signals.get(slug="vibration")
    store((vibration, at(0), 1.0), (vibration, at(1), 2.0))
    for aggregation in Aggregation:
        parsed = ReadingsOut.model_validate(
            streamed(read(alice, [vibration], T0, at(3600), aggregation))
        )
        assert parsed.signals[0].points.ts[0] == T0


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the fast read is PostgreSQL's")
def test_the_database_read_and_the_portable_read_agree(asset):
    vibration, temperature = (
        asset.signals.get(slug="vibration"),
        asset.signals.get(slug="temperature"),
    )
    rng = np.random.default_rng(5)
    store(
        *[(vibration, at(s), float(rng.normal(3, 1))) for s in range(0, 7200, 7)],
        *[(temperature, at(s + 0.5), float(rng.normal(40, 2))) for s in range(0, 7200, 11)],
    )
    ids = [vibration.pk, temperature.pk]
    for aggregation in Aggregation:
        source = history._SOURCES[aggregation]
        fast = history._read_postgresql(ids, T0, at(7200), aggregation, source)
        portable = history._read_portable(ids, T0, at(7200), aggregation, source)
        assert fast.keys() == portable.keys() == set(ids)
        for pk in ids:
            assert fast[pk][0].tolist() == portable[pk][0].tolist()
            for name, column in fast[pk][1].items():
                assert column.tolist() == pytest.approx(portable[pk][1][name].tolist()), name


def test_more_points_than_one_response_holds_is_refused_naming_a_coarser_aggregation(alice, asset):
    vibration = asset.signals.get(slug="vibration")

    raw_week = read(alice, [vibration], T0, T0 + timedelta(days=7), "raw")
    assert raw_week.status_code == 400
    detail = raw_week.json()["detail"]["aggregation"][0]
    assert "604,800" in detail
    assert "250,000" in detail
    assert "aggregation=minute or hour" in detail

    many = [make_asset(signals=("a", "b", "c", "d", "e")) for _ in range(6)]
    signals = [s for a in many for s in a.signals.all()]
    minutes = read(alice, signals, T0, T0 + timedelta(days=7), "minute")
    assert minutes.status_code == 400
    assert "aggregation=hour" in minutes.json()["detail"]["aggregation"][0]
    assert read(alice, signals, T0, T0 + timedelta(days=7), "hour").status_code == 200


def test_a_signal_sending_faster_than_its_interval_is_caught_after_the_read(
    alice, asset, monkeypatch
):
    vibration = asset.signals.get(slug="vibration")
    Signal.objects.filter(pk=vibration.pk).update(sampling_interval_s=60.0)
    store(*[(vibration, at(s), 1.0) for s in range(30)])
    monkeypatch.setattr(history, "MAX_POINTS", 20)

    response = read(alice, [vibration], T0, at(60), "raw")

    assert response.status_code == 400
    assert "more than 20 readings" in response.json()["detail"]["aggregation"][0]


def test_bad_ranges_and_unknown_signals_are_400_naming_the_parameter(alice, asset):
    vibration = asset.signals.get(slug="vibration")
    url = f"{V1}/readings?signal_id={vibration.pk}"

    naive = alice.get(f"{url}&from=2026-11-22T10:00:00&to=2026-11-22T11:00:00Z")
    assert naive.status_code == 400
    assert "UTC offset" in naive.json()["detail"]["from"][0]

    backwards = alice.get(f"{url}&from=2026-11-22T11:00:00Z&to=2026-11-22T10:00:00%2B00:00")
    assert backwards.status_code == 400
    assert backwards.json()["detail"] == {"to": ["to must be after from."]}

    unknown = alice.get(f"{url}&signal_id=999999&from=2026-11-22T10:00:00Z&to=2026-11-22T11:00:00Z")
    assert unknown.status_code == 400
    assert unknown.json()["detail"] == {"signal_id": ["No signal 999999."]}

    no_signal = alice.get(f"{V1}/readings?from=2026-11-22T10:00:00Z&to=2026-11-22T11:00:00Z")
    assert no_signal.status_code == 400
    assert no_signal.json()["detail"][0]["loc"][-1] == "signal_id"

    weekly = alice.get(f"{url}&from=2026-11-22T10:00:00Z&to=2026-11-22T11:00:00Z&aggregation=week")
    assert weekly.status_code == 400
    assert weekly.json()["detail"][0]["loc"][-1] == "aggregation"


def test_an_offset_other_than_utc_means_the_same_instant(alice, asset):
    vibration = asset.signals.get(slug="vibration")
    store((vibration, at(0), 1.0), (vibration, at(3600), 2.0))

    body = streamed(
        alice.get(
            f"{V1}/readings?signal_id={vibration.pk}&aggregation=raw"
            "&from=2026-11-22T11:00:00%2B01:00&to=2026-11-22T11:30:00%2B01:00"
        )
    )

    assert body["from"] == "2026-11-22T10:00:00Z"
    assert body["signals"][0]["points"]["value"] == [1.0]


def test_every_role_reads_readings_an_operator_on_their_lines_and_no_role_is_refused(asset):
    vibration = asset.signals.get(slug="vibration")
    store((vibration, at(0), 1.0))
    elsewhere = make_asset().line
    stranger = make_user(role="operator", lines=[elsewhere])
    # Another line's signal is not there for an operator: the same answer as an unknown one.
    refused = read(Client(), [vibration], T0, at(60), "minute", **bearer(stranger))
    assert refused.status_code == 400
    assert refused.json()["detail"] == {"signal_id": [f"No signal {vibration.pk}."]}

    operator = make_user(role="operator", lines=[asset.line])
    for user in (operator, make_user(role="manager"), make_user(role="technician")):
        response = read(Client(), [vibration], T0, at(60), "minute", **bearer(user))
        assert response.status_code == 200, user
        assert streamed(response)["signals"][0]["points"]["count"] == [1]

    nobody = read(Client(), [vibration], T0, at(60), "minute", **bearer(make_user()))
    assert nobody.status_code == 403
    assert nobody.json() == {"detail": "Your role may not see readings."}
    assert read(Client(), [vibration], T0, at(60), "minute").status_code == 401


# --- latest values ----------------------------------------------------------------------------


def test_the_latest_value_of_every_signal_of_an_asset_says_when_it_is_stale(alice):
    asset = make_asset(signals=("current", "temperature", "vibration"))
    current, temperature = asset.signals.get(slug="current"), asset.signals.get(slug="temperature")
    now = timezone.now().replace(microsecond=0)
    store((current, now - timedelta(seconds=2), 3.0), (current, now - timedelta(seconds=1), 9.5))
    store((temperature, now - timedelta(minutes=5), 40.0))

    response = alice.get(f"{V1}/assets/{asset.pk}/latest")

    assert response.status_code == 200
    body = response.json()
    assert (body["asset_id"], body["slug"], body["no_data_since"]) == (asset.pk, asset.slug, None)
    by_slug = {s["slug"]: s for s in body["signals"]}
    assert list(by_slug) == ["current", "temperature", "vibration"]
    assert by_slug["current"] | {"ts": None} == {
        "signal_id": current.pk,
        "slug": "current",
        "name": "Current",
        "unit": "mm/s",
        "value": 9.5,
        "ts": None,
        "stale": False,
        "in_range": False,  # above the expected 7.1
    }
    assert datetime.fromisoformat(by_slug["current"]["ts"]) == now - timedelta(seconds=1)
    assert (by_slug["temperature"]["value"], by_slug["temperature"]["stale"]) == (40.0, True)
    assert by_slug["vibration"] | {"signal_id": 0} == {
        "signal_id": 0,
        "slug": "vibration",
        "name": "Vibration",
        "unit": "mm/s",
        "value": None,
        "ts": None,
        "stale": True,
        "in_range": True,
    }


def test_latest_values_of_an_unknown_asset_are_404_and_refused_without_a_role(alice):
    asset = make_asset()
    assert alice.get(f"{V1}/assets/999999/latest").status_code == 404
    refused = Client().get(f"{V1}/assets/{asset.pk}/latest", **bearer(make_user()))
    assert refused.status_code == 403
    assert Client().get(f"{V1}/assets/{asset.pk}/latest").status_code == 401
    # An operator reads their own lines' assets; another line's is not there for them.
    elsewhere = bearer(make_user(role="operator", lines=[make_asset().line]))
    assert Client().get(f"{V1}/assets/{asset.pk}/latest", **elsewhere).status_code == 404
    operator = bearer(make_user(role="operator", lines=[asset.line]))
    assert Client().get(f"{V1}/assets/{asset.pk}/latest", **operator).status_code == 200
