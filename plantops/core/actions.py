"""Form posts on the tablet screens: run one service call and tell the user how it went.

Every action view does the same after parsing: call the service; on a refusal (`Refused`, or
a `ValidationError` for what was typed) show its reason; on success show what was done. This
is that step, once. A refusal is never an error page: the user reads why, on the same screen.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from plantops.core.refusals import Refused


def field_errors(error: ValidationError) -> dict[str, list[str]]:
    """A ValidationError's messages by field (`__all__` for those of no field)."""
    if hasattr(error, "error_dict"):
        return {
            field: [m for e in errors for m in e.messages]
            for field, errors in error.error_dict.items()
        }
    return {"__all__": error.messages}


def refusal_text(refusal: Refused | ValidationError) -> str:
    """What to tell the user about a refused action, in one line."""
    if isinstance(refusal, ValidationError):
        return " ".join(m for texts in field_errors(refusal).values() for m in texts)
    return str(refusal)


def attempt(
    request: HttpRequest,
    action: Callable[[], Any],
    success: str | Callable[[Any], str] = "",
) -> bool:
    """Run `action`; return whether it was done, with its refusal or `success` (a text, or
    one made from the action's result) as the message on the next screen."""
    try:
        result = action()
    except (Refused, ValidationError) as refusal:
        messages.error(request, refusal_text(refusal))
        return False
    text = success(result) if callable(success) else success
    if text:
        messages.success(request, text)
    return True
