"""API tokens for the API v1 tests: the header a client sends."""

from __future__ import annotations

from plantops.core.models import ApiToken, TokenScope


def bearer(user, scope: str = TokenScope.READ) -> dict[str, str]:
    """Django test client keyword arguments carrying a new API token of `user`."""
    _, secret = ApiToken.issue(name="MES bridge", user=user, scope=scope)
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
