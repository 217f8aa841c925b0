"""The one exception for an action the plant's rules do not allow now. Pure: no Django.

Services raise it with the reason in the plant's words ("Only the assigned technician may start
this work order."); views show that text as it is (`core.actions.attempt`), and the API
answers with it. Bad input keeps Django's `ValidationError`, which names the field.
"""

from __future__ import annotations

from typing import Any


class Refused(Exception):
    """An action refused by the lifecycle, the workflow or the user's role; `str()` is the
    message for the user."""


def require_permission(user: Any, permission: str, refusal: str) -> None:
    """Refuse with `refusal` unless `user` holds `permission` (a Django "app.codename")."""
    if user is None or not user.has_perm(permission):
        raise Refused(refusal)
