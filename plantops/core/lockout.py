"""Login lockout with back-off, per user and per address, by django-axes.

After `LOGIN_FAILURE_LIMIT` failed sign-ins for one username, or from one address (a tablet,
or a client behind the TLS front, read from X-Forwarded-For there), further attempts are
refused without checking the password, for a cool-off that doubles with each further round
of failures in a day: 1, 2, 4 … minutes, at most an hour. The admin's login is covered too
(axes' backend sits before Django's). The refusal says why and for how long, on the login page.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm, UsernameField
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import ngettext

FIRST_COOL_OFF = timedelta(minutes=1)
LONGEST_COOL_OFF = timedelta(hours=1)
BACK_OFF_WINDOW = timedelta(days=1)


def cool_off_for(failures_today: int, limit: int) -> timedelta:
    """The cool-off after `failures_today` failures (each `limit` more doubles it). Pure."""
    rounds = max(failures_today // max(limit, 1) - 1, 0)
    return min(FIRST_COOL_OFF * 2 ** min(rounds, 16), LONGEST_COOL_OFF)


def signed_in_name(raw: str) -> str:
    """The user name as the login form reads it (stripped, NFKC), so "admin " counts as admin."""
    return UsernameField().to_python(raw)


def forget_failures(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    """`user_logged_in`: clear the failures of this user only, never of the address."""
    from axes.models import AccessAttempt

    AccessAttempt.objects.filter(username=user.get_username()).delete()


def cool_off(request: HttpRequest | None) -> timedelta:
    """AXES_COOLOFF_TIME: the cool-off for this request's username and address."""
    from axes.models import AccessFailureLog

    if request is None:
        return FIRST_COOL_OFF
    who = Q()
    username = signed_in_name(request.POST.get("username", "")) if request.method == "POST" else ""
    if username:
        who |= Q(username=username)
    address = getattr(request, "axes_ip_address", None)
    if address:
        who |= Q(ip_address=address)
    if not who:
        return FIRST_COOL_OFF
    since = timezone.now() - BACK_OFF_WINDOW
    failures = AccessFailureLog.objects.filter(who, attempt_time__gte=since).count()
    return cool_off_for(failures, settings.AXES_FAILURE_LIMIT)


def locked_out(
    request: HttpRequest, credentials: Any = None, *args: Any, **kwargs: Any
) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: the login page again, saying why and for how long (HTTP 429)."""
    minutes = max(1, round(cool_off(request).total_seconds() / 60))
    message = ngettext(
        "Too many failed sign-ins for this name or from this device. Try again in %(minutes)d "
        "minute, or ask an administrator to unlock it.",
        "Too many failed sign-ins for this name or from this device. Try again in %(minutes)d "
        "minutes, or ask an administrator to unlock it.",
        minutes,
    ) % {"minutes": minutes}
    context = {
        "form": AuthenticationForm(request),
        "locked_out": message,
        "next": request.GET.get("next", ""),
    }
    return render(request, "registration/login.html", context, status=429)
