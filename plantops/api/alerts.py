"""API v1: alerts: list and filter, the event log since an id, and the actions on an alert.

Reads go through the alerts' selectors (an operator is shown only the lines of their operator
position) and actions through the alerts' services, as the inbox's buttons do: the role, line
and ISA-18.2 lifecycle checks, and the history of who acted and why, are the screens' own.
"""

# No `from __future__ import annotations` here: ninja builds the `Query[...]` parameter models
# from the real annotations when the module is imported.
from datetime import datetime, timedelta
from typing import Annotated, Any, Self

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Field, Query, Router, Schema
from ninja.pagination import CursorPagination, paginate
from pydantic import AwareDatetime, StringConstraints, field_validator, model_validator

from plantops.alerts import selectors, services
from plantops.alerts.lifecycle import AlarmState, Priority
from plantops.alerts.models import Alert

router = Router(tags=["alerts"])

UTC = "RFC 3339 with the offset of the caller's zone."
# The note the services store keeps its first 500 characters; a longer one is not an error.
Note = Annotated[str, StringConstraints(strip_whitespace=True)]
RequiredNote = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
# The alert stores the shelve reason in 300 characters.
ShelveReason = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)
]


class Named(Schema):
    id: int
    name: str


class Person(Schema):
    id: int
    username: str


class AlertOut(Schema):
    id: int
    rule: str = Field(description="The rule's name: the condition in the plant's words.")
    rule_id: int
    message: str
    asset: Named
    line: Named
    site_timezone: str = Field(
        description="The site's IANA time zone, in which its shifts are planned."
    )
    priority: Priority
    state: AlarmState = Field(
        description="ISA-18.2: normal (closed), active_unack, active_ack, or rtn_unack "
        "(returned to normal but not yet acknowledged, still open)."
    )
    value: float | None = Field(description="The reading that raised it, in `unit`.")
    unit: str | None = Field(description="The unit of the signal watched (none for detectors).")
    occurrences: int = Field(description="Raises since the alert opened.")
    first_raised_at: datetime | None = Field(description=f"When the alert opened; {UTC}")
    raised_at: datetime | None = Field(description=f"The latest raise; {UTC}")
    returned_at: datetime | None = Field(description=f"The latest return to normal; {UTC}")
    acknowledged_at: datetime | None = Field(description=f"The current acknowledgement; {UTC}")
    acknowledged_by: str | None = Field(description="Username of who acknowledged it.")
    shelved_until: datetime | None = Field(description=f"Hidden from annunciation until; {UTC}")
    shelved_by: str
    shelve_reason: str
    suppressed: bool = Field(description="Held quiet by a planned stop or out of service.")
    assignee: Person | None

    @staticmethod
    def resolve_rule(alert: Alert) -> str:
        return alert.rule.name

    @staticmethod
    def resolve_line(alert: Alert) -> Any:
        return alert.asset.line

    @staticmethod
    def resolve_site_timezone(alert: Alert) -> str:
        return alert.asset.line.area.site.timezone

    @staticmethod
    def resolve_unit(alert: Alert) -> str | None:
        return alert.signal.unit if alert.signal else None

    @staticmethod
    def resolve_first_raised_at(alert: Alert) -> datetime | None:
        return alert.first_at

    @staticmethod
    def resolve_raised_at(alert: Alert) -> datetime | None:
        return alert.last_at


class HistoryEventOut(Schema):
    id: int
    kind: str = Field(
        description="raised, returned, acknowledged, shelved, unshelved, "
        "shelve_expired, suppressed, unsuppressed, realarmed, closed, assigned, "
        "commented."
    )
    at: datetime = Field(description=UTC)
    user: str | None = Field(description="Username of who acted; none for the system.")
    note: str
    state: AlarmState = Field(description="The alert's state after this event.")
    priority: str
    message: str
    delivery: str = Field(description="live, or late: judged from readings that came late.")
    delay_s: float | None = Field(description="Late: seconds after its reading, else none.")

    @staticmethod
    def resolve_user(event: Any) -> str | None:
        return event.user.get_username() if event.user else None


class AlertDetailOut(AlertOut):
    events: list[HistoryEventOut] = Field(description="What happened to it, oldest first.")

    @staticmethod
    def resolve_events(alert: Alert) -> list:
        return alert.history


class LogEventOut(Schema):
    id: int
    prev_id: int = Field(description="The id of the event before this one in the whole log.")
    alert_id: int
    kind: str
    at: datetime = Field(description=UTC)
    state: AlarmState
    priority: str
    message: str
    line_id: int
    asset_id: int
    rule_id: int
    note: str
    shelved_until: datetime | None = Field(description=f"The alert's, now; {UTC}")
    suppressed: bool
    delivery: str
    delay_s: float | None


class EventLogOut(Schema):
    events: list[LogEventOut]
    next_since_id: int = Field(
        description="Send as `since_id` to continue: the last event's id, or the `since_id` "
        "asked with when nothing is newer."
    )
    more: bool = Field(description="The page is full: ask again at once with next_since_id.")


class NoteIn(Schema):
    note: Note = ""


class CommentIn(Schema):
    note: RequiredNote


class ShelveIn(Schema):
    until: AwareDatetime | None = Field(None, description=f"End of the shelving; {UTC}")
    minutes: float | None = Field(
        None, gt=0, le=366 * 24 * 60, allow_inf_nan=False, description="Or: for how long."
    )
    reason: ShelveReason = Field(description="Why it is shelved: recorded with the shelving.")

    @field_validator("until")
    @classmethod
    def _in_the_future(cls, until: datetime | None) -> datetime | None:
        if until is not None and until <= timezone.now():
            raise ValueError("must be in the future")
        return until

    @model_validator(mode="after")
    def _one_end(self) -> Self:
        if (self.until is None) == (self.minutes is None):
            raise ValueError("give either until or minutes")
        return self

    def end(self) -> datetime:
        if self.until is not None:
            return self.until
        return timezone.now() + timedelta(minutes=self.minutes or 0)


class AssignIn(Schema):
    user_id: int | None = Field(None, description="Who to give it to (null: to nobody).")
    username: str | None = Field(None, description="Or: their username.")
    note: Note = ""

    @model_validator(mode="after")
    def _one_person(self) -> Self:
        if len({"user_id", "username"} & self.model_fields_set) != 1:
            raise ValueError("give either user_id or username (null to unassign)")
        return self


class AlertFilters(Schema):
    state: list[AlarmState] | None = Field(None, description="Any of these states.")
    priority: list[Priority] | None = Field(None, description="Any of these priorities.")
    line_id: int | None = None
    asset_id: int | None = None
    shelved: bool | None = Field(None, description="Only shelved (true) or unshelved (false).")
    raised_from: AwareDatetime | None = Field(
        None, alias="from", description=f"Latest raise at or after; {UTC}"
    )
    raised_to: AwareDatetime | None = Field(
        None, alias="to", description=f"Latest raise before; {UTC}"
    )


class EventLogQuery(Schema):
    since_id: int = Field(
        0, ge=0, description="The last event id already seen (0: from the start)."
    )
    limit: int = Field(selectors.MAX_EVENTS_PER_PAGE, ge=1, le=selectors.MAX_EVENTS_PER_PAGE)
    line_id: int | None = None


@router.get("/alerts", response=list[AlertOut], summary="Alerts, newest first")
@paginate(CursorPagination, ordering=("-id",))
def list_alerts(request: HttpRequest, filters: Query[AlertFilters]):
    return selectors.alerts_seen_by(
        request.user,
        states=filters.state,
        priorities=filters.priority,
        line_ids=[filters.line_id] if filters.line_id is not None else None,
        asset_ids=[filters.asset_id] if filters.asset_id is not None else None,
        shelved=filters.shelved,
        raised_from=filters.raised_from,
        raised_to=filters.raised_to,
    )


@router.get("/alerts/{alert_id}", response=AlertDetailOut, summary="One alert and its history")
def get_alert(request: HttpRequest, alert_id: int):
    alert = selectors.alert_seen_by(request.user, alert_id=alert_id)
    if alert is None:
        raise Http404
    return alert


@router.get("/alert-events", response=EventLogOut, summary="The alert event log after an id")
def alert_events(request: HttpRequest, query: Query[EventLogQuery]):
    events = selectors.events_seen_by(
        request.user,
        after_id=query.since_id,
        line_ids=[query.line_id] if query.line_id is not None else None,
        limit=query.limit,
    )
    return {
        "events": events,
        "next_since_id": events[-1]["id"] if events else query.since_id,
        "more": len(events) == query.limit,
    }


def _known(request: HttpRequest, alert_id: int) -> None:
    if not selectors.alert_known(request.user, alert_id=alert_id):
        raise Http404


def _updated(request: HttpRequest, alert_id: int) -> Alert:
    return get_object_or_404(selectors.alerts_seen_by(request.user), pk=alert_id)


@router.post("/alerts/{alert_id}/acknowledge", response=AlertOut, summary="Acknowledge")
def acknowledge_alert(request: HttpRequest, alert_id: int, payload: NoteIn):
    _known(request, alert_id)
    services.alerts_acknowledge(alert_ids=[alert_id], user=request.user, note=payload.note)
    return _updated(request, alert_id)


@router.post("/alerts/{alert_id}/shelve", response=AlertOut, summary="Shelve")
def shelve_alert(request: HttpRequest, alert_id: int, payload: ShelveIn):
    _known(request, alert_id)
    services.alert_shelve(
        alert_id=alert_id, user=request.user, until=payload.end(), reason=payload.reason
    )
    return _updated(request, alert_id)


@router.post("/alerts/{alert_id}/unshelve", response=AlertOut, summary="Unshelve")
def unshelve_alert(request: HttpRequest, alert_id: int, payload: NoteIn):
    _known(request, alert_id)
    services.alert_unshelve(alert_id=alert_id, user=request.user, note=payload.note)
    return _updated(request, alert_id)


@router.post("/alerts/{alert_id}/assign", response=AlertOut, summary="Assign (supervisors)")
def assign_alert(request: HttpRequest, alert_id: int, payload: AssignIn):
    _known(request, alert_id)
    assignee = None
    if payload.user_id is not None or payload.username is not None:
        assignee = selectors.alert_assignee(
            request.user, user_id=payload.user_id, username=payload.username
        )
        if assignee is None:
            field = "user_id" if payload.user_id is not None else "username"
            raise ValidationError({field: f"No active user has this {field}."})
    services.alert_assign(
        alert_id=alert_id, user=request.user, assignee=assignee, note=payload.note
    )
    return _updated(request, alert_id)


@router.post("/alerts/{alert_id}/comment", response=AlertOut, summary="Comment")
def comment_alert(request: HttpRequest, alert_id: int, payload: CommentIn):
    _known(request, alert_id)
    services.alert_comment(alert_id=alert_id, user=request.user, note=payload.note)
    return _updated(request, alert_id)
