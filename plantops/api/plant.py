"""API v1: the plant model (sites, areas, lines, assets, signals, shifts), read by every role."""

from __future__ import annotations

from datetime import datetime, time

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Router, Schema
from ninja.pagination import CursorPagination, paginate

from plantops.api import selectors

router = Router(tags=["plant"])


class SiteOut(Schema):
    id: int
    slug: str
    name: str
    timezone: str


class AreaOut(Schema):
    id: int
    site_id: int
    slug: str
    name: str


class LineOut(Schema):
    id: int
    area_id: int
    slug: str
    name: str
    position: int
    oee_target: float


class AssetOut(Schema):
    id: int
    line_id: int
    slug: str
    name: str
    asset_type: str
    state: str
    state_since: datetime | None
    out_of_service_since: datetime | None
    no_data_since: datetime | None


class SignalOut(Schema):
    id: int
    asset_id: int
    slug: str
    name: str
    unit: str
    expected_min: float | None
    expected_max: float | None
    sampling_interval_s: float


class ShiftOut(Schema):
    id: int
    line_id: int
    name: str
    start: time
    end: time
    weekdays: str


PAGE = {"ordering": ("id",)}


@router.get("/sites", response=list[SiteOut], summary="Sites")
@paginate(CursorPagination, **PAGE)
def list_sites(request: HttpRequest):
    return selectors.sites(request.user)


@router.get("/sites/{site_id}", response=SiteOut, summary="One site")
def get_site(request: HttpRequest, site_id: int):
    return get_object_or_404(selectors.sites(request.user), pk=site_id)


@router.get("/areas", response=list[AreaOut], summary="Areas")
@paginate(CursorPagination, **PAGE)
def list_areas(request: HttpRequest, site_id: int | None = None):
    found = selectors.areas(request.user)
    return found.filter(site_id=site_id) if site_id is not None else found


@router.get("/lines", response=list[LineOut], summary="Lines")
@paginate(CursorPagination, **PAGE)
def list_lines(request: HttpRequest, area_id: int | None = None):
    found = selectors.lines(request.user)
    return found.filter(area_id=area_id) if area_id is not None else found


@router.get("/lines/{line_id}", response=LineOut, summary="One line")
def get_line(request: HttpRequest, line_id: int):
    return get_object_or_404(selectors.lines(request.user), pk=line_id)


@router.get("/assets", response=list[AssetOut], summary="Assets")
@paginate(CursorPagination, **PAGE)
def list_assets(request: HttpRequest, line_id: int | None = None):
    found = selectors.assets(request.user)
    return found.filter(line_id=line_id) if line_id is not None else found


@router.get("/assets/{asset_id}", response=AssetOut, summary="One asset")
def get_asset(request: HttpRequest, asset_id: int):
    return get_object_or_404(selectors.assets(request.user), pk=asset_id)


@router.get("/signals", response=list[SignalOut], summary="Signals")
@paginate(CursorPagination, **PAGE)
def list_signals(request: HttpRequest, asset_id: int | None = None):
    found = selectors.signals(request.user)
    return found.filter(asset_id=asset_id) if asset_id is not None else found


@router.get("/shifts", response=list[ShiftOut], summary="Shifts")
@paginate(CursorPagination, **PAGE)
def list_shifts(request: HttpRequest, line_id: int | None = None):
    found = selectors.shifts(request.user)
    return found.filter(line_id=line_id) if line_id is not None else found
