"""The words a stop reason is shown with, wherever it is shown: its label from the plant's
reason list, or, for a code a machine sends that the list does not have ("minor_stop"), the
code written as words ("Minor stop"); a stop with no reason is "Not explained yet", which a
screen shows in its viewer's language (`shown`). The plant's labels and a machine's codes are
data: they stay as written."""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.translation import gettext, gettext_noop

from plantops.oee.models import StopReason

# Marked for the catalogs only: the API and the exports keep the English, a screen translates it.
NOT_EXPLAINED = gettext_noop("Not explained yet")


def code_as_words(code: str) -> str:
    """A machine's reason code as a reader would write it: "material_shortage" → "Material
    shortage". Pure."""
    words = " ".join(code.replace("_", " ").replace("-", " ").split())
    return words[:1].upper() + words[1:] if words else NOT_EXPLAINED


def reason_labels(codes: Iterable[str]) -> dict[str, str]:
    """Return the label of each code in `codes` (one query, none for no codes)."""
    wanted = set(codes)
    known = (
        dict(StopReason.objects.filter(code__in=wanted - {""}).values_list("code", "label"))
        if wanted - {""}
        else {}
    )
    return {code: known.get(code) or code_as_words(code) for code in wanted}


def shown(code: str, label: str) -> str:
    """`label`, the words `reason_labels` gave `code`, as a screen shows them in the active
    language: a stop with no reason in the catalog's words, whatever language `label` was
    made in; any other label as written."""
    return gettext(NOT_EXPLAINED) if not code or label == NOT_EXPLAINED else label
