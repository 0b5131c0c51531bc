"""A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps what it receives."""

from __future__ import annotations

import asyncio
import email
import socket
import threading
from email.message import EmailMessage
from email.policy import default

from aiosmtpd.controller import Controller


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_DATA(self, server, session, envelope) -> str:
        message = email.message_from_bytes(envelope.content, policy=default)
        with self.sink.lock:
            self.sink.messages.append(message)
            self.sink.recipients.append(list(envelope.rcpt_tos))
        self.sink.arrived.set()
        # Held: the message is here, the sender still waits for the 250 reply.
        while not self.sink.replying.is_set():
            await asyncio.sleep(0.05)
        return "250 Message accepted"


class SmtpSink:
    """Start with .start(); read .messages; stop with .stop()."""

    def __init__(self) -> None:
        self.port = free_port()
        self.messages: list[EmailMessage] = []
        self.recipients: list[list[str]] = []
        self.lock = threading.Lock()
        self.arrived = threading.Event()  # set when a message has been received
        self.replying = threading.Event()  # cleared by hold_replies()
        self.replying.set()
        self._controller = Controller(
            _Handler(self), hostname="127.0.0.1", port=self.port
        )

    def start(self) -> SmtpSink:
        """Listen on 127.0.0.1:port."""
        self._controller.start()
        return self

    def stop(self) -> None:
        """Stop listening."""
        self._controller.stop()

    def hold_replies(self) -> None:
        """Keep each message but hold back the reply to its DATA (until release)."""
        self.replying.clear()

    def release_replies(self) -> None:
        """Answer held and later messages with 250 again."""
        self.replying.set()

    def config(self) -> dict[str, object]:
        """MAIL_* settings pointing at this server."""
        return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": self.port}

    def received(self) -> list[EmailMessage]:
        """A copy of the messages received so far."""
        with self.lock:
            return list(self.messages)
