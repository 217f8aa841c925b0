"""The limit bands ingest hurries on: the tightest limits of the enabled high and low rules."""

from __future__ import annotations

import pytest

from plantops.alerts.selectors import limit_bands
from plantops.telemetry.urgency import Band
from tests.factories import make_asset, make_rule

pytestmark = pytest.mark.django_db


def test_each_watched_signal_gets_the_tightest_limits_of_its_rules():
    pump = make_asset(asset_type="pump", signals=("vibration", "temperature", "pressure"))
    other = make_asset(asset_type="pump", signals=("vibration",))
    motor = make_asset(asset_type="motor", signals=("vibration",))
    vibration, temperature, pressure = (
        pump.signals.get(slug=s) for s in ("vibration", "temperature", "pressure")
    )
    make_rule(signal=vibration, limit=7.0, deadband=0.5)
    make_rule(asset_type="pump", signal_slug="vibration", limit=6.0, deadband=1.0)
    make_rule(kind="low", signal=temperature, limit=2.0, deadband=0.2)
    make_rule(signal=temperature, limit=80.0, deadband=0.3)
    make_rule(signal=pressure, limit=1.0, enabled=False)
    make_rule(kind="rate", signal=pressure, limit=3.0, window_s=10)

    bands = limit_bands()

    assert bands == {
        vibration.pk: Band(high=6.0, deadband=0.5),
        other.signals.get().pk: Band(high=6.0, deadband=1.0),
        temperature.pk: Band(low=2.0, high=80.0, deadband=0.2),
    }
    assert motor.signals.get().pk not in bands
