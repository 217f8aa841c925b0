"""The v0 JSON endpoints (/api/alerts, /api/oee, /api/workorders) keep their shape and say
where their successor in API v1 is, in the response headers a client or a proxy log can see:
`Deprecation: true` and `Link: <successor>; rel="successor-version"` (RFC 9745, RFC 8288).
They are not redirected: a redirect would change the shape a running integration reads."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.http import HttpRequest, HttpResponse


def superseded_by(
    successor: str,
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Mark every response of a v0 view as deprecated in favour of the API v1 `successor`."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            response = view(request, *args, **kwargs)
            response["Deprecation"] = "true"
            response["Link"] = f'<{successor}>; rel="successor-version"'
            return response

        return wrapper

    return decorate
