"""How the outbox relay hands e-mails over (issue 7): what every transport offers
(``Transport``), how a hand-over fails, and the simplest transport, a pickup folder that
another program sends from. The clinic's mail server is ``console.services.mail.smtp``;
``console.services.mail.mail_server`` picks the transport the settings or an address name.

A failure says whether trying again later can help (``TransientFailure``: the server is
down, busy or unreachable, its certificate is not trusted, it refused the login) or not
(``PermanentFailure``: the server refused this message for good). Its ``reason`` is written
for the clinic and names the server's reply when there is one; it never holds the message
or the password.
"""

from __future__ import annotations

import os
import tempfile
from email import policy
from email.message import EmailMessage
from pathlib import Path
from types import TracebackType
from typing import Protocol, Self

_SAFE_NAME = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@._-")


class DeliveryFailure(Exception):
    """An e-mail was not handed over; ``reason`` (also ``str(failure)``) says why in words
    for the clinic, with the server's reply code and text when it gave one."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TransientFailure(DeliveryFailure):
    """Trying again later may work: a 4xx reply, a timeout, a refused or dropped connection,
    a TLS or certificate problem, a refused login, a missing pickup folder."""


class PermanentFailure(DeliveryFailure):
    """The server refused this message for good (a 5xx reply to it): do not retry."""


class Transport(Protocol):
    """Somewhere e-mails are handed over. ``description`` names it for the clinic (never
    with a password); use it as a context manager, or call ``close`` when done."""

    description: str

    def send(self, message: EmailMessage) -> None:
        """Hand ``message`` over; ``DeliveryFailure`` when that did not happen."""
        ...

    def close(self) -> None:
        """Release what the transport holds (a connection); it may be used again after."""
        ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...


class ClosingTransport:
    """The base of a transport: ``with transport:`` closes it at the end."""

    def close(self) -> None:
        """Nothing to release."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class PickupDirectoryTransport(ClosingTransport):
    """A folder another program sends e-mails from: each message becomes one ``.eml`` file
    (owner-only) named after its Message-ID, written whole or not at all.

    The same Message-ID gives the same file name, so a message sent again before it was
    picked up replaces its file instead of being queued twice (one picked up already is
    sent again: the pickup folder cannot say)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.description = f"pickup folder {path}"

    def send(self, message: EmailMessage) -> None:
        """Write ``message`` to ``<Message-ID>.eml``: a temporary file in the same folder,
        flushed to disk, then renamed over the name (so a reader never sees half a file)."""
        target = self.path / eml_name(str(message["Message-ID"] or ""))
        if not self.path.is_dir():
            raise TransientFailure(f"The pickup folder {self.path} does not exist.")
        data = message.as_bytes(policy=policy.SMTP.clone(utf8=_international(message)))
        try:
            handle, temporary = tempfile.mkstemp(dir=self.path, prefix=".", suffix=".tmp")
        except OSError as error:
            raise TransientFailure(
                f"Cannot write in the pickup folder {self.path} ({error.strerror})."
            ) from None
        try:
            with os.fdopen(handle, "wb") as file:  # mkstemp made it owner-only (0o600)
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, target)
        except OSError as error:
            Path(temporary).unlink(missing_ok=True)
            raise TransientFailure(
                f"Cannot write in the pickup folder {self.path} ({error.strerror})."
            ) from None


def eml_name(message_id: str) -> str:
    """The pickup file of a message: its Message-ID without the angle brackets, every
    character other than letters, digits, ``@ . _ -`` replaced by ``_``, plus ``.eml``."""
    stem = "".join(c if c in _SAFE_NAME else "_" for c in message_id.strip().strip("<>"))
    stem = stem.lstrip(".")[:200]
    if not stem:
        raise ValueError("a message needs a Message-ID to be written to a pickup folder")
    return f"{stem}.eml"


def _international(message: EmailMessage) -> bool:
    """Whether an address needs SMTPUTF8 (as smtplib decides), so the file keeps it as
    UTF-8 rather than as encoded words no server understands in an address."""
    for name in ("From", "To"):
        header = message[name]
        addresses = getattr(header, "addresses", ())
        if any(not address.addr_spec.isascii() for address in addresses):
            return True
    return False


__all__ = [
    "ClosingTransport",
    "DeliveryFailure",
    "PermanentFailure",
    "PickupDirectoryTransport",
    "TransientFailure",
    "Transport",
    "eml_name",
]
