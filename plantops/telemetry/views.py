from __future__ import annotations

import hmac

from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import render

from plantops.telemetry import metrics, selectors


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


@staff_member_required
def pipeline_health(request: HttpRequest) -> HttpResponse:
    figures = metrics.snapshot()
    worker = figures["worker"]
    count = worker.get("latency_count", 0.0)
    context = {
        "ingests": sorted(figures["ingest"].items()),
        "worker": worker,
        "queued_batches": figures["queued_batches"],
        "mean_latency_s": worker.get("latency_sum", 0.0) / count if count else None,
        "rejected": sorted(
            (k.split(":", 1)[1], int(v)) for k, v in worker.items() if k.startswith("rejected:")
        ),
        "stats": selectors.pipeline_stats(),
    }
    return render(request, "telemetry/pipeline.html", context)
