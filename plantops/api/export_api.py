"""API v1: exports as CSV or XLSX files: OEE per hour or per shift with the losses, alerts with
their events, work orders with codes, minutes and parts, readings at an aggregation, and the
alarm KPIs.

The format is the path's extension: `/exports/oee.csv` or `/exports/oee.xlsx`. CSV streams
while it is read, so it suits any size; XLSX is built whole before it is sent and holds at
most 1,048,576 rows (`plantops.api.exports`). The rows, the role checks and an operator's lines
are those of the matching JSON operations (`plantops.api.export_tables`). The screens link
here with their own filters; a logged-in session may download with a plain GET.
"""

# No `from __future__ import annotations`: ninja builds the query parameters from the
# operations' annotations, which it cannot resolve when they are strings.
from datetime import UTC, datetime
from typing import Annotated, Literal

from django.http import HttpRequest, HttpResponseBase
from ninja import Field, Query, Router, Schema
from pydantic import AfterValidator, AwareDatetime

from plantops.alerts.lifecycle import AlarmState, Priority
from plantops.api import export_tables
from plantops.api.exports import CSV_TYPE, XLSX_MAX_ROWS, XLSX_TYPE, export_response
from plantops.maintenance.models import WorkOrderKind
from plantops.maintenance.workflow import Status
from plantops.telemetry.history import Aggregation

router = Router(tags=["exports"])

Format = Literal["csv", "xlsx"]


# The times a plant's data can have, with room on both sides: a time at the edge of the
# calendar is bad input (400), never an overflow in the arithmetic behind an export.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)


def _in_utc(moment: datetime) -> datetime:
    try:
        moment = moment.astimezone(UTC)
    except OverflowError:
        raise ValueError("must be from 1970 to 2199") from None
    if not EARLIEST <= moment < LATEST:
        raise ValueError("must be from 1970 to 2199")
    return moment


Time = Annotated[AwareDatetime, AfterValidator(_in_utc)]

FILE = {
    "responses": {
        200: {
            "description": "The file, as an attachment (`Content-Disposition`). CSV: UTF-8 "
            "with a byte-order mark, comma-separated, a header row, streamed; times in ISO "
            "8601 with their offset (Z for UTC). XLSX: one sheet with a header row, times "
            f"without an offset in the zone the header names; at most {XLSX_MAX_ROWS:,} "
            "rows (more is a 400). Text a spreadsheet would run as a formula is kept as "
            "text: in CSV after an apostrophe.",
            "content": {
                CSV_TYPE.split(";")[0]: {"schema": {"type": "string"}},
                XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}},
            },
        }
    }
}
FORMAT = "csv or xlsx."


class OeeExportQuery(Schema):
    line_id: int | None = Field(None, description="The line (its producing assets together).")
    asset_id: int | None = Field(None, description="One asset, instead of a line.")
    start: Time = Field(..., alias="from", description="Inclusive; with an offset (Z).")
    end: Time = Field(..., alias="to", description="Exclusive; at most 31 days after from.")
    group: Literal["hour", "shift"] = Field(
        "hour", description="A row per UTC hour or per shift, and a last row for the range."
    )


@router.get(
    "/exports/oee.{fmt}",
    url_name="export_oee",
    summary="OEE per hour or per shift, with the losses, as a file",
    description="The figures of GET /oee: availability, performance, quality and OEE (0–1), "
    "planned, run and down minutes, parts, the six big losses and the down minutes of each "
    "stop reason, per hour or per shift of [from, to), and a last row `total`.",
    openapi_extra=FILE,
)
def export_oee(request: HttpRequest, fmt: Format, query: Query[OeeExportQuery]) -> HttpResponseBase:
    table = export_tables.oee_table(
        request.user,
        line_id=query.line_id,
        asset_id=query.asset_id,
        start=query.start,
        end=query.end,
        group=query.group,
    )
    return export_response(request, table, file_format=fmt)


class AlertsExportQuery(Schema):
    state: list[AlarmState] | None = Field(None, description="Alerts in any of these states.")
    priority: list[Priority] | None = Field(None, description="Of any of these priorities.")
    line_id: list[int] | None = Field(None, description="On any of these lines.")
    asset_id: int | None = None
    start: Time | None = Field(None, alias="from", description="Events at or after; with Z.")
    end: Time | None = Field(None, alias="to", description="Events before.")


@router.get(
    "/exports/alerts.{fmt}",
    url_name="export_alerts",
    summary="Alerts with their events, as a file",
    description="A row per event of each alert the caller is shown (an operator: their own "
    "lines), grouped by alert, oldest event first: the alert (rule, line, asset, priority, "
    "state now) and the event (kind, time in UTC and in the site's zone, who, note, state "
    "after it, late delivery).",
    openapi_extra=FILE,
)
def export_alerts(
    request: HttpRequest, fmt: Format, query: Query[AlertsExportQuery]
) -> HttpResponseBase:
    table = export_tables.alerts_table(
        request.user,
        states=query.state,
        priorities=query.priority,
        line_ids=query.line_id,
        asset_id=query.asset_id,
        start=query.start,
        end=query.end,
    )
    return export_response(request, table, file_format=fmt)


class WorkOrdersExportQuery(Schema):
    status: Status | Literal["open"] | None = Field(
        None, description="One status, or `open` for all not done or cancelled."
    )
    kind: WorkOrderKind | None = None
    asset_id: int | None = None
    line_id: int | None = None
    assignee: str | None = Field(
        None, pattern=r"^[^\x00]*$", description="The technician's username."
    )
    code_id: int | None = Field(None, description="A failure code: problem, cause or remedy.")
    q: str = Field(
        "", max_length=200, pattern=r"^[^\x00]*$", description="Words, as GET /work-orders."
    )
    start: Time | None = Field(None, alias="from", description="Created at or after; with Z.")
    end: Time | None = Field(None, alias="to", description="Created before.")


@router.get(
    "/exports/work-orders.{fmt}",
    url_name="export_work_orders",
    summary="Work orders with codes, minutes and parts, as a file",
    description="The work orders GET /work-orders finds with the same filters, newest first: "
    "status, times (UTC, and the creation in the site's zone), estimated and actual minutes, "
    "problem, cause and remedy codes, outcome, closing note and the parts taken.",
    openapi_extra=FILE,
)
def export_work_orders(
    request: HttpRequest, fmt: Format, query: Query[WorkOrdersExportQuery]
) -> HttpResponseBase:
    table = export_tables.work_orders_table(
        request.user,
        status=query.status,
        kind=query.kind,
        asset_id=query.asset_id,
        line_id=query.line_id,
        assignee=query.assignee,
        code_id=query.code_id,
        text=query.q,
        start=query.start,
        end=query.end,
    )
    return export_response(request, table, file_format=fmt)


class ReadingsExportQuery(Schema):
    signal_id: list[int] | None = Field(None, description="A signal; repeat it for more.")
    asset_id: int | None = Field(None, description="Or: every signal of this asset.")
    start: Time = Field(..., alias="from", description="Inclusive; with an offset (Z).")
    end: Time = Field(..., alias="to", description="Exclusive.")
    aggregation: Aggregation = Field(
        Aggregation.MINUTE, description="raw readings, or minute or hour aggregates."
    )


@router.get(
    "/exports/readings.{fmt}",
    url_name="export_readings",
    summary="Readings at an aggregation, as a file",
    description="The points of GET /readings as rows, signal after signal, each in time "
    "order: raw readings (`value`), or minute or hour buckets (`min`, `max`, `mean`, `last`, "
    f"`count`). Any range a CSV of at most {export_tables.MAX_CSV_ROWS:,} rows holds "
    "(estimated from the signals' sampling intervals; XLSX: a sheet's rows).",
    openapi_extra=FILE,
)
def export_readings(
    request: HttpRequest, fmt: Format, query: Query[ReadingsExportQuery]
) -> HttpResponseBase:
    table = export_tables.readings_table(
        request.user,
        signal_ids=query.signal_id,
        asset_id=query.asset_id,
        start=query.start,
        end=query.end,
        aggregation=query.aggregation,
        max_rows=XLSX_MAX_ROWS if fmt == "xlsx" else export_tables.MAX_CSV_ROWS,
    )
    return export_response(request, table, file_format=fmt)


class AlarmKpisExportQuery(Schema):
    start: Time = Field(..., alias="from", description="Inclusive; with an offset (Z).")
    end: Time = Field(..., alias="to", description="Exclusive; at most 92 days after from.")
    line_id: list[int] | None = Field(None, description="These lines (positions) only.")


@router.get(
    "/exports/alarm-kpis.{fmt}",
    url_name="export_alarm_kpis",
    summary="Alarm KPIs (EEMUA 191, ISA-18.2), as a file",
    description="The figures of the alarm KPI page, one a row: the rate per position, time "
    "in flood and each flood, bad actors, chattering and stale alarms, and the priority mix "
    "against its target.",
    openapi_extra=FILE,
)
def export_alarm_kpis(
    request: HttpRequest, fmt: Format, query: Query[AlarmKpisExportQuery]
) -> HttpResponseBase:
    table = export_tables.alarm_kpis_table(
        request.user, start=query.start, end=query.end, line_ids=query.line_id
    )
    return export_response(request, table, file_format=fmt)
