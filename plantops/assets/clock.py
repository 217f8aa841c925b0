"""One clock per request: the zone a viewer's times are shown in, activated for a page, a socket
or a message built for them (`selectors.viewer_zone`: their own, else their plant's site's)."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from plantops.assets import selectors


class ClockMiddleware:
    """Activate the signed-in user's zone (else the plant's) for the request, so templates'
    `|date`, `timezone.localtime` and the pages' charts show local times; deactivated after."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        timezone.activate(selectors.viewer_zone(getattr(request, "user", None)))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
