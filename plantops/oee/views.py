"""OEE over HTTP: the JSON API for integration and the tablet screens. Thin: parse, call one
selector or service, render."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext, ngettext
from django.views.decorators.http import require_GET, require_POST

from plantops.assets.models import Asset, Line
from plantops.assets.scope import may_act_on
from plantops.assets.selectors import UnknownReference, line_by_reference
from plantops.core.actions import attempt
from plantops.core.auth import api_login_required
from plantops.core.deprecation import superseded_by
from plantops.core.time import datetime_to_us
from plantops.oee import screens, selectors, services, shift_report
from plantops.oee.models import StateEvent, StopReason

MAX_RANGE = timedelta(days=400)


class BadRequest(Exception):
    pass


def _moment(request: HttpRequest, name: str) -> datetime:
    raw = request.GET.get(name, "")
    if not raw:
        raise BadRequest(f"{name} is required (RFC 3339, e.g. 2026-11-23T06:00:00Z)")
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise BadRequest(f"{name}={raw[:40]!r} is not an RFC 3339 date-time") from None
    if moment.tzinfo is None or len(raw) < 20:
        raise BadRequest(f"{name} needs a date, a time and an offset such as Z or +01:00")
    return moment


def _line(reference: str) -> Line:
    try:
        return line_by_reference(reference)
    except UnknownReference as unknown:
        raise BadRequest(str(unknown)) from unknown


@superseded_by("/api/v1/oee")
@require_GET
@api_login_required
def api_oee(request: HttpRequest) -> JsonResponse:
    """GET /api/oee?line=<slug>&start=<RFC3339>&end=<RFC3339>[&asset=<slug>]."""
    if not request.user.has_perm("assets.view_asset"):
        return JsonResponse({"error": "your role may not see the plant's OEE"}, status=403)
    try:
        if not request.GET.get("line"):
            raise BadRequest("line is required")
        line = _line(request.GET["line"])
        start, end = _moment(request, "start"), _moment(request, "end")
        if end <= start:
            raise BadRequest("end must be after start")
        if end - start > MAX_RANGE:
            raise BadRequest("at most 400 days per request")
        asset_slug = request.GET.get("asset")
        asset = None
        if asset_slug:
            asset = Asset.objects.filter(line=line, slug=asset_slug).select_related("line").first()
            if asset is None:
                raise BadRequest(f"line {line.slug!r} has no asset {asset_slug!r}")
    except BadRequest as error:
        return JsonResponse({"error": str(error)}, status=400)
    body: dict = {"line": line.slug, "start": start.isoformat(), "end": end.isoformat()}
    if asset is not None:
        body |= {
            "asset": asset.slug,
            **screens.oee_payload(selectors.asset_oee(asset, start, end)),
        }
        return JsonResponse(body)
    total, per_asset = selectors.line_oee(line, start, end)
    slugs = dict(Asset.objects.filter(pk__in=per_asset).values_list("pk", "slug"))
    body |= {
        "asset": None,
        **screens.oee_payload(total),
        "assets": [
            {"asset": slugs[pk], **screens.oee_payload(oee)} for pk, oee in per_asset.items()
        ],
    }
    return JsonResponse(body)


# --- the tablet screens ---------------------------------------------------------------------


def _line_or_404(line_id: int) -> Line:
    return get_object_or_404(Line.objects.select_related("area__site"), pk=line_id)


@login_required
@permission_required("assets.view_asset", raise_exception=True)
@require_GET
def line_page(request: HttpRequest, line_id: int) -> HttpResponse:
    """The line's OEE: the current shift's figure with A, P, Q, its hourly trend, the down-time
    Pareto, and the stops waiting for a reason, which an operator explains here."""
    line = _line_or_404(line_id)
    own_line = may_act_on(request.user, line.pk)  # an operator acts on her own lines only
    return render(
        request,
        "oee/line.html",
        {
            "line": line,
            "screen": screens.line_screen(line, tz=timezone.get_current_timezone()),
            "reasons": StopReason.objects.filter(active=True),
            "assets": Asset.objects.filter(line=line).order_by("position", "name"),
            "can_explain": own_line and request.user.has_perm("oee.add_stopreasonentry"),
            "can_scrap": own_line and request.user.has_perm("oee.add_scrapentry"),
            "shift_choices": shift_report.shift_choices(line),
        },
    )


@login_required
@permission_required("assets.view_asset", raise_exception=True)
@require_GET
def shift_report_page(request: HttpRequest, line_id: int) -> HttpResponse:
    """One shift's report, laid out to print on an A4 page: ?day=<local date the shift starts
    on>&shift=<its name>. A shift the calendar does not have, or that has not begun, sends the
    operator back to the line page with why."""
    line = _line_or_404(line_id)
    name = request.GET.get("shift", "")
    try:
        day = parse_date(request.GET.get("day", ""))
    except ValueError:  # well formed but no such date, as 2026-02-30
        day = None
    shift = selectors.shift_on(line, day=day, name=name) if day and name else None
    if shift is None:
        messages.error(
            request,
            gettext("%(line)s has no shift “%(shift)s” starting on that day.")
            % {"line": line.name, "shift": name[:64]},
        )
        return redirect("oee:line", line_id=line.pk)
    if shift.start_us > datetime_to_us(timezone.now()):
        messages.error(
            request,
            gettext("The %(shift)s shift of %(day)s has not begun.")
            % {"shift": shift.name, "day": f"{shift.day:%Y-%m-%d}"},
        )
        return redirect("oee:line", line_id=line.pk)
    return render(
        request,
        "oee/shift_report.html",
        {
            "line": line,
            "report": shift_report.shift_report(line, shift, tz=timezone.get_current_timezone()),
        },
    )


@login_required
@permission_required("assets.view_asset", raise_exception=True)
@require_GET
def line_screen_json(request: HttpRequest, line_id: int) -> JsonResponse:
    return JsonResponse(
        screens.line_screen(_line_or_404(line_id), tz=timezone.get_current_timezone())
    )


@login_required
@require_POST
def stop_reason_set(request: HttpRequest, line_id: int, event_id: int) -> HttpResponse:
    line = _line_or_404(line_id)
    if not request.user.has_perm("oee.add_stopreasonentry"):
        return HttpResponseForbidden(gettext("Only operators and supervisors explain stops."))
    event = get_object_or_404(
        StateEvent.objects.select_related("asset"), pk=event_id, asset__line=line
    )
    reason = StopReason.objects.filter(code=request.POST.get("reason", "")).first()
    if reason is None:
        messages.error(request, gettext("Pick one of the reasons shown."))
    else:
        attempt(
            request,
            lambda: services.stop_reason_assign(event=event, reason=reason, user=request.user),
            gettext("%(asset)s: stop explained as “%(reason)s”.")
            % {"asset": event.asset.name, "reason": reason.label},
        )
    return redirect("oee:line", line_id=line.pk)


@login_required
@require_POST
def scrap_add(request: HttpRequest, line_id: int) -> HttpResponse:
    line = _line_or_404(line_id)
    if not request.user.has_perm("oee.add_scrapentry"):
        return HttpResponseForbidden(gettext("Only operators and supervisors record scrap."))
    asset = Asset.objects.filter(line=line, pk=_int(request.POST.get("asset"))).first()
    quantity = _int(request.POST.get("quantity"))
    if asset is None:
        messages.error(request, gettext("Pick the machine the scrap came from."))
    elif quantity is None:
        messages.error(request, gettext("Give how many parts are scrap, as a whole number."))
    else:
        attempt(
            request,
            lambda: services.scrap_record(
                asset=asset,
                ts=timezone.now(),
                quantity=quantity,
                reason=request.POST.get("reason", ""),
                user=request.user,
            ),
            ngettext(
                "%(asset)s: %(quantity)s part recorded as scrap.",
                "%(asset)s: %(quantity)s parts recorded as scrap.",
                quantity,
            )
            % {"asset": asset.name, "quantity": quantity},
        )
    return redirect("oee:line", line_id=line.pk)


def _int(raw: str | None) -> int | None:
    try:
        return int(raw or "")
    except ValueError:
        return None


@login_required
@permission_required("assets.view_asset", raise_exception=True)
@require_GET
def board_page(request: HttpRequest) -> HttpResponse:
    """Every line's current shift OEE, readable across the hall."""
    return render(request, "oee/board.html", {"board": screens.floor_board()})
