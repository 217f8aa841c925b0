"""The demo plant's alert rules, as data. Pure: no Django.

One rule per asset type and signal, so each applies to every asset of that type, and per
type an anomaly rule and a failure-prediction rule fed by the health model. Limits sit on
the top of each signal's expected range (for vibration the ISO 10816-3 zone C/D boundary the
demo plant uses), with a deadband and delays so noise around a limit raises one alert.
"""

from __future__ import annotations

from dataclasses import dataclass

from plantops.demo.plant import SIGNALS_BY_TYPE


@dataclass(frozen=True)
class DemoRule:
    name: str
    kind: str
    asset_type: str
    signal_slug: str
    priority: str
    limit: float = 0.0
    deadband: float = 0.0
    on_delay_s: float = 0.0
    off_delay_s: float = 0.0
    timeout_s: float = 0.0
    realarm_after_s: int | None = None
    message_template: str = ""
    anomaly_level: str = "alarm"
    horizon_days: float = 30.0


def demo_rules() -> list[DemoRule]:
    rules = []
    for asset_type, signals in SIGNALS_BY_TYPE.items():
        top = {slug: high for slug, _, _, _, high, _ in signals}
        rules.append(
            DemoRule(
                name=f"{asset_type.title()}: vibration high",
                kind="high",
                asset_type=asset_type,
                signal_slug="vibration",
                priority="high",
                limit=top["vibration"],
                deadband=round(0.1 * top["vibration"], 2),
                on_delay_s=10,
                off_delay_s=30,
                realarm_after_s=1800,
                message_template="{asset}: vibration {value:.1f} {unit}, above {limit} {unit}",
            )
        )
        rules.append(
            DemoRule(
                name=f"{asset_type.title()}: temperature high",
                kind="high",
                asset_type=asset_type,
                signal_slug="temperature",
                priority="medium",
                limit=top["temperature"],
                deadband=3.0,
                on_delay_s=30,
                off_delay_s=60,
                message_template="{asset}: {signal} {value:.0f} {unit}, above {limit:.0f} {unit}",
            )
        )
        rules.append(
            DemoRule(
                name=f"{asset_type.title()}: no vibration data",
                kind="no_data",
                asset_type=asset_type,
                signal_slug="vibration",
                priority="low",
                timeout_s=300,
                message_template="{asset}: no vibration reading for 5 minutes",
            )
        )
        # The health model's two voices: a deviation from the machine's own regime baseline
        # now, and a failure predicted inside two weeks, early enough to plan the repair.
        rules.append(
            DemoRule(
                name=f"{asset_type.title()}: anomaly",
                kind="anomaly",
                asset_type=asset_type,
                signal_slug="",
                priority="medium",
                anomaly_level="alarm",
            )
        )
        rules.append(
            DemoRule(
                name=f"{asset_type.title()}: failure predicted",
                kind="prediction",
                asset_type=asset_type,
                signal_slug="",
                priority="high",
                horizon_days=14.0,
            )
        )
    return rules
