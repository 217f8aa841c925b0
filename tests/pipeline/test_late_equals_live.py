"""Late equals live: the simulator's day delivered as it happens, and again with one gateway cut
off for six hours that then forwards its backlog in a burst, each on a fresh database, ends in
the same state.

The day is the simulated plant's physics (`simulator.history`): a press that makes parts and a
motor, their readings, state changes and counts, in 5-minute batches per gateway, through the
real `batch_store`. The clock is moved along the day (time-machine) so that everything reads
the time it would have read, and the periodic work runs as beat runs it: every hour the OEE
snapshots, the health rounds, the preventive schedules and the alert sweep. In the second
delivery the press's gateway loses its link from 06:00 to 12:00 while the motor's stays live;
at 12:00 the press forwards its six hours (oldest first, as store-and-forward does) and goes on
live. Compared afterwards: OEE per hour, preventive work orders, the alert histories (apart from
how each event was delivered), health steps, minute rollups and latest values.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import numpy as np
import pytest
import time_machine
from django.core.management import call_command
from django.test import override_settings

from plantops.alerts.config import plant_config_changed
from plantops.alerts.models import Alert, AlertEvent
from plantops.alerts.sweep import alerts_sweep
from plantops.assets.models import Area, Asset, Line, Shift, Signal, Site
from plantops.core.time import us_to_datetime
from plantops.demo.plant import SIGNALS_BY_TYPE
from plantops.health.models import AssetHealth, HealthStep
from plantops.health.monitoring import detector_new, health_update_asset
from plantops.maintenance.models import PreventiveSchedule, WorkOrder
from plantops.maintenance.preventive import preventive_run_all
from plantops.oee.models import OeeHour
from plantops.oee.snapshots import hours_make_recent
from plantops.pipeline.services import batch_store
from plantops.simulator.history import HistoryAsset, history_slices
from plantops.telemetry.models import LatestReading, MinuteRollup
from plantops.telemetry.services import signals_changed
from tests.factories import make_rule

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

HOUR = timedelta(hours=1)
SLICE_S = 300
# Readings every 10 s (temperature every 50 s): a day of two machines is about 60,000.
SAMPLING_SCALE = 10
# The worker stores a batch this long after its last reading: live, well under a minute.
PIPELINE_DELAY = timedelta(seconds=3)
CUT_OFF = (timedelta(hours=6), timedelta(hours=12))
SEED = 11


def day_start() -> datetime:
    today = datetime.now(UTC).date()
    return datetime.combine(today - timedelta(days=3), time(), tzinfo=UTC)


def seed_plant() -> list[HistoryAsset]:
    site = Site.objects.create(slug="late", name="Late works")
    area = Area.objects.create(site=site, slug="shop", name="Shop")
    line = Line.objects.create(area=area, slug="line-1", name="Line 1")
    Shift.objects.create(
        line=line, name="Round the clock", start=time(6), end=time(6), weekdays="0123456"
    )
    assets = []
    for slug, kind, cycle_s in (("press-1", "press", 2.5), ("motor-1", "motor", None)):
        asset = Asset.objects.create(
            line=line, slug=slug, name=slug.title(), asset_type=kind, ideal_cycle_time_s=cycle_s
        )
        signals, limits = {}, {}
        for signal_slug, name, unit, low, high, interval in SIGNALS_BY_TYPE[kind]:
            signal = Signal.objects.create(
                asset=asset,
                slug=signal_slug,
                name=name,
                unit=unit,
                expected_min=low,
                expected_max=high,
                sampling_interval_s=interval * SAMPLING_SCALE,
            )
            signals[signal_slug] = (signal.pk, interval * SAMPLING_SCALE)
            limits[signal_slug] = (low, high)
        assets.append(
            HistoryAsset(
                asset_id=asset.pk,
                slug=slug,
                signals=signals,
                limits=limits,
                ideal_cycle_time_s=cycle_s,
                mean_time_between_stops_s=2400,
            )
        )
        vibration = asset.signals.get(slug="vibration")
        make_rule(signal=vibration, kind="high", limit=2.6 if kind == "press" else 1.6)
    press = Asset.objects.get(slug="press-1")
    start = day_start()
    PreventiveSchedule.objects.create(
        asset=press, title="Grease", meter="runtime", interval=3, lead=0.5, starts_at=start
    )
    PreventiveSchedule.objects.create(
        asset=press, title="Check the die", meter="cycles", interval=4000, lead=400, starts_at=start
    )
    plant_config_changed()
    signals_changed()
    for each in assets:
        monitored_for_days_before(each, start)
    return assets


def monitored_for_days_before(asset: HistoryAsset, start: datetime, days: int = 3) -> None:
    """Health has watched the asset for `days` before the day: its detector has learned."""
    series: dict[int, tuple[list, list]] = {}
    for piece in history_slices(
        [asset],
        seed=SEED + 1,
        start_us=int((start - timedelta(days=days)).timestamp() * 1e6),
        seconds=days * 86_400,
        step_s=5,
        slice_s=3600,
    ):
        for signal_id, ts_us, value in piece.batch.readings.rows():
            times, values = series.setdefault(signal_id, ([], []))
            times.append(ts_us / 1e6)
            values.append(value)
    slugs = {signal_id: slug for slug, (signal_id, _) in asset.signals.items()}
    detector = detector_new()
    detector.update(
        {slugs[k]: (np.array(t), np.array(v)) for k, (t, v) in series.items()},
        until_s=start.timestamp(),
    )
    assert detector.learned
    AssetHealth.objects.create(
        asset_id=asset.asset_id,
        detector=detector.to_dict(),
        processed_until=start,
        level="normal",
    )


def periodic(now: datetime) -> None:
    """What beat runs, at `now`."""
    with time_machine.travel(now, tick=False):
        hours_make_recent(now=now)
        for asset_id in Asset.objects.values_list("pk", flat=True):
            health_update_asset(asset_id=asset_id, now=now)
        preventive_run_all(now=now)
        alerts_sweep(now=now)


def store(batch, at: datetime) -> None:
    with time_machine.travel(at, tick=False):
        batch_store(batch=batch)


def deliver_the_day(*, cut_off: bool) -> None:
    assets = seed_plant()
    start = day_start()
    press_id = assets[0].asset_id
    held = []
    next_hour = start + HOUR
    for piece in history_slices(
        assets, seed=SEED, start_us=int(start.timestamp() * 1e6), seconds=86_400, slice_s=SLICE_S
    ):
        end = us_to_datetime(piece.end_us)
        while end > next_hour:
            periodic(next_hour + timedelta(seconds=30))
            next_hour += HOUR
        away = cut_off and start + CUT_OFF[0] < end <= start + CUT_OFF[1]
        if piece.asset_id == press_id and away:
            held.append(piece.batch)
            continue
        if piece.asset_id == press_id and held:
            # Back at 12:00: the backlog first, oldest first, half an hour of it per message
            # batch, as fast as the worker takes them; then live again.
            for first in range(0, len(held), 6):
                for batch in held[first : first + 6]:
                    store(batch, end)
            held.clear()
        store(piece.batch, end + PIPELINE_DELAY)
    # The day is over: beat catches up with what is left (health may need several rounds).
    for extra in range(1, 4):
        periodic(next_hour + extra * HOUR)


def outcome() -> dict:
    """The state to compare, by natural keys (ids differ between databases)."""
    signal_key = {s.pk: (s.asset.slug, s.slug) for s in Signal.objects.select_related("asset")}
    asset_slug = dict(Asset.objects.values_list("pk", "slug"))
    oee_fields = [f.name for f in OeeHour._meta.concrete_fields if f.name not in ("id", "asset")]
    return {
        "oee": sorted(
            (asset_slug[row["asset_id"]], *(row[f] for f in oee_fields))
            for row in OeeHour.objects.values("asset_id", *oee_fields)
        ),
        "work_orders": sorted(
            (asset_slug[w.asset_id], w.kind, w.title, w.due_at, w.priority, w.status)
            for w in WorkOrder.objects.all()
        ),
        "schedules": sorted(
            (s.title, s.meter_value, s.meter_read_at) for s in PreventiveSchedule.objects.all()
        ),
        "alert_events": sorted(
            (
                e.alert.rule.name,
                asset_slug[e.alert.asset_id],
                e.at,
                e.kind,
                e.state,
                e.priority,
                e.message,
                e.activated,
                e.note,
            )
            for e in AlertEvent.objects.select_related("alert__rule")
        ),
        "alerts": sorted(
            (
                a.rule.name,
                asset_slug[a.asset_id],
                a.state,
                a.occurrences,
                a.first_at,
                a.last_at,
                a.returned_at,
                a.value,
                a.suppressed,
            )
            for a in Alert.objects.select_related("rule")
        ),
        "health_steps": sorted(
            (
                asset_slug[h.asset_id],
                h.at,
                h.settings_values,
                h.sensor_values,
                h.sensor_columns,
                h.anomaly_score,
                h.level,
            )
            for h in HealthStep.objects.all()
        ),
        "rollups": sorted(
            (
                signal_key[r.signal_id],
                r.minute,
                r.value_min,
                r.value_max,
                r.value_sum,
                r.value_count,
            )
            for r in MinuteRollup.objects.all()
        ),
        "latest": sorted(
            (signal_key[r.signal_id], r.ts, r.value) for r in LatestReading.objects.all()
        ),
        "late_events": AlertEvent.objects.filter(delivery="late").count(),
    }


def fresh_database() -> None:
    call_command("flush", interactive=False, verbosity=0)
    plant_config_changed()
    signals_changed()


# Batches of five minutes stand for the pipeline's half-second ones: judged within ten minutes of
# its reading, an edge is live.
@override_settings(HEALTH_LEARNING_DAYS=1, HEALTH_STEP_S=900, ALERT_LATE_AFTER_S=600)
def test_a_days_backlog_ends_in_the_same_state_as_the_day_delivered_live():
    deliver_the_day(cut_off=False)
    live = outcome()
    fresh_database()
    deliver_the_day(cut_off=True)
    late = outcome()

    # The day did happen: every kind of outcome is there to compare.
    assert len(live["oee"]) >= 2 * 24
    assert live["work_orders"]
    assert len(live["alert_events"]) >= 4
    assert any(start_at_cut_off(e[2]) for e in live["alert_events"])
    assert live["health_steps"]
    assert live["late_events"] == 0
    # And the second delivery was late: its alerts in the backlog say so.
    assert late["late_events"] > 0

    for part in (
        "rollups",
        "latest",
        "oee",
        "schedules",
        "work_orders",
        "alert_events",
        "alerts",
        "health_steps",
    ):
        assert late[part] == live[part], part


def start_at_cut_off(at: datetime) -> bool:
    start = day_start()
    return start + CUT_OFF[0] <= at < start + CUT_OFF[1]
