"""A small plant for the MCP server's tests, and what its tools must answer on it: the same
checks run over stdio (test_mcp_stdio.py) and over HTTP (test_mcp_http.py).

Two lines on two sites. Line A (Europe/Berlin) has a press with a planned shift, readings,
a critical vibration alert, a bearing prediction and a done repair; line B (UTC) has a motor
with an alert, a prediction, a done repair of the same problem and open work. Alice is the
operator of line A only; Sam supervises the plant.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.utils import timezone
from mcp import Client

from plantops.alerts.models import Alert
from plantops.assets.models import Signal
from plantops.core.models import ApiToken, TokenScope
from plantops.core.time import now_us
from plantops.health.models import AssetHealth, FailureMode
from plantops.maintenance.models import FailureCode, Part, PartUse
from plantops.oee import selectors as oee_selectors
from plantops.pipeline.services import batch_store
from tests.factories import (
    make_alert,
    make_asset,
    make_batch,
    make_prediction_alert,
    make_user,
    make_work_order,
    past_work_order,
)
from tests.oee.test_selectors import AFTER, MONDAY, press, run_the_shift

TOOLS = {
    "find_assets",
    "latest_values",
    "signal_trends",
    "open_alerts",
    "alert_history",
    "oee",
    "predictions_and_health",
    "search_work",
    "what_fixed_it",
    "maintenance_kpis",
    "create_work_request",
    "acknowledge_alert",
}
WRITE_TOOLS = {"create_work_request", "acknowledge_alert"}
RESOURCES = {"plantops://plant-model", "plantops://alarm-philosophy"}
# Line A's trend: a reading a minute for 90 minutes, then the 9.0 that raised the alert.
TREND_READINGS = 90


@dataclass(frozen=True)
class Plant:
    line_a: int
    line_b: int
    press: int
    motor: int
    motor_name: str
    vibration_a: int
    vibration_b: int
    alert_a: int
    alert_b: int
    oee_percent_a: float
    sam_write: str
    sam_read: str
    alice_write: str


def build_plant() -> Plant:
    """The plant described above, stored through the plant's own services where it has them."""
    bearing, _ = FailureMode.objects.get_or_create(
        code="bearing", defaults={"label": "Bearing degradation"}
    )
    vib, _ = FailureCode.objects.update_or_create(
        kind="problem", code="vib", defaults={"label": "Vibration", "failure_mode": bearing}
    )
    misaligned, _ = FailureCode.objects.get_or_create(
        kind="cause", code="misaligned-mcp", defaults={"label": "Misalignment"}
    )
    realigned, _ = FailureCode.objects.get_or_create(
        kind="remedy", code="realigned-mcp", defaults={"label": "Realigned"}
    )
    bearing_part = Part.objects.create(number="BRG-6205-MCP", name="Bearing 6205", stock=10)

    a = press()
    run_the_shift(a)
    site = a.line.area.site
    site.timezone = "Europe/Berlin"
    site.save()
    a.name = "Press 7"
    a.save()
    vibration_a = Signal.objects.create(
        asset=a, slug="vibration", name="Vibration", unit="mm/s", expected_max=7.1
    )
    Signal.objects.create(asset=a, slug="temperature", name="Temperature", unit="°C")
    b = make_asset()
    start = now_us() - (TREND_READINGS + 1) * 60_000_000
    batch_store(
        batch=make_batch(
            readings=[
                (vibration_a.pk, start + i * 60_000_000, 2.0 + (i % 10) * 0.25)
                for i in range(TREND_READINGS)
            ]
        )
    )
    make_prediction_alert(asset=a)
    make_prediction_alert(asset=b)
    alert_a = make_alert(asset=a, priority="critical", message="Press vibration high")
    alert_b = make_alert(asset=b, priority="high", message="Motor vibration high")
    AssetHealth.objects.create(asset=a, level="warning", score=4.2, judged_at=timezone.now())
    AssetHealth.objects.create(asset=b, level="alarm", score=9.1, judged_at=timezone.now())

    sam = make_user(role="supervisor", username="sam")
    alice = make_user(role="operator", username="alice", lines=[a.line])
    tom = make_user(role="technician", username="tom")
    ago = timezone.now() - timedelta(days=10)
    fix_a = past_work_order(
        asset=a,
        title="Press vibration",
        problem=vib,
        cause=misaligned,
        remedy=realigned,
        failure_mode=bearing,
        outcome="failure_found",
        notes="Realigned the coupling and replaced bearing 6205.",
        created_at=ago,
        completed_at=ago + timedelta(hours=3),
        actual_minutes=90,
        assignee=tom,
    )
    PartUse.objects.create(
        work_order=fix_a, part=bearing_part, quantity=2, used_by=tom, used_at=ago
    )
    past_work_order(
        asset=b,
        title="Motor vibration",
        problem=vib,
        outcome="failure_found",
        notes="Coupling loose: tightened it.",
        created_at=ago,
        completed_at=ago + timedelta(hours=1),
        assignee=tom,
    )
    make_work_order(by=sam, asset=b, title="Belt squeal on the coupling guard")

    line_total, _ = oee_selectors.line_oee(a.line, MONDAY, AFTER)
    return Plant(
        line_a=a.line_id,
        line_b=b.line_id,
        press=a.pk,
        motor=b.pk,
        motor_name=b.name,
        vibration_a=vibration_a.pk,
        vibration_b=b.signals.get(slug="vibration").pk,
        alert_a=alert_a.pk,
        alert_b=alert_b.pk,
        oee_percent_a=round(100 * line_total.oee, 1),
        sam_write=ApiToken.issue(name="assistant", user=sam, scope=TokenScope.WRITE)[1],
        sam_read=ApiToken.issue(name="assistant", user=sam, scope=TokenScope.READ)[1],
        alice_write=ApiToken.issue(name="assistant", user=alice, scope=TokenScope.WRITE)[1],
    )


# --- calling the tools -----------------------------------------------------------------------


async def call(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    """What the tool returned; the test fails with the tool's own words if it refused."""
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, f"{tool} refused: {result.content[0].text}"
    return result.structured_content


async def refusal(client: Client, tool: str, **arguments: Any) -> str:
    """The words the tool refused with; the test fails if it did not refuse."""
    result = await client.call_tool(tool, arguments)
    assert result.is_error, f"{tool} answered: {result.structured_content}"
    return result.content[0].text


async def resource(client: Client, uri: str) -> str:
    return (await client.read_resource(uri)).contents[0].text


# --- what the tools must answer ------------------------------------------------------------------


async def every_tool_for_the_supervisor(client: Client, plant: Plant) -> None:
    """Every tool and resource, as Sam with a read and write token: the whole plant."""
    tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert set(tools) == TOOLS
    for name in WRITE_TOOLS:
        assert "read and write token" in tools[name].description
        assert "note" in tools[name].input_schema["required"]
    for name in TOOLS:
        assert "time zone" in tools[name].description, name

    found = await call(client, "find_assets", text="press 7")
    (press,) = found["assets"]
    assert (found["total"], press["id"], press["time_zone"]) == (1, plant.press, "Europe/Berlin")
    assert {"id": plant.vibration_a, "slug": "vibration", "name": "Vibration", "unit": "mm/s"} in (
        press["signals"]
    )
    everything = await call(client, "find_assets")
    assert {row["id"] for row in everything["assets"]} == {plant.press, plant.motor}
    capped = await call(client, "find_assets", limit=1)
    assert (capped["total"], capped["listed"], len(capped["assets"])) == (2, 1, 1)

    latest = await call(client, "latest_values", asset_id=plant.press)
    vibration = next(s for s in latest["signals"] if s["slug"] == "vibration")
    assert (vibration["value"], vibration["unit"], vibration["in_range"]) == (9.0, "mm/s", False)
    assert vibration["at"].endswith("+01:00")  # Berlin in winter

    trends = await call(client, "signal_trends", signal_ids=[plant.vibration_a], hours=2)
    (trend,) = trends["signals"]
    assert trends["read_from"] == "minute rollups"
    assert (trend["unit"], trend["readings"]) == ("mm/s", TREND_READINGS + 1)
    assert (trend["summary"]["min"], trend["summary"]["max"]) == (2.0, 9.0)
    assert trend["summary"]["last"] == 9.0
    assert 1 < len(trend["points"]) <= 48
    assert sum(point["readings"] for point in trend["points"]) == TREND_READINGS + 1
    month = await call(client, "signal_trends", signal_ids=[plant.vibration_a], hours=24 * 30)
    assert month["read_from"] == "hour rollups"
    assert month["signals"][0]["readings"] == TREND_READINGS + 1

    alerts = await call(client, "open_alerts")
    assert alerts["open"] == 4
    assert alerts["counts"]["critical"] == 1
    assert alerts["alerts"][0]["id"] == plant.alert_a  # the critical one first
    assert alerts["alerts"][0]["unit"] == "mm/s"
    assert alerts["alerts"][0]["state"] == "active_unack"
    history = await call(client, "alert_history", alert_id=plant.alert_a)
    assert [event["kind"] for event in history["events"]][:1] == ["raised"]
    assert history["alert"]["time_zone"] == "Europe/Berlin"

    day = {"start": MONDAY.isoformat(), "end": AFTER.isoformat()}
    oee = await call(client, "oee", line_id=plant.line_a, group="shift", **day)
    assert oee["total"]["oee_percent"] == plant.oee_percent_a
    assert oee["total"]["status"] == "ok"
    assert [bucket["shift"] for bucket in oee["buckets"]] == ["Early"]
    assert oee["from"] == "2026-11-23T01:00:00+01:00"
    too_long = await refusal(
        client,
        "oee",
        line_id=plant.line_a,
        group="hour",
        start=MONDAY.replace(day=1).isoformat(),
        end=AFTER.isoformat(),
    )
    assert "at most 48 hours" in too_long

    health = await call(client, "predictions_and_health", line_id=plant.line_a)
    (prediction,) = health["predictions"]
    assert (prediction["asset"]["id"], prediction["failure_mode"]) == (
        plant.press,
        "Bearing degradation",
    )
    assert health["health_levels"] == {"warning": 1}
    everywhere = await call(client, "predictions_and_health")
    assert everywhere["predictions_total"] == 2
    assert everywhere["health_levels"] == {"warning": 1, "alarm": 1}

    work = await call(client, "search_work", text="coupling")
    assert work["total"] == 3
    done = await call(client, "search_work", text="coupling", status="done")
    assert {row["asset"]["id"] for row in done["work_orders"]} == {plant.press, plant.motor}

    fixed = await call(client, "what_fixed_it", asset_id=plant.press, failure="vib")
    (last,) = fixed["on_this_asset"]
    assert (last["cause"], last["remedy"], last["technician"]) == (
        "Misalignment",
        "Realigned",
        "tom",
    )
    assert last["parts_used"] == [
        {"part": "BRG-6205-MCP", "name": "Bearing 6205", "quantity": 2, "unit": "pcs"}
    ]
    assert [fix["asset"] for fix in fixed["on_assets_of_the_same_type"]] == [plant.motor_name]
    frequent = await call(client, "what_fixed_it", asset_id=plant.press)
    assert frequent["frequent_failures"][0]["failure"] == "Vibration"
    assert frequent["frequent_failures"][0]["last_fix"]["remedy"] == "Realigned"

    kpis = await call(client, "maintenance_kpis", days=30)
    assert {line["id"] for line in kpis["lines"]} == {plant.line_a, plant.line_b}

    made = await call(
        client,
        "create_work_request",
        asset_id=plant.press,
        title="Oil leak at the gearbox",
        note="A puddle under the press since the early shift.",
        priority="high",
    )
    assert (made["status"], made["requested_by"]) == ("approved", "sam")
    assert made["description"] == (
        "Through MCP, for sam: A puddle under the press since the early shift."
    )
    acknowledged = await call(
        client, "acknowledge_alert", alert_id=plant.alert_a, note="Guard checked, watching it."
    )
    assert (acknowledged["state"], acknowledged["acknowledged_by"]) == ("active_ack", "sam")
    again = await refusal(client, "acknowledge_alert", alert_id=plant.alert_a, note="Again.")
    assert "it is already acknowledged" in again

    listed = {str(r.uri) for r in (await client.list_resources()).resources}
    assert listed == RESOURCES
    model = json.loads(await resource(client, "plantops://plant-model"))
    lines = {line["id"] for site in model["sites"] for a in site["areas"] for line in a["lines"]}
    assert lines == {plant.line_a, plant.line_b}
    philosophy = await resource(client, "plantops://alarm-philosophy")
    assert "| critical |" in philosophy
    assert "Through MCP, for <user>:" in philosophy


async def writes_refused_to_a_read_token(client: Client, plant: Plant) -> None:
    """Sam's read token reads, and is refused on both writes, saying why."""
    assert (await call(client, "open_alerts"))["open"] == 4
    for tool, arguments in (
        ("create_work_request", {"asset_id": plant.press, "title": "Leak", "note": "Oil."}),
        ("acknowledge_alert", {"alert_id": plant.alert_a, "note": "Seen."}),
    ):
        words = await refusal(client, tool, **arguments)
        assert "this API token may only read" in words, words
    missing_note = await client.call_tool("acknowledge_alert", {"alert_id": plant.alert_a})
    assert missing_note.is_error


async def an_operator_sees_only_their_lines(client: Client, plant: Plant) -> None:
    """Alice, the operator of line A, with a read and write token: line B is not there."""
    found = await call(client, "find_assets")
    assert [row["id"] for row in found["assets"]] == [plant.press]
    for tool, arguments in (
        ("latest_values", {"asset_id": plant.motor}),
        ("signal_trends", {"signal_ids": [plant.vibration_b]}),
        ("alert_history", {"alert_id": plant.alert_b}),
        ("oee", {"line_id": plant.line_b}),
        ("oee", {"asset_id": plant.motor}),
        ("predictions_and_health", {"asset_id": plant.motor}),
        ("search_work", {"line_id": plant.line_b}),
        ("what_fixed_it", {"asset_id": plant.motor}),
        ("maintenance_kpis", {"line_id": plant.line_b}),
        ("find_assets", {"line_id": plant.line_b}),
    ):
        words = await refusal(client, tool, **arguments)
        assert "on the lines you are shown" in words or "There is no" in words, (tool, words)

    alerts = await call(client, "open_alerts")
    assert alerts["open"] == 2
    assert {row["line"]["id"] for row in alerts["alerts"]} == {plant.line_a}
    assert (await call(client, "open_alerts", line_id=plant.line_b))["open"] == 0
    oee = await call(
        client, "oee", line_id=plant.line_a, start=MONDAY.isoformat(), end=AFTER.isoformat()
    )
    assert oee["total"]["oee_percent"] == plant.oee_percent_a
    health = await call(client, "predictions_and_health")
    assert [row["asset"]["id"] for row in health["predictions"]] == [plant.press]
    assert health["health_levels"] == {"warning": 1}
    work = await call(client, "search_work", text="coupling")
    assert [row["asset"]["id"] for row in work["work_orders"]] == [plant.press]
    fixed = await call(client, "what_fixed_it", asset_id=plant.press, failure="vib")
    assert (len(fixed["on_this_asset"]), fixed["on_assets_of_the_same_type"]) == (1, [])
    kpis = await call(client, "maintenance_kpis")
    assert [line["id"] for line in kpis["lines"]] == [plant.line_a]
    model = json.loads(await resource(client, "plantops://plant-model"))
    lines = [line["id"] for site in model["sites"] for a in site["areas"] for line in a["lines"]]
    assert lines == [plant.line_a]
    assert model["assets_total"] == 1

    not_hers = await refusal(client, "acknowledge_alert", alert_id=plant.alert_b, note="Seen.")
    assert "not on your lines" in not_hers
    made = await call(
        client, "create_work_request", asset_id=plant.press, title="Noise", note="Grinding."
    )
    assert (made["status"], made["requested_by"]) == ("requested", "alice")
    # She may report a fault anywhere, as on the screens, and then finds her own request.
    elsewhere = await call(
        client, "create_work_request", asset_id=plant.motor, title="Squeal", note="Belt."
    )
    assert elsewhere["status"] == "requested"
    mine = await call(client, "search_work", text="squeal")
    assert [row["id"] for row in mine["work_orders"]] == [elsewhere["id"]]
    assert (await call(client, "search_work", text="coupling"))["work_orders"][0]["asset"][
        "id"
    ] == plant.press
    acknowledged = await call(client, "acknowledge_alert", alert_id=plant.alert_a, note="Seen.")
    assert acknowledged["acknowledged_by"] == "alice"


def alert_state(alert_id: int) -> str:
    return Alert.objects.get(pk=alert_id).state
