"""API v1 fuzzed against its own OpenAPI schema, as every role, by schemathesis.

Every operation of /api/v1/openapi.json gets generated requests (valid ones and ones that break
the schema), sent through the project's WSGI application to the real PostgreSQL, with a read
and write API token of each role: an operator (with a line), a technician, a supervisor, a plant
manager and an admin. No answer may be a server error, and every answer (errors included: the
schema documents their shape) must match the schema of its operation and status code.

Examples are drawn from a fixed seed (`derandomize`), so a run in CI repeats one here.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from plantops.api.v1 import api
from plantops.core.models import TokenScope
from tests.api.tokens import bearer
from tests.factories import make_asset, make_user

pytestmark = pytest.mark.django_db

ROLES = ("operator", "technician", "supervisor", "manager", "admin")
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


# The schema as /api/v1/openapi.json serves it (JSON: its status codes become strings).
schema = schemathesis.openapi.from_dict(json.loads(json.dumps(api.get_openapi_schema())))
schema.app = get_wsgi_application()
# Generated requests, valid and invalid, from a fixed seed; without the coverage phase, whose
# hundreds of boundary cases per operation, times five roles, would take minutes.
schema.config.phases.update(phases=["examples", "fuzzing"])


@pytest.fixture
def connection_kept() -> Iterator[None]:
    """Keep the test's database connection across the WSGI requests, as Django's test client
    does: the handler would close it when a request finishes, inside the test's transaction."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def tokens() -> dict[str, dict[str, str]]:
    """A read and write token of each role, in a plant with a line, an asset and its signals."""
    asset = make_asset()
    headers = {}
    for role in ROLES:
        user = make_user(role=role, lines=[asset.line] if role == "operator" else ())
        headers[role] = {
            "Authorization": bearer(user, TokenScope.WRITE)["HTTP_AUTHORIZATION"],
            # The WSGI test client hands the body over as sent; an HTTP client would ungzip it.
            "Accept-Encoding": "identity",
        }
    return headers


@schema.parametrize()
@settings(
    max_examples=8,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_no_operation_answers_a_server_error_or_breaks_its_schema(case, tokens, connection_kept):
    for headers in tokens.values():
        case.call_and_validate(headers=headers, checks=CHECKS)
