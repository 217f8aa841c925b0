"""Machine health over HTTP: an asset's health panel as JSON. The model-health page, which
also shows what technicians found, is a maintenance screen."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from plantops.assets.models import Asset
from plantops.health import selectors


@login_required
@permission_required("health.view_prediction", raise_exception=True)
@require_GET
def asset_health_json(request: HttpRequest, asset_id: int) -> JsonResponse:
    """The asset page's health panel: level, evidence, current RUL interval and history."""
    asset = get_object_or_404(Asset.objects.only("pk"), pk=asset_id)
    return JsonResponse(selectors.asset_health(asset_id=asset.pk))
