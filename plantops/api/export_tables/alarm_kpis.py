"""The alarm KPIs export: the figures of the alarm KPI page, one a row."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import timezone

from plantops.alerts import kpis
from plantops.alerts import selectors as alert_selectors
from plantops.api.export_tables.shared import require_range, stamp
from plantops.api.exports import Column, Table
from plantops.assets.models import Line

MAX_KPI_RANGE = timedelta(days=92)

KPI_COLUMNS = [
    Column("section"),
    Column("position"),
    Column("alarm"),
    Column("asset"),
    Column("priority"),
    Column("measure"),
    Column("value", "number"),
    Column("unit"),
    Column("from (UTC)", "time"),
    Column("to (UTC)", "time"),
    Column("from (local time)", "time"),
    Column("to (local time)", "time"),
    Column("time zone"),
]


def alarm_kpis_table(
    user: Any, *, start: datetime, end: datetime, line_ids: Sequence[int] | None = None
) -> Table:
    """The alarm KPIs of the alarm KPI page over [start, end) (at most MAX_KPI_RANGE), of some
    lines or of every line `user` is shown, one figure a row: section, position (the line),
    alarm and asset where the figure is one alarm's, the measure, its value and unit, and the
    times it is about. Refused as the alerts are; 404 for a line an operator is not shown."""
    shown = alert_selectors.seen_line_ids(user)
    require_range(start, end)
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    if end - start > MAX_KPI_RANGE:
        raise ValidationError({"to": f"At most {MAX_KPI_RANGE.days} days from from to to."})
    asked = list(dict.fromkeys(line_ids or ()))
    if shown is not None and any(line not in shown for line in asked):
        raise Http404
    if asked and Line.objects.filter(pk__in=asked).count() < len(asked):
        raise Http404
    lines = asked or (None if shown is None else sorted(shown))
    if lines == []:  # an operator without a line: no alarm is theirs (an empty filter is all)
        activations, spans = [], []
    else:
        activations, spans = alert_selectors.alarm_kpi_inputs(start=start, end=end, line_ids=lines)
    report = kpis.alarm_kpis(activations, spans, start=start, end=end)
    return Table(f"alarm-kpis-{stamp(start)}-{stamp(end)}", KPI_COLUMNS, _kpi_rows(report))


def _kpi_rows(report: kpis.AlarmKpis) -> list[list]:
    # The period in UTC, then on the clock of whoever asked (their own zone, else their
    # plant's: plantops.assets.clock), which it names.
    zone = timezone.get_current_timezone()

    def span(start: datetime | None, end: datetime | None) -> tuple:
        """From and to in UTC, then in the zone, which the last column names."""

        def there(moment: datetime | None) -> datetime | None:
            return None if moment is None else moment.astimezone(zone)

        return (start, end, there(start), there(end), str(zone))

    period = span(report.start, report.end)
    rows: list[list] = [
        ["period", "", "", "", "", "activations", report.activations, "alarms", *period]
    ]
    for rate in report.rates:
        p = rate.position
        peak = span(rate.peak_at, rate.peak_at + kpis.RATE_WINDOW if rate.peak_at else None)
        rows += [
            ["rate", p, "", "", "", "activations", rate.activations, "alarms", *period],
            [
                "rate",
                p,
                "",
                "",
                "",
                "average per 10 min",
                rate.average_per_10min,
                "alarms",
                *period,
            ],
            ["rate", p, "", "", "", "peak per 10 min", rate.peak_per_10min, "alarms", *peak],
        ]
    for p, flood in report.floods.items():
        rows.append(
            ["flood", p, "", "", "", "time in flood", flood.percent_of_period, "%", *period]
        )
        rows += [
            ["flood", p, "", "", "", "flood", (b - a).total_seconds(), "s", *span(a, b)]
            for a, b in flood.intervals
        ]
    for actor in report.bad_actors:
        alarm = ["bad actor", actor.position, actor.key, actor.asset, ""]
        rows += [
            [*alarm, "activations", actor.activations, "alarms", *period],
            [*alarm, "share of all activations", actor.percent_of_all, "%", *period],
        ]
    for chatter in report.chattering:
        alarm = ["chattering", chatter.position, chatter.key, chatter.asset, ""]
        rows += [
            [
                *alarm,
                "most in 60 s",
                chatter.most_in_60s,
                "alarms",
                *span(chatter.first_burst_at, None),
            ],
            [*alarm, "activations", chatter.activations, "alarms", *period],
        ]
    for stale in report.stale:
        rows.append(
            [
                "stale",
                stale.position,
                stale.key,
                stale.asset,
                stale.priority.value,
                "active for",
                round(stale.active_for.total_seconds() / 3600, 2),
                "h",
                *span(stale.raised_at, report.end),
            ]
        )
    mix = report.priority_mix
    rows.append(
        ["priority mix", "", "", "", "critical", "share", mix.critical_percent, "%", *period]
    )
    for bucket in mix.buckets:
        rows += [
            [
                "priority mix",
                "",
                "",
                "",
                bucket.name,
                "activations",
                bucket.count,
                "alarms",
                *period,
            ],
            ["priority mix", "", "", "", bucket.name, "share", bucket.percent, "%", *period],
            [
                "priority mix",
                "",
                "",
                "",
                bucket.name,
                "target share",
                bucket.target_percent,
                "%",
                *period,
            ],
        ]
    return rows
