"""A real SMTP server on loopback for the tests (aiosmtpd, from requirements-dev.txt): it keeps every
message it takes, can refuse a message (at DATA) or chosen recipients (at RCPT) as a real server would,
with a 5xx answer, and can require STARTTLS (a self-signed certificate made here) and a login, as a
mail provider's submission port does."""

from __future__ import annotations

import contextlib
import datetime as dt
import email
import email.policy
import ipaddress
import socket
import ssl
from dataclasses import dataclass, field
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


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
    logins: list[tuple[str, bool]] = field(default_factory=list)  # (mechanism, accepted) of each login

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


def certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost, valid for a day: (certificate, key) PEM files.
    A client trusts it when SSL_CERT_FILE names the certificate."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


@contextlib.contextmanager
def smtp_server(*, tls: tuple[Path, Path] | None = None, login: tuple[str, str] | None = None, **behaviour):
    """A running server on 127.0.0.1; yields (its port, its Handler: what it received). With `tls` (a
    certificate and its key) it offers STARTTLS and requires it; with `login` (user, password) it requires
    that login, over TLS."""
    handler = Handler(**behaviour)
    port = free_port()
    options = {}
    if tls is not None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(*map(str, tls))
        options.update(tls_context=context, require_starttls=True)
    if login is not None:
        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = isinstance(auth_data, LoginPassword) and (auth_data.login.decode(), auth_data.password.decode()) == login
            handler.logins.append((mechanism, ok))
            return AuthResult(success=ok, handled=False)  # not handled: the server answers 535 itself

        options.update(authenticator=authenticator, auth_required=True, auth_require_tls=True)
    controller = Controller(handler, hostname="127.0.0.1", port=port, **options)
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
