"""API v1: OEE of a line or asset over a range, per hour or per shift, with the losses.

The figures are the OEE screens' own (`plantops.oee.selectors`); this module only says them
in minutes and names the stop reasons.
"""

# No `from __future__ import annotations`: ninja builds the query parameters from the
# operations' annotations, which it cannot resolve when they are strings.

from datetime import date, datetime
from typing import Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from plantops.api import selectors
from plantops.oee.calculation import Oee

router = Router(tags=["oee"])

UTC_NOTE = "RFC 3339 with the offset of the caller's zone."


class OeeQuery(Schema):
    line_id: int | None = Field(None, description="The line (its producing assets together).")
    asset_id: int | None = Field(None, description="One asset, instead of a line.")
    start: datetime = Field(
        ..., alias="from", description="Start of the range, inclusive; with an offset (Z)."
    )
    end: datetime = Field(..., alias="to", description="End of the range, exclusive.")
    group: Literal["none", "hour", "shift"] = Field(
        "none",
        description="Buckets: none; per UTC hour (at most 31 days); per shift (at most 31 "
        "days). Without buckets, at most 400 days.",
    )


class ReasonLoss(Schema):
    code: str = Field(description='The stop reason code; "" for stops nobody explained yet.')
    label: str
    minutes: float = Field(description="Down or idle minutes within planned time.")


class Losses(Schema):
    by_reason: list[ReasonLoss] = Field(description="Largest first.")
    breakdowns: int = Field(description="Breakdowns begun in the range.")
    breakdown_minutes: float
    setup_changeover_minutes: float
    small_stop_minutes: float = Field(description="Short stops and idle time.")
    reduced_speed_minutes: float | None = Field(
        description="Run time not explained by the parts at ideal speed; null without an "
        "ideal cycle time."
    )
    startup_rejects: int
    production_rejects: int
    no_data_minutes: float = Field(
        description="Planned minutes with no machine state known (nothing reported yet): its "
        "own loss, left out of availability rather than counted as a stop."
    )


class OeeFigures(Schema):
    start: datetime = Field(description=UTC_NOTE)
    end: datetime = Field(description=f"{UTC_NOTE} Figures count up to now if it is later.")
    availability: float | None = Field(
        description="0–1: run time over the planned time whose machine state is known; null "
        "without such time."
    )
    performance: float | None = Field(description="0–1; null without run time or cycle time.")
    quality: float | None = Field(description="0–1; null without parts.")
    oee: float | None = Field(description="0–1: availability × performance × quality.")
    planned_minutes: float = Field(description="Shift time less breaks and planned stops.")
    run_minutes: float
    down_minutes: float = Field(
        description="Planned minutes the machines were down or idle: the sum of the losses "
        "by reason (changeover is its own loss)."
    )
    total_count: int
    good_count: int
    losses: Losses
    status: Literal["ok", "no_plan"] = Field(description="no_plan: no shift planned the range.")


class OeeBucketOut(OeeFigures):
    shift: str | None = Field(description="The shift's name (group=shift).")
    shift_date: date | None = Field(
        description="The local date the shift belongs to (the day it starts on), in the "
        "site's time zone (group=shift)."
    )


class OeeOut(Schema):
    line_id: int
    asset_id: int | None
    asset_ids: list[int] = Field(description="The assets counted: a line's producing assets.")
    group: str
    timezone: str = Field(description="The site's IANA time zone, in which shifts are planned.")
    total: OeeFigures
    buckets: list[OeeBucketOut] = Field(description="In time order; empty for group=none.")


def _minutes(seconds: float) -> float:
    return round(seconds / 60, 3)


def _figures(oee: Oee, start: datetime, end: datetime, labels: dict[str, str]) -> dict:
    losses = oee.losses
    speed = oee.reduced_speed_s
    by_reason = sorted(oee.downtime_by_reason.items(), key=lambda item: (-item[1], item[0]))
    return {
        "start": start,
        "end": end,
        "availability": oee.availability,
        "performance": oee.performance,
        "quality": oee.quality,
        "oee": oee.oee,
        "planned_minutes": _minutes(oee.planned_s),
        "run_minutes": _minutes(oee.run_s),
        "down_minutes": _minutes(sum(oee.downtime_by_reason.values())),
        "total_count": oee.total_count,
        "good_count": oee.good_count,
        "losses": {
            "by_reason": [
                {"code": code, "label": labels.get(code, code), "minutes": _minutes(seconds)}
                for code, seconds in by_reason
                if seconds > 0
            ],
            "breakdowns": losses.breakdowns,
            "breakdown_minutes": _minutes(losses.breakdowns_s),
            "setup_changeover_minutes": _minutes(losses.changeover_s),
            "small_stop_minutes": _minutes(losses.small_stops_s),
            "reduced_speed_minutes": None if speed is None else _minutes(speed),
            "startup_rejects": losses.startup_rejects,
            "production_rejects": losses.production_rejects,
            "no_data_minutes": _minutes(losses.no_data_s),
        },
        "status": "ok" if oee.has_plan else "no_plan",
    }


@router.get(
    "/oee",
    response=OeeOut,
    summary="OEE of a line or asset",
    description="Availability, performance, quality and OEE over [from, to), with planned, "
    "run and down minutes, part counts and the losses, in all and per hour or per shift. "
    "Give line_id or asset_id.",
)
def get_oee(request: HttpRequest, query: Query[OeeQuery]):
    report = selectors.oee_report(
        request.user,
        line_id=query.line_id,
        asset_id=query.asset_id,
        start=query.start,
        end=query.end,
        group=query.group,
    )
    labels = report.reason_labels
    return {
        "line_id": report.line.pk,
        "asset_id": report.asset.pk if report.asset else None,
        "asset_ids": report.asset_ids,
        "group": report.group,
        "timezone": report.time_zone,
        "total": _figures(report.total, report.start, report.end, labels),
        "buckets": [
            _figures(bucket.oee, bucket.start, bucket.end, labels)
            | {"shift": bucket.shift or None, "shift_date": bucket.day}
            for bucket in report.buckets
        ],
    }
