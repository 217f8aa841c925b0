"""Passwords: at least 12 characters, not only digits, not a common one (OWASP ASVS L2)."""

from __future__ import annotations

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("plantops", "at least 12 characters"),
        ("Supervisor1", "at least 12 characters"),
        ("384712093847", "entirely numeric"),
        ("password1234", "too common"),
    ],
)
def test_weak_passwords_are_refused_with_the_reason(password, why):
    with pytest.raises(ValidationError) as refused:
        validate_password(password)
    assert any(why in message for message in refused.value.messages)


def test_a_long_uncommon_password_passes():
    validate_password("gantry-crane-ox-47")
