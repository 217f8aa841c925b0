"""Authentication for the JSON API: a logged-in session, or `Authorization: Bearer <token>`."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone

from plantops.core.models import ApiToken, token_digest


def api_login_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Let in a session user or a valid API token's user; anything else gets a JSON 401."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            header = request.headers.get("Authorization", "")
            if not header.startswith("Bearer "):
                return JsonResponse({"error": "log in or send an API token"}, status=401)
            token = (
                ApiToken.objects.select_related("user")
                .filter(digest=token_digest(header.removeprefix("Bearer ").strip()))
                .first()
            )
            if token is None or not token.user.is_active:
                return JsonResponse({"error": "unknown or revoked API token"}, status=401)
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
            request.user = token.user
            # A token request carries no cookie, so cross-site forgery has nothing to ride on.
            request.authenticated_by_token = True
        return view(request, *args, **kwargs)

    return wrapper
