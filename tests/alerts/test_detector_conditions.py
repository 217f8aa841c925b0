"""Anomaly and prediction rules: detectors report levels, the services turn changes into alerts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError

from plantops.alerts.conditions import alerts_apply_conditions
from plantops.alerts.evaluation import ExternalCondition
from plantops.alerts.models import Alert, AlertEvent, AlertRule
from tests.factories import make_asset, make_rule

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def anomaly(asset, level: str, *, at: datetime = T0) -> ExternalCondition:
    return ExternalCondition(
        source="anomaly",
        asset_id=asset.pk,
        key=level,
        active=level in {"warning", "alarm"},
        at=at,
        message=f"{asset.name}: vibration far from its regime baseline",
        evidence={"value": 7.5, "signals": [{"signal": "vibration", "z": 7.5}]},
    )


def test_an_alarm_level_rule_ignores_warnings_and_raises_on_alarm_with_the_evidence():
    asset = make_asset()
    make_rule(kind="anomaly", asset_type="motor", anomaly_level="alarm")

    assert alerts_apply_conditions(conditions=[anomaly(asset, "warning")]) == 0
    assert not Alert.objects.exists()
    alerts_apply_conditions(conditions=[anomaly(asset, "alarm", at=T0 + timedelta(minutes=5))])

    alert = Alert.objects.get()
    assert (alert.state, alert.occurrences, alert.signal) == ("active_unack", 1, None)
    assert alert.evidence["signals"][0]["signal"] == "vibration"
    assert alert.message == f"{asset.name}: vibration far from its regime baseline"


def test_a_level_held_is_one_occurrence_and_a_level_dropped_returns_to_normal():
    asset = make_asset()
    make_rule(kind="anomaly", anomaly_level="warning")  # every asset type
    for minutes in (0, 5, 10):
        alerts_apply_conditions(
            conditions=[anomaly(asset, "alarm", at=T0 + timedelta(minutes=minutes))]
        )
    alerts_apply_conditions(conditions=[anomaly(asset, "normal", at=T0 + timedelta(minutes=15))])

    alert = Alert.objects.get()
    assert (alert.state, alert.occurrences) == ("rtn_unack", 1)
    assert list(AlertEvent.objects.values_list("kind", flat=True)) == ["raised", "returned"]


def test_rules_of_another_type_source_or_disabled_take_nothing():
    asset = make_asset(asset_type="pump")
    make_rule(kind="anomaly", asset_type="motor")
    make_rule(kind="prediction", asset_type="pump")
    make_rule(kind="anomaly", asset_type="pump", enabled=False)

    assert alerts_apply_conditions(conditions=[anomaly(asset, "alarm")]) == 0
    assert not Alert.objects.exists()


def test_an_anomaly_rule_cannot_watch_one_signal():
    asset = make_asset()
    bad = AlertRule(
        name="x", kind="anomaly", priority="high", signal=asset.signals.get(slug="vibration")
    )
    with pytest.raises(ValidationError, match="apply to assets"):
        bad.full_clean()
