"""API v1 exports (/api/v1/exports/…): CSV streamed and XLSX built, their rows the same figures
as the JSON operations and the screens, refused and narrowed as they are; and the screens'
download buttons, which a logged-in session follows."""

from __future__ import annotations

import csv
import io
import tempfile
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from asgiref.sync import async_to_sync
from django.http import FileResponse, StreamingHttpResponse
from django.test import AsyncClient, Client
from django.utils import timezone
from openpyxl import load_workbook

from plantops.alerts.services import alerts_acknowledge
from plantops.api import exports
from plantops.api.export_tables import readings as export_readings
from plantops.assets.models import Asset, Signal
from plantops.core import services
from plantops.core.time import datetime_to_us
from plantops.maintenance import services as maintenance
from plantops.maintenance.models import FailureCode, Part
from plantops.pipeline.services import batch_store
from tests.api.tokens import bearer
from tests.factories import (
    logged_in,
    make_alert,
    make_asset,
    make_batch,
    make_user,
    make_work_order,
)
from tests.oee.test_selectors import at, press, run_the_shift

pytestmark = pytest.mark.django_db

EXPORTS = "/api/v1/exports"
BERLIN = ZoneInfo("Europe/Berlin")
T0 = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def csv_rows(response) -> list[list[str]]:
    """The rows of a CSV download, header first; it must stream and start with a BOM."""
    assert response.status_code == 200, response.content if not response.streaming else ""
    assert isinstance(response, StreamingHttpResponse)
    assert not isinstance(response, FileResponse)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="')
    assert response["Content-Disposition"].endswith('.csv"')
    body = b"".join(response.streaming_content).decode()
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:])))


def xlsx_rows(response) -> list[list]:
    """The cells of an XLSX download's one sheet, header first."""
    assert response.status_code == 200
    assert isinstance(response, FileResponse)
    assert response["Content-Type"] == exports.XLSX_TYPE
    assert response["Content-Disposition"].endswith('.xlsx"')
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    (sheet,) = workbook.worksheets
    assert sheet.freeze_panes == "A2"
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


def by_header(rows: list[list]) -> list[dict]:
    header, *body = rows
    return [dict(zip(header, row, strict=True)) for row in body]


def in_berlin(asset: Asset) -> Asset:
    site = asset.line.area.site
    site.timezone = "Europe/Berlin"
    site.save()
    return asset


def store(*readings: tuple[Signal, datetime, float]) -> None:
    """Readings stored as the worker stores them, rollups included."""
    batch_store(batch=make_batch(readings=[(s.pk, datetime_to_us(t), v) for s, t, v in readings]))


# --- OEE -----------------------------------------------------------------------------------------


@pytest.fixture
def press_shift() -> Asset:
    """A press with the hand-computed shift of tests/oee/test_calculation.py (OEE 567/729)."""
    asset = press()
    run_the_shift(asset)
    return asset


def test_oee_per_hour_as_csv_has_an_hour_a_row_the_losses_by_reason_and_a_total(press_shift):
    client = logged_in(make_user(role="manager"))

    rows = by_header(
        csv_rows(
            client.get(
                f"{EXPORTS}/oee.csv",
                {"line_id": press_shift.line_id, "from": iso(at(6)), "to": iso(at(14))},
            )
        )
    )

    *hours, total = rows
    assert [h["start (UTC)"] for h in hours] == [f"2026-11-23T{h:02}:00:00Z" for h in range(6, 14)]
    assert [h["bucket"] for h in hours] == ["hour"] * 8
    assert [float(h["planned min"]) for h in hours] == [60, 60, 60, 60, 30, 60, 60, 60]
    eight = hours[2]
    assert (eight["availability (0-1)"], eight["down min"], eight["breakdowns"]) == (
        "0.25",
        "45.0",
        "1",
    )
    assert eight["down min: Not explained yet"] == "45.0"
    assert eight["startup rejects"] == "4"
    assert eight["line"] == press_shift.line.name
    assert eight["start, site time (UTC)"] == "2026-11-23T08:00:00Z"
    assert total["bucket"] == "total"
    assert float(total["OEE (0-1)"]) == pytest.approx(567 / 729)
    assert (total["planned min"], total["run min"], total["total parts"]) == (
        "450.0",
        "405.0",
        "729",
    )
    assert total["reduced speed min"] == "40.5"


def test_oee_per_shift_as_xlsx_gives_the_shift_its_name_local_date_and_numbers(press_shift):
    client = logged_in(make_user(role="supervisor"))

    rows = xlsx_rows(
        client.get(
            f"{EXPORTS}/oee.xlsx",
            {
                "asset_id": press_shift.pk,
                "from": iso(at(0)),
                "to": iso(at(0) + timedelta(days=2)),
                "group": "shift",
            },
        )
    )

    header, monday, tuesday, total = rows
    assert header[:9] == [
        "line",
        "asset",
        "bucket",
        "shift",
        "shift date",
        "start (UTC)",
        "end (UTC)",
        "start, site time (UTC)",
        "end, site time (UTC)",
    ]
    row = dict(zip(header, monday, strict=False))
    assert (row["asset"], row["bucket"], row["shift"]) == (press_shift.name, "shift", "Early")
    # Excel has no zones: the UTC times come without one, and dates as midnight.
    assert row["shift date"] == datetime(2026, 11, 23, tzinfo=UTC).replace(tzinfo=None)
    assert monday[5:7] == [at(6).replace(tzinfo=None), at(14).replace(tzinfo=None)]
    assert row["OEE (0-1)"] == pytest.approx(567 / 729)
    assert row["planned min"] == 450
    assert tuesday[3] == "Early"
    assert total[2] == "total"


def test_oee_of_a_line_an_operator_is_not_shown_is_not_found(press_shift):
    other = make_asset()
    operator = logged_in(make_user(role="operator", lines=[other.line]))
    query = {"line_id": press_shift.line_id, "from": iso(at(6)), "to": iso(at(14))}

    assert operator.get(f"{EXPORTS}/oee.csv", query).status_code == 404
    own = operator.get(f"{EXPORTS}/oee.csv", query | {"line_id": other.line_id})
    assert csv_rows(own)[-1][2] == "total"


def test_bad_input_is_a_400_naming_the_parameter(press_shift):
    client = logged_in(make_user(role="manager"))
    query = {"line_id": press_shift.line_id, "from": iso(at(6)), "to": iso(at(14))}

    bad_group = client.get(f"{EXPORTS}/oee.csv", query | {"group": "none"})
    backwards = client.get(f"{EXPORTS}/oee.csv", query | {"to": iso(at(5))})
    too_long = client.get(f"{EXPORTS}/oee.csv", query | {"to": iso(at(6) + timedelta(days=40))})
    naive = client.get(f"{EXPORTS}/oee.csv", query | {"from": "2026-11-23T06:00:00"})
    pdf = client.get(f"{EXPORTS}/oee.pdf", query)
    # The edge of the calendar: bad input, never an overflow.
    edge = client.get(
        f"{EXPORTS}/alarm-kpis.csv", {"from": "0001-01-01T00:00:00+01:00", "to": iso(at(6))}
    )

    assert bad_group.status_code == 400
    assert "group" in str(bad_group.json())
    assert backwards.status_code == 400
    assert "to" in backwards.json()["detail"]
    assert too_long.status_code == 400
    assert "31 days" in str(too_long.json())
    assert naive.status_code == 400
    assert "from" in str(naive.json())
    assert pdf.status_code == 400
    assert "fmt" in str(pdf.json())
    assert edge.status_code == 400
    assert "1970 to 2199" in str(edge.json())


# --- role refusals -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "oee.csv?line_id=1&from=2026-11-23T00:00:00Z&to=2026-11-24T00:00:00Z",
        "alerts.csv",
        "work-orders.xlsx",
        "readings.csv?signal_id=1&from=2026-11-23T00:00:00Z&to=2026-11-24T00:00:00Z",
        "alarm-kpis.csv?from=2026-11-23T00:00:00Z&to=2026-11-24T00:00:00Z",
    ],
)
def test_a_user_without_a_plant_role_is_refused_and_nobody_is_let_in_anonymously(path):
    nobody = logged_in(make_user(role=None))

    refused = nobody.get(f"{EXPORTS}/{path}")
    anonymous = Client().get(f"{EXPORTS}/{path}")

    assert refused.status_code == 403
    assert "may not see" in refused.json()["detail"]
    assert anonymous.status_code == 401


def test_an_api_token_downloads_too():
    asset = make_asset()
    make_alert(asset=asset)
    token = Client(**bearer(make_user(role="manager")))

    rows = by_header(csv_rows(token.get(f"{EXPORTS}/alerts.csv")))

    assert [row["event"] for row in rows] == ["raised"]


# --- alerts --------------------------------------------------------------------------------------


def test_alerts_come_with_their_events_who_acted_and_the_sites_time():
    asset = in_berlin(make_asset())
    alert = make_alert(asset=asset, message="Vibration high")
    supervisor = make_user(role="supervisor", username="sam")
    alerts_acknowledge(alert_ids=[alert.pk], user=supervisor, note="=HYPERLINK(1)")

    rows = by_header(csv_rows(logged_in(supervisor).get(f"{EXPORTS}/alerts.csv")))

    raised, acknowledged = rows
    assert (raised["alert id"], raised["event"], raised["by"]) == (str(alert.pk), "raised", "")
    assert (raised["rule"], raised["asset"], raised["alert priority"]) == (
        "Vibration high rule",
        asset.name,
        "high",
    )
    assert (acknowledged["event"], acknowledged["by"]) == ("acknowledged", "sam")
    # A note that a spreadsheet would run as a formula stays text.
    assert acknowledged["note"] == "'=HYPERLINK(1)"
    assert acknowledged["state after"] == "active_ack"
    utc = datetime.fromisoformat(raised["at (UTC)"])
    local = datetime.fromisoformat(raised["at (site time)"])
    assert raised["at (UTC)"].endswith("Z")
    assert local == utc
    assert local.utcoffset() == utc.astimezone(BERLIN).utcoffset()
    assert raised["site time zone"] == "Europe/Berlin"


def test_alerts_as_xlsx_keep_a_formula_looking_note_as_text():
    alert = make_alert()
    supervisor = make_user(role="supervisor")
    alerts_acknowledge(alert_ids=[alert.pk], user=supervisor, note="=1+2")

    response = logged_in(supervisor).get(f"{EXPORTS}/alerts.xlsx")
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))

    notes = [row[12].value for row in workbook.active.iter_rows(min_row=2)]
    kinds = [row[12].data_type for row in workbook.active.iter_rows(min_row=2)]
    assert notes == [None, "=1+2"]
    assert kinds[1] == "s"


def test_an_operator_exports_the_alerts_of_their_own_lines_only():
    mine, theirs = make_asset(), make_asset()
    make_alert(asset=mine)
    make_alert(asset=theirs)
    operator = logged_in(make_user(role="operator", lines=[mine.line]))
    manager = logged_in(make_user(role="manager"))

    shown = by_header(csv_rows(operator.get(f"{EXPORTS}/alerts.csv")))
    everything = by_header(csv_rows(manager.get(f"{EXPORTS}/alerts.csv")))

    assert [row["asset"] for row in shown] == [mine.name]
    assert sorted(row["asset"] for row in everything) == sorted([mine.name, theirs.name])


def test_alerts_filter_as_the_inbox_and_events_by_time():
    loud, quiet = make_asset(), make_asset()
    make_alert(asset=loud, priority="critical")
    make_alert(asset=quiet, priority="low")
    client = logged_in(make_user(role="manager"))

    critical = by_header(csv_rows(client.get(f"{EXPORTS}/alerts.csv", {"priority": "critical"})))
    on_line = by_header(csv_rows(client.get(f"{EXPORTS}/alerts.csv", {"line_id": quiet.line_id})))
    later = by_header(
        csv_rows(
            client.get(
                f"{EXPORTS}/alerts.csv", {"from": iso(timezone.now() + timedelta(minutes=1))}
            )
        )
    )

    assert [row["asset"] for row in critical] == [loud.name]
    assert [row["asset"] for row in on_line] == [quiet.name]
    assert later == []


# --- work orders ---------------------------------------------------------------------------------


def code(kind: str, value: str, label: str) -> FailureCode:
    """A failure code of the seeded taxonomy (made again after a transactional test's flush)."""
    return FailureCode.objects.get_or_create(kind=kind, code=value, defaults={"label": label})[0]


def test_work_orders_come_with_their_codes_minutes_and_parts():
    asset = in_berlin(make_asset())
    sam, tom = (
        make_user(role="supervisor", username="sam"),
        make_user(role="technician", username="tom"),
    )
    work = make_work_order(
        by=sam, asset=asset, title="Bearing noise", assignee=tom, started=True, estimated_minutes=30
    )
    bearing = Part.objects.create(number="6205-2rs", name="Ball bearing", stock=4)
    grease = Part.objects.create(number="grease-ep2", name="Grease", stock=9, unit="g")
    maintenance.workorder_complete(
        work_order=work,
        user=tom,
        problem=code("problem", "vib", "Vibration"),
        cause=code("cause", "wear", "Wear"),
        remedy=code("remedy", "replace", "Replace"),
        notes="Replaced, regreased.",
        actual_minutes=45,
        parts=[(bearing, 2), (grease, 5)],
    )
    make_work_order(by=sam, asset=asset, title="Still open")

    rows = by_header(csv_rows(logged_in(tom).get(f"{EXPORTS}/work-orders.csv", {"status": "done"})))

    (row,) = rows
    assert (row["number"], row["status"], row["title"], row["assignee"]) == (
        f"WO-{work.pk}",
        "done",
        "Bearing noise",
        "tom",
    )
    assert (row["requested by"], row["line"], row["asset"]) == ("sam", asset.line.name, asset.name)
    assert (row["estimated min"], row["actual min"]) == ("30", "45")
    assert (row["problem code"], row["problem"]) == ("vib", "Vibration")
    assert (row["cause code"], row["remedy code"], row["remedy"]) == ("wear", "replace", "Replace")
    assert row["closing note"] == "Replaced, regreased."
    assert row["parts"] == "6205-2rs × 2 pcs; grease-ep2 × 5 g"
    assert row["parts quantity"] == "7"
    created = datetime.fromisoformat(row["created (UTC)"])
    assert (
        datetime.fromisoformat(row["created (site time)"]).utcoffset()
        == created.astimezone(BERLIN).utcoffset()
    )
    assert row["completed (UTC)"].endswith("Z")
    completed = datetime.fromisoformat(row["completed (site time)"])
    assert completed == datetime.fromisoformat(row["completed (UTC)"])
    assert completed.utcoffset() == completed.astimezone(BERLIN).utcoffset()
    due = datetime.fromisoformat(row["due (site time)"])
    assert (due, due.utcoffset()) == (work.due_at, work.due_at.astimezone(BERLIN).utcoffset())


def test_work_orders_as_xlsx_search_as_the_screens_do():
    sam = make_user(role="supervisor")
    make_work_order(by=sam, title="Belt slipping")
    make_work_order(by=sam, title="Leak at the pump")

    rows = xlsx_rows(logged_in(sam).get(f"{EXPORTS}/work-orders.xlsx", {"q": "leak"}))

    (row,) = by_header(rows)
    assert row["title"] == "Leak at the pump"
    assert isinstance(row["created (UTC)"], datetime)
    assert row["parts quantity"] == 0


# --- readings ------------------------------------------------------------------------------------


@pytest.fixture
def motor() -> Asset:
    return in_berlin(make_asset(signals=("vibration", "temperature")))


def test_raw_readings_come_signal_after_signal_in_time_order(motor):
    vibration = motor.signals.get(slug="vibration")
    temperature = motor.signals.get(slug="temperature")
    store((vibration, T0, 2.0), (vibration, T0 + timedelta(seconds=1), 3.5))
    store((temperature, T0, 40.0), (vibration, T0 - timedelta(seconds=1), 9.0))
    client = logged_in(make_user(role="technician"))

    rows = by_header(
        csv_rows(
            client.get(
                f"{EXPORTS}/readings.csv",
                {
                    "signal_id": [temperature.pk, vibration.pk],
                    "from": iso(T0),
                    "to": iso(T0 + timedelta(minutes=1)),
                    "aggregation": "raw",
                },
            )
        )
    )

    assert [(r["signal"], r["time (UTC)"], r["value"]) for r in rows] == [
        ("temperature", "2026-11-22T10:00:00Z", "40.0"),
        ("vibration", "2026-11-22T10:00:00Z", "2.0"),
        ("vibration", "2026-11-22T10:00:01Z", "3.5"),
    ]
    assert rows[0]["site time"] == "2026-11-22T11:00:00+01:00"
    assert (rows[0]["unit"], rows[0]["asset"], rows[0]["site time zone"]) == (
        "mm/s",
        motor.name,
        "Europe/Berlin",
    )


def test_minutes_of_an_asset_come_with_min_max_mean_last_and_count(motor, monkeypatch):
    vibration = motor.signals.get(slug="vibration")
    store(*((vibration, T0 + timedelta(seconds=s), float(s)) for s in range(0, 300, 20)))
    client = logged_in(make_user(role="manager"))
    query = {"asset_id": motor.pk, "from": iso(T0), "to": iso(T0 + timedelta(minutes=5))}

    whole = csv_rows(client.get(f"{EXPORTS}/readings.csv", query | {"aggregation": "minute"}))
    # Read two minutes at a time, the rows are the same.
    monkeypatch.setattr(export_readings, "READINGS_WINDOW", 3)
    windowed = csv_rows(client.get(f"{EXPORTS}/readings.csv", query | {"aggregation": "minute"}))

    assert windowed == whole
    rows = by_header(whole)
    assert [r["signal"] for r in rows] == ["vibration"] * 5  # the temperature sent nothing
    first = rows[0]
    assert first["bucket start (UTC)"] == "2026-11-22T10:00:00Z"
    assert (first["min"], first["max"], first["mean"], first["last"], first["count"]) == (
        "0.0",
        "40.0",
        "20.0",
        "40.0",
        "3",
    )


def test_raw_readings_read_in_windows_are_the_same_rows(motor, monkeypatch):
    vibration = motor.signals.get(slug="vibration")
    store(*((vibration, T0 + timedelta(seconds=s), float(s)) for s in range(10)))
    client = logged_in(make_user(role="manager"))
    query = {
        "signal_id": vibration.pk,
        "from": iso(T0),
        "to": iso(T0 + timedelta(seconds=10)),
        "aggregation": "raw",
    }

    whole = csv_rows(client.get(f"{EXPORTS}/readings.csv", query))
    monkeypatch.setattr(export_readings, "READINGS_WINDOW", 3)
    windowed = csv_rows(client.get(f"{EXPORTS}/readings.csv", query))

    assert windowed == whole
    assert [row[-1] for row in whole[1:]] == [f"{float(s)}" for s in range(10)]


def test_readings_of_another_line_are_not_shown_to_an_operator(motor):
    operator = logged_in(make_user(role="operator", lines=[make_asset().line]))
    day = {"from": iso(T0), "to": iso(T0 + timedelta(hours=1))}
    signal = motor.signals.get(slug="vibration")

    by_asset = operator.get(f"{EXPORTS}/readings.csv", day | {"asset_id": motor.pk})
    by_signal = operator.get(f"{EXPORTS}/readings.csv", day | {"signal_id": signal.pk})

    assert by_asset.status_code == 404
    assert by_signal.status_code == 400
    assert by_signal.json()["detail"] == {"signal_id": [f"No signal {signal.pk}."]}


def test_readings_too_many_for_a_sheet_are_refused_before_anything_is_read(motor):
    client = logged_in(make_user(role="manager"))
    signal = motor.signals.get(slug="vibration")
    two_weeks = {
        "signal_id": signal.pk,
        "from": iso(T0),
        "to": iso(T0 + timedelta(days=14)),
        "aggregation": "raw",
    }

    as_xlsx = client.get(f"{EXPORTS}/readings.xlsx", two_weeks)
    as_csv = client.get(f"{EXPORTS}/readings.csv", two_weeks)
    neither = client.get(
        f"{EXPORTS}/readings.csv", {"from": iso(T0), "to": iso(T0 + timedelta(hours=1))}
    )

    assert as_xlsx.status_code == 400
    assert "1,048,575" in as_xlsx.json()["detail"]["to"][0]
    assert as_csv.status_code == 200
    assert neither.status_code == 400
    assert "signal_id" in neither.json()["detail"]


def test_a_workbook_with_more_rows_than_a_sheet_is_refused_and_leaves_no_file(
    monkeypatch, tmp_path
):
    monkeypatch.setattr(exports, "XLSX_MAX_ROWS", 2)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where openpyxl keeps the rows
    table = exports.Table("x", [exports.Column("n", "number")], ([n] for n in range(3)))

    with pytest.raises(exports.ValidationError, match="XLSX sheet"):
        exports.write_xlsx(table, io.BytesIO())
    assert list(tmp_path.iterdir()) == []


# --- alarm KPIs ----------------------------------------------------------------------------------


def test_alarm_kpis_are_a_figure_a_row_for_the_lines_a_user_is_shown():
    mine, theirs = make_asset(), make_asset()
    make_alert(asset=mine, priority="high")
    make_alert(asset=theirs, priority="low")
    period = {
        "from": iso(timezone.now() - timedelta(hours=1)),
        "to": iso(timezone.now() + timedelta(minutes=1)),
    }
    manager = logged_in(make_user(role="manager"))
    operator = logged_in(make_user(role="operator", lines=[mine.line]))

    every = by_header(csv_rows(manager.get(f"{EXPORTS}/alarm-kpis.csv", period)))
    own = by_header(csv_rows(operator.get(f"{EXPORTS}/alarm-kpis.csv", period)))
    other = operator.get(f"{EXPORTS}/alarm-kpis.csv", period | {"line_id": theirs.line_id})

    def figure(rows, section, measure, **where):
        return [
            r["value"]
            for r in rows
            if (r["section"], r["measure"]) == (section, measure)
            and all(r[k] == v for k, v in where.items())
        ]

    assert figure(every, "period", "activations") == ["2"]
    assert figure(every, "rate", "activations", position=mine.line.name) == ["1"]
    assert figure(every, "priority mix", "share", priority="high") == ["50.0"]
    assert figure(every, "priority mix", "target share", priority="low") == ["80.0"]
    assert figure(own, "period", "activations") == ["1"]
    # The period also on the clock of the one who asked, which the row names.
    (row,) = [r for r in every if r["section"] == "period"]
    assert row["time zone"] == "UTC"  # no site zone set in this plant
    chicago = make_user(role="manager")
    services.preferences_set(user=chicago, time_zone="America/Chicago")
    (row,) = [
        r
        for r in by_header(csv_rows(logged_in(chicago).get(f"{EXPORTS}/alarm-kpis.csv", period)))
        if r["section"] == "period"
    ]
    assert row["time zone"] == "America/Chicago"
    local = datetime.fromisoformat(row["from (local time)"])
    assert local == datetime.fromisoformat(row["from (UTC)"])
    assert local.utcoffset() == local.astimezone(ZoneInfo("America/Chicago")).utcoffset()
    assert {r["position"] for r in own} == {"", mine.line.name}
    assert other.status_code == 404
    too_long = operator.get(
        f"{EXPORTS}/alarm-kpis.csv", {"from": iso(T0), "to": iso(T0 + timedelta(days=93))}
    )
    assert too_long.status_code == 400


# --- under ASGI ----------------------------------------------------------------------------------


def test_under_asgi_the_csv_streams_from_an_asynchronous_iterator(motor):
    vibration = motor.signals.get(slug="vibration")
    store(*((vibration, T0 + timedelta(seconds=s), float(s)) for s in range(5)))
    user = make_user(role="manager")
    url = f"{EXPORTS}/readings.csv"
    query = {
        "asset_id": motor.pk,
        "from": iso(T0),
        "to": iso(T0 + timedelta(minutes=1)),
        "aggregation": "raw",
    }

    async def download(fmt: str) -> tuple[object, bytes]:
        client = AsyncClient()
        await client.aforce_login(user)
        response = await client.get(url.replace(".csv", f".{fmt}"), query)
        return response, b"".join([chunk async for chunk in response.streaming_content])

    response, body = async_to_sync(download)("csv")
    workbook, xlsx = async_to_sync(download)("xlsx")

    assert response.status_code == 200
    assert response.is_async
    assert body == b"".join(logged_in(user).get(url, query).streaming_content)
    assert workbook.is_async
    rows = list(load_workbook(io.BytesIO(xlsx)).active.iter_rows(values_only=True))
    assert [row[-1] for row in rows[1:]] == [0.0, 1.0, 2.0, 3.0, 4.0]


# --- the screens' buttons ------------------------------------------------------------------------


def links(page: str, export: str) -> list[str]:
    """The hrefs of the page's download buttons to one export."""
    import html
    import re

    found = re.findall(rf'href="(/api/v1/exports/{export}\.(?:csv|xlsx)\?[^"]*)"', page)
    return [html.unescape(href) for href in found]


def test_the_inbox_downloads_the_alerts_it_shows():
    loud, quiet = make_asset(), make_asset()
    make_alert(asset=loud, priority="critical")
    make_alert(asset=quiet, priority="low")
    client = logged_in(make_user(role="supervisor"))

    page = client.get("/alerts/", {"priority": "critical"}).content.decode()
    csv_link, xlsx_link = links(page, "alerts")

    assert "priority=critical" in csv_link
    assert "state=active_unack" in csv_link
    assert xlsx_link.startswith(f"{EXPORTS}/alerts.xlsx?")
    assert [r["asset"] for r in by_header(csv_rows(client.get(csv_link)))] == [loud.name]
    assert 'class="btn btn-toggle"' in page


def test_the_work_list_downloads_its_tab_and_search():
    sam = make_user(role="supervisor")
    make_work_order(by=sam, title="Leak at the pump")
    make_work_order(by=sam, title="Belt slipping")
    client = logged_in(sam)

    page = client.get("/work/", {"list": "schedule", "q": "leak"}).content.decode()
    csv_link, _ = links(page, "work-orders")

    # A supervisor's report is approved at once: it waits to be scheduled.
    assert "status=approved" in csv_link
    assert "q=leak" in csv_link
    rows = by_header(csv_rows(client.get(csv_link)))
    assert [(r["title"], r["status"]) for r in rows] == [("Leak at the pump", "approved")]


def test_the_kpi_page_downloads_its_period():
    make_alert()
    client = logged_in(make_user(role="manager"))

    page = client.get("/alerts/kpis/", {"range": "7d"}).content.decode()
    csv_link, _ = links(page, "alarm-kpis")

    rows = by_header(csv_rows(client.get(csv_link)))
    assert rows[0]["measure"] == "activations"
    assert rows[0]["value"] == "1"
    start, end = (
        datetime.fromisoformat(rows[0]["from (UTC)"]),
        datetime.fromisoformat(rows[0]["to (UTC)"]),
    )
    assert timedelta(days=7) <= end - start < timedelta(days=7, minutes=11)


def test_the_oee_page_downloads_its_shift_and_week_for_those_shown_its_line(press_shift):
    manager = logged_in(make_user(role="manager"))
    elsewhere = logged_in(make_user(role="operator", lines=[make_asset().line]))

    page = manager.get(f"/lines/{press_shift.line_id}/oee/").content.decode()
    hidden = elsewhere.get(f"/lines/{press_shift.line_id}/oee/")

    week_csv = next(link for link in links(page, "oee") if "group=shift" in link)
    assert f"line_id={press_shift.line_id}" in week_csv
    assert 'data-export-span-s="604800"' in page
    assert manager.get(week_csv).status_code == 200
    assert hidden.status_code == 200
    assert links(hidden.content.decode(), "oee") == []


def test_the_asset_page_downloads_its_readings_for_those_shown_its_line(motor):
    vibration = motor.signals.get(slug="vibration")
    store((vibration, timezone.now() - timedelta(minutes=5), 1.5))
    own = logged_in(make_user(role="operator", lines=[motor.line]))
    elsewhere = logged_in(make_user(role="operator", lines=[make_asset().line]))

    page = own.get(f"/assets/{motor.pk}/").content.decode()
    csv_link, _ = links(page, "readings")

    assert "aggregation=raw" in csv_link
    assert 'id="export-ranges"' in page
    assert [r["value"] for r in by_header(csv_rows(own.get(csv_link)))] == ["1.5"]
    assert links(elsewhere.get(f"/assets/{motor.pk}/").content.decode(), "readings") == []
