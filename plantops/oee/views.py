"""OEE over HTTP: the JSON API for integration."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from plantops.assets.models import Asset, Line
from plantops.core.auth import api_login_required
from plantops.oee import selectors

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


def _line(slug: str) -> Line:
    """A line by its slug, or by site/area/line where the slug alone is ambiguous."""
    parts = slug.split("/")
    lines = Line.objects.select_related("area__site")
    if len(parts) == 3:
        lines = lines.filter(area__site__slug=parts[0], area__slug=parts[1], slug=parts[2])
    elif len(parts) == 1:
        lines = lines.filter(slug=slug)
    else:
        raise BadRequest("line is a line's slug, or site/area/line")
    found = list(lines[:2])
    if not found:
        raise BadRequest(f"no line {slug!r}")
    if len(found) > 1:
        raise BadRequest(f"more than one line is called {slug!r}: give site/area/line")
    return found[0]


@require_GET
@api_login_required
def api_oee(request: HttpRequest) -> JsonResponse:
    """GET /api/oee?line=<slug>&start=<RFC3339>&end=<RFC3339>[&asset=<slug>]."""
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
            **selectors.oee_payload(selectors.asset_oee(asset, start, end)),
        }
        return JsonResponse(body)
    total, per_asset = selectors.line_oee(line, start, end)
    slugs = dict(Asset.objects.filter(line=line).values_list("pk", "slug"))
    body |= {
        "asset": None,
        **selectors.oee_payload(total),
        "assets": [
            {"asset": slugs[pk], **selectors.oee_payload(oee)} for pk, oee in per_asset.items()
        ],
    }
    return JsonResponse(body)
