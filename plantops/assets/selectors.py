"""Reads for the plant model: lines and assets by the names integrations give them."""

from __future__ import annotations

from django.db.models import QuerySet

from plantops.assets.models import Asset, Line


class UnknownReference(ValueError):
    """A slug or path that names no line or asset, or more than one; the message says which."""


def _by_reference(found: QuerySet, reference: str, *, fields: list[str], noun: str, path: str):
    parts = reference.split("/")
    if len(parts) == len(fields):
        found = found.filter(**dict(zip(fields, parts, strict=True)))
    elif len(parts) == 1:
        found = found.filter(slug=reference)
    else:
        article = "an" if noun[0] in "aeiou" else "a"
        raise UnknownReference(f"{noun} is {article} {noun}'s slug, or {path}")
    matches = list(found[:2])
    if not matches:
        raise UnknownReference(f"no {noun} {reference!r}")
    if len(matches) > 1:
        raise UnknownReference(f"more than one {noun} is called {reference!r}: give {path}")
    return matches[0]


def line_by_reference(reference: str) -> Line:
    """A line by its slug, or by site/area/line where the slug alone is ambiguous."""
    return _by_reference(
        Line.objects.select_related("area__site"),
        reference,
        fields=["area__site__slug", "area__slug", "slug"],
        noun="line",
        path="site/area/line",
    )


def asset_by_reference(reference: str) -> Asset:
    """An asset by its slug, or by site/area/line/asset where the slug alone is ambiguous."""
    return _by_reference(
        Asset.objects.select_related("line__area__site"),
        reference,
        fields=["line__area__site__slug", "line__area__slug", "line__slug", "slug"],
        noun="asset",
        path="site/area/line/asset",
    )
