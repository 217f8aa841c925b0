"""The work orders export: with their failure codes, minutes and the parts taken."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from itertools import islice
from typing import Any

from django.utils import timezone

from plantops.api.export_tables.shared import CHUNK, local, require_range, stamp
from plantops.api.exports import Column, Table
from plantops.maintenance import selectors as maintenance_selectors
from plantops.maintenance.models import PartUse

WORK_ORDER_COLUMNS = [
    Column("number"),
    Column("kind"),
    Column("priority"),
    Column("status"),
    Column("line"),
    Column("asset"),
    Column("title"),
    Column("description"),
    Column("requested by"),
    Column("assignee"),
    Column("created (UTC)", "time"),
    Column("created (site time)", "time"),
    Column("site time zone"),
    Column("due (UTC)", "time"),
    Column("started (UTC)", "time"),
    Column("completed (UTC)", "time"),
    Column("due (site time)", "time"),
    Column("started (site time)", "time"),
    Column("completed (site time)", "time"),
    Column("estimated min", "number"),
    Column("actual min", "number"),
    Column("problem code"),
    Column("problem"),
    Column("cause code"),
    Column("cause"),
    Column("remedy code"),
    Column("remedy"),
    Column("outcome"),
    Column("closing note"),
    Column("parts"),
    Column("parts quantity", "number"),
    Column("alert id", "number"),
    Column("prediction id", "number"),
]
_WORK_ORDER_FIELDS = (
    "pk",
    "kind",
    "priority",
    "status",
    "asset__line__name",
    "asset__name",
    "title",
    "description",
    "requested_by__username",
    "assignee__username",
    "created_at",
    "asset__line__area__site__timezone",
    "due_at",
    "started_at",
    "completed_at",
    "estimated_minutes",
    "actual_minutes",
    "problem__code",
    "problem__label",
    "cause__code",
    "cause__label",
    "remedy__code",
    "remedy__label",
    "outcome",
    "notes",
    "alert_id",
    "prediction_id",
)


def work_orders_table(
    user: Any,
    *,
    status: str | None = None,
    kind: str | None = None,
    asset_id: int | None = None,
    line_id: int | None = None,
    assignee: str | None = None,
    code_id: int | None = None,
    text: str = "",
    start: datetime | None = None,
    end: datetime | None = None,
) -> Table:
    """The work orders `user` may see that match (`work_orders_found`: the filters and search
    of GET /api/v1/work-orders), created in [start, end) (either end open), newest first: with
    their failure codes, minutes and the parts taken for them."""
    require_range(start, end)
    found = maintenance_selectors.work_orders_found(
        user=user,
        status=status,
        kind=kind,
        asset_id=asset_id,
        line_id=line_id,
        assignee=assignee,
        code_id=code_id,
        text=text,
    )
    if start is not None:
        found = found.filter(created_at__gte=start)
    if end is not None:
        found = found.filter(created_at__lt=end)
    rows = found.order_by("-created_at", "-pk").values_list(*_WORK_ORDER_FIELDS)
    name = f"work-orders-{stamp(end or timezone.now())}"
    return Table(name, WORK_ORDER_COLUMNS, _work_order_rows(rows))


def _work_order_rows(rows: Any) -> Iterator[list]:
    """The rows, a chunk at a time with the parts of the chunk's work orders in one query."""
    found = rows.iterator(chunk_size=CHUNK)
    while chunk := list(islice(found, CHUNK)):
        parts: dict[int, list[tuple[str, int, str]]] = {}
        for work_order_id, number, quantity, unit in (
            PartUse.objects.filter(work_order_id__in=[row[0] for row in chunk])
            .order_by("work_order_id", "used_at", "pk")
            .values_list("work_order_id", "part__number", "quantity", "part__unit")
        ):
            parts.setdefault(work_order_id, []).append((number, quantity, unit))
        for row in chunk:
            pk, head, (created, zone), times, codes = (
                row[0],
                row[1:10],
                row[10:12],
                row[12:17],
                row[17:25],
            )
            alert_id, prediction_id = row[25:]
            taken = parts.get(pk, [])
            yield [
                f"WO-{pk}",
                *head,
                created,
                local(created, zone),
                zone,
                *times[:3],
                *(local(moment, zone) for moment in times[:3]),
                *times[3:],
                *codes,
                "; ".join(f"{number} × {quantity} {unit}" for number, quantity, unit in taken),
                sum(quantity for _, quantity, _ in taken),
                alert_id,
                prediction_id,
            ]
