"""Exports: a table of rows sent as CSV, streamed while it is read, or as an XLSX workbook.

A `Table` is its columns and an iterator of rows that reads the database lazily (querysets
iterated with `.iterator(chunk_size=…)`, the readings' history a window at a time), so no format
holds more than a chunk of rows at once: memory stays flat however many rows are sent
(bench/exports.py measures it at a million).

- CSV: `csv.writer` writes into a small buffer that is handed on every ~64 KiB through a
  StreamingHttpResponse. UTF-8 with a byte-order mark, so that Excel reads °C and names right.
- XLSX: openpyxl cannot stream to a socket, because a workbook is a zip archive whose
  directory is written last. Its write-only mode keeps no cells (each row goes to a temporary
  file as it is appended), so the workbook is built in a temporary file, which FileResponse
  then sends. A sheet holds at most 1,048,576 rows: a larger export is refused (400).

Under ASGI (daphne) Django reads a synchronous iterator whole into memory before sending it,
and under WSGI it does the same with an asynchronous one: `served` (plantops/api/streaming.py)
gives each server the kind it streams, and under ASGI the database is still read in the
request's own thread.

"time" columns hold aware datetimes: CSV writes them in ISO 8601 with their offset (Z for UTC);
Excel has no time zones, so XLSX gets the same wall-clock time and the header names the zone.
Text a spreadsheet would run as a formula is written as text (CSV: after an apostrophe, as
OWASP advises for CSV injection).
"""

from __future__ import annotations

import csv
import math
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import IO, Any, Literal

from django.core.exceptions import ValidationError
from django.core.handlers.asgi import ASGIRequest
from django.http import FileResponse, HttpRequest, StreamingHttpResponse
from django.utils.http import content_disposition_header
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from plantops.api.streaming import async_chunks, served

Kind = Literal["text", "number", "time", "date"]
FileFormat = Literal["csv", "xlsx"]

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# One sheet's rows, less the header: Excel's own limit.
XLSX_MAX_ROWS = 1_048_575
# Excel shows at most this many characters in a cell.
XLSX_MAX_TEXT = 32_767
# What the CSV writer hands on at a time: large enough that a million rows are a few hundred
# sends, small enough to be nothing beside the rows' own read.
CSV_CHUNK = 64 * 1024
FILE_CHUNK = 64 * 1024
# A cell starting with one of these is a formula to a spreadsheet.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True, slots=True)
class Column:
    header: str
    kind: Kind = "text"


@dataclass(slots=True)
class Table:
    """What an export sends: `name` (the file's name, without extension), the columns and the
    rows, each a sequence of values in the columns' order (None for an empty cell)."""

    name: str
    columns: list[Column]
    rows: Iterable[Iterable[Any]]


def export_response(
    request: HttpRequest, table: Table, *, file_format: FileFormat
) -> StreamingHttpResponse:
    """The table as a download: CSV streamed, or XLSX built in a temporary file and sent.

    Raises ValidationError (naming `fmt`) for an XLSX export with more rows than a sheet
    holds; it is found while building, before anything is sent."""
    if file_format == "xlsx":
        return _xlsx_response(request, table)
    response = StreamingHttpResponse(served(request, csv_chunks(table)), content_type=CSV_TYPE)
    _as_download(response, f"{table.name}.csv")
    return response


def _as_download(response: StreamingHttpResponse, filename: str) -> None:
    response["Content-Disposition"] = content_disposition_header(True, filename)
    # Plant data: kept by no shared cache on the way.
    response["Cache-Control"] = "private, no-store"


# --- CSV -----------------------------------------------------------------------------------------


class _Buffer:
    """What `csv.writer` writes into: the text since the last chunk was taken."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.size = 0

    def write(self, text: str) -> None:
        self.parts.append(text)
        self.size += len(text)

    def take(self) -> bytes:
        chunk = "".join(self.parts).encode()
        self.parts, self.size = [], 0
        return chunk


def csv_chunks(table: Table) -> Iterator[bytes]:
    """The table as CSV, in chunks of about CSV_CHUNK bytes: the header row, then the rows."""
    buffer = _Buffer()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow([column.header for column in table.columns])
    converters = [_CSV_VALUE[column.kind] for column in table.columns]
    for row in table.rows:
        writer.writerow([convert(value) for convert, value in zip(converters, row, strict=True)])
        if buffer.size >= CSV_CHUNK:
            yield buffer.take()
    yield buffer.take()


def _csv_text(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _csv_number(value: Any) -> Any:
    return None if isinstance(value, float) and math.isnan(value) else value


def _csv_time(value: datetime | None) -> str | None:
    if value is None:
        return None
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _csv_date(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


_CSV_VALUE: dict[str, Callable[[Any], Any]] = {
    "text": _csv_text,
    "number": _csv_number,
    "time": _csv_time,
    "date": _csv_date,
}


# --- XLSX ----------------------------------------------------------------------------------------


def _xlsx_response(request: HttpRequest, table: Table) -> FileResponse:
    # Nameless on Linux and gone once closed, which the response does when it has been sent or
    # the client went away (so no `with` block can hold it): no workbook is left behind.
    file = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115
    try:
        write_xlsx(table, file)
    except BaseException:
        file.close()
        raise
    file.seek(0)
    response = FileResponse(
        file, as_attachment=True, filename=f"{table.name}.xlsx", content_type=XLSX_TYPE
    )
    if isinstance(request, ASGIRequest):
        response.streaming_content = async_chunks(iter(lambda: file.read(FILE_CHUNK), b""))
    response["Cache-Control"] = "private, no-store"
    return response


def write_xlsx(table: Table, file: IO[bytes]) -> int:
    """Write the table as a one-sheet workbook into `file`; return the number of rows.

    Raises ValidationError when the rows do not fit in a sheet."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=table.name[:31])
    sheet.freeze_panes = "A2"
    sheet.append([column.header for column in table.columns])
    converters = [_XLSX_VALUE[column.kind] for column in table.columns]
    written = 0
    try:
        for row in table.rows:
            written += 1
            if written > XLSX_MAX_ROWS:
                raise ValidationError(
                    {
                        "fmt": f"More than {XLSX_MAX_ROWS:,} rows: more than an XLSX sheet "
                        "holds. Ask for CSV, a shorter range or a coarser aggregation."
                    }
                )
            sheet.append(
                [convert(sheet, value) for convert, value in zip(converters, row, strict=True)]
            )
    except BaseException:
        _discard(sheet)
        raise
    workbook.save(file)
    return written


def _discard(sheet: Any) -> None:
    """Close an unfinished sheet and remove the temporary file openpyxl keeps its rows in,
    which it removes itself only when the workbook is saved or the process exits."""
    try:
        sheet.close()
    finally:
        if sheet._writer is not None:
            sheet._writer.cleanup()


def _xlsx_text(sheet: Any, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if ILLEGAL_CHARACTERS_RE.search(value):  # control characters have no place in XML
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    value = value[:XLSX_MAX_TEXT]
    if value.startswith("="):
        # openpyxl stores "=…" as a formula: a note such as "=HYPERLINK(…)" stays text.
        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"
        return cell
    return value


def _xlsx_number(sheet: Any, value: Any) -> Any:
    return None if isinstance(value, float) and not math.isfinite(value) else value


def _xlsx_time(sheet: Any, value: datetime | None) -> datetime | None:
    return None if value is None else value.replace(tzinfo=None)


def _xlsx_date(sheet: Any, value: date | None) -> date | None:
    return value


_XLSX_VALUE: dict[str, Callable[[Any, Any], Any]] = {
    "text": _xlsx_text,
    "number": _xlsx_number,
    "time": _xlsx_time,
    "date": _xlsx_date,
}
