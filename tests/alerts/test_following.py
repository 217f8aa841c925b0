"""A batch's machine states suppress and reveal its asset's alerts at their own moments; the
states that cannot change any alert's suppression are not followed (nor cut the batch)."""

from __future__ import annotations

import pytest

from plantops.alerts.following import states_to_follow
from plantops.alerts.models import Alert
from plantops.assets.services import assets_take_out_of_service
from plantops.core.time import now_us, us_to_datetime
from plantops.pipeline.services import batch_store
from tests.factories import event_kinds, make_asset, make_batch, make_rule

pytestmark = pytest.mark.django_db

S = 1_000_000


def a_shift_of_states(asset_id: int, start_us: int) -> list[tuple[int, int, str, str]]:
    """Running, a jam, running, a planned stop for cleaning, running, a minor stop."""
    return [
        (asset_id, start_us, "running", ""),
        (asset_id, start_us + 100 * S, "down", "jam"),
        (asset_id, start_us + 200 * S, "running", ""),
        (asset_id, start_us + 300 * S, "planned_stop", "cleaning"),
        (asset_id, start_us + 400 * S, "running", ""),
        (asset_id, start_us + 500 * S, "down", "minor_stop"),
    ]


def test_an_alert_is_hidden_for_the_planned_stop_of_its_batch_and_only_then():
    asset = make_asset()
    signal = asset.signals.get(slug="vibration")
    make_rule(signal=signal)
    start = now_us() - 600 * S
    readings = [(signal.pk, start + second * S, 9.0) for second in range(10, 600, 10)]

    batch_store(batch=make_batch(readings=readings, states=a_shift_of_states(asset.pk, start)))

    alert = Alert.objects.get()
    assert event_kinds(alert) == ["raised", "suppressed", "unsuppressed"]
    hidden, shown = alert.events.filter(kind__in=["suppressed", "unsuppressed"]).order_by("id")
    assert (hidden.at, shown.at) == (
        us_to_datetime(start + 300 * S),
        us_to_datetime(start + 400 * S),
    )
    assert alert.suppressed is False


def test_only_a_planned_stop_and_the_state_that_ends_it_are_followed():
    asset = make_asset()
    states = a_shift_of_states(asset.pk, now_us() - 600 * S)
    assert states_to_follow(states) == states[3:5]


def test_every_state_of_an_asset_out_of_service_is_followed():
    asset = make_asset()
    assets_take_out_of_service(asset_ids=[asset.pk], reason="Gearbox swap")
    states = a_shift_of_states(asset.pk, now_us() - 600 * S)
    assert states_to_follow(states) == states
