"""The tablet pages' filter and choice buttons: links that change one key of the page's own
query string. The `partial` key (a list refreshed in place) never carries over."""

from __future__ import annotations

from django.http import QueryDict


def _url(query: QueryDict, key: str, values: list[str]) -> str:
    changed = query.copy()
    changed.pop("partial", None)
    changed.setlist(key, values)
    return f"?{changed.urlencode()}"


def toggle_buttons(query: QueryDict, key: str, options: list[tuple[str, str]]) -> list[dict]:
    """A button per (value, label) that adds its value to `key`, or takes it away if there."""
    chosen = query.getlist(key)
    return [
        {
            "label": label,
            "value": value,
            "on": value in chosen,
            "url": _url(
                query,
                key,
                [v for v in chosen if v != value] if value in chosen else [*chosen, value],
            ),
        }
        for value, label in options
    ]


def choice_buttons(
    query: QueryDict, key: str, options: list[tuple[str, str]], chosen: str
) -> list[dict]:
    """A button per (value, label) that sets `key` to its value; `chosen` is the one on."""
    return [
        {"label": label, "value": value, "on": value == chosen, "url": _url(query, key, [value])}
        for value, label in options
    ]
