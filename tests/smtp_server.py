"""A real SMTP server on loopback for the tests (aiosmtpd, from requirements-dev.txt): it keeps every
message it takes, and can refuse a message (at DATA) or chosen recipients (at RCPT) as a real server
would, with a 5xx answer."""

from __future__ import annotations

import contextlib
import email
import email.policy
import socket
from dataclasses import dataclass, field

from aiosmtpd.controller import Controller


@dataclass
class Received:
    """One message the server took: the envelope, and the message parsed."""

    mail_from: str
    rcpt_tos: list[str]
    message: email.message.EmailMessage


@dataclass
class Handler:
    refuse_data: bool = False
    refuse_rcpt: set[str] = field(default_factory=set)
    received: list[Received] = field(default_factory=list)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.refuse_rcpt:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.refuse_data:
            return "554 5.7.1 Message refused by policy"
        parsed = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 2.0.0 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def smtp_server(**behaviour):
    """A running server on 127.0.0.1; yields (its port, its Handler: what it received)."""
    handler = Handler(**behaviour)
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, handler
    finally:
        controller.stop()


def secrets(port: int, *, board=("chair@example.org", "trustee@example.org"), funders=("grants@cityfund.org",),
            directors=("director@example.org",)) -> str:
    """A secrets file's text for a local relay on `port` (no STARTTLS, no login) and the recipients."""
    def listed(values) -> str:
        return "[" + ", ".join(f'"{v}"' for v in values) + "]"

    return (f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nsender = "Collaboration Atlas <atlas@example.org>"\n'
            f"starttls = false\n\n[delivery]\nboard = {listed(board)}\nfunders = {listed(funders)}\n"
            f"directors = {listed(directors)}\n")
