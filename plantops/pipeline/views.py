from __future__ import annotations

from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from plantops.notify.selectors import channel_health
from plantops.pipeline.selectors import pipeline_stats
from plantops.telemetry import metrics


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
        "stats": pipeline_stats(),
        "channels": channel_health(),
    }
    return render(request, "pipeline/health.html", context)
