"""Work orders over HTTP: the tablet screens (lists and search, one work order, the operator's
report) and the JSON API for integration. Thin: parse, call one selector or service, render.

Every view checks the Django permission of its role; what a role may do to one work order
(the flow, the assignee) is checked again in the services."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST, require_safe

from plantops.alerts.models import Alert
from plantops.assets.models import Asset
from plantops.assets.selectors import UnknownReference, asset_by_reference
from plantops.core.actions import attempt, field_errors, refusal_text
from plantops.core.auth import api_login_required
from plantops.core.deprecation import superseded_by
from plantops.core.querystrings import choice_buttons, toggle_buttons
from plantops.core.refusals import Refused
from plantops.health import selectors as health_selectors
from plantops.health.models import Prediction
from plantops.maintenance import charts, forms, selectors, services, workflow
from plantops.maintenance.models import (
    ChecklistItem,
    CodeKind,
    FailureCode,
    WorkOrder,
    WorkOrderPhoto,
)
from plantops.maintenance.selectors import kpis as kpi_selectors
from plantops.maintenance.workflow import Status

# --- the tablet screens ------------------------------------------------------------------------


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdecimal() and value.isascii() else None


def _to_work_order(work_order_id: int, part: str = "") -> HttpResponse:
    """Back to the work order's screen, at one of its sections if given."""
    url = reverse("maintenance:detail", args=[work_order_id])
    return redirect(f"{url}#{part}" if part else url)


@login_required
@permission_required("maintenance.view_workorder", raise_exception=True)
@require_safe
def work_list(request: HttpRequest) -> HttpResponse:
    """GET /work/?list=mine|approve|schedule|open|done&asset=&code=&q=: the lists and search."""
    which = request.GET.get("list")
    if which not in selectors.LISTS:
        which = selectors.default_list(request.user)
    asset_id, code_id = _int(request.GET.get("asset")), _int(request.GET.get("code"))
    text = request.GET.get("q", "").strip()[:200]
    found = list(
        selectors.work_order_list(
            user=request.user, which=which, asset_id=asset_id, code_id=code_id, text=text
        )
    )
    context = {
        "which": which,
        "tabs": choice_buttons(request.GET, "list", list(selectors.LISTS.items()), which),
        "work_orders": found,
        "capped": len(found) == selectors.MAX_ON_SCREEN,
        "assets": Asset.objects.select_related("line").order_by("line__name", "name"),
        "codes": selectors.codes_by_kind(),
        "asset_id": asset_id,
        "code_id": code_id,
        "q": text,
        "can_report": request.user.has_perm("maintenance.add_workorder"),
    }
    return render(request, "maintenance/list.html", context)


@login_required
@permission_required("maintenance.view_workorder", raise_exception=True)
@require_safe
def work_detail(request: HttpRequest, work_order_id: int) -> HttpResponse:
    return _detail(request, work_order_id)


def _detail(
    request: HttpRequest, work_order_id: int, *, posted: Any = None, status: int = 200
) -> HttpResponse:
    """The work-order screen; after a refused completion, with what was typed kept."""
    work_order = get_object_or_404(
        WorkOrder.objects.select_related(
            "asset__line__area",
            "assignee",
            "requested_by",
            "problem",
            "cause",
            "remedy",
            "alert__rule",
            "prediction",
            "failure_mode",
            "downtime",
        ),
        pk=work_order_id,
    )
    context = selectors.work_order_screen(work_order=work_order, user=request.user)
    context["posted"] = posted or {"problem": str(work_order.problem_id or "")}
    return render(request, "maintenance/detail.html", context, status=status)


def _work_order_or_404(work_order_id: int) -> WorkOrder:
    return get_object_or_404(WorkOrder, pk=work_order_id)


@login_required
@permission_required("maintenance.view_workorder", raise_exception=True)
@require_POST
def work_move(request: HttpRequest, work_order_id: int) -> HttpResponse:
    """Approve, start, pause, resume or cancel (the services check the role and the flow)."""
    work_order = _work_order_or_404(work_order_id)
    target = request.POST.get("to", "")
    if target not in {status.value for status in Status}:
        messages.error(request, _("Choose what to do with the work order."))
        return _to_work_order(work_order.pk)
    attempt(
        request,
        lambda: services.workorder_move(
            work_order=work_order,
            target=target,
            user=request.user,
            note=request.POST.get("note", "").strip(),
        ),
        _("WO-%(number)s is %(status)s.")
        % {
            "number": work_order.pk,
            "status": pgettext("work order status", target.replace("_", " ")),
        },
    )
    return _to_work_order(work_order.pk)


@login_required
@permission_required("maintenance.supervise_workorder", raise_exception=True)
@require_POST
def work_schedule(request: HttpRequest, work_order_id: int) -> HttpResponse:
    work_order = _work_order_or_404(work_order_id)
    form = forms.ScheduleForm(request.POST)
    assignee = None
    if not form.is_valid():
        messages.error(request, forms.first_error(form))
    else:
        assignee = get_user_model().objects.filter(pk=form.cleaned_data["assignee"]).first()
        if assignee is None:
            messages.error(request, _("Choose a technician."))
    if assignee is not None and attempt(
        request,
        lambda: services.workorder_schedule(
            work_order=work_order,
            assignee=assignee,
            due_at=form.cleaned_data["due_at"],
            estimated_minutes=form.cleaned_data["estimated_minutes"],
            user=request.user,
        ),
        _("Scheduled for %(name)s.") % {"name": assignee.get_username()},
    ):
        return _to_work_order(work_order.pk)
    # Refused: the same screen with the choices as made.
    return _detail(request, work_order.pk, posted=request.POST, status=400)


@login_required
@permission_required("maintenance.execute_workorder", raise_exception=True)
@require_POST
def work_checklist(request: HttpRequest, work_order_id: int, item_id: int) -> HttpResponse:
    item = get_object_or_404(
        ChecklistItem.objects.select_related("work_order"),
        pk=item_id,
        work_order_id=work_order_id,
    )
    done = request.POST.get("done") == "1"
    attempt(request, lambda: services.checklist_tick(item=item, user=request.user, done=done))
    return _to_work_order(work_order_id, "checklist")


@login_required
@permission_required("maintenance.execute_workorder", raise_exception=True)
@require_POST
def work_parts(request: HttpRequest, work_order_id: int) -> HttpResponse:
    work_order = _work_order_or_404(work_order_id)
    form = forms.PartUseForm(request.POST)
    if not form.is_valid():
        messages.error(request, forms.first_error(form))
        return _to_work_order(work_order.pk, "parts")
    part, quantity = form.cleaned_data["part"], form.cleaned_data["quantity"]
    attempt(
        request,
        lambda: services.part_use(
            work_order=work_order, part=part, quantity=quantity, user=request.user
        ),
        _("Took %(quantity)s × %(part)s.") % {"quantity": quantity, "part": part.number},
    )
    return _to_work_order(work_order.pk, "parts")


@login_required
@permission_required("maintenance.view_workorder", raise_exception=True)
@require_POST
def work_note(request: HttpRequest, work_order_id: int) -> HttpResponse:
    work_order = _work_order_or_404(work_order_id)
    note = request.POST.get("note", "")
    attempt(
        request,
        lambda: services.workorder_note(work_order=work_order, user=request.user, note=note),
    )
    return _to_work_order(work_order.pk, "notes")


@login_required
@permission_required("maintenance.view_workorder", raise_exception=True)
@require_POST
def work_photo_add(request: HttpRequest, work_order_id: int) -> HttpResponse:
    work_order = _work_order_or_404(work_order_id)
    if not workflow.may_add_to(work_order, request.user):
        messages.error(request, _("You may not add photos to this work order."))
        return _to_work_order(work_order.pk, "notes")
    form = forms.PhotoForm(request.POST, request.FILES)
    if not form.is_valid():
        missing = "photo" in form.errors
        messages.error(
            request, _("Take or choose a photo first.") if missing else forms.first_error(form)
        )
        return _to_work_order(work_order.pk, "notes")
    attempt(
        request,
        lambda: services.photo_add(
            work_order=work_order,
            upload=form.cleaned_data["photo"],
            user=request.user,
            caption=form.cleaned_data["caption"],
        ),
        _("Photo added."),
    )
    return _to_work_order(work_order.pk, "notes")


@login_required
@permission_required("maintenance.view_workorder", raise_exception=True)
@require_safe
def work_photo(request: HttpRequest, work_order_id: int, photo_id: int) -> HttpResponse:
    """A photo, to whoever may see work orders (photos are never public files)."""
    photo = get_object_or_404(WorkOrderPhoto, pk=photo_id, work_order_id=work_order_id)
    try:
        handle = photo.image.open("rb")
    except FileNotFoundError as missing:
        raise Http404("The photo's file is missing from storage.") from missing
    response = FileResponse(handle, content_type=photo.content_type)
    response["Cache-Control"] = "private, max-age=86400"
    response["X-Content-Type-Options"] = "nosniff"
    # Shown as an image only: were a stored file ever anything else, it could run nothing.
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@login_required
@permission_required("maintenance.execute_workorder", raise_exception=True)
@require_POST
def work_complete(request: HttpRequest, work_order_id: int) -> HttpResponse:
    work_order = _work_order_or_404(work_order_id)
    form = forms.CompleteForm(request.POST)
    if not form.is_valid():
        messages.error(request, forms.first_error(form))
    elif attempt(
        request,
        lambda: services.workorder_complete(
            work_order=work_order, user=request.user, **form.cleaned_data
        ),
        f"WO-{work_order.pk} is done. Thank you.",
    ):
        return _to_work_order(work_order.pk)
    # Refused: the same screen with the findings as typed, so the closing note is not lost.
    return _detail(request, work_order.pk, posted=request.POST, status=400)


@login_required
@permission_required("maintenance.add_workorder", raise_exception=True)
@require_POST
def work_from_alert(request: HttpRequest, alert_id: int) -> HttpResponse:
    """One tap on an alert: its work order, made now or the one already open."""
    alert = get_object_or_404(Alert.objects.select_related("asset", "rule", "signal"), pk=alert_id)
    try:
        work_order = services.workorder_from_alert(alert=alert, user=request.user)
    except (ValidationError, Refused) as error:
        messages.error(request, refusal_text(error))
        return redirect("floor:asset", asset_id=alert.asset_id)
    return _to_work_order(work_order.pk)


@login_required
@permission_required("maintenance.add_workorder", raise_exception=True)
@require_POST
def work_from_prediction(request: HttpRequest, asset_id: int) -> HttpResponse:
    """One tap on a prediction: predictive work on the latest prediction of that failure mode."""
    prediction = (
        Prediction.objects.select_related("asset", "failure_mode", "model")
        .filter(asset_id=asset_id, failure_mode__code=request.POST.get("mode", ""))
        .order_by("-made_at")
        .first()
    )
    if prediction is None:
        messages.error(request, _("There is no prediction of that failure for this machine."))
        return redirect("floor:asset", asset_id=asset_id)
    work_order = services.workorder_from_prediction(prediction=prediction, user=request.user)
    return _to_work_order(work_order.pk)


@login_required
@permission_required("maintenance.add_workorder", raise_exception=True)
def report(request: HttpRequest, asset_id: int) -> HttpResponse:
    """Reporting, last tap: what is wrong. GET shows the problems, POST files the report."""
    asset = get_object_or_404(Asset.objects.select_related("line"), pk=asset_id)
    problems = FailureCode.objects.filter(kind=CodeKind.PROBLEM).order_by("label")
    if request.method == "POST":
        code = request.POST.get("problem", "")
        problem = problems.filter(code=code).first() if code != "other" else None
        if problem is None and code != "other":
            messages.error(request, _("Tap what is wrong."))
            return redirect("maintenance:report", asset_id=asset.pk)
        work_order = services.problem_report(asset=asset, problem=problem, user=request.user)
        text = _("Reported as WO-%(number)s: maintenance has it.") % {"number": work_order.pk}
        if workflow.may_add_to(work_order, request.user):
            text += " " + _("Add a photo or a note below if you can.")
        messages.success(request, text)
        return _to_work_order(work_order.pk)
    return render(
        request,
        "maintenance/report.html",
        {"asset": asset, "problems": problems, "down": selectors.current_stop(asset) is not None},
    )


@login_required
@permission_required("health.view_healthmodel", raise_exception=True)
@require_safe
def model_health(request: HttpRequest) -> HttpResponse:
    """How well each fitted estimator did, month by month (error and interval coverage), and
    what technicians found when they acted on its predictions: its field precision."""
    page = health_selectors.model_health()
    outcomes = selectors.prediction_outcomes()
    for group in page["groups"]:
        group["outcomes"] = outcomes.get((group["asset_type_code"], group["failure_mode_code"]))
    return render(request, "health/models.html", {"page": page})


@login_required
@permission_required("alerts.view_alertrule", raise_exception=True)
@require_safe
def alert_rules(request: HttpRequest) -> HttpResponse:
    """GET /alerts/rules/: each rule's alerts and how often work on them found a fault."""
    return render(request, "maintenance/rules.html", {"rules": selectors.rules_page()})


# --- the JSON API ------------------------------------------------------------------------------


def _bad(errors: dict[str, list[str]]) -> JsonResponse:
    return JsonResponse({"errors": errors}, status=400)


def _asset(reference: str) -> Asset:
    try:
        return asset_by_reference(reference)
    except UnknownReference as unknown:
        raise ValidationError({"asset": str(unknown)}) from unknown


@superseded_by("/api/v1/work-orders")
@csrf_exempt  # token clients send no CSRF token; session clients are checked below
@api_login_required
def api_work_orders(request: HttpRequest) -> HttpResponse:
    """GET /api/workorders?asset=<slug>&status=<status>; POST one as JSON to create it."""
    if request.method == "GET":
        return _list(request)
    if request.method == "POST":
        if getattr(request, "authenticated_by_token", False):
            return _create(request)
        return csrf_protect(_create)(request)
    return JsonResponse({"error": _("GET or POST")}, status=405)


def _list(request: HttpRequest) -> JsonResponse:
    if not request.user.has_perm("maintenance.view_workorder"):
        return JsonResponse({"error": _("you may not see work orders")}, status=403)
    status = request.GET.get("status") or None
    if status is not None and status not in {s.value for s in Status}:
        known = ", ".join(Status)
        return _bad(
            {
                "status": [
                    _("unknown status %(status)r: one of %(known)s")
                    % {"status": status, "known": known}
                ]
            }
        )
    asset = None
    if request.GET.get("asset"):
        try:
            asset = _asset(request.GET["asset"])
        except ValidationError as error:
            return _bad(field_errors(error))
    return JsonResponse({"work_orders": selectors.work_orders(asset=asset, status=status)})


def _create(request: HttpRequest) -> JsonResponse:
    if not request.user.has_perm("maintenance.add_workorder"):
        return JsonResponse({"error": _("you may not create work orders")}, status=403)
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return _bad({"__all__": [_("the body is not JSON")]})
    if not isinstance(body, dict):
        return _bad({"__all__": [_("the body is a JSON object")]})
    try:
        fields = _creation_fields(body)
        work_order = services.workorder_create(user=request.user, **fields)
    except ValidationError as error:
        return _bad(field_errors(error))
    return JsonResponse(selectors.work_order_json(work_order), status=201)


def _creation_fields(body: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    fields: dict[str, Any] = {}
    for name in ("asset", "kind", "title"):
        if not isinstance(body.get(name), str) or not body[name].strip():
            errors[name] = [_("%(field)s is required (a string)") % {"field": name}]
    for name in ("priority", "description"):
        if name in body and not isinstance(body[name], str):
            errors[name] = [_("%(field)s is a string") % {"field": name}]
        elif name in body:
            fields[name] = body[name]
    if "due_at" in body:
        try:
            due = datetime.fromisoformat(str(body["due_at"]))
            if due.tzinfo is None:
                raise ValueError
            fields["due_at"] = due
        except ValueError:
            errors["due_at"] = [
                _("%(field)s is an RFC 3339 date-time with an offset") % {"field": "due_at"}
            ]
    checklist = body.get("checklist", [])
    if not isinstance(checklist, list) or not all(isinstance(i, str) for i in checklist):
        errors["checklist"] = [_("%(field)s is a list of strings") % {"field": "checklist"}]
    else:
        fields["checklist"] = checklist
    if "asset" not in errors:
        try:
            fields["asset"] = _asset(body["asset"])
        except ValidationError as error:
            errors |= field_errors(error)
    if errors:
        raise ValidationError(errors)
    return fields | {"kind": body["kind"], "title": body["title"]}


# --- the maintenance KPI page -----------------------------------------------------------------

# The periods offered, in days; a month by default, as maintenance reviews tend to run.
KPI_RANGES = {
    "7d": (gettext_lazy("7 days"), 7),
    "30d": (gettext_lazy("30 days"), 30),
    "90d": (gettext_lazy("90 days"), 90),
}
KPI_DEFAULT_RANGE = "30d"


@login_required
@permission_required("maintenance.view_workorder", raise_exception=True)
@require_safe
def maintenance_kpis(request: HttpRequest) -> HttpResponse:
    """GET /work/kpis/?range=7d|30d|90d&line=<id>: MTBF, MTTR, PM compliance, backlog and the
    planned share of work, per line and per asset, with charts."""
    range_key = request.GET.get("range", KPI_DEFAULT_RANGE)
    if range_key not in KPI_RANGES:
        range_key = KPI_DEFAULT_RANGE
    chosen = [value for value in request.GET.getlist("line") if value.isdigit()]
    end = timezone.now()
    page = kpi_selectors.maintenance_kpi_page_for(
        user=request.user,
        start=end - timedelta(days=KPI_RANGES[range_key][1]),
        end=end,
        line_ids=[int(value) for value in chosen] or None,
    )
    context = page | {
        "figures": charts.kpi_figures(page["chart"]),
        "range_label": KPI_RANGES[range_key][0],
        "range_buttons": choice_buttons(
            request.GET,
            "range",
            [(key, label) for key, (label, _days) in KPI_RANGES.items()],
            range_key,
        ),
        "line_buttons": toggle_buttons(
            request.GET, "line", [(str(line["id"]), line["name"]) for line in page["line_choices"]]
        ),
    }
    return render(request, "maintenance/kpis.html", context)
