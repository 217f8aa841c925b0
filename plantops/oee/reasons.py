"""The words a stop reason is shown with, wherever it is shown: its label from the plant's
reason list, or, for a code a machine sends that the list does not have ("minor_stop"), the
code written as words ("Minor stop"); a stop with no reason is "Not explained yet"."""

from __future__ import annotations

from collections.abc import Iterable

from plantops.oee.models import StopReason

NOT_EXPLAINED = "Not explained yet"


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
