"""Real receivers for notification tests and the benchmark: an SMTP server (aiosmtpd) and an
HTTP server taking webhooks, each in a thread of the test process, each keeping what it got.

The webhook receiver checks the signature as a real one must (HMAC-SHA256 of
`<timestamp>.<body>` with the channel's secret) and counts deliveries by their
`X-PlantOps-Delivery` id, as the webhook contract asks receivers to. The SMTP server keeps
every message it accepted, and counts them by Message-ID.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import hmac
import json
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Mail:
    envelope_to: list[str]
    message: email.message.EmailMessage
    received_at: float

    @property
    def subject(self) -> str:
        # As a mail client shows it: Django folds a long non-ASCII subject onto a continuation
        # line ("Subject:" CRLF " =?utf-8?q?…"), which unfolds with a leading space.
        return str(self.message["Subject"]).strip()

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])

    def part(self, content_type: str) -> str:
        for part in self.message.walk():
            if part.get_content_type() == content_type:
                return part.get_content()
        return ""


class SmtpReceiver:
    """A real SMTP server on 127.0.0.1; `mails` holds what it accepted. `delay_s` holds the
    answer to DATA that long (a slow server, or one a test kills a sender during)."""

    def __init__(self) -> None:
        self.mails: list[Mail] = []
        self.delay_s = 0.0
        self.refuse: int | None = None  # an SMTP code to answer every DATA with
        self.data_started = threading.Event()
        self.cond = threading.Condition()
        receiver = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                receiver.data_started.set()
                if receiver.delay_s:
                    import asyncio

                    await asyncio.sleep(receiver.delay_s)
                if receiver.refuse:
                    return f"{receiver.refuse} refused by the test server"
                message = email.message_from_bytes(envelope.content, policy=email.policy.default)
                with receiver.cond:
                    receiver.mails.append(Mail(list(envelope.rcpt_tos), message, time.monotonic()))
                    receiver.cond.notify_all()
                return "250 OK queued"

        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def start(self) -> SmtpReceiver:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def wait_for(self, count: int, timeout: float = 20.0) -> list[Mail]:
        """Wait until at least `count` messages arrived; return them (fails on timeout)."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while len(self.mails) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{len(self.mails)} mails arrived, expected {count}")
                self.cond.wait(left)
            return list(self.mails)

    def by_message_id(self) -> Counter[str]:
        return Counter(mail.message_id for mail in self.mails)


@dataclass
class Hook:
    """One request; header names in lower case."""

    path: str
    headers: dict[str, str]
    body: bytes
    signature_ok: bool
    received_at: float

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def delivery(self) -> str:
        return self.headers.get("x-plantops-delivery", "")


@dataclass
class WebhookReceiver:
    """A real HTTP server on 127.0.0.1 taking POSTs; checks the signature with `secret`.
    `status` is what it answers; `hold` is called before it answers (a slow receiver)."""

    secret: str = "webhook-test-secret"
    status: int = 200
    hooks: list[Hook] = field(default_factory=list)
    hold: Callable[[], None] | None = None

    def __post_init__(self) -> None:
        self.cond = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                expected = (
                    "sha256="
                    + hmac.new(
                        receiver.secret.encode(),
                        headers.get("x-plantops-timestamp", "").encode() + b"." + body,
                        hashlib.sha256,
                    ).hexdigest()
                )
                ok = hmac.compare_digest(expected, headers.get("x-plantops-signature", ""))
                hook = Hook(self.path, headers, body, ok, time.monotonic())
                with receiver.cond:
                    receiver.hooks.append(hook)
                    receiver.cond.notify_all()
                if receiver.hold is not None:
                    receiver.hold()
                self.send_response(receiver.status)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"received" if receiver.status < 400 else b"broken")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> WebhookReceiver:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def wait_for(self, count: int, timeout: float = 20.0) -> list[Hook]:
        deadline = time.monotonic() + timeout
        with self.cond:
            while len(self.hooks) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{len(self.hooks)} webhooks arrived, expected {count}")
                self.cond.wait(left)
            return list(self.hooks)

    def deliveries(self) -> Counter[str]:
        """Requests per delivery id: what a receiver that deduplicates would keep is the keys."""
        return Counter(hook.delivery for hook in self.hooks)
