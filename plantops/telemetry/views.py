from __future__ import annotations

import hmac

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden

from plantops.telemetry import metrics


def _has_metrics_token(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    offered = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    return bool(token) and hmac.compare_digest(offered.encode(), token.encode())


def metrics_text(request: HttpRequest) -> HttpResponse:
    """Prometheus scrape endpoint: staff sessions, or `Authorization: Bearer $METRICS_TOKEN`."""
    if not (request.user.is_staff or _has_metrics_token(request)):
        return HttpResponseForbidden("metrics need a staff login or the metrics token\n")
    body = metrics.render_prometheus(metrics.snapshot())
    return HttpResponse(body, content_type="text/plain; version=0.0.4; charset=utf-8")
