"""Late readings in health monitoring: noticed as they are stored, and the windows they fill
judged again, so that late readings end in the steps and levels of readings on time.

A run sets how far it is about to read (`AssetHealth.read_until`); a batch that then stores a
reading older than that notes it (`LateReadings`). The asset's next run goes back to the last
detector checkpoint before the late reading, forgets the steps made since, and judges on from
there as it would have, had the reading come on time (`monitor.monitor_round` makes the same
steps however the rounds are cut). The stripe locks of `core.stripes` keep a batch from falling
between a run's reading and its setting. See docs/health-model.md.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Least

from plantops.assets.models import Asset
from plantops.core.stripes import Data, stripe_take, stripes_share
from plantops.core.time import us_to_datetime
from plantops.health.anomaly import AnomalyDetector
from plantops.health.models import AssetHealth, HealthCheckpoint, HealthStep, LateReadings
from plantops.health.monitor import checkpoints_kept
from plantops.health.plant_time import plant_s, wall
from plantops.telemetry.columns import ReadingColumns


def health_late_readings_note(
    *, readings: ReadingColumns, signals: Mapping[int, tuple[int, str]]
) -> int:
    """Note the assets whose monitoring had read past readings just stored (`signals`: signal
    id → (asset id, slug)): their next run judges those windows again. Return how many. Call
    inside the batch's transaction, once the readings are stored."""
    if not len(readings):
        return 0
    signal_ids, inverse = np.unique(readings.signal_ids, return_inverse=True)
    first_us = np.full(signal_ids.size, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first_us, inverse, readings.ts_us)
    earliest: dict[int, int] = {}
    for signal_id, ts_us in zip(signal_ids.tolist(), first_us.tolist(), strict=True):
        if (meta := signals.get(signal_id)) is not None:
            earliest[meta[0]] = min(ts_us, earliest.get(meta[0], ts_us))
    if not earliest:
        return 0
    # Until this batch commits, a run of these assets either waits for it before reading, or
    # has set how far it reads before the look below.
    stripes_share(data=Data.READINGS, asset_ids=earliest)
    read_until = dict(
        AssetHealth.objects.filter(
            asset_id__in=list(earliest), read_until__isnull=False
        ).values_list("asset_id", "read_until")
    )
    late = {
        asset_id: us_to_datetime(ts_us)
        for asset_id, ts_us in sorted(earliest.items())
        if asset_id in read_until and us_to_datetime(ts_us) < read_until[asset_id]
    }
    if late:
        LateReadings.objects.bulk_create(
            [LateReadings(asset_id=asset_id, since=since) for asset_id, since in late.items()],
            ignore_conflicts=True,
        )
        for asset_id, since in late.items():
            LateReadings.objects.filter(asset_id=asset_id).update(
                since=Least(F("since"), Value(since)), version=F("version") + 1
            )
    return len(late)


def read_until_publish(*, asset_id: int, until: datetime) -> None:
    """Set how far the asset's run is about to read; return once every batch that may have
    looked before it has committed, so that the run reads what they stored."""
    with transaction.atomic():
        AssetHealth.objects.get_or_create(asset_id=asset_id)
        AssetHealth.objects.filter(asset_id=asset_id).filter(
            Q(read_until__isnull=True) | Q(read_until__lt=until)
        ).update(read_until=until)
        # After the update: waiting on another run's row, this holds no batch up.
        stripe_take(data=Data.READINGS, asset_id=asset_id)


@dataclass(frozen=True)
class Rewound:
    """Where a run goes back to for late readings: the detector then, the plant second it had
    judged up to (None: from the first reading), and the steps kept (those up to `kept_to`)."""

    detector: AnomalyDetector
    done_s: float | None
    kept_to: datetime


def rewind(
    *,
    asset: Asset,
    detector: AnomalyDetector,
    done_s: float,
    since: datetime,
    step_s: float,
    fresh: AnomalyDetector,
) -> Rewound | None:
    """Go back to before the windows that readings from `since` on fill: forget the asset's
    steps and checkpoints after the last checkpoint before them; None if the run has judged
    none of those windows yet. Without such a checkpoint, the detector was still learning
    then: if it still is, it drops the windows it learned from since; else judging starts
    again from the first reading, with `fresh`."""
    c = detector.config
    settle = c["settle_s"] if c["speed_signal"] else 0.0
    # A window ending at e read the readings of [e - window - settle, e + settle): those
    # ending up to `clean_s` did not read any reading from `since` on, nor did their steps.
    clean_s = math.floor((plant_s(since) - settle) / step_s) * step_s
    if clean_s >= done_s:
        return None
    kept_to = wall(clean_s)
    checkpoint = (
        HealthCheckpoint.objects.filter(asset=asset, at__lte=kept_to).order_by("-at").first()
    )
    HealthStep.objects.filter(asset=asset, at__gt=kept_to).delete()
    later = HealthCheckpoint.objects.filter(asset=asset)
    if checkpoint is not None:
        later.filter(at__gt=checkpoint.at).delete()
        detector = AnomalyDetector.from_dict(checkpoint.detector)
        return Rewound(detector, plant_s(checkpoint.at), kept_to)
    later.delete()
    learning = detector.learning_rewound(clean_s)
    if learning is not None:
        return Rewound(learning, clean_s, kept_to)
    return Rewound(fresh, None, kept_to)


def checkpoints_store(
    *, asset: Asset, states: list[tuple[float, dict[str, Any]]], done_s: float, now: datetime
) -> None:
    """Store the detector's states at the ends of a run's rounds (`(step end, state)`), and
    thin the asset's checkpoints as `monitor.checkpoints_kept` says."""
    if not states:
        return
    HealthCheckpoint.objects.bulk_create(
        [HealthCheckpoint(asset=asset, at=wall(at_s), detector=state) for at_s, state in states],
        update_conflicts=True,
        unique_fields=["asset", "at"],
        update_fields=["detector"],
    )
    rows = list(HealthCheckpoint.objects.filter(asset=asset).values_list("pk", "at"))
    oldest = now - timedelta(days=settings.TELEMETRY_RETENTION_DAYS)
    kept = set(
        checkpoints_kept([plant_s(at) for _, at in rows], done_s=done_s, oldest_s=plant_s(oldest))
    )
    gone = [pk for i, (pk, _) in enumerate(rows) if i not in kept]
    if gone:
        HealthCheckpoint.objects.filter(pk__in=gone).delete()
