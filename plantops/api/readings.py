"""API v1: readings: raw, minute or hour aggregates of signals over a range, and the latest values."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, tzinfo

import orjson
from django.http import HttpRequest, StreamingHttpResponse
from ninja import Field, Query, Router, Schema

from plantops.api import selectors
from plantops.api.clock import requester_zone
from plantops.api.streaming import served
from plantops.telemetry.history import MAX_POINTS, MAX_SIGNALS, Aggregation, History, signal_history

router = Router(tags=["readings"])

UTC_TIMES = "UTC (`Z`), RFC 3339: point columns are not converted, to keep them fast."
ZONED = "RFC 3339 with the offset of the caller's zone."


class ReadingsQuery(Schema):
    signal_id: list[int] = Field(..., description="A signal's id; repeat it for more signals.")
    start: datetime = Field(..., alias="from", description="Inclusive; with its UTC offset.")
    end: datetime = Field(..., alias="to", description="Exclusive; with its UTC offset.")
    aggregation: Aggregation = Field(
        Aggregation.MINUTE, description="raw readings, or minute or hour aggregates."
    )


class AggregatePoints(Schema):
    ts: list[datetime] = Field(description=f"Each bucket's start, {UTC_TIMES}")
    min: list[float]
    max: list[float]
    mean: list[float]
    last: list[float | None] = Field(
        description="The bucket's newest reading; null for buckets rolled up before the "
        "last value was kept whose readings are past retention."
    )
    count: list[int] = Field(description="How many readings the bucket holds.")


class RawPoints(Schema):
    ts: list[datetime] = Field(description=f"Each reading's time, to the microsecond, {UTC_TIMES}")
    value: list[float]


class SeriesOut(Schema):
    signal_id: int
    slug: str
    name: str
    unit: str
    asset_id: int
    site_timezone: str = Field(
        description="The IANA time zone of the signal's site, to show the UTC times in."
    )
    points: AggregatePoints | RawPoints = Field(
        description="Columns of equal length, one entry per point, oldest first: `ts` with "
        "`value` for raw readings, with `min`, `max`, `mean`, `last` and `count` for minutes "
        "and hours."
    )


class ReadingsOut(Schema):
    aggregation: Aggregation
    source: str = Field(
        description="Where the points were read: readings, minute rollups or hour rollups."
    )
    from_: datetime = Field(alias="from", description=ZONED)
    to: datetime = Field(description=ZONED)
    signals: list[SeriesOut]


class LatestOut(Schema):
    signal_id: int
    slug: str
    name: str
    unit: str
    value: float | None = Field(description="Null until the signal has sent a reading.")
    ts: datetime | None = Field(description=f"When the value was read, {ZONED}")
    stale: bool = Field(
        description="No reading for 5 sampling intervals (at least 15 s): the value may no "
        "longer be true, as the floor's tiles say."
    )
    in_range: bool = Field(description="Within the signal's expected min and max, if set.")


class AssetLatestOut(Schema):
    asset_id: int
    slug: str
    name: str
    site_timezone: str
    no_data_since: datetime | None = Field(
        description=f"Since when the asset's gateway is known to be gone, {ZONED}"
    )
    signals: list[LatestOut]


@router.get(
    "/readings",
    response=ReadingsOut,
    summary="Readings of signals over a range",
    description=(
        "Raw readings, or minute or hour aggregates (min, max, mean, last, count), of one or "
        "more signals with `from <= time < to`. Minutes are read from the minute rollups and "
        "hours from the hour rollups, never from raw readings; both are written in the same "
        "transaction as the readings, so they cover everything stored up to now. Buckets are "
        "whole UTC minutes or hours, stamped with their start, and belong to the range when "
        "they start within it. Raw readings are kept for the retention period (400 days by "
        "default); rollups for longer.\n\n"
        f"One response holds at most {MAX_POINTS:,} points and {MAX_SIGNALS} signals: a "
        "request estimated to be larger (raw readings at each signal's sampling interval) is "
        "refused with 400, naming the limit and a coarser aggregation to ask for instead. "
        "Points come as columns, so a week of minutes of 20 signals is one response.\n\n"
        "`from` and `to` are given in the caller's zone, with its offset; the points' `ts` "
        "stay in UTC with a `Z` (writing 200,000 of them with local offsets costs 14× the UTC "
        "encoding, `bench/readings_offsets.py`): "
        "show them in `site_timezone` or the zone of `from`."
    ),
)
def get_readings(request: HttpRequest, query: Query[ReadingsQuery]) -> StreamingHttpResponse:
    zone = requester_zone(request)
    history = signal_history(
        user=request.user,
        signal_ids=query.signal_id,
        start=query.start,
        end=query.end,
        aggregation=query.aggregation,
    )
    return StreamingHttpResponse(
        served(request, readings_json(history, zone=zone)), content_type="application/json"
    )


# numpy times carry no zone: OPT_NAIVE_UTC writes them as the UTC they are, with a Z.
_ORJSON = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NAIVE_UTC | orjson.OPT_UTC_Z


def readings_json(history: History, *, zone: tzinfo = UTC) -> Iterator[bytes]:
    """The response body of `ReadingsOut`, encoded from the columns as they are, a signal at a
    time.

    Pydantic would build and check an object per point, costing more than the read itself
    for a week of minutes; orjson writes numpy arrays directly, times as RFC 3339 in UTC and
    NaN (an unknown last value) as null. A chunk per signal (a week of minutes is 1 MB) keeps
    a 20 MB body from ever being one buffer: a fresh buffer that size costs the server some
    5,000 page faults, which on a virtual machine took longer than the encoding (`bench/api.py`
    measured a p95 of 124 ms with one buffer).
    """
    head = {
        "aggregation": history.aggregation.value,
        "source": history.source,
        "from": history.start.astimezone(zone),
        "to": history.end.astimezone(zone),
    }
    # The head's closing brace gives way to the signals, which follow it one by one.
    yield orjson.dumps(head, option=_ORJSON)[:-1] + b',"signals":['
    for n, series in enumerate(history.series):
        signal = {
            "signal_id": series.signal_id,
            "slug": series.slug,
            "name": series.name,
            "unit": series.unit,
            "asset_id": series.asset_id,
            "site_timezone": series.site_timezone,
            "points": {"ts": series.ts_us.astype("datetime64[us]")} | series.columns,
        }
        yield (b"," if n else b"") + orjson.dumps(signal, option=_ORJSON)
    yield b"]}"


@router.get(
    "/assets/{asset_id}/latest",
    response=AssetLatestOut,
    summary="The latest value of every signal of an asset",
)
def get_asset_latest(request: HttpRequest, asset_id: int):
    asset, latest = selectors.asset_latest(request.user, asset_id=asset_id)
    return {
        "asset_id": asset.pk,
        "slug": asset.slug,
        "name": asset.name,
        "site_timezone": asset.line.area.site.timezone,
        "no_data_since": asset.no_data_since,
        "signals": latest,
    }
