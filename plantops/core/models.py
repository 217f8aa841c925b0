from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ApiToken(models.Model):
    """A key for machine clients of the JSON API, acting as its user. Only a digest is kept."""

    name = models.CharField(max_length=100, help_text="Who or what uses it, e.g. “MES bridge”.")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    def __str__(self) -> str:
        return self.name

    @classmethod
    def issue(cls, *, name: str, user) -> tuple[ApiToken, str]:
        """Create a token; return it with the secret, which is shown once and never stored."""
        secret = "pot_" + secrets.token_urlsafe(32)
        return cls.objects.create(name=name, user=user, digest=token_digest(secret)), secret
