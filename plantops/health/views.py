"""Machine health over HTTP: an asset's health panel as JSON, and starting a fit of an
estimator. The model-health page, which also shows what technicians found, is a maintenance
screen; it follows the fits over its socket (`consumers.FitRunConsumer`)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_POST

from plantops.assets.models import Asset
from plantops.core.actions import refusal_text
from plantops.core.refusals import Refused
from plantops.health import fit_runs, selectors


@login_required
@permission_required("health.view_prediction", raise_exception=True)
@require_GET
def asset_health_json(request: HttpRequest, asset_id: int) -> JsonResponse:
    """The asset page's health panel: level, evidence, current RUL interval and history."""
    asset = get_object_or_404(Asset.objects.only("pk"), pk=asset_id)
    return JsonResponse(selectors.asset_health(asset_id=asset.pk))


@login_required
@permission_required("health.view_healthmodel", raise_exception=True)
@require_POST
def fit_start(request: HttpRequest) -> HttpResponse:
    """POST asset_type, failure_mode: queue a fit. The page's script asks for JSON (the run, or
    the refusal with 409) and stays; a plain form post goes back to the page with a message."""
    wants_json = "application/json" in request.headers.get("Accept", "")
    try:
        run = fit_runs.fit_run_request(
            asset_type=request.POST.get("asset_type", ""),
            failure_mode_code=request.POST.get("failure_mode", ""),
            user=request.user,
        )
    except (Refused, ValidationError) as refusal:
        if wants_json:
            status = 409 if isinstance(refusal, Refused) else 400
            return JsonResponse({"error": refusal_text(refusal)}, status=status)
        messages.error(request, refusal_text(refusal))
        return redirect("maintenance:model_health")
    if wants_json:
        return JsonResponse({"run": selectors.fit_run_json(run)}, status=202)
    messages.success(request, gettext("Fit started: it shows below as it runs."))
    return redirect("maintenance:model_health")
