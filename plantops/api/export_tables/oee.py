"""The OEE export: a line's or an asset's OEE per hour or per shift, with the losses."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError

from plantops.api import selectors as api_selectors
from plantops.api.export_tables.shared import local, stamp
from plantops.api.exports import Column, Table
from plantops.oee.calculation import Oee


def _minutes(seconds: float) -> float:
    return round(seconds / 60, 3)


def oee_table(
    user: Any,
    *,
    line_id: int | None,
    asset_id: int | None,
    start: datetime,
    end: datetime,
    group: str,
    now: datetime | None = None,
) -> Table:
    """A line's or an asset's OEE per UTC hour or per shift over [start, end), with the losses
    in minutes (one column per stop reason) and a last row for the whole range: the figures
    of GET /api/v1/oee (`oee_report`), refused and narrowed as it is."""
    if group not in ("hour", "shift"):
        raise ValidationError({"group": "Give hour or shift."})
    report = api_selectors.oee_report(
        user, line_id=line_id, asset_id=asset_id, start=start, end=end, group=group, now=now
    )
    zone = report.time_zone
    seconds: dict[str, float] = {}
    for oee in [report.total, *(bucket.oee for bucket in report.buckets)]:
        for code, lost in oee.downtime_by_reason.items():
            seconds[code] = seconds.get(code, 0.0) + lost
    reasons = [code for code, _ in sorted(seconds.items(), key=lambda i: (-i[1], i[0]))]
    columns = [
        Column("line"),
        Column("asset"),
        Column("bucket"),
        Column("shift"),
        Column("shift date", "date"),
        Column("start (UTC)", "time"),
        Column("end (UTC)", "time"),
        Column(f"start, site time ({zone})", "time"),
        Column(f"end, site time ({zone})", "time"),
        *(
            Column(name, "number")
            for name in (
                "availability (0-1)",
                "performance (0-1)",
                "quality (0-1)",
                "OEE (0-1)",
                "planned min",
                "run min",
                "down min",
                "total parts",
                "good parts",
                "breakdowns",
                "breakdown min",
                "setup and changeover min",
                "small stop min",
                "reduced speed min",
                "startup rejects",
                "production rejects",
                "no data min",
            )
        ),
        *(Column(f"down min: {report.reason_labels.get(c, c)}", "number") for c in reasons),
    ]
    place = (report.line.name, report.asset.name if report.asset else "")

    def row(kind: str, oee: Oee, begin: datetime, until: datetime, shift: str, day: Any) -> list:
        losses, speed = oee.losses, oee.reduced_speed_s
        return [
            *place,
            kind,
            shift,
            day,
            begin,
            until,
            local(begin, zone),
            local(until, zone),
            oee.availability,
            oee.performance,
            oee.quality,
            oee.oee,
            _minutes(oee.planned_s),
            _minutes(oee.run_s),
            _minutes(sum(oee.downtime_by_reason.values())),
            oee.total_count,
            oee.good_count,
            losses.breakdowns,
            _minutes(losses.breakdowns_s),
            _minutes(losses.changeover_s),
            _minutes(losses.small_stops_s),
            None if speed is None else _minutes(speed),
            losses.startup_rejects,
            losses.production_rejects,
            _minutes(losses.no_data_s),
            *(_minutes(oee.downtime_by_reason.get(code, 0.0)) for code in reasons),
        ]

    rows = [
        row(group, b.oee, b.start, b.end, b.shift, b.day if group == "shift" else None)
        for b in report.buckets
    ]
    rows.append(row("total", report.total, report.start, report.end, "", None))
    where = f"asset-{report.asset.pk}" if report.asset else f"line-{report.line.pk}"
    return Table(f"oee-{where}-per-{group}-{stamp(report.start)}", columns, rows)
