"""Authentication for the JSON API: a logged-in session, or `Authorization: Bearer <token>`.

A token acts as its user, within its scope: a read token may only read (GET, HEAD, OPTIONS),
whatever its user's role would allow; an expired one is refused. The role and line checks
are the services' own, the same for a token as for a session.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone

from plantops.core.models import ApiToken, TokenScope, token_digest

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def api_login_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Let in a session user or a valid API token's user; anything else gets a JSON 401, and a
    read token asking to write a JSON 403."""

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
            now = timezone.now()
            if token.expired(now):
                return JsonResponse({"error": "this API token has expired"}, status=401)
            if token.scope == TokenScope.READ and request.method not in READ_METHODS:
                return JsonResponse(
                    {"error": "this API token may only read: issue a read and write token"},
                    status=403,
                )
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
            request.user = token.user
            # A token request carries no cookie, so cross-site forgery has nothing to ride on.
            request.authenticated_by_token = True
        return view(request, *args, **kwargs)

    return wrapper
