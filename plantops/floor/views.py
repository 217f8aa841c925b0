from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from plantops.assets.models import Asset
from plantops.floor import selectors

TREND_WINDOW = timedelta(hours=1)


@login_required
def overview(request: HttpRequest) -> HttpResponse:
    return render(request, "floor/overview.html", {"lines": selectors.floor_lines()})


@login_required
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
            "initial": {
                "tile": tile,
                "points": points,
                "window_ms": int(TREND_WINDOW.total_seconds() * 1000),
            },
        },
    )
