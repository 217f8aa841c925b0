"""API v1: the plant model (sites, areas, lines, assets, signals, shifts): read by every role
(an operator their own lines), created and changed by an admin from a script or a spreadsheet
import.

POST creates one object (its parent by id); PATCH changes the fields it is given. The model's
own validation applies (400 naming the fields) and only an admin may (403 otherwise).
Deleting stays in the admin (plantops.assets.setup says why)."""

# No `from __future__ import annotations`: ninja and pydantic read the body types when the
# module loads.

from datetime import datetime, time
from typing import Annotated, Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, PatchDict, Router, Schema, Status
from ninja.pagination import CursorPagination, paginate

from plantops.api import selectors
from plantops.assets.models import Area, Asset, AssetType, Line, Shift, Signal, Site
from plantops.assets.setup import plant_object_create, plant_object_update

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


# --- setting the plant up: an admin's writes ---------------------------------------------------

Slug = Annotated[str, Field(max_length=64, pattern=r"^[-a-zA-Z0-9_]+$")]
# PostgreSQL cannot store a NUL character: refuse it as bad input, not a server error.
Name = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\x00]+$")]


class SiteIn(Schema):
    slug: Slug
    name: Name
    timezone: str = Field("UTC", max_length=64, description="IANA name, e.g. Europe/Berlin.")


class AreaIn(Schema):
    site_id: int
    slug: Slug
    name: Name


class LineIn(Schema):
    area_id: int
    slug: Slug
    name: Name
    position: int = Field(0, ge=0, description="Order on the floor view.")
    oee_target: float = Field(0.85, gt=0, le=1, description="OEE target, 0–1.")


class AssetIn(Schema):
    line_id: int
    slug: Slug
    name: Name
    asset_type: AssetType
    position: int = Field(0, ge=0, description="Order within the line.")
    ideal_cycle_time_s: float | None = Field(
        None, description="Seconds per part at rated speed; null for assets that make no parts."
    )


class SignalIn(Schema):
    asset_id: int
    slug: Slug
    name: Name
    unit: str = Field(max_length=32, pattern=r"^[^\x00]*$", description="e.g. mm/s, °C, A, rpm.")
    expected_min: float | None = None
    expected_max: float | None = None
    sampling_interval_s: float = Field(1.0, description="Nominal seconds between readings.")


class ShiftIn(Schema):
    line_id: int
    name: str = Field(min_length=1, max_length=64, pattern=r"^[^\x00]+$")
    start: time = Field(description="Local time at the site.")
    end: time = Field(description="Local time; at or before the start, the next day.")
    weekdays: str = Field("01234", description="Days it starts on: 0 = Monday … 6 = Sunday.")


def _create(request: HttpRequest, model: type, body: Schema) -> Status:
    return Status(201, plant_object_create(user=request.user, model=model, fields=body.dict()))


def _update(request: HttpRequest, found: Any, pk: int, fields: dict[str, Any]) -> Any:
    instance = get_object_or_404(found, pk=pk)
    return plant_object_update(user=request.user, instance=instance, fields=fields)


@router.post("/sites", response={201: SiteOut}, summary="Create a site")
def create_site(request: HttpRequest, body: SiteIn):
    return _create(request, Site, body)


@router.patch("/sites/{site_id}", response=SiteOut, summary="Change a site")
def update_site(request: HttpRequest, site_id: int, body: PatchDict[SiteIn]):
    return _update(request, selectors.sites(request.user), site_id, body)


@router.post("/areas", response={201: AreaOut}, summary="Create an area")
def create_area(request: HttpRequest, body: AreaIn):
    return _create(request, Area, body)


@router.patch("/areas/{area_id}", response=AreaOut, summary="Change an area")
def update_area(request: HttpRequest, area_id: int, body: PatchDict[AreaIn]):
    return _update(request, selectors.areas(request.user), area_id, body)


@router.post("/lines", response={201: LineOut}, summary="Create a line")
def create_line(request: HttpRequest, body: LineIn):
    return _create(request, Line, body)


@router.patch("/lines/{line_id}", response=LineOut, summary="Change a line")
def update_line(request: HttpRequest, line_id: int, body: PatchDict[LineIn]):
    return _update(request, selectors.lines(request.user), line_id, body)


@router.post("/assets", response={201: AssetOut}, summary="Create an asset")
def create_asset(request: HttpRequest, body: AssetIn):
    return _create(request, Asset, body)


@router.patch("/assets/{asset_id}", response=AssetOut, summary="Change an asset")
def update_asset(request: HttpRequest, asset_id: int, body: PatchDict[AssetIn]):
    return _update(request, selectors.assets(request.user), asset_id, body)


@router.post("/signals", response={201: SignalOut}, summary="Create a signal")
def create_signal(request: HttpRequest, body: SignalIn):
    return _create(request, Signal, body)


@router.patch("/signals/{signal_id}", response=SignalOut, summary="Change a signal")
def update_signal(request: HttpRequest, signal_id: int, body: PatchDict[SignalIn]):
    return _update(request, selectors.signals(request.user), signal_id, body)


@router.post("/shifts", response={201: ShiftOut}, summary="Create a shift")
def create_shift(request: HttpRequest, body: ShiftIn):
    return _create(request, Shift, body)


@router.patch("/shifts/{shift_id}", response=ShiftOut, summary="Change a shift")
def update_shift(request: HttpRequest, shift_id: int, body: PatchDict[ShiftIn]):
    return _update(request, selectors.shifts(request.user), shift_id, body)
