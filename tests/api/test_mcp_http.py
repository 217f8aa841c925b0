"""The MCP server over streamable HTTP at /mcp, in the web process: daphne serving
plantops.asgi on the test database, spoken to by the MCP SDK's own client with a bearer token."""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Awaitable, Callable, Iterator

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from plantops.alerts.models import AlertEvent
from plantops.maintenance.models import WorkOrder
from tests.api.mcp_plant import (
    Plant,
    alert_state,
    an_operator_sees_only_their_lines,
    build_plant,
    every_tool_for_the_supervisor,
    writes_refused_to_a_read_token,
)
from tests.conftest import ROOT, VENV_BIN, database_url, wait_for

# The web process is another process: it sees only what the test has committed.
pytestmark = pytest.mark.django_db(transaction=True)

Scenario = Callable[[Client, Plant], Awaitable[None]]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def web(django_db_setup, tmp_path_factory) -> Iterator[str]:
    """daphne serving the whole ASGI application, as in production, on a port of its own."""
    port = free_port()
    env = dict(os.environ) | {
        "DATABASE_URL": database_url(),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "PYTHONUNBUFFERED": "1",
    }
    log_path = tmp_path_factory.mktemp("web") / "daphne.log"
    with open(log_path, "wb") as log:
        daphne = subprocess.Popen(
            [
                str(VENV_BIN / "daphne"),
                "-b",
                "127.0.0.1",
                "-p",
                str(port),
                "plantops.asgi:application",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def listening() -> bool:
        if daphne.poll() is not None:
            pytest.fail(f"daphne exited:\n{log_path.read_text(errors='replace')[-3000:]}")
        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", port)) == 0

    wait_for(listening, timeout=30, what="daphne to listen")
    yield f"http://127.0.0.1:{port}"
    daphne.terminate()
    try:
        daphne.wait(timeout=15)
    except subprocess.TimeoutExpired:
        daphne.kill()
        daphne.wait()


@pytest.fixture
def plant() -> Plant:
    return build_plant()


def over_http(web: str, token: str, scenario: Scenario, plant: Plant) -> None:
    """Connect the SDK's streamable HTTP client to /mcp with `token` and play `scenario`."""

    async def play() -> AssertionError | None:
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx2.AsyncClient(headers=headers, timeout=60) as http:
            transport = streamable_http_client(f"{web}/mcp", http_client=http)
            async with Client(transport, read_timeout_seconds=60) as client:
                try:
                    await scenario(client, plant)
                except AssertionError as failed:
                    # Raised outside the client's task groups, so it reads as itself.
                    return failed
        return None

    failed = anyio.run(play)
    if failed is not None:
        raise failed


def test_without_a_valid_token_it_is_401_and_the_rest_is_still_django(web, plant):
    initialize = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    json_headers = {"Accept": "application/json, text/event-stream"}
    with httpx2.Client(base_url=web, timeout=30) as http:
        for headers in ({}, {"Authorization": "Bearer pot_not-a-token"}, {"Authorization": "x"}):
            answer = http.post("/mcp", json=initialize, headers=json_headers | headers)
            assert answer.status_code == 401, answer.text
            assert answer.headers["www-authenticate"].startswith("Bearer")
        elsewhere = http.post(
            "/mcp",
            json=initialize,
            headers=json_headers
            | {"Authorization": f"Bearer {plant.sam_read}", "Host": "evil.example"},
        )
        assert elsewhere.status_code == 400
        assert http.get("/login/").status_code == 200


def test_every_tool_and_resource_answers_as_the_tokens_user(web, plant):
    over_http(web, plant.sam_write, every_tool_for_the_supervisor, plant)

    request = WorkOrder.objects.get(title="Oil leak at the gearbox")
    assert request.requested_by.username == "sam"
    assert request.description.startswith("Through MCP, for sam: ")
    acknowledged = AlertEvent.objects.get(alert_id=plant.alert_a, kind="acknowledged")
    assert (acknowledged.user.username, acknowledged.note) == (
        "sam",
        "Through MCP, for sam: Guard checked, watching it.",
    )


def test_a_read_token_is_refused_on_the_writes(web, plant):
    over_http(web, plant.sam_read, writes_refused_to_a_read_token, plant)

    assert alert_state(plant.alert_a) == "active_unack"
    assert not WorkOrder.objects.filter(title="Leak").exists()


def test_an_operators_token_sees_only_their_lines(web, plant):
    over_http(web, plant.alice_write, an_operator_sees_only_their_lines, plant)

    assert WorkOrder.objects.get(title="Noise").requested_by.username == "alice"
    assert alert_state(plant.alert_b) == "active_unack"
