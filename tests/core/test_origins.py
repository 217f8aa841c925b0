"""The WebSocket origin check compares scheme, host and port with the site's own origin."""

from __future__ import annotations

import pytest

from plantops.core.origins import origin_allowed


def scope(origin: str | None, host: str = "tablet.plant:8000", scheme: str = "ws", **headers):
    pairs = [(b"host", host.encode())]
    if origin is not None:
        pairs.append((b"origin", origin.encode()))
    pairs += [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()]
    return {"type": "websocket", "scheme": scheme, "headers": pairs}


@pytest.fixture(autouse=True)
def _hosts(settings):
    settings.ALLOWED_HOSTS = ["tablet.plant"]
    settings.CSRF_TRUSTED_ORIGINS = []
    settings.SECURE_PROXY_SSL_HEADER = None


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("http://tablet.plant:8000", True),
        ("HTTP://Tablet.Plant:8000", True),
        ("http://tablet.plant:9000", False),  # another program on the same host
        ("http://tablet.plant", False),
        ("https://tablet.plant:8000", False),
        ("http://evil.example:8000", False),
        ("null", False),
        (None, False),
    ],
)
def test_only_the_sites_own_origin_opens_a_socket(origin, allowed):
    assert origin_allowed(scope(origin)) is allowed


def test_a_host_outside_allowed_hosts_is_refused_even_from_its_own_page():
    assert not origin_allowed(scope("http://other.plant:8000", host="other.plant:8000"))


def test_behind_the_tls_proxy_the_origin_is_https(settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    forwarded = scope("https://tablet.plant", host="tablet.plant", x_forwarded_proto="https")
    assert origin_allowed(forwarded)
    assert not origin_allowed(scope("https://tablet.plant", host="tablet.plant"))
    assert origin_allowed(scope("https://tablet.plant", host="tablet.plant", scheme="wss"))


def test_a_trusted_origin_may_open_sockets(settings):
    settings.CSRF_TRUSTED_ORIGINS = ["https://hmi.plant"]
    assert origin_allowed(scope("https://hmi.plant"))
