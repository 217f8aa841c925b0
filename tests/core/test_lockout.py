"""Login lockout: per user and per address, with back-off, on the login page and the admin's."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt, AccessAttemptExpiration, AccessFailureLog
from django.utils import timezone

from plantops.core.lockout import FIRST_COOL_OFF, LONGEST_COOL_OFF, cool_off_for
from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.django_db

LOGIN = "/login/"


def sign_in(client, username: str, password: str, address: str = "10.0.0.7", path: str = LOGIN):
    return client.post(path, {"username": username, "password": password}, REMOTE_ADDR=address)


def test_after_five_failures_the_right_password_is_refused_and_the_page_says_why(client, settings):
    settings.AXES_FAILURE_LIMIT = 5
    make_user(role="operator", username="olga")
    answers = [sign_in(client, "olga", "wrong-password").status_code for _ in range(5)]
    assert answers == [200, 200, 200, 200, 429]  # the fifth failure locks

    locked = sign_in(client, "olga", PASSWORD)

    assert locked.status_code == 429
    assert "Too many failed sign-ins for this name or from this device" in locked.text
    assert "_auth_user_id" not in client.session
    # From another tablet too: the name is locked, not only the address.
    assert sign_in(client, "olga", PASSWORD, address="10.0.0.8").status_code == 429


def test_one_address_trying_many_names_is_locked_out(client, settings):
    settings.AXES_FAILURE_LIMIT = 5
    make_user(role="operator", username="olga")
    for n in range(5):
        sign_in(client, f"guess{n}", "wrong-password", address="10.0.0.9")
    assert sign_in(client, "olga", PASSWORD, address="10.0.0.9").status_code == 429
    assert sign_in(client, "olga", PASSWORD, address="10.0.0.10").status_code == 302


def test_the_admin_login_is_covered_too(client, settings):
    settings.AXES_FAILURE_LIMIT = 5
    make_user(role="admin", username="root")
    for _ in range(5):
        sign_in(client, "root", "wrong-password", path="/admin/login/")
    assert sign_in(client, "root", PASSWORD, path="/admin/login/").status_code == 429


def test_the_lock_lifts_after_its_cool_off_and_a_success_clears_the_count(client, settings):
    settings.AXES_FAILURE_LIMIT = 5
    make_user(role="operator", username="olga")
    for _ in range(5):
        sign_in(client, "olga", "wrong-password")
    assert sign_in(client, "olga", PASSWORD).status_code == 429
    past = timezone.now() - FIRST_COOL_OFF - timedelta(seconds=1)
    AccessAttempt.objects.update(attempt_time=past)
    AccessAttemptExpiration.objects.update(expires_at=past)

    assert sign_in(client, "olga", PASSWORD).status_code == 302
    assert not AccessAttempt.objects.filter(username="olga").exists()


def test_each_further_round_of_failures_in_a_day_doubles_the_cool_off():
    assert [cool_off_for(n, 5) for n in (0, 4, 5, 9, 10, 15, 20)] == [
        FIRST_COOL_OFF,
        FIRST_COOL_OFF,
        FIRST_COOL_OFF,
        FIRST_COOL_OFF,
        2 * FIRST_COOL_OFF,
        4 * FIRST_COOL_OFF,
        8 * FIRST_COOL_OFF,
    ]
    assert cool_off_for(10_000, 5) == LONGEST_COOL_OFF


def test_the_back_off_counts_the_days_failures_of_the_name(client, settings):
    settings.AXES_FAILURE_LIMIT = 5
    make_user(role="operator", username="olga")
    for _ in range(10):
        sign_in(client, "olga", "wrong-password")
    assert AccessFailureLog.objects.filter(username="olga").count() >= 5
    locked = sign_in(client, "olga", PASSWORD)
    assert locked.status_code == 429
    assert "Try again in" in locked.text


def test_signing_in_as_oneself_between_guesses_does_not_reset_anothers_count(client, settings):
    settings.AXES_FAILURE_LIMIT = 5
    make_user(role="admin", username="root")
    make_user(role="operator", username="olga")
    for _ in range(4):
        sign_in(client, "root", "wrong-password")
        assert sign_in(client, "olga", PASSWORD).status_code == 302
        client.logout()
    assert sign_in(client, "root", "wrong-password").status_code == 429
    assert sign_in(client, "root", PASSWORD, address="10.0.0.99").status_code == 429


def test_a_name_with_a_trailing_space_is_the_same_name(client, settings):
    settings.AXES_FAILURE_LIMIT = 5
    make_user(role="operator", username="olga")
    for _ in range(5):
        sign_in(client, "olga", "wrong-password")
    assert sign_in(client, "olga ", PASSWORD, address="10.0.0.42").status_code == 429
