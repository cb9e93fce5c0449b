"""E-mail for the operations (the packs delivered, a failed refresh told to the directors), and later the
survey's invitations: the SMTP server and the recipients, read as every setting is (`atlas.config`:
the environment first, then the secrets file), and one message sent.

    [smtp]
    host = "smtp.example.org"
    port = 587
    username = "atlas"
    password = "..."
    sender = "Collaboration Atlas <atlas@example.org>"
    starttls = true            # false, and no username, for a relay on the server itself

    [delivery]
    board = ["chair@example.org", "trustee@example.org"]
    funders = ["grants@cityfund.org"]
    directors = ["director@example.org"]   # told when a refresh fails

Each setting can come from the environment instead: `ATLAS_SMTP_PASSWORD`, `ATLAS_SMTP_HOST`, ...,
and `ATLAS_DELIVERY_BOARD="a@x.org, b@y.org"` (addresses separated by commas).
"""

from __future__ import annotations

import contextlib
import re
import smtplib
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

from atlas import config

AUDIENCES = ("board", "funders", "directors")
TIMEOUT = 60  # seconds an SMTP conversation may stall before the send counts as failed
_ADDRESS = re.compile(r"[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\"]+")


class MailError(RuntimeError):
    """The message was not accepted for any recipient; the text says what the server or network said."""


@dataclass(frozen=True)
class Smtp:
    host: str
    port: int
    sender: str
    username: str | None = None
    password: str | None = None
    starttls: bool = True

    def describe(self) -> str:
        return f"{self.host}:{self.port}" + (" (STARTTLS)" if self.starttls else "")


def _flag(value, name: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "1", "on"):
        return True
    if text in ("false", "no", "0", "off"):
        return False
    raise config.ConfigError(f"[smtp] {name} must be true or false, not {value!r}")


def smtp() -> Smtp | None:
    """The SMTP server configured in `[smtp]` (or $ATLAS_SMTP_*), None when no host is set."""
    host = str(config.setting("smtp", "host", "") or "").strip()
    if not host:
        return None
    starttls = _flag(config.setting("smtp", "starttls", True), "starttls")
    port = config.setting("smtp", "port", 587 if starttls else 25)
    try:
        port = int(port)
    except (TypeError, ValueError):
        raise config.ConfigError(f"[smtp] port must be a number, not {port!r}") from None
    sender = str(config.setting("smtp", "sender", "") or "").strip()
    if not sender or not _ADDRESS.fullmatch(parseaddr(sender)[1]) or "\n" in sender or "\r" in sender:
        raise config.ConfigError(f"[smtp] sender must be an address such as \"Collaboration Atlas "
                                 f"<atlas@example.org>\", not {sender!r}")
    username = config.setting("smtp", "username") or None
    password = config.setting("smtp", "password") or None
    if username and not password:
        raise config.ConfigError("[smtp] has a username but no password (or set $ATLAS_SMTP_PASSWORD)")
    return Smtp(host, port, sender, str(username) if username else None, str(password) if password else None,
                starttls)


def recipients(audience: str) -> list[str]:
    """The addresses of `[delivery] <audience>` (board, funders or directors), checked; [] when none."""
    if audience not in AUDIENCES:
        raise ValueError(f"no such audience {audience!r}")
    value = config.setting("delivery", audience, [])
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list):
        raise config.ConfigError(f"[delivery] {audience} must be a list of addresses, not {value!r}")
    found = []
    for item in items:
        address = str(item).strip()
        if not address:
            continue
        if not _ADDRESS.fullmatch(address):
            raise config.ConfigError(f"[delivery] {audience}: {address!r} is not an e-mail address "
                                     "(write the address alone, such as chair@example.org)")
        if address.lower() not in {a.lower() for a in found}:
            found.append(address)
    return found


def plain(text: str) -> str:
    """Text for a header (a file name in a subject): no control character, which would end the header."""
    return re.sub(r"[\x00-\x1f\x7f]", "?", str(text))


def message(settings: Smtp, to: Iterable[str], subject: str, body: str,
            attachments: Iterable[tuple[str, bytes, str]] = ()) -> EmailMessage:
    """A plain-text message from the configured sender to every address of `to` (all named in its To
    header), with (file name, content, MIME type) attachments."""
    msg = EmailMessage()
    msg["From"] = settings.sender
    msg["To"] = ", ".join(to)
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = make_msgid(domain=parseaddr(settings.sender)[1].rpartition("@")[2] or None)
    msg.set_content(body)
    for name, content, kind in attachments:
        main, _, sub = kind.partition("/")
        msg.add_attachment(content, maintype=main, subtype=sub, filename=name)
    return msg


def send(settings: Smtp, msg: EmailMessage) -> dict[str, str]:
    """Send `msg` to the addresses of its To header. Returns the addresses the server refused (address ->
    its answer) when it took the message for the others; raises MailError when it took it for none."""
    try:
        server = smtplib.SMTP(settings.host, settings.port, timeout=TIMEOUT)
        try:
            server.ehlo()
            if settings.starttls:
                server.starttls(context=ssl.create_default_context())
                server.ehlo()
            if settings.username:
                server.login(settings.username, settings.password or "")
            refused = server.send_message(msg)
        finally:
            # the message is sent once the server took its data: a failed goodbye does not unsend it
            with contextlib.suppress(smtplib.SMTPException, OSError):
                server.quit()
    except smtplib.SMTPRecipientsRefused as error:
        raise MailError("the server refused every recipient: " + "; ".join(
            f"{address}: {_said(answer)}" for address, answer in error.recipients.items())) from None
    except smtplib.SMTPResponseException as error:
        raise MailError(f"the server at {settings.describe()} refused the message: {error.smtp_code} "
                        f"{_said(error.smtp_error)}") from None
    except (smtplib.SMTPException, OSError) as error:
        raise MailError(f"could not send through {settings.describe()}: {error}") from None
    return {address: _said(answer) for address, answer in refused.items()}


def _said(answer) -> str:
    """What an SMTP server answered, as text ((code, message) pairs and bytes alike)."""
    if isinstance(answer, tuple) and len(answer) == 2:
        code, text = answer
        return f"{code} {_said(text)}"
    if isinstance(answer, bytes):
        return answer.decode("utf-8", "replace")
    return str(answer)
