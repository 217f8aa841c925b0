"""Secure by default: with DEBUG off and only SECRET_KEY and ALLOWED_HOSTS set, Django's
deployment checks find nothing, and plain HTTP is something an install has to ask for."""

from __future__ import annotations

import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def deploy_check(**extra: str) -> subprocess.CompletedProcess:
    """`manage.py check --deploy` in an environment holding nothing but what is given."""
    env = {
        "PATH": "/usr/bin:/bin",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "plantops.plant.example",
        **extra,
    }
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_deployment_checks_find_nothing_with_only_the_key_and_the_hosts():
    done = deploy_check()
    assert done.returncode == 0, done.stderr
    assert "System check identified no issues (0 silenced)." in done.stdout, done.stdout


def test_plain_http_is_an_explicit_choice_and_the_checks_say_what_it_costs():
    done = deploy_check(INSECURE_HTTP="1")
    warned = done.stdout + done.stderr
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in warned


@pytest.mark.parametrize(
    ("name", "value"),
    [("SECURE_COOKIES", "1"), ("INSECURE_HTTP", "maybe")],
)
def test_a_setting_that_no_longer_exists_or_is_not_a_boolean_stops_the_start(name, value):
    done = deploy_check(**{name: value})
    assert done.returncode != 0
    assert name in done.stderr
