from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenScope(models.TextChoices):
    READ = "read", _("Read")
    WRITE = "write", _("Read and write")


class ApiToken(models.Model):
    """A key for machine clients of the JSON API, acting as its user within its scope, until it
    expires. Only a digest is kept; the secret is shown once, on a page of its own."""

    name = models.CharField(
        _("name"), max_length=100, help_text=_("Who or what uses it, e.g. “MES bridge”.")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="+"
    )
    scope = models.CharField(
        _("scope"),
        max_length=8,
        choices=TokenScope.choices,
        default=TokenScope.READ,
        help_text=_(
            "Read: GET requests only. Read and write: also what the user's role may change."
        ),
    )
    expires_at = models.DateTimeField(
        _("expires at"),
        null=True,
        blank=True,
        help_text=_("After this the token is refused. Empty: no expiry."),
    )
    digest = models.CharField(_("digest"), max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return self.name

    def expired(self, now: datetime | None = None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or timezone.now())

    @classmethod
    def issue(
        cls,
        *,
        name: str,
        user,
        scope: str = TokenScope.READ,
        expires_at: datetime | None = None,
    ) -> tuple[ApiToken, str]:
        """Create a token; return it with the secret, which is shown once and never stored."""
        secret = "pot_" + secrets.token_urlsafe(32)
        token = cls.objects.create(
            name=name, user=user, scope=scope, expires_at=expires_at, digest=token_digest(secret)
        )
        return token, secret


class Preferences(models.Model):
    """What one user chose for themselves: the time zone their pages show times in.

    Blank means the plant's: the site of their lines, else the plant's site
    (`plantops.assets.clock`). Room for more choices of the same kind, one row per user."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preferences"
    )
    time_zone = models.CharField(
        max_length=64,
        blank=True,
        help_text=_("IANA name, e.g. America/Chicago; blank: the plant's own zone."),
    )

    class Meta:
        verbose_name = _("preferences")
        verbose_name_plural = _("preferences")

    def __str__(self) -> str:
        return f"Preferences of {self.user}"
