"""Alert messages from admin-typed templates, and the interface external detectors report
conditions through."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from plantops.alerts.evaluation import (
    MAX_MESSAGE_CHARS,
    AlertSource,
    ExternalCondition,
    render_message,
)
from plantops.alerts.lifecycle import Priority

CONTEXT = {
    "rule": "Spindle temperature high",
    "asset": "press-1",
    "value": 102.456,
    "limit": 100.0,
    "unit": "°C",
}
NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def test_it_fills_names_with_their_format_specs():
    text = render_message("{asset}: {value:.1f} {unit} over {limit:g}", CONTEXT)
    assert text == "press-1: 102.5 °C over 100"


def test_it_leaves_a_missing_name_visible():
    assert render_message("{asset} at {speed} rpm", CONTEXT) == "press-1 at {speed} rpm"


def test_it_does_not_let_a_template_reach_into_objects():
    assert render_message("{rule.__class__} {value[0]}", CONTEXT) == ("{rule.__class__} {value[0]}")


def test_it_shows_a_value_that_does_not_fit_its_spec_as_it_is():
    assert render_message("{asset:.1f} / {value:d}", CONTEXT) == "press-1 / 102.456"


def test_it_falls_back_to_a_readable_default_for_a_malformed_template():
    expected = "Spindle temperature high on press-1: 102.456 °C"
    assert render_message("{value", CONTEXT) == expected
    assert render_message("value}", CONTEXT) == expected
    assert render_message("   ", CONTEXT) == expected
    assert render_message("{value", {}) == "Alert"


def test_it_survives_a_value_whose_formatting_raises():
    class Broken:
        def __format__(self, spec: str) -> str:
            raise RuntimeError("boom")

        def __str__(self) -> str:
            raise RuntimeError("boom")

    assert render_message("{asset} {thing}", {"asset": "press-1", "thing": Broken()}) == (
        "press-1 {thing}"
    )


def test_it_caps_widths_and_length():
    assert render_message("{value:>999999999}", CONTEXT) == "102.456"
    assert len(render_message("x" * 5000, CONTEXT)) == MAX_MESSAGE_CHARS


@given(template=st.text(max_size=60), value=st.one_of(st.none(), st.floats(), st.text()))
def test_it_never_raises_whatever_the_template(template, value):
    text = render_message(template, {**CONTEXT, "value": value})
    assert isinstance(text, str)
    assert len(text) <= MAX_MESSAGE_CHARS


def test_an_external_condition_is_stored_in_utc_and_refuses_naive_times():
    cest = timezone(timedelta(hours=2))
    condition = ExternalCondition(
        source="health.anomaly",
        asset_id=7,
        key="bearing",
        active=True,
        at=datetime(2026, 11, 22, 12, 0, tzinfo=cest),
        evidence={"score": 0.97, "threshold": 0.9},
        priority="high",
    )
    assert condition.at == NOW
    assert condition.at.tzinfo is UTC
    assert condition.priority is Priority.HIGH
    with pytest.raises(ValueError, match="timezone-aware"):
        ExternalCondition(
            source="health.anomaly",
            asset_id=7,
            key="bearing",
            active=True,
            at=datetime(2026, 11, 22, 12, 0),  # noqa: DTZ001
        )
    with pytest.raises(ValueError, match="source and a key"):
        ExternalCondition(source="", asset_id=7, key="bearing", active=True, at=NOW)


def test_a_detector_with_a_name_and_conditions_is_an_alert_source():
    class BearingDetector:
        name = "health.anomaly"

        def conditions(self, *, now: datetime) -> Sequence[ExternalCondition]:
            return [
                ExternalCondition(source=self.name, asset_id=7, key="bearing", active=True, at=now)
            ]

    class NotADetector:
        name = "nothing"

    detector = BearingDetector()
    assert isinstance(detector, AlertSource)
    assert not isinstance(NotADetector(), AlertSource)
    assert [c.key for c in detector.conditions(now=NOW)] == ["bearing"]
