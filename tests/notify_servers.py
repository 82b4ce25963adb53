"""Real local servers that notifications are delivered to in tests: an HTTP receiver that
records every POST, and an SMTP server (aiosmtpd) that keeps every message."""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import Envelope, Session

from alerts.config import EmailTarget


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Receiver:
    """A local HTTP server recording every POST; answers with ``statuses`` in turn, then 200."""

    url: str
    posts: list[tuple[str, dict[str, str], dict[str, Any]]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)

    def bodies(self, path: str | None = None) -> list[dict[str, Any]]:
        return [body for p, _, body in self.posts if path is None or p == path]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A receiver on a free port."""
    with serve_receiver() as rec:
        yield rec


@contextmanager
def serve_receiver(port: int = 0) -> Iterator[Receiver]:
    """A receiver on 127.0.0.1:port (0: any free port), until the block ends: a target that is
    down until the block starts."""
    rec = Receiver(url="")
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with lock:
                rec.posts.append((self.path, dict(self.headers), body))
                status = rec.statuses.pop(0) if rec.statuses else 200
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    rec.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), name="webhook-receiver")
    thread.start()
    try:
        yield rec
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


class Inbox:
    """aiosmtpd handler keeping every message it accepts."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 OK"

    def message(self, i: int = 0) -> email.message.EmailMessage:
        data = self.envelopes[i].content
        assert isinstance(data, bytes)
        msg = email.message_from_bytes(data, policy=email.policy.default)
        assert isinstance(msg, email.message.EmailMessage)
        return msg


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def mail_target(port: int, **kw: Any) -> EmailTarget:
    return EmailTarget.model_validate(
        {
            "host": "127.0.0.1",
            "port": port,
            "from": "plantroom@example.org",
            "to": ["facilities@example.org", "duty@example.org"],
            "timeout": 5,
            **kw,
        }
    )
