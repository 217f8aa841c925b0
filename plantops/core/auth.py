"""Authentication for the JSON API: a logged-in session, or `Authorization: Bearer <token>`.

A token acts as its user, within its scope: a read token may only read (GET, HEAD, OPTIONS),
whatever its user's role would allow; an expired one is refused. The role and line checks
are the services' own, the same for a token as for a session.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone

from plantops.core.models import ApiToken, TokenScope, token_digest

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class TokenRefused(Exception):
    """An API token that may not be used for this request; `status` is 401 or 403."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def token_user(header: str, method: str) -> Any:
    """The user an `Authorization: Bearer <token>` header acts as for a request of `method`;
    raises `TokenRefused` for an unknown, revoked or expired token, or a read token writing."""
    token = (
        ApiToken.objects.select_related("user")
        .filter(digest=token_digest(header.removeprefix("Bearer ").strip()))
        .first()
    )
    if token is None or not token.user.is_active:
        raise TokenRefused("unknown or revoked API token", 401)
    now = timezone.now()
    if token.expired(now):
        raise TokenRefused("this API token has expired", 401)
    if token.scope == TokenScope.READ and method not in READ_METHODS:
        raise TokenRefused("this API token may only read: issue a read and write token", 403)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def api_login_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Let in a session user or a valid API token's user; anything else gets a JSON 401, and a
    read token asking to write a JSON 403."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            header = request.headers.get("Authorization", "")
            if not header.startswith("Bearer "):
                return JsonResponse({"error": "log in or send an API token"}, status=401)
            try:
                request.user = token_user(header, request.method)
            except TokenRefused as refused:
                return JsonResponse({"error": str(refused)}, status=refused.status)
            # A token request carries no cookie, so cross-site forgery has nothing to ride on.
            request.authenticated_by_token = True
        return view(request, *args, **kwargs)

    return wrapper
