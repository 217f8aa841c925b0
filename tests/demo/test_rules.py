"""The demo plant ships alert rules that are valid and fire on its own signals."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from plantops.alerts.models import Alert, AlertRule
from plantops.assets.models import Signal
from plantops.core.time import now_us
from plantops.demo.plant import SIGNALS_BY_TYPE
from tests.factories import judge_readings

pytestmark = pytest.mark.django_db


def test_seeding_twice_gives_one_valid_rule_set(capsys):
    call_command("seed_demo_plant")
    call_command("seed_demo_plant")

    rules = list(AlertRule.objects.all())
    assert len(rules) == 5 * len(SIGNALS_BY_TYPE)
    assert f"{5 * len(SIGNALS_BY_TYPE)} alert rules" in capsys.readouterr().out
    for rule in rules:
        rule.full_clean()  # raises on a rule the admin would refuse


def test_a_conveyor_vibrating_past_its_limit_raises_one_high_alert_after_the_delay():
    call_command("seed_demo_plant")
    signal = Signal.objects.get(asset__slug="transfer-conveyor-1", slug="vibration")
    start = now_us() - 60_000_000

    for second in range(0, 30):  # 30 s at 5.2 mm/s against a 4.5 mm/s limit, 10 s on-delay
        judge_readings((signal.pk, start + second * 1_000_000, 5.2))

    alert = Alert.objects.get()
    assert (alert.rule.name, alert.priority, alert.occurrences) == (
        "Conveyor: vibration high",
        "high",
        1,
    )
    assert alert.message == "Transfer conveyor 1: vibration 5.2 mm/s, above 4.5 mm/s"
    assert alert.first_at.timestamp() == pytest.approx((start + 10_000_000) / 1e6)
