from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_safe

from plantops.alerts import selectors as alert_selectors
from plantops.alerts import views as alert_views
from plantops.assets.models import Asset
from plantops.floor import selectors
from plantops.health import selectors as health_selectors
from plantops.maintenance import selectors as maintenance_selectors

TREND_WINDOW = timedelta(hours=1)


@login_required
@permission_required("assets.view_asset", raise_exception=True)
def overview(request: HttpRequest) -> HttpResponse:
    """The floor: every line's tiles, or one line's with `?line=<id>` (a tablet fixed at a line).

    Above them, the open alerts of the tablet's lines: the pinned line, else the lines at the
    user's operator position, else every line."""
    lines = selectors.floor_lines()
    pinned = request.GET.get("line", "")
    if pinned.isdigit():
        lines = [line for line in lines if line["id"] == int(pinned)]
    context = {"lines": lines, "pinned": pinned.isdigit()}
    if request.user.has_perm("alerts.view_alert"):
        line_ids = (
            [int(pinned)] if pinned.isdigit() else alert_selectors.operator_line_ids(request.user)
        )
        here = request.get_full_path()
        query = urlencode([*(("line", i) for i in line_ids), ("back", here)])
        context |= alert_views.line_panel_context(request, line_ids=line_ids or None, here=here)
        context |= {
            "panel_title": alert_selectors.line_names(line_ids) or "All lines",
            "panel_url": f"{reverse('alerts-panel')}?{query}",
            "inbox_url": reverse("alerts-inbox")
            + (f"?{urlencode([('line', i) for i in line_ids])}" if line_ids else ""),
        }
    return render(request, "floor/overview.html", context)


@login_required
@permission_required("assets.view_asset", raise_exception=True)
def asset_detail(request: HttpRequest, asset_id: int) -> HttpResponse:
    asset = get_object_or_404(Asset.objects.select_related("line", "line__area"), pk=asset_id)
    since = timezone.now() - TREND_WINDOW
    tile = selectors.asset_tiles(asset_ids=[asset.pk])[0]
    points = selectors.asset_points_since(
        asset_id=asset.pk, since_ms=int(since.timestamp() * 1000), not_before=since
    )
    return render(
        request,
        "floor/asset.html",
        {
            "asset": asset,
            "tile": tile,
            "chart_ranges": selectors.CHART_RANGE_CHOICES,
            "health": health_selectors.asset_health(asset_id=asset.pk)
            if request.user.has_perm("health.view_prediction")
            else None,
            "maintenance": maintenance_selectors.asset_maintenance(asset=asset)
            if request.user.has_perm("maintenance.view_workorder")
            else None,
            "initial": {
                "tile": tile,
                "points": points,
                "window_ms": int(TREND_WINDOW.total_seconds() * 1000),
            },
        },
    )


@login_required
@permission_required("assets.view_asset", raise_exception=True)
@require_GET
def asset_trend(request: HttpRequest, asset_id: int) -> JsonResponse:
    """`?range=24h`: the asset's signals as min/mean/max buckets from the minute rollups."""
    asset = get_object_or_404(Asset.objects.only("pk"), pk=asset_id)
    try:
        trend_range = selectors.trend_range(request.GET.get("range", ""))
    except selectors.UnknownTrendRange as error:
        return JsonResponse({"error": str(error)}, status=400)
    return JsonResponse(selectors.asset_trend(asset_id=asset.pk, trend_range=trend_range))


@login_required
@permission_required("maintenance.add_workorder", raise_exception=True)
@require_safe
def report_pick_asset(request: HttpRequest) -> HttpResponse:
    """Reporting a problem, first tap: which machine, shown by its tile's status (the tablet's
    line first, if it is pinned). The report itself is a maintenance screen."""
    lines = selectors.floor_lines()
    pinned = request.GET.get("line", "")
    if pinned.isdigit():
        lines = [line for line in lines if line["id"] == int(pinned)] or lines
    return render(request, "maintenance/report_asset.html", {"lines": lines})
