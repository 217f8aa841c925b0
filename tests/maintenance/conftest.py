"""The maintenance crew most tests here work with."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from tests.factories import make_user


@pytest.fixture
def crew() -> dict[str, User]:
    """Olga the operator, Tom and Tina the technicians, Sam the supervisor."""
    return {
        "olga": make_user(role="operator", username="olga"),
        "tom": make_user(role="technician", username="tom"),
        "tina": make_user(role="technician", username="tina"),
        "sam": make_user(role="supervisor", username="sam"),
    }
