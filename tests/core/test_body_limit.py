"""The ASGI guard that refuses request bodies larger than a photo, before Django spools them."""

from __future__ import annotations

import asyncio

from plantops.core.body_limit import BodySizeLimit


def run(app, scope, chunks: list[bytes]) -> list[dict]:
    """Send `chunks` as the request body; return the messages sent back."""
    messages = [
        {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
        for i, chunk in enumerate(chunks)
    ]
    sent: list[dict] = []

    async def receive():
        return messages.pop(0)

    async def send(message):
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent


def reader():
    """An app that reads the whole body, then answers 200 with its length."""
    seen = {"bytes": 0}

    async def app(scope, receive, send):
        more = True
        while more:
            message = await receive()
            seen["bytes"] += len(message.get("body", b""))
            more = message.get("more_body", False)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": str(seen["bytes"]).encode()})

    return app, seen


def http(headers=()):
    return {"type": "http", "headers": list(headers)}


def test_a_body_within_the_limit_passes_whole():
    app, seen = reader()
    sent = run(BodySizeLimit(app, max_bytes=10), http(), [b"12345", b"67890"])
    assert sent[0]["status"] == 200
    assert seen["bytes"] == 10


def test_a_declared_length_over_the_limit_is_refused_before_anything_is_read():
    app, seen = reader()
    scope = http([(b"content-length", b"11")])
    sent = run(BodySizeLimit(app, max_bytes=10), scope, [b"x" * 11])
    assert sent[0]["status"] == 413
    assert seen["bytes"] == 0
    assert b"larger than" in sent[1]["body"]


def test_an_undeclared_body_is_counted_and_refused_once_over():
    app, seen = reader()
    sent = run(BodySizeLimit(app, max_bytes=10), http(), [b"x" * 6, b"x" * 6, b"x" * 6])
    assert [m.get("status") for m in sent if m["type"] == "http.response.start"] == [413]
    assert seen["bytes"] == 6  # the app never saw the chunk that went over


def test_websockets_are_left_alone():
    calls = []

    async def app(scope, receive, send):
        calls.append(scope["type"])

    run(BodySizeLimit(app, max_bytes=1), {"type": "websocket"}, [b""])
    assert calls == ["websocket"]
