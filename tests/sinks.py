"""Real network endpoints for delivery tests and the bench: an SMTP server and a webhook.

``SmtpSink`` is an aiosmtpd server on a free loopback port; its ``mode`` makes it accept,
refuse with 550, or hold a message until released (to kill a worker mid-send).
``WebhookReceiver`` is an ``http.server`` thread that records every POST.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import socket
import threading
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SmtpSink:
    """Messages a real SMTP conversation completed, in arrival order."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.mode = "accept"  # or "refuse", "hold"
        self.holding = threading.Event()  # set while a message is held
        self.release = threading.Event()
        self.lock = threading.Lock()
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.mode == "refuse":
            return "550 5.7.1 Empfang verweigert"
        if self.mode == "hold":
            self.holding.set()
            while not self.release.is_set():
                await asyncio.sleep(0.05)
            if server.transport is None or server.transport.is_closing():
                # The client died before our "250": the transaction never completed.
                return "421 client gone"
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(message)
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address.lower() in str(m["To"]).lower()]

    def __enter__(self) -> SmtpSink:
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.release.set()
        self.controller.stop()


class WebhookReceiver:
    """Every POST as (headers, body bytes); answers ``status`` (200 unless told)."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append((dict(self.headers), body))
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/meldungen"

    def json(self, index: int = -1) -> dict:
        return json.loads(self.requests[index][1])

    def __enter__(self) -> WebhookReceiver:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
