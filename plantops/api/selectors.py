"""Reads of API v1 over the plant model, each refused to a user whose role may not see it."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from plantops.assets.models import Area, Asset, Line, Shift, Signal, Site
from plantops.core.refusals import require_permission

VIEW_PLANT = "assets.view_asset"
REFUSAL = "Your role may not see the plant model."


def _plant(user: Any, queryset: QuerySet) -> QuerySet:
    require_permission(user, VIEW_PLANT, REFUSAL)
    return queryset


def sites(user: Any) -> QuerySet[Site]:
    return _plant(user, Site.objects.all())


def areas(user: Any) -> QuerySet[Area]:
    return _plant(user, Area.objects.all())


def lines(user: Any) -> QuerySet[Line]:
    return _plant(user, Line.objects.select_related("area"))


def assets(user: Any) -> QuerySet[Asset]:
    return _plant(user, Asset.objects.select_related("line"))


def signals(user: Any) -> QuerySet[Signal]:
    return _plant(user, Signal.objects.select_related("asset"))


def shifts(user: Any) -> QuerySet[Shift]:
    return _plant(user, Shift.objects.select_related("line"))
