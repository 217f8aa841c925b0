"""API v1's clock: every datetime in an answer is RFC 3339 with the offset of the caller's zone
(their own choice, else their plant's site; `plantops.assets.selectors.viewer_zone`).

The screens' middleware activates the zone of a session's user before the API knows who calls;
a token's user is known only once the API has authenticated it, so the renderer asks again for
them. The readings' point columns stay in UTC (`plantops.api.readings`)."""

from __future__ import annotations

import json
from datetime import datetime, tzinfo
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja.renderers import JSONRenderer
from ninja.responses import NinjaJSONEncoder

from plantops.assets.selectors import viewer_zone


def requester_zone(request: HttpRequest) -> tzinfo:
    """The zone the API answers `request` in: its token user's, else the one already active."""
    if getattr(request, "authenticated_by_token", False):
        return viewer_zone(request.user)
    return timezone.get_current_timezone()


class ZonedEncoder(NinjaJSONEncoder):
    """Aware datetimes in the active zone, with its offset ("Z" where it is UTC)."""

    def default(self, o: Any) -> Any:
        if isinstance(o, datetime) and timezone.is_aware(o):
            o = timezone.localtime(o)
        return super().default(o)


class ZonedJSONRenderer(JSONRenderer):
    encoder_class = ZonedEncoder

    def render(self, request: HttpRequest, data: Any, *, response_status: int) -> Any:
        with timezone.override(requester_zone(request)):
            return json.dumps(data, cls=self.encoder_class, **self.json_dumps_params)
