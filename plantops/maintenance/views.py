"""Work orders over HTTP: the JSON API for integration. Thin: parse, call one selector or
service, render."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from plantops.assets.models import Asset
from plantops.core.auth import api_login_required
from plantops.maintenance import selectors, services
from plantops.maintenance.workflow import Status


def _field_errors(error: ValidationError) -> dict[str, list[str]]:
    if hasattr(error, "error_dict"):
        return {
            field: [m for e in errors for m in e.messages]
            for field, errors in error.error_dict.items()
        }
    return {"__all__": error.messages}


def _bad(errors: dict[str, list[str]]) -> JsonResponse:
    return JsonResponse({"errors": errors}, status=400)


def _asset(reference: str) -> Asset:
    """An asset by its slug, or by site/area/line/asset where the slug alone is ambiguous."""
    parts = reference.split("/")
    assets = Asset.objects.select_related("line__area__site")
    if len(parts) == 4:
        assets = assets.filter(
            line__area__site__slug=parts[0],
            line__area__slug=parts[1],
            line__slug=parts[2],
            slug=parts[3],
        )
    elif len(parts) == 1:
        assets = assets.filter(slug=reference)
    else:
        raise ValidationError({"asset": "asset is an asset's slug, or site/area/line/asset"})
    found = list(assets[:2])
    if not found:
        raise ValidationError({"asset": f"no asset {reference!r}"})
    if len(found) > 1:
        raise ValidationError(
            {"asset": f"more than one asset is called {reference!r}: give the path"}
        )
    return found[0]


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
    return JsonResponse({"error": "GET or POST"}, status=405)


def _list(request: HttpRequest) -> JsonResponse:
    if not request.user.has_perm("maintenance.view_workorder"):
        return JsonResponse({"error": "you may not see work orders"}, status=403)
    status = request.GET.get("status") or None
    if status is not None and status not in {s.value for s in Status}:
        return _bad({"status": [f"unknown status {status!r}: one of {', '.join(Status)}"]})
    asset = None
    if request.GET.get("asset"):
        try:
            asset = _asset(request.GET["asset"])
        except ValidationError as error:
            return _bad(_field_errors(error))
    return JsonResponse({"work_orders": selectors.work_orders(asset=asset, status=status)})


def _create(request: HttpRequest) -> JsonResponse:
    if not request.user.has_perm("maintenance.add_workorder"):
        return JsonResponse({"error": "you may not create work orders"}, status=403)
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return _bad({"__all__": ["the body is not JSON"]})
    if not isinstance(body, dict):
        return _bad({"__all__": ["the body is a JSON object"]})
    try:
        fields = _creation_fields(body)
        work_order = services.workorder_create(user=request.user, **fields)
    except ValidationError as error:
        return _bad(_field_errors(error))
    return JsonResponse(selectors.work_order_json(work_order), status=201)


def _creation_fields(body: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    fields: dict[str, Any] = {}
    for name in ("asset", "kind", "title"):
        if not isinstance(body.get(name), str) or not body[name].strip():
            errors[name] = [f"{name} is required (a string)"]
    for name in ("priority", "description"):
        if name in body and not isinstance(body[name], str):
            errors[name] = [f"{name} is a string"]
        elif name in body:
            fields[name] = body[name]
    if "due_at" in body:
        try:
            due = datetime.fromisoformat(str(body["due_at"]))
            if due.tzinfo is None:
                raise ValueError
            fields["due_at"] = due
        except ValueError:
            errors["due_at"] = ["due_at is an RFC 3339 date-time with an offset"]
    checklist = body.get("checklist", [])
    if not isinstance(checklist, list) or not all(isinstance(i, str) for i in checklist):
        errors["checklist"] = ["checklist is a list of strings"]
    else:
        fields["checklist"] = checklist
    if "asset" not in errors:
        try:
            fields["asset"] = _asset(body["asset"])
        except ValidationError as error:
            errors |= _field_errors(error)
    if errors:
        raise ValidationError(errors)
    return fields | {"kind": body["kind"], "title": body["title"]}
