"""A real SMTP server for the tests (aiosmtpd on 127.0.0.1, a free port, its own thread).

It keeps every message it accepted (envelope and parsed message), answers DATA with the
replies a test scripts (``script("451 4.3.0 Try again later")``, then 250 again), counts
the connections made to it (to prove that one is reused), can drop them (as a server does
with idle connections), tells a test the moment it accepts a message, before its reply goes
back (``when_accepted``: the crash tests stop the sender there), and can require STARTTLS
or speak TLS from the start, with a certificate from a throwaway certificate authority
(trustme) that nothing trusts unless a test hands its file to the client.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any, Literal

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

HOST = "127.0.0.1"
USERNAME = "clinic-mailer"
PASSWORD = "Mail-Server-Secret-7"
Security = Literal["none", "starttls", "tls"]


@dataclass(frozen=True)
class Received:
    """One message the server accepted."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    # Not in a failing test's output: the e-mail holds a link's token.
    message: EmailMessage = field(repr=False)
    raw: bytes = field(repr=False)


@dataclass
class _Handler:
    received: list[Received] = field(default_factory=list)
    replies: deque[str] = field(default_factory=deque)
    on_accepted: Callable[[Received], None] | None = None

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        reply = self.replies.popleft() if self.replies else "250 2.0.0 Message accepted"
        if reply.startswith("250"):
            raw = bytes(envelope.original_content or b"")
            parsed = BytesParser(policy=policy.default).parsebytes(raw)
            assert isinstance(parsed, EmailMessage)
            accepted = Received(str(envelope.mail_from), tuple(envelope.rcpt_tos), parsed, raw)
            self.received.append(accepted)
            if self.on_accepted is not None:
                self.on_accepted(accepted)
        return reply


def _authenticate(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
        USERNAME.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=ok, handled=False)


class _CountingController(Controller):
    """aiosmtpd's controller, counting the connections (one SMTP object per connection)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sessions: list[SMTP] = []

    def factory(self) -> SMTP:
        smtp: SMTP = super().factory()  # type: ignore[no-untyped-call]
        self.sessions.append(smtp)
        return smtp


class SmtpServer:
    """A running server; see the module's docstring."""

    def __init__(self, controller: _CountingController, handler: _Handler, ca: trustme.CA):
        self._controller = controller
        self._handler = handler
        self.ca = ca
        self.host = HOST
        self.port: int = controller.port

    @property
    def received(self) -> list[Received]:
        """The messages accepted so far, in order."""
        return self._handler.received

    @property
    def connections(self) -> int:
        """How many connections clients opened (the controller's own start-up probe is not
        counted)."""
        return len(self._controller.sessions)

    def script(self, *replies: str) -> None:
        """Answer the next DATA commands with ``replies``, in order (then 250 again)."""
        self._handler.replies.extend(replies)

    def when_accepted(self, callback: Callable[[Received], None] | None) -> None:
        """Call ``callback`` (on the server's thread) with each message accepted, after it
        is kept and before the 250 reply is sent; None stops that."""
        self._handler.on_accepted = callback

    def write_ca(self, folder: Path) -> Path:
        """The file of the authority that issued the server's certificate, in ``folder``."""
        path = folder / "test-ca.pem"
        self.ca.cert_pem.write_to_path(str(path))
        return path

    def drop_connections(self) -> None:
        """Close every open connection from the server's side, as a server does with idle
        ones; returns once they are closed."""

        async def close_all() -> None:
            for smtp in self._controller.sessions:
                if smtp.transport is not None:
                    smtp.transport.close()
            for _ in range(3):  # let the loop run the closes it scheduled
                await asyncio.sleep(0)

        asyncio.run_coroutine_threadsafe(close_all(), self._controller.loop).result(timeout=5)


@contextmanager
def smtp_server(
    security: Security = "none",
    *,
    auth: bool = False,
    cert_names: tuple[str, ...] = (HOST, "localhost"),
) -> Iterator[SmtpServer]:
    """A server on 127.0.0.1 for the ``with`` block: plain, requiring STARTTLS, or TLS from
    the first byte (smtps), with a certificate for ``cert_names``; ``auth`` requires the
    login USERNAME / PASSWORD."""
    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*cert_names).configure_cert(server_context)
    handler = _Handler()
    options: dict[str, Any] = {}
    if security == "starttls":
        options.update(tls_context=server_context, require_starttls=True)
    elif security == "tls":
        options.update(ssl_context=server_context)
    if auth:
        options.update(
            authenticator=_authenticate, auth_required=True, auth_require_tls=security != "none"
        )
    controller = _CountingController(handler, hostname=HOST, port=free_port(), **options)
    controller.start()
    controller.sessions.clear()  # the controller's own probe while starting
    try:
        yield SmtpServer(controller, handler, ca)
    finally:
        controller.stop()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (at the moment of asking)."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def silent_server() -> Iterator[int]:
    """A port on 127.0.0.1 that accepts connections and never says a word: a hung server."""
    with socket.socket() as listener:
        listener.bind((HOST, 0))
        listener.listen(4)
        yield listener.getsockname()[1]
