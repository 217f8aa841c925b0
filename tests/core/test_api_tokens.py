"""API tokens: a scope (read; read and write), an optional expiry, the time of last use, and a
secret shown once on a page of its own, never in a cookie."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from plantops.core.models import ApiToken
from tests.factories import logged_in, make_asset, make_user

pytestmark = pytest.mark.django_db


def bearer(secret: str) -> dict:
    return {"authorization": f"Bearer {secret}"}


def post_request(secret: str):
    return Client().post(
        "/api/workorders",
        {"asset": "conveyor-7", "kind": "request", "title": "Belt squeals"},
        content_type="application/json",
        headers=bearer(secret),
    )


def test_a_read_token_reads_but_may_not_write_whatever_its_users_role():
    make_asset(slug="conveyor-7")
    olga = make_user(role="operator", username="olga")
    _, reader = ApiToken.issue(name="dashboard", user=olga)
    _, writer = ApiToken.issue(name="tablet app", user=olga, scope="write")

    assert Client().get("/api/workorders", headers=bearer(reader)).status_code == 200
    refused = post_request(reader)
    assert refused.status_code == 403
    assert "may only read" in refused.json()["error"]
    assert post_request(writer).status_code == 201


def test_an_expired_token_is_refused_and_use_is_recorded():
    olga = make_user(role="operator", username="olga")
    token, secret = ApiToken.issue(
        name="contractor", user=olga, expires_at=timezone.now() + timedelta(hours=1)
    )
    assert Client().get("/api/workorders", headers=bearer(secret)).status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None

    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    expired = Client().get("/api/workorders", headers=bearer(secret))
    assert (expired.status_code, expired.json()) == (401, {"error": "this API token has expired"})


def test_the_admin_shows_a_new_secret_once_on_its_own_page_and_never_in_a_cookie():
    admin = logged_in(make_user(role="admin", username="ada"))
    olga = make_user(role="operator", username="olga")

    page = admin.post(
        "/admin/core/apitoken/add/",
        {
            "name": "MES bridge",
            "user": olga.pk,
            "scope": "read",
            "expires_at_0": "",
            "expires_at_1": "",
        },
    )

    assert page.status_code == 200
    secret = page.context["secret"]
    token = ApiToken.objects.get(name="MES bridge")
    assert secret.startswith("pot_")
    assert secret in page.text
    assert "no-store" in page["Cache-Control"]
    assert all(secret not in morsel.value for morsel in page.cookies.values())
    assert all(secret not in morsel.value for morsel in admin.cookies.values())
    # Only the digest is kept, and the token works.
    assert secret not in token.digest
    assert Client().get("/api/workorders", headers=bearer(secret)).status_code == 200
    # Nowhere to be read again.
    again = admin.get(f"/admin/core/apitoken/{token.pk}/change/")
    assert secret not in again.text
