"""Property-based: any bytes on any topic either parse or are rejected with a reason."""

from __future__ import annotations

import json
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from plantops.telemetry.payloads import Limits, Reason, TopicRegistry, parse_message

REGISTRY = TopicRegistry(assets={("s", "a", "l", "m"): 1}, signals={(1, "v"): 10, (1, "t"): 11})
NOW_US = 1_795_341_600_000_000
LIMITS = Limits(now_us=NOW_US)
KNOWN = "plantops/s/a/l/m"

topics = st.one_of(
    st.text(max_size=80),
    st.sampled_from(
        [f"{KNOWN}/telemetry/v", f"{KNOWN}/telemetry", f"{KNOWN}/state", f"{KNOWN}/count"]
    ),
    st.builds(
        lambda parts: "plantops/" + "/".join(parts), st.lists(st.text(max_size=8), max_size=8)
    ),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=20,
)
contract_like = st.fixed_dictionaries(
    {},
    optional={
        "ts": st.one_of(
            st.integers(), st.floats(), st.text(max_size=30), st.just("2026-11-22T10:00:00Z")
        ),
        "value": json_values,
        "state": st.one_of(st.text(max_size=12), st.sampled_from(["running", "down"])),
        "reason": json_values,
        "good": json_values,
        "scrap": json_values,
        "readings": st.lists(
            st.fixed_dictionaries(
                {},
                optional={
                    "signal": st.sampled_from(["v", "t", "x"]),
                    "ts": json_values,
                    "value": json_values,
                },
            ),
            max_size=5,
        ),
    },
)


def _dump(value) -> bytes:
    return json.dumps(value, allow_nan=True).encode()


payloads = st.one_of(st.binary(max_size=300), json_values.map(_dump), contract_like.map(_dump))


@settings(max_examples=600, deadline=None)
@given(topic=topics, payload=payloads)
def test_it_never_raises_and_every_rejection_has_a_reason(topic, payload):
    result = parse_message(topic, payload, registry=REGISTRY, limits=LIMITS)
    for rejection in result.rejections:
        assert isinstance(rejection.reason, Reason)
        assert rejection.detail
        assert len(rejection.excerpt) <= 1000
    for signal_id, ts_us, value in result.readings:
        assert signal_id in (10, 11)
        assert math.isfinite(value)
        assert NOW_US - LIMITS.max_age_us <= ts_us <= NOW_US + LIMITS.max_future_us
    for _, _, good, scrap in result.counts:
        assert good >= 0
        assert scrap >= 0
    # Something happens to every message: it is stored, or it is a dead letter.
    assert (
        result.readings
        or result.states
        or result.counts
        or result.rejections
        or _is_empty_batch(payload)
    )


def _is_empty_batch(payload: bytes) -> bool:
    try:
        body = json.loads(payload)
    except ValueError:
        return False
    return isinstance(body, dict) and body.get("readings") == []
