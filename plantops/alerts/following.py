"""Which of a batch's machine states the alerts follow (`conditions.alerts_evaluate_batch`):
each one followed cuts the batch's readings there, so the rules judge the readings before it
with the asset's alerts as they then stood.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db.models import Q

from plantops.alerts.config import SUPPRESSING_STATES
from plantops.alerts.models import Alert
from plantops.assets.models import Asset
from plantops.core.time import us_to_datetime
from plantops.oee.models import StateEvent


def states_to_follow(
    states: Sequence[tuple[int, int, str, str]],
) -> list[tuple[int, int, str, str]]:
    """The states to follow: those that may suppress or unsuppress an alert. A state that
    suppresses, and the one that ends it; and every state of an asset out of service, or with
    a suppressed alert, or whose current state suppresses (its raises here read it). Any other
    state finds no alert whose suppression it would change: following it, and cutting the
    batch's readings there, would cost a round of the rules for nothing (machines change state
    every few minutes). An asset with a newer state already stored from another batch is left
    out: that one decided."""
    assets = {asset_id for asset_id, _, _, _ in states} - _overtaken(states)
    if not assets:
        return []
    whole = set(
        Asset.objects.filter(pk__in=assets)
        .filter(Q(state__in=SUPPRESSING_STATES) | Q(out_of_service_since__isnull=False))
        .values_list("pk", flat=True)
    )
    whole |= set(
        Alert.objects.filter(asset_id__in=assets - whole, suppressed=True).values_list(
            "asset_id", flat=True
        )
    )
    followed: list[tuple[int, int, str, str]] = []
    before: dict[int, str] = {}
    for row in sorted(states, key=lambda row: (row[0], row[1])):
        asset_id, _, state, _ = row
        if asset_id not in assets:
            continue
        if asset_id in whole or SUPPRESSING_STATES & {state, before.get(asset_id)}:
            followed.append(row)
        before[asset_id] = state
    return followed


def _overtaken(states: Sequence[tuple[int, int, str, str]]) -> set[int]:
    """The assets of `states` with a newer state already stored from another batch."""
    newest: dict[int, int] = {}
    for asset_id, ts_us, _, _ in states:
        newest[asset_id] = max(ts_us, newest.get(asset_id, ts_us))
    later = Q()
    for asset_id, ts_us in newest.items():
        later |= Q(asset_id=asset_id, ts__gt=us_to_datetime(ts_us))
    return set(StateEvent.objects.filter(later).values_list("asset_id", flat=True).distinct())
