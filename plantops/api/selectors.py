"""Reads of API v1 (the plant model, OEE, predictions), each refused to a user whose role may
not see it, with the same permission as the screens that show it, and narrowed for an operator
to their own lines (plantops.assets.scope.shown_line_ids)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from plantops.assets.models import Area, Asset, Line, Shift, Signal, Site
from plantops.assets.scope import shown_line_ids
from plantops.core.refusals import require_permission
from plantops.floor.status import SignalValue
from plantops.health import selectors as health_selectors
from plantops.health.models import Prediction
from plantops.oee import selectors as oee_selectors
from plantops.oee.calculation import Oee, combine
from plantops.oee.events import line_plan
from plantops.oee.reasons import reason_labels
from plantops.telemetry.history import REFUSAL as READINGS_REFUSAL
from plantops.telemetry.history import VIEW_READINGS

VIEW_PLANT = "assets.view_asset"
REFUSAL = "Your role may not see the plant model."


def _plant(user: Any, queryset: QuerySet) -> QuerySet:
    require_permission(user, VIEW_PLANT, REFUSAL)
    return queryset


def on_shown_lines(user: Any, queryset: QuerySet, line: str) -> QuerySet:
    """`queryset` narrowed to the lines `user` is shown (`line`: the path to the line's id,
    e.g. "asset__line_id"); an operator is shown their own (plantops.assets.scope)."""
    shown = shown_line_ids(user)
    return queryset if shown is None else queryset.filter(**{f"{line}__in": shown})


def sites(user: Any) -> QuerySet[Site]:
    return _plant(user, Site.objects.all())


def areas(user: Any) -> QuerySet[Area]:
    return _plant(user, Area.objects.all())


def lines(user: Any) -> QuerySet[Line]:
    return on_shown_lines(user, _plant(user, Line.objects.select_related("area")), "id")


def assets(user: Any) -> QuerySet[Asset]:
    return on_shown_lines(user, _plant(user, Asset.objects.select_related("line")), "line_id")


def asset_to_work_on(user: Any, asset_id: int) -> Asset | None:
    """Any asset of the plant, for a work request: work is plant-wide for every role, as on
    the screens (an operator reports a problem wherever they see one)."""
    return _plant(user, Asset.objects.select_related("line")).filter(pk=asset_id).first()


def signals(user: Any) -> QuerySet[Signal]:
    found = _plant(user, Signal.objects.select_related("asset"))
    return on_shown_lines(user, found, "asset__line_id")


def shifts(user: Any) -> QuerySet[Shift]:
    return on_shown_lines(user, _plant(user, Shift.objects.select_related("line")), "line_id")


# The OEE screens' permission: every role watches the lines' OEE (an operator their own).
VIEW_OEE = "assets.view_asset"
OEE_REFUSAL = "Your role may not see the plant's OEE."
# The longest period one OEE request reads. A whole period sums hour snapshots in the
# database; per hour it is a bucket an hour (744 in 31 days); each shift costs a few queries.
OEE_MAX_RANGE = {
    "none": timedelta(days=400),
    "hour": timedelta(days=31),
    "shift": timedelta(days=31),
}
VIEW_PREDICTIONS = "health.view_prediction"
PREDICTIONS_REFUSAL = "Your role may not see predictions."


def _require_offset(parameter: str, moment: datetime | None) -> None:
    # A time without an offset is ambiguous across the plant's sites: refuse to guess.
    if moment is not None and moment.tzinfo is None:
        raise ValidationError({parameter: "Give the time with an offset, such as Z or +01:00."})


@dataclass
class OeeReport:
    """A line's or an asset's OEE over a period, in all and per bucket, with what it takes to
    say it: the site's time zone (shifts are local) and the stop reasons' labels."""

    line: Line
    asset: Asset | None
    asset_ids: list[int]
    start: datetime
    end: datetime
    group: str
    time_zone: str
    total: Oee
    buckets: list[oee_selectors.OeeBucket]
    reason_labels: dict[str, str]


def oee_report(
    user: Any,
    *,
    line_id: int | None,
    asset_id: int | None,
    start: datetime,
    end: datetime,
    group: str = "none",
    now: datetime | None = None,
) -> OeeReport:
    """Return the OEE of a line (its producing assets) or of one asset over [start, end), in
    all and per UTC hour or per shift (`group` "hour", "shift"; "none" for no buckets).

    Refused without the OEE screens' permission; a ValidationError names the parameter that
    is wrong or spans more than OEE_MAX_RANGE; Http404 for a line or asset that is not there.
    """
    require_permission(user, VIEW_OEE, OEE_REFUSAL)
    if (line_id is None) == (asset_id is None):
        raise ValidationError({"line_id": "Give either line_id or asset_id."})
    if group not in OEE_MAX_RANGE:
        raise ValidationError({"group": f"Give one of {', '.join(OEE_MAX_RANGE)}."})
    _require_offset("from", start)
    _require_offset("to", end)
    if end <= start:
        raise ValidationError({"to": "to must be after from."})
    # Answered in UTC whatever offset was asked in; shifts say their local date.
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    limit = OEE_MAX_RANGE[group]
    if end - start > limit:
        raise ValidationError(
            {"to": f"At most {limit.days} days from from to to with group={group}."}
        )
    asset = None
    if asset_id is not None:
        shown_assets = on_shown_lines(
            user, Asset.objects.select_related("line__area__site"), "line_id"
        )
        asset = get_object_or_404(shown_assets, pk=asset_id)
        line, assets = asset.line, [asset]
    else:
        shown = on_shown_lines(user, Line.objects.select_related("area__site"), "id")
        line = get_object_or_404(shown, pk=line_id)
        assets = oee_selectors.line_assets(line)
    plan = line_plan(line)
    now = now or timezone.now()
    if group == "hour":
        buckets = oee_selectors.oee_by_hour(assets, start, end, plan=plan, now=now)
        total = combine(bucket.oee for bucket in buckets)
    else:
        buckets = (
            oee_selectors.oee_by_shift(assets, start, end, plan=plan, now=now)
            if group == "shift"
            else []
        )
        total = combine(oee_selectors.assets_oee(assets, start, end, plan=plan, now=now).values())
    return OeeReport(
        line=line,
        asset=asset,
        asset_ids=[a.pk for a in assets],
        start=start,
        end=end,
        group=group,
        time_zone=line.area.site.timezone,
        total=total,
        buckets=buckets,
        reason_labels=reason_labels(total.downtime_by_reason),
    )


def current_predictions(
    user: Any, *, line_id: int | None = None, asset_id: int | None = None
) -> QuerySet[Prediction]:
    """Each asset's current prediction per failure mode, as its page shows it, of one line or
    asset if asked; refused as on the asset page."""
    require_permission(user, VIEW_PREDICTIONS, PREDICTIONS_REFUSAL)
    found = on_shown_lines(user, health_selectors.current_predictions(), "asset__line_id")
    if line_id is not None:
        found = found.filter(asset__line_id=line_id)
    if asset_id is not None:
        found = found.filter(asset_id=asset_id)
    return found.select_related("asset", "failure_mode", "model__failure_mode")


def asset_predictions(
    user: Any, *, asset_id: int, start: datetime | None = None, end: datetime | None = None
) -> QuerySet[Prediction]:
    """Every prediction of an asset made in [start, end) (either end open); Http404 for an
    asset that is not there, refused as on the asset page."""
    require_permission(user, VIEW_PREDICTIONS, PREDICTIONS_REFUSAL)
    _require_offset("from", start)
    _require_offset("to", end)
    asset = get_object_or_404(
        on_shown_lines(user, Asset.objects.only("pk"), "line_id"), pk=asset_id
    )
    found = Prediction.objects.filter(asset=asset)
    if start is not None:
        found = found.filter(made_at__gte=start)
    if end is not None:
        found = found.filter(made_at__lt=end)
    return found.select_related("asset", "failure_mode", "model__failure_mode")


def asset_latest(user: Any, *, asset_id: int) -> tuple[Asset, list[dict[str, Any]]]:
    """An asset and the newest value of each of its signals, by slug, as its tile shows them:
    stale and in range by the floor's own rules. Http404 for an asset that is not there;
    refused as the asset page is."""
    require_permission(user, VIEW_READINGS, READINGS_REFUSAL)
    shown = on_shown_lines(user, Asset.objects.select_related("line__area__site"), "line_id")
    asset = get_object_or_404(shown, pk=asset_id)
    now = timezone.now()
    latest = []
    for pk, slug, name, unit, low, high, interval, ts, value in (
        Signal.objects.filter(asset=asset)
        .order_by("slug")
        .values_list(
            "pk",
            "slug",
            "name",
            "unit",
            "expected_min",
            "expected_max",
            "sampling_interval_s",
            "latest__ts",
            "latest__value",
        )
    ):
        judged = SignalValue(
            value=value,
            age_s=(now - ts).total_seconds() if ts is not None else None,
            expected_min=low,
            expected_max=high,
            sampling_interval_s=interval,
        )
        latest.append(
            {
                "signal_id": pk,
                "slug": slug,
                "name": name,
                "unit": unit,
                "value": value,
                "ts": ts,
                "stale": judged.stale,
                "in_range": judged.in_range,
            }
        )
    return asset, latest
