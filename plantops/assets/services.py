"""Writes for the plant model."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from plantops.assets import demo_plant
from plantops.assets.models import Area, Asset, Line, Shift, ShiftBreak, Signal, Site


@transaction.atomic
def demo_plant_seed() -> Site:
    """Create or update the demo plant; running it twice changes nothing the second time."""
    site_slug, site_name, tz = demo_plant.SITE
    site, _ = Site.objects.update_or_create(
        slug=site_slug, defaults={"name": site_name, "timezone": tz}
    )
    line_position = 0
    for area_slug, area_name, lines in demo_plant.AREAS:
        area, _ = Area.objects.update_or_create(
            site=site, slug=area_slug, defaults={"name": area_name}
        )
        for line_slug, line_name, assets in lines:
            line_position += 1
            line, _ = Line.objects.update_or_create(
                area=area, slug=line_slug, defaults={"name": line_name, "position": line_position}
            )
            for shift_name, start, end, breaks in demo_plant.SHIFTS:
                shift, _ = Shift.objects.update_or_create(
                    line=line,
                    name=shift_name,
                    defaults={"start": start, "end": end, "weekdays": "0123456"},
                )
                shift.breaks.all().delete()
                ShiftBreak.objects.bulk_create(
                    [ShiftBreak(shift=shift, start=b_start, end=b_end) for b_start, b_end in breaks]
                )
            for asset_position, spec in enumerate(assets, start=1):
                asset, _ = Asset.objects.update_or_create(
                    line=line,
                    slug=spec.slug,
                    defaults={
                        "name": spec.name,
                        "asset_type": spec.asset_type,
                        "position": asset_position,
                        "ideal_cycle_time_s": spec.ideal_cycle_time_s,
                    },
                )
                for slug, name, unit, low, high, interval in demo_plant.SIGNALS_BY_TYPE[
                    spec.asset_type
                ]:
                    Signal.objects.update_or_create(
                        asset=asset,
                        slug=slug,
                        defaults={
                            "name": name,
                            "unit": unit,
                            "expected_min": low,
                            "expected_max": high,
                            "sampling_interval_s": interval,
                        },
                    )
    return site


def assets_take_out_of_service(
    *, asset_ids: list[int], reason: str, at: datetime | None = None
) -> int:
    """Mark assets as out of service for maintenance (their alerts are then suppressed by the
    alert sweep); return how many changed. Assets already out of service keep their start."""
    return Asset.objects.filter(pk__in=asset_ids, out_of_service_since__isnull=True).update(
        out_of_service_since=at or timezone.now(), out_of_service_reason=reason[:200]
    )


def assets_return_to_service(*, asset_ids: list[int]) -> int:
    """Put assets back in service; return how many changed."""
    return Asset.objects.filter(pk__in=asset_ids, out_of_service_since__isnull=False).update(
        out_of_service_since=None, out_of_service_reason=""
    )
