"""`manage.py mcp`: the MCP server over stdio, started as a subprocess on the test database and
spoken to by the MCP SDK's own client, as an assistant would."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Awaitable, Callable
from datetime import timedelta

import anyio
import pytest
from django.utils import timezone
from mcp import Client, StdioServerParameters

from plantops.alerts.models import AlertEvent
from plantops.core.models import ApiToken, TokenScope
from plantops.maintenance.models import WorkOrder
from tests.api.mcp_plant import (
    Plant,
    alert_state,
    an_operator_sees_only_their_lines,
    build_plant,
    every_tool_for_the_supervisor,
    writes_refused_to_a_read_token,
)
from tests.conftest import ROOT
from tests.factories import make_user

# The server is another process: it sees only what the test has committed.
pytestmark = pytest.mark.django_db(transaction=True)

Scenario = Callable[[Client, Plant], Awaitable[None]]


@pytest.fixture
def plant() -> Plant:
    return build_plant()


def over_stdio(env: dict[str, str], token: str, scenario: Scenario, plant: Plant) -> None:
    """Start `manage.py mcp` with `token`, connect the SDK's client and play `scenario`."""
    server = StdioServerParameters(
        command=sys.executable,
        args=["manage.py", "mcp"],
        env=env | {"PLANTOPS_API_TOKEN": token},
        cwd=ROOT,
    )

    async def play() -> AssertionError | None:
        async with Client(server, read_timeout_seconds=60) as client:
            try:
                await scenario(client, plant)
            except AssertionError as failed:
                # Raised outside the client's task groups, so it reads as itself.
                return failed
        return None

    failed = anyio.run(play)
    if failed is not None:
        raise failed


def test_every_tool_and_resource_answers_as_the_tokens_user(plant, process_env):
    over_stdio(process_env, plant.sam_write, every_tool_for_the_supervisor, plant)

    request = WorkOrder.objects.get(title="Oil leak at the gearbox")
    assert request.requested_by.username == "sam"
    assert request.description.startswith("Through MCP, for sam: ")
    assert request.events.get(kind="created").user.username == "sam"
    acknowledged = AlertEvent.objects.get(alert_id=plant.alert_a, kind="acknowledged")
    assert (acknowledged.user.username, acknowledged.note) == (
        "sam",
        "Through MCP, for sam: Guard checked, watching it.",
    )


def test_a_read_token_is_refused_on_the_writes(plant, process_env):
    over_stdio(process_env, plant.sam_read, writes_refused_to_a_read_token, plant)

    assert alert_state(plant.alert_a) == "active_unack"
    assert not WorkOrder.objects.filter(title="Leak").exists()


def test_an_operators_token_sees_only_their_lines(plant, process_env):
    over_stdio(process_env, plant.alice_write, an_operator_sees_only_their_lines, plant)

    assert WorkOrder.objects.get(title="Noise").requested_by.username == "alice"
    assert alert_state(plant.alert_b) == "active_unack"
    assert AlertEvent.objects.get(alert_id=plant.alert_a, kind="acknowledged").note == (
        "Through MCP, for alice: Seen."
    )


def test_it_will_not_start_without_a_valid_token(process_env):
    _, expired = ApiToken.issue(
        name="old",
        user=make_user(role="supervisor"),
        scope=TokenScope.WRITE,
        expires_at=timezone.now() - timedelta(days=1),
    )
    for token, why in (
        ("", "Set PLANTOPS_API_TOKEN"),
        ("pot_not-a-token", "unknown or revoked API token"),
        (expired, "this API token has expired"),
    ):
        done = subprocess.run(
            [sys.executable, "manage.py", "mcp"],
            env=process_env | {"PLANTOPS_API_TOKEN": token},
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode != 0
        assert why in done.stderr
        assert done.stdout == ""  # nothing an MCP client would mistake for the protocol
