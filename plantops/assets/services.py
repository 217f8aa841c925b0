"""Writes for the plant model: what state each machine is in, and taking it out of service."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db.models import Q
from django.utils import timezone

from plantops.assets.models import Asset
from plantops.core.time import us_to_datetime


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


def asset_states_keep(*, states: Iterable[tuple[int, int, str, str]]) -> None:
    """Keep each asset's newest reported state `(asset_id, ts_us, state, reason)` as its
    current state; an older report (late or redelivered) never turns it back."""
    newest: dict[int, tuple[int, str, str]] = {}
    for asset_id, ts_us, state, reason in states:
        known = newest.get(asset_id)
        if known is None or ts_us > known[0]:
            newest[asset_id] = (ts_us, state, reason)
    # State changes are rare (seconds to hours apart), so one UPDATE per asset is fine here;
    # in key order, so two workers lock the rows in the same order.
    for asset_id, (ts_us, state, reason) in sorted(newest.items()):
        since = us_to_datetime(ts_us)
        Asset.objects.filter(
            Q(state_since__isnull=True) | Q(state_since__lt=since), pk=asset_id
        ).update(state=state, state_reason=reason, state_since=since)


def asset_gateways_keep(*, changes: Iterable[tuple[int, datetime | None, str]]) -> None:
    """Record which assets' gateways are gone: `(asset_id, gone since or None, why)`.

    An asset whose gateway is gone shows no data (not down) until the gateway is back; it keeps
    the moment it went, if it was gone already.
    """
    for asset_id, gone_since, why in sorted(changes, key=lambda change: change[0]):
        if gone_since is None:
            Asset.objects.filter(pk=asset_id).update(no_data_since=None, no_data_reason="")
        else:
            Asset.objects.filter(pk=asset_id, no_data_since__isnull=True).update(
                no_data_since=gone_since, no_data_reason=why[:200]
            )
