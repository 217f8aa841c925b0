"""`create_demo_users` makes the demo's two users once and prints working passwords."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.test import RequestFactory

from tests.factories import make_asset

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    return tmp_path


def sign_in(username: str, password: str):
    """The user a sign-in with these credentials gives (None if refused), as the login page
    asks: with its request, which the lockout needs."""
    return authenticate(RequestFactory().post("/login/"), username=username, password=password)


def printed_passwords(capsys) -> dict[str, str]:
    return dict(re.findall(r"user (\w+)\s+password (\S+)", capsys.readouterr().out))


def test_it_creates_an_admin_and_an_operator_whose_printed_passwords_work(capsys):
    call_command("create_demo_users")
    passwords = printed_passwords(capsys)
    admin = sign_in("admin", passwords["admin"])
    operator = sign_in("operator", passwords["operator"])
    assert admin.is_superuser
    assert not operator.is_staff
    assert list(operator.groups.values_list("name", flat=True)) == ["Operators"]
    technician = sign_in("technician", passwords["technician"])
    assert technician.has_perm("maintenance.execute_workorder")
    assert not technician.has_perm("maintenance.supervise_workorder")


def test_it_keeps_the_passwords_on_a_second_run(capsys, var_dir):
    call_command("create_demo_users")
    first = printed_passwords(capsys)
    call_command("create_demo_users")
    assert printed_passwords(capsys) == first
    assert oct((var_dir / "demo-users.txt").stat().st_mode & 0o777) == "0o600"


def test_the_demo_operator_stands_at_the_first_line_once(capsys):
    first = make_asset().line
    call_command("create_demo_users")
    call_command("create_demo_users")
    operator = sign_in("operator", printed_passwords(capsys)["operator"])
    assert list(operator.operated_lines.all()) == [first]
