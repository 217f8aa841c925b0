"""Machine health over HTTP: an asset's health panel as JSON, and the model-health page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from plantops.assets.models import Asset
from plantops.health import selectors
from plantops.maintenance import selectors as maintenance_selectors


@login_required
@permission_required("health.view_prediction", raise_exception=True)
@require_GET
def asset_health_json(request: HttpRequest, asset_id: int) -> JsonResponse:
    """The asset page's health panel: level, evidence, current RUL interval and history."""
    asset = get_object_or_404(Asset.objects.only("pk"), pk=asset_id)
    return JsonResponse(selectors.asset_health(asset_id=asset.pk))


@login_required
@permission_required("health.view_healthmodel", raise_exception=True)
@require_GET
def model_health(request: HttpRequest) -> HttpResponse:
    """How well each fitted estimator did, month by month: error and interval coverage."""
    page = selectors.model_health()
    # What technicians found when they acted on the predictions: the model's field precision.
    outcomes = maintenance_selectors.prediction_outcomes()
    for group in page["groups"]:
        group["outcomes"] = outcomes.get((group["asset_type_code"], group["failure_mode_code"]))
    return render(request, "health/models.html", {"page": page})
