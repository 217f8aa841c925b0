"""OEE read from the database: shifts from the admin's models, snapshots, operators' entries."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from django.core.exceptions import ValidationError

from plantops.assets.models import Asset, Shift, ShiftBreak
from plantops.oee import screens, selectors, services, snapshots
from plantops.oee.models import CountEvent, OeeHour, StateEvent, StopCategory, StopReason
from tests.factories import make_asset, make_batch

pytestmark = pytest.mark.django_db

MONDAY = datetime(2026, 11, 23, tzinfo=UTC)
AFTER = MONDAY + timedelta(days=1)


def at(hour: int, minute: int = 0) -> datetime:
    return MONDAY.replace(hour=hour, minute=minute)


def press(*, ideal_cycle_s: float = 30.0) -> Asset:
    asset = make_asset(signals=())
    asset.ideal_cycle_time_s = ideal_cycle_s
    asset.save()
    early = Shift.objects.create(line=asset.line, name="Early", start=time(6), end=time(14))
    ShiftBreak.objects.create(shift=early, start=time(10), end=time(10, 30))
    return asset


def run_the_shift(asset: Asset) -> None:
    """The hand-computed shift of tests/oee/test_calculation.py: OEE = 567/729."""
    for ts, state, reason in [
        (at(6), "running", ""),
        (at(8), "down", ""),
        (at(8, 45), "running", ""),
        (at(14), "idle", "end of shift"),
    ]:
        StateEvent.objects.create(asset=asset, ts=ts, state=state, reason=reason)
    for ts, good, scrap in [(at(7), 200, 5), (at(8, 50), 100, 4), (at(12), 400, 20)]:
        CountEvent.objects.create(asset=asset, ts=ts, good=good, scrap=scrap)


def test_it_computes_a_shift_from_the_calendar_and_the_events():
    asset = press()
    run_the_shift(asset)
    result = selectors.asset_oee(asset, at(6), at(14), now=AFTER)
    assert (result.planned_s, result.run_s, result.total_count) == (27_000, 24_300, 729)
    assert result.oee == pytest.approx(567 / 729)
    assert result.loss_figures()["startup_rejects"] == 4
    # Over the whole day the same: nothing is planned outside the shift.
    assert selectors.asset_oee(asset, MONDAY, AFTER, now=AFTER).oee == pytest.approx(567 / 729)


def test_closed_hours_are_kept_and_read_back_to_the_same_figure():
    asset = press()
    run_the_shift(asset)
    first = selectors.asset_oee(asset, MONDAY, AFTER, now=AFTER)
    assert OeeHour.objects.filter(asset=asset).count() == 24
    again = selectors.asset_oee(asset, MONDAY, AFTER, now=AFTER)
    assert again.oee == pytest.approx(first.oee)
    assert again.loss_figures() == first.loss_figures()
    # Edges that are not whole hours are computed from the events around them.
    partial = selectors.asset_oee(asset, at(6, 15), at(13, 45), now=AFTER)
    assert partial.planned_s == 27_000 - 1_800
    assert partial.run_s == 24_300 - 1_800


def test_a_late_state_makes_the_hours_it_changes_be_computed_again():
    asset = press()
    run_the_shift(asset)
    selectors.asset_oee(asset, MONDAY, AFTER, now=AFTER)
    # A changeover 12:00-12:20 that arrived late (the gateway was offline).
    late = [(at(12), "changeover", "product B"), (at(12, 20), "running", "")]
    for ts, state, reason in late:
        StateEvent.objects.create(asset=asset, ts=ts, state=state, reason=reason)
    forgotten = snapshots.hours_forget(
        states=[(asset.pk, int(ts.timestamp() * 1e6), state) for ts, state, _ in late],
        counts=[],
    )
    assert forgotten == 12  # 12:00 to the end of the day
    result = selectors.asset_oee(asset, MONDAY, AFTER, now=AFTER)
    assert result.losses.changeover_s == 1_200
    assert result.run_s == 24_300 - 1_200


def test_start_up_rejects_are_found_across_an_hour_boundary():
    asset = press()
    for ts, state in [(at(6), "running"), (at(8, 50), "down"), (at(8, 58), "running")]:
        StateEvent.objects.create(asset=asset, ts=ts, state=state)
    CountEvent.objects.create(asset=asset, ts=at(9, 3), good=10, scrap=3)
    CountEvent.objects.create(asset=asset, ts=at(9, 30), good=10, scrap=2)
    result = selectors.asset_oee(asset, MONDAY, AFTER, now=AFTER)
    assert OeeHour.objects.filter(asset=asset).count() == 24  # read through hourly snapshots
    assert result.loss_figures()["startup_rejects"] == 3
    assert result.loss_figures()["production_rejects"] == 2
    # The 09:00 hour made on its own, and a period starting after the restart, see it too.
    OeeHour.objects.filter(asset=asset, hour=at(9)).delete()
    assert selectors.asset_oee(asset, MONDAY, AFTER, now=AFTER).losses.startup_rejects == 3
    assert selectors.asset_oee(asset, at(9), at(9, 10), now=AFTER).losses.startup_rejects == 3


def test_the_current_shift_counts_only_the_time_so_far():
    asset = press()
    run_the_shift(asset)
    result = selectors.asset_oee(asset, at(6), at(14), now=at(9))
    # 06:00-09:00 planned so far; running 06:00-08:00 and 08:45-09:00.
    assert (result.planned_s, result.run_s) == (10_800, 8_100)
    assert result.total_count == 205 + 104


def test_a_line_adds_up_its_assets():
    asset = press()
    run_the_shift(asset)
    other = Asset.objects.create(
        line=asset.line, slug="other", name="Other", asset_type="press", ideal_cycle_time_s=60
    )
    StateEvent.objects.create(asset=other, ts=at(6), state="running")
    CountEvent.objects.create(asset=other, ts=at(9), good=405, scrap=0)
    # A conveyor makes no parts (no ideal cycle time): it is not part of the line's OEE.
    conveyor = Asset.objects.create(
        line=asset.line, slug="belt", name="Belt", asset_type="conveyor"
    )
    StateEvent.objects.create(asset=conveyor, ts=at(6), state="down")
    line, per_asset = selectors.line_oee(asset.line, at(6), at(14), now=AFTER)
    assert set(per_asset) == {asset.pk, other.pk}
    assert per_asset[other.pk].availability == 1.0
    assert line.planned_s == 54_000
    assert line.run_s == 24_300 + 27_000
    assert line.performance == pytest.approx((729 * 30 + 405 * 60) / 51_300)


def test_a_stop_reason_goes_to_stops_only_and_shows_in_the_pareto():
    asset = press()
    run_the_shift(asset)
    jam, _ = StopReason.objects.get_or_create(
        code="jam", defaults={"label": "Jam", "category": StopCategory.EQUIPMENT}
    )
    running = StateEvent.objects.get(asset=asset, ts=at(6))
    with pytest.raises(ValidationError, match="Only a stop gets a reason"):
        services.stop_reason_assign(event=running, reason=jam, user=None)
    before = selectors.asset_oee(asset, MONDAY, AFTER, now=AFTER)
    assert before.downtime_by_reason == {"": 2_700}
    stop = StateEvent.objects.get(asset=asset, ts=at(8))
    services.stop_reason_assign(event=stop, reason=jam, user=None)
    after = selectors.asset_oee(asset, MONDAY, AFTER, now=AFTER)
    assert after.downtime_by_reason == {"jam": 2_700}
    retired = StopReason.objects.create(code="old", label="Old", category=StopCategory.OTHER)
    retired.active = False
    with pytest.raises(ValidationError, match="no longer in use"):
        services.stop_reason_assign(event=stop, reason=retired, user=None)


def test_the_beat_snapshots_every_assets_last_day_of_closed_hours():
    asset = press()
    run_the_shift(asset)
    assert snapshots.hours_make_recent(now=AFTER + timedelta(minutes=5)) >= 1
    assert OeeHour.objects.filter(asset=asset).count() == 24
    noon = OeeHour.objects.get(asset=asset, hour=at(12))
    assert (noon.planned_s, noon.run_s, noon.total_count) == (3_600, 3_600, 420)


def test_scrap_is_refused_above_what_the_machine_counted_good_in_the_shift():
    asset = press()
    run_the_shift(asset)
    with pytest.raises(ValidationError, match="counted 700 good parts"):
        services.scrap_record(asset=asset, ts=at(12), quantity=701, reason="", user=None)
    services.scrap_record(asset=asset, ts=at(12), quantity=600, reason="burr", user=None)
    with pytest.raises(ValidationError, match="600 are already recorded"):
        services.scrap_record(asset=asset, ts=at(13), quantity=101, reason="", user=None)
    result = selectors.asset_oee(asset, at(6), at(14), now=AFTER)
    assert (result.total_count, result.good_count) == (729, 100)
    assert result.loss_figures()["production_rejects"] == 625


def test_no_shift_means_a_no_plan_result():
    asset = make_asset(signals=())
    StateEvent.objects.create(asset=asset, ts=at(6), state="running")
    result = selectors.asset_oee(asset, MONDAY, AFTER, now=AFTER)
    payload = screens.oee_payload(result)
    assert payload["status"] == "no_plan"
    assert (payload["availability"], payload["oee"]) == (None, None)


def test_a_stop_repeated_every_minute_across_an_hour_is_one_breakdown_and_one_stop_to_explain():
    asset = press()
    asset.line.small_stop_s = 420  # 7 minutes: the hour after 09:00 alone sees less of it
    asset.line.save()
    StateEvent.objects.create(asset=asset, ts=at(6), state="running")
    # Down 08:55 to 09:05, the machine saying so every minute; running again after.
    for minute in range(10):
        StateEvent.objects.create(
            asset=asset, ts=at(8, 55) + timedelta(minutes=minute), state="down"
        )
    StateEvent.objects.create(asset=asset, ts=at(9, 5), state="running")
    StateEvent.objects.create(asset=asset, ts=at(9, 6), state="running")
    result = selectors.asset_oee(asset, MONDAY, AFTER, now=AFTER)
    assert OeeHour.objects.filter(asset=asset).count() == 24
    assert (result.losses.breakdowns_s, result.losses.small_stops_s) == (600, 0)
    # Made again on its own (as after a late event), the 09:00 hour sees five minutes of the
    # stop but judges it by its whole ten.
    OeeHour.objects.filter(asset=asset, hour=at(9)).delete()
    again = selectors.asset_oee(asset, MONDAY, AFTER, now=AFTER)
    assert (again.losses.breakdowns_s, again.losses.small_stops_s) == (600, 0)
    assert again.losses.breakdowns == 1  # in the 08:00 hour, where it began
    stops = screens.stops_awaiting_reason(asset.line, at(6), at(14), now=AFTER)
    assert [(s["seconds"], s["ongoing"]) for s in stops] == [(600, False)]
    first = StateEvent.objects.get(asset=asset, ts=at(8, 55))
    assert stops[0]["id"] == first.pk


def test_a_stop_longer_than_the_margin_read_around_an_hour_is_still_judged_whole():
    asset = press()
    asset.line.small_stop_s = 7_200  # two hours: only the whole three-hour stop is a breakdown
    asset.line.save()
    StateEvent.objects.create(asset=asset, ts=at(6), state="running")
    for minute in range(180):  # down 09:00-12:00, said every minute
        StateEvent.objects.create(asset=asset, ts=at(9) + timedelta(minutes=minute), state="down")
    StateEvent.objects.create(asset=asset, ts=at(12), state="running")
    selectors.asset_oee(asset, MONDAY, AFTER, now=AFTER)
    OeeHour.objects.filter(asset=asset, hour=at(10)).delete()
    result = selectors.asset_oee(asset, MONDAY, AFTER, now=AFTER)
    # Three hours down less the break 10:00-10:30, which is not planned time.
    assert (result.losses.breakdowns_s, result.losses.small_stops_s) == (9_000, 0)
    # And a period cut inside the stop, at both ends.
    inside = selectors.asset_oee(asset, at(10, 30), at(11, 30), now=AFTER)
    assert inside.losses.breakdowns_s == 3_600


def test_counts_stored_while_a_product_runs_take_its_cycle_time_on_the_machine():
    from plantops.assets.models import Product, ProductCycleTime
    from plantops.core.time import datetime_to_us
    from plantops.pipeline.services import batch_store

    asset = press()  # 30 s per part of its own
    bracket = Product.objects.create(code="br-7", name="Bracket 7")
    ProductCycleTime.objects.create(asset=asset, product=bracket, ideal_cycle_time_s=20)
    StateEvent.objects.create(asset=asset, ts=at(6), state="running")
    batch_store(batch=make_batch(counts=[(asset.pk, datetime_to_us(at(7)), 100, 0)]))
    asset.current_product = bracket
    asset.save()
    batch_store(batch=make_batch(counts=[(asset.pk, datetime_to_us(at(8)), 100, 0)]))
    assert list(CountEvent.objects.order_by("ts").values_list("product__code", flat=True)) == [
        None,
        "br-7",
    ]
    result = selectors.asset_oee(asset, at(6), at(9), now=AFTER)
    assert result.ideal_run_s == 100 * 30 + 100 * 20
