"""The PlantOps MCP server: tools and resources over the same selectors and services as API v1,
acting as the user of an API token, within the token's scope.

The token comes from `PLANTOPS_API_TOKEN` over stdio (`manage.py mcp`) or from each request's
`Authorization: Bearer …` over streamable HTTP at /mcp (`mcp_http`). Every call checks it again,
so a token revoked or expired while a session is open stops working at once, and asks it as
the API would: a read token may not run a tool that writes. Each tool's description says what
it returns; results are bounded summaries in the plant's units, with times in the site's time
zone.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from typing import Annotated, Any, Literal

import anyio
from asgiref.sync import sync_to_async
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import connections
from django.http import Http404
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ToolError
from mcp_types import ToolAnnotations
from pydantic import AwareDatetime, Field

from plantops.api import mcp_alerts, mcp_maintenance, mcp_plant, mcp_production, mcp_resources
from plantops.core.auth import TokenRefused, token_user
from plantops.core.refusals import Refused

# The `Authorization` header the current request or stdio session acts with.
caller_header: ContextVar[str | None] = ContextVar("plantops_mcp_caller", default=None)

READS = ToolAnnotations(read_only_hint=True, open_world_hint=False)
WRITES = ToolAnnotations(
    read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=False
)
TIMES = "Times are ISO 8601 in the site's time zone, with its offset (`time_zone` names it)."

server = MCPServer(
    "plantops",
    title="PlantOps",
    instructions="Read the plant: assets, signals, alerts, OEE, predictions and maintenance, "
    "as the user of the API token sees them (an operator: their own lines). Values are in "
    "each signal's unit; OEE and ratios in percent; durations in minutes or hours as named. "
    f"{TIMES} Lists are capped and say how many there were: ask more narrowly for the rest. "
    "Two tools write (create_work_request, acknowledge_alert): they need a read and write "
    "token and a note, and record that they came through MCP and for whom.",
)


def tool(annotations: ToolAnnotations) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a tool, its docstring as its description on one line: what a model reads."""

    def register(function: Callable[..., Any]) -> Callable[..., Any]:
        description = " ".join((function.__doc__ or "").split())
        return server.tool(description=description, annotations=annotations)(function)

    return register


def _words(error: ValidationError) -> str:
    if hasattr(error, "error_dict"):
        return "; ".join(f"{field}: {' '.join(m)}" for field, m in error.message_dict.items())
    return " ".join(error.messages)


async def as_caller(
    action: Callable[..., Any], /, *, writes: bool = False, error: type[Exception] = ToolError, **kw
) -> Any:
    """`action(user, **kw)` as the user of the caller's token (which must be a read and write
    token if it `writes`), in Django's thread for the ORM; whatever the plant refuses (the
    token, the role, the line, the input) is raised as `error` in the plant's own words."""
    header = caller_header.get()
    if header is None:
        raise error("No API token: send Authorization: Bearer <token>.")

    def run() -> Any:
        try:
            return action(token_user(header, "POST" if writes else "GET"), **kw)
        finally:
            # Over HTTP the thread is the request's own and ends with it (as Django's are):
            # its connection must not outlive the call.
            connections.close_all()

    try:
        return await sync_to_async(run, thread_sensitive=True)()
    except TokenRefused as refused:
        if refused.status == 403:
            raise error(f"This tool changes the plant, and {refused}.") from None
        raise error(f"The API token was refused: {refused}.") from None
    except (Refused, PermissionDenied) as refused:
        raise error(str(refused) or "Not allowed.") from None
    except ValidationError as invalid:
        raise error(_words(invalid)) from None
    except (Http404, ObjectDoesNotExist) as missing:
        raise error(str(missing) or "Not found.") from None


AssetId = Annotated[int, Field(description="An asset's id (find_assets lists them).")]
LineId = Annotated[int | None, Field(description="Only this line (its id).")]
Limit = Annotated[int, Field(ge=1, le=100, description="At most this many rows (1–100).")]
Note = Annotated[
    str,
    Field(
        min_length=1,
        max_length=400,
        pattern=r"^[^\x00]*\S[^\x00]*$",
        description="Why, in the user's words: recorded with the action, headed "
        '"Through MCP, for <user>:".',
    ),
]


# --- the plant and its signals -------------------------------------------------------------------


@tool(READS)
async def find_assets(
    text: Annotated[
        str, Field(max_length=200, description="Words in the name, type, line, area or site.")
    ] = "",
    line_id: LineId = None,
    limit: Limit = 25,
) -> dict[str, Any]:
    """Find assets (machines) by words and line. Returns `total` found and up to `limit`
    assets in floor order, each with its id, type, line, area, site, machine state (running,
    idle, down, planned_stop, changeover) and since when, out-of-service and no-data times,
    and its signals (id, name, unit). Times are in the asset's site time zone."""
    return await as_caller(mcp_plant.find_assets, text=text, line_id=line_id, limit=limit)


@tool(READS)
async def latest_values(asset_id: AssetId) -> dict[str, Any]:
    """The newest value of every signal of one asset, each in its own `unit`, with when it was
    read (site time zone), whether it is stale (no reading for 5 sampling intervals) and
    whether it is within the signal's expected range."""
    return await as_caller(mcp_plant.latest_values, asset_id=asset_id)


@tool(READS)
async def signal_trends(
    signal_ids: Annotated[
        list[int], Field(min_length=1, max_length=10, description="1–10 signal ids.")
    ],
    hours: Annotated[
        float, Field(gt=0, le=2160, description="How far back from `end`, up to 90 days.")
    ] = 24,
    end: Annotated[
        AwareDatetime | None, Field(description="End of the range, with its offset; now if none.")
    ] = None,
) -> dict[str, Any]:
    """Trends of signals over a range, aggregated: per signal its minimum, maximum, mean
    (weighted by readings), last value and change (last stretch's mean minus the first's),
    all in the signal's `unit`, and at most 48 points, each the min, max and mean of an equal
    stretch of the range. Read from minute rollups up to 6 hours, hour rollups beyond.
    Times in the site's time zone."""
    return await as_caller(mcp_plant.signal_trends, signal_ids=signal_ids, hours=hours, end=end)


# --- alerts --------------------------------------------------------------------------------------


@tool(READS)
async def open_alerts(
    line_id: LineId = None,
    asset_id: Annotated[int | None, Field(description="Only this asset.")] = None,
    priority: Annotated[
        Literal["critical", "high", "medium", "low"] | None, Field(description="Only this one.")
    ] = None,
    limit: Limit = 25,
) -> dict[str, Any]:
    """Open alerts (active, or returned to normal but not acknowledged: ISA-18.2), most urgent
    first, then newest. Returns counts per priority, unacknowledged and shelved, and up to
    `limit` alerts: priority, state and its meaning, message, rule, asset, line, the value
    that raised it in its `unit`, first and latest raise, occurrences, who acknowledged it,
    shelving and suppression. Times in the site's time zone."""
    return await as_caller(
        mcp_alerts.open_alerts,
        line_id=line_id,
        asset_id=asset_id,
        priority=priority,
        limit=limit,
    )


@tool(READS)
async def alert_history(
    alert_id: Annotated[int, Field(description="The alert's id.")], limit: Limit = 50
) -> dict[str, Any]:
    """One alert and its history: the alert as open_alerts gives it, its newest `limit`
    events oldest first (raised, returned, acknowledged, shelved, … with who and their note),
    and the same alarm's 5 most recent earlier alerts (same rule on the same asset) with how
    many there were. Times in the site's time zone."""
    return await as_caller(mcp_alerts.alert_history, alert_id=alert_id, limit=limit)


# --- production and health -----------------------------------------------------------------------


@tool(READS)
async def oee(
    line_id: Annotated[int | None, Field(description="A line: its producing assets.")] = None,
    asset_id: Annotated[int | None, Field(description="Or one asset.")] = None,
    start: Annotated[
        AwareDatetime | None, Field(description="Start, with its offset; 24 hours before end.")
    ] = None,
    end: Annotated[AwareDatetime | None, Field(description="End, excluded; now if none.")] = None,
    group: Annotated[
        Literal["none", "hour", "shift"],
        Field(description="Also per hour (up to 48 hours) or per shift (up to 14 days)."),
    ] = "none",
) -> dict[str, Any]:
    """OEE of a line or an asset over a period (up to 400 days without buckets): OEE,
    availability, performance and quality in percent against the line's target; planned, run
    and down minutes; good and total parts; the losses (minutes by stop reason, largest first;
    breakdowns, changeover, small stops, reduced speed in minutes; start-up and production
    rejects in parts). Give line_id or asset_id. Times in the site's time zone."""
    return await as_caller(
        mcp_production.oee, line_id=line_id, asset_id=asset_id, start=start, end=end, group=group
    )


@tool(READS)
async def predictions_and_health(
    line_id: LineId = None,
    asset_id: Annotated[int | None, Field(description="Only this asset.")] = None,
    limit: Limit = 25,
) -> dict[str, Any]:
    """Current remaining-life predictions, soonest failure first: asset, failure mode,
    remaining life in days (low, estimate, high, from when it was made) with the interval's
    confidence in percent, health index (1 healthy … 0 failed), main drivers; and machine
    health: how many assets are at each anomaly level, and those in warning or alarm with
    their score and evidence (for one asset, its own level). Times in the site's time zone."""
    return await as_caller(
        mcp_production.predictions_and_health, line_id=line_id, asset_id=asset_id, limit=limit
    )


# --- maintenance ---------------------------------------------------------------------------------


@tool(READS)
async def search_work(
    text: Annotated[
        str,
        Field(max_length=200, description="Words in the title, description or notes."),
    ] = "",
    asset_id: Annotated[int | None, Field(description="Only this asset.")] = None,
    line_id: LineId = None,
    status: Annotated[
        Literal[
            "open",
            "requested",
            "approved",
            "scheduled",
            "in_progress",
            "on_hold",
            "done",
            "cancelled",
        ]
        | None,
        Field(description="One status, or `open` for all not done or cancelled."),
    ] = None,
    limit: Annotated[int, Field(ge=1, le=50, description="At most this many (1–50).")] = 20,
) -> dict[str, Any]:
    """Search work orders, past and open, newest first: `total` found and up to `limit`, each
    with its number, title, kind, priority, status, asset, who asked and who does it, problem,
    cause and remedy, outcome, labour in minutes, and the first 300 characters of its
    description and closing note. Times in the site's time zone."""
    return await as_caller(
        mcp_maintenance.search_work,
        text=text,
        asset_id=asset_id,
        line_id=line_id,
        status=status,
        limit=limit,
    )


@tool(READS)
async def what_fixed_it(
    asset_id: AssetId,
    failure: Annotated[
        str,
        Field(
            max_length=200,
            description="The failure: a problem code or failure mode (e.g. `bearing`), or "
            "words. Empty: the asset's most frequent failures.",
        ),
    ] = "",
) -> dict[str, Any]:
    """What fixed this last time: the done work on the failure (that found a fault) on this
    asset, newest first (up to 5), and on other assets of its type (up to 3): when, problem,
    cause and remedy, outcome, the technician's closing note, labour in minutes and parts used.
    Without a failure, the asset's most frequent failures, each with its last fix. Times in
    the site's time zone."""
    return await as_caller(mcp_maintenance.what_fixed_it, asset_id=asset_id, failure=failure)


@tool(READS)
async def maintenance_kpis(
    line_id: LineId = None,
    days: Annotated[int, Field(ge=1, le=366, description="The last this many days.")] = 30,
) -> dict[str, Any]:
    """Maintenance KPIs per line over the last `days` days: failures, MTBF and MTTR in hours
    (from work orders, or from breakdowns where none were worked on), preventive-maintenance
    compliance in percent, backlog (work orders and hours), planned share in percent; and the
    10 assets of each line that failed most, with the same figures. The period is given in
    each line's site time zone."""
    return await as_caller(mcp_maintenance.maintenance_kpis, line_id=line_id, days=days)


# --- the two writes ------------------------------------------------------------------------------


@tool(WRITES)
async def create_work_request(
    asset_id: AssetId,
    title: Annotated[
        str,
        Field(
            min_length=1,
            max_length=200,
            pattern=r"^[^\x00]*\S[^\x00]*$",
            description="What is wrong, in a few words.",
        ),
    ],
    note: Note,
    priority: Literal["low", "medium", "high", "urgent"] = "medium",
    problem: Annotated[
        str | None, Field(max_length=32, description="A problem code, e.g. `vib`.")
    ] = None,
) -> dict[str, Any]:
    """Report a problem: a work request on an asset, as the token's user (needs a read and
    write token and a role that may report work). The note becomes its description, headed
    "Through MCP, for <user>:". Returns its number, status (an operator's waits for approval,
    a supervisor's is approved at once) and creation time in the site's time zone."""
    return await as_caller(
        mcp_maintenance.create_work_request,
        writes=True,
        asset_id=asset_id,
        title=title,
        note=note,
        priority=priority,
        problem=problem,
    )


@tool(WRITES)
async def acknowledge_alert(
    alert_id: Annotated[int, Field(description="The alert's id.")], note: Note
) -> dict[str, Any]:
    """Acknowledge an alert that awaits it, as the token's user (needs a read and write token,
    and an operator acts only on their own lines). The note is kept in the alert's history,
    headed "Through MCP, for <user>:". Returns the alert as it stands afterwards, as
    open_alerts gives it (times in the site's time zone)."""
    return await as_caller(mcp_alerts.acknowledge_alert, writes=True, alert_id=alert_id, note=note)


# --- resources -----------------------------------------------------------------------------------


@server.resource(
    "plantops://plant-model",
    name="plant-model",
    title="Plant model",
    description="Sites (with their time zones), areas, lines (OEE targets) and their assets "
    "with each signal's unit and expected range, as the token's user is shown them. JSON.",
    mime_type="application/json",
)
async def plant_model() -> str:
    return await as_caller(mcp_resources.plant_model, error=ResourceError)


@server.resource(
    "plantops://alarm-philosophy",
    name="alarm-philosophy",
    title="Alarm philosophy",
    description="The alarm priorities and what each means, the ISA-18.2 states, and how "
    "alerts are answered (acknowledging, shelving limits, suppression). Markdown.",
    mime_type="text/markdown",
)
async def alarm_philosophy() -> str:
    return await as_caller(lambda user: mcp_resources.alarm_philosophy(), error=ResourceError)


def serve_stdio(header: str) -> None:
    """Serve MCP over stdin and stdout until stdin closes, acting with `header` (`Bearer …`)."""
    caller_header.set(header)
    anyio.run(server.run_stdio_async)
