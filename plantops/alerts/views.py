from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from plantops.alerts import selectors
from plantops.core.auth import api_login_required


@require_GET
@api_login_required
def api_alerts(request: HttpRequest) -> JsonResponse:
    """GET /api/alerts?since_id=<n>[&line=<id>]: alert events after that id, oldest first."""
    try:
        since_id = int(request.GET.get("since_id", "0"))
        line = request.GET.get("line")
        line_ids = [int(line)] if line else None
    except ValueError:
        return JsonResponse({"error": "since_id and line must be integers"}, status=400)
    if since_id < 0:
        return JsonResponse({"error": "since_id must not be negative"}, status=400)
    events = selectors.events_after(after_id=since_id, line_ids=line_ids)
    return JsonResponse(
        {
            "events": events,
            "last_id": events[-1]["id"] if events else since_id,
            "more": len(events) == selectors.MAX_EVENTS_PER_PAGE,
        }
    )
