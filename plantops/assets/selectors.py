"""Reads for the plant model: lines and assets by the names integrations give them, and the
time zone a user is shown times in."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Count, Min, QuerySet

from plantops.assets.models import Asset, Line, Site
from plantops.core import clock
from plantops.core.models import Preferences


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


def plant_zone(user: Any = None) -> ZoneInfo:
    """The zone of the plant as `user` sees it: their lines' site, else the plant's site, else
    settings.TIME_ZONE.

    Sites come from the lines the user operates (an operator's position), else from every line.
    Where those lines' sites keep different zones, the zone most of the lines keep wins, and
    between zones with as many lines, the one of the site first by name: a user sees one clock
    on every page, the one of most of the floor they watch."""
    lines = Line.objects.all()
    if user is not None and user.is_authenticated:
        operated = lines.filter(operators=user)
        if operated.exists():
            lines = operated
    zones = (
        lines.values("area__site__timezone")
        .annotate(lines=Count("pk"), first_site=Min("area__site__name"))
        .order_by("-lines", "first_site")
        .values_list("area__site__timezone", flat=True)
    )
    first = (
        zones.first() or Site.objects.order_by("name").values_list("timezone", flat=True).first()
    )
    return clock.zone_named(first) or clock.default_zone()


def viewer_zone(user: Any) -> ZoneInfo:
    """The zone `user`'s pages show times in: their own choice, else `plant_zone`."""
    if user is not None and user.is_authenticated:
        chosen = Preferences.objects.filter(user=user).values_list("time_zone", flat=True).first()
        own = clock.zone_named(chosen)
        if own is not None:
            return own
    return plant_zone(user)


def site_zone(site: Site) -> ZoneInfo:
    """The zone of a site, or settings.TIME_ZONE if its name is unknown to this machine."""
    return clock.zone_named(site.timezone) or clock.default_zone()
