"""Who calls API v1: an API token (`Authorization: Bearer …`, within its scope) or a logged-in
session, which must send its CSRF token on writes. The role and line checks are the services'
and selectors' own, the same for both."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.errors import HttpError
from ninja.security import HttpBearer, SessionAuth

from plantops.core.auth import TokenRefused, token_user


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        try:
            user = token_user(f"Bearer {token}", request.method)
        except TokenRefused as refused:
            raise HttpError(refused.status, str(refused)) from None
        request.user = user
        # A token request carries no cookie, so cross-site forgery has nothing to ride on.
        request.authenticated_by_token = True
        return user


class ActiveSessionAuth(SessionAuth):
    """A logged-in, active user; writes need the CSRF token, as on the screens."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = super().authenticate(request, key)
        return user if user is not None and user.is_active else None


AUTH = [TokenAuth(), ActiveSessionAuth(csrf=True)]
