"""How the outbox relay hands e-mails over (issue 7): to the clinic's mail server over SMTP,
or as files in a pickup folder that another program sends from.

A failure says whether trying again later can help (``TransientFailure``: the server is
down, busy or unreachable, its certificate is not trusted, it refused the login) or not
(``PermanentFailure``: the server refused this message for good). Its ``reason`` is written
for the clinic and names the server's reply when there is one; it never holds the message
or the password.
"""

from __future__ import annotations

import os
import smtplib
import socket
import ssl
import tempfile
import time
from email import policy
from email.message import EmailMessage
from pathlib import Path
from types import TracebackType
from typing import Protocol, Self
from urllib.parse import parse_qsl, unquote, urlsplit

from console.services.errors import InvalidSetting
from console.services.settings.values import ConsoleSettings, SmtpSecurity

_DEFAULT_PORTS = {"smtp": 587, "smtps": 465}
#: A connection unused for longer is checked with NOOP before the next message.
IDLE_CHECK_SECONDS = 5.0
_SAFE_NAME = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@._-")
_URL_FORMS = (
    "The mail server must be written as smtp://host:port (STARTTLS; port 587 when left out) "
    "or smtps://host:port (TLS; port 465 when left out), with the user name in front of the "
    "host when the server needs one (smtp://user@host), and optionally ?verify=no, "
    "?ca_file=/path/to/certificates.pem, or ?security=none (smtp:// only, no encryption, for "
    "a local test server); or as dir:///path/to/folder to write each e-mail as a file in a "
    "pickup folder."
)


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


class _Closing:
    """``with transport:`` closes it at the end."""

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


class SmtpTransport(_Closing):
    """The clinic's mail server. Connects on the first ``send`` and keeps that connection
    for the following ones; a connection the server dropped in between is replaced once.

    STARTTLS is required when asked for (a server that does not offer it is refused, never
    used without encryption). The server's certificate is checked against the system's
    certificate authorities, or only against those in ``ca_file`` when given; only
    ``verify_certificate=False`` accepts any certificate."""

    def __init__(
        self,
        host: str,
        port: int,
        security: SmtpSecurity,
        *,
        username: str = "",
        password: str | None = None,
        verify_certificate: bool = True,
        ca_file: Path | None = None,
        timeout: float = 30.0,
    ) -> None:
        if username and password is None:
            raise InvalidSetting(
                f"Enter the mail server's password for {username} in Settings before e-mails "
                "can be sent."
            )
        self._host = host.strip().strip("[]")
        self._port = port
        self._security = SmtpSecurity(security)
        self._username = username
        self._password = password
        self._verify = verify_certificate
        self._ca_file = ca_file
        self._timeout = timeout
        self._connection: smtplib.SMTP | None = None
        self._last_used = 0.0
        scheme = "smtps" if self._security is SmtpSecurity.TLS else "smtp"
        shown_host = f"[{self._host}]" if ":" in self._host else self._host
        user = f"{_quote_user(username)}@" if username else ""
        protection = {
            SmtpSecurity.STARTTLS: "STARTTLS",
            SmtpSecurity.TLS: "TLS",
            SmtpSecurity.NONE: "no encryption",
        }[self._security]
        if self._security is not SmtpSecurity.NONE and not verify_certificate:
            protection += ", certificate not checked"
        self.description = f"{scheme}://{user}{shown_host}:{port} ({protection})"

    def send(self, message: EmailMessage) -> None:
        """Send ``message`` on the open connection (opening one first when needed).

        After a refused message smtplib has already sent RSET (or closed the connection on
        421), so the next message starts clean. After a timeout or a dropped connection the
        connection is closed and the next ``send`` opens a new one; the message is not sent
        again here, since the server may have taken it (the relay retries it)."""
        connection = self._live_connection()
        try:
            connection.send_message(message)
        except smtplib.SMTPRecipientsRefused as error:
            code, text = next(iter(error.recipients.values()))
            self._drop_if_closed(connection)
            raise self._refusal(code, text, for_message=True) from None
        except smtplib.SMTPResponseException as error:
            self._drop_if_closed(connection)
            raise self._refusal(error.smtp_code, error.smtp_error, for_message=True) from None
        except smtplib.SMTPNotSupportedError as error:  # an address needing SMTPUTF8
            raise PermanentFailure(
                f"{self.description} cannot take this message: {error}"
            ) from None
        except (smtplib.SMTPException, OSError) as error:
            self._drop()
            raise self._failure(error) from None

    def close(self) -> None:
        """Say goodbye to the server (QUIT) and close the connection, if one is open."""
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            connection.quit()
        except (smtplib.SMTPException, OSError):
            pass
        finally:
            connection.close()

    def _live_connection(self) -> smtplib.SMTP:
        """The open connection, or else a new one. One idle for a while is asked NOOP first
        (servers drop idle connections); back-to-back messages skip that round trip."""
        connection, idle = self._connection, time.monotonic() - self._last_used
        self._last_used = time.monotonic()
        if connection is not None:
            if idle <= IDLE_CHECK_SECONDS:
                return connection
            try:
                if connection.noop()[0] == 250:
                    return connection
            except (smtplib.SMTPException, OSError):
                pass
            self._drop()
        self._connection = self._connect()
        return self._connection

    def _connect(self) -> smtplib.SMTP:
        """A new connection, encrypted and logged in as the settings ask."""
        try:
            context = self._tls_context()
        except (OSError, ssl.SSLError) as error:
            raise TransientFailure(
                f"The certificate file {self._ca_file} for {self.description} cannot be used "
                f"({error})."
            ) from None
        try:
            return self._open(context)
        except smtplib.SMTPAuthenticationError as error:
            raise TransientFailure(
                f"{self.description} refused the user name {self._username} or its password: "
                f"{_reply(error.smtp_code, error.smtp_error)}. Check both in Settings."
            ) from None
        except smtplib.SMTPResponseException as error:
            raise self._refusal(error.smtp_code, error.smtp_error, for_message=False) from None
        except (smtplib.SMTPException, OSError) as error:
            raise self._failure(error) from None

    def _open(self, context: ssl.SSLContext | None) -> smtplib.SMTP:
        """Connect (smtplib does on construction), EHLO, STARTTLS when asked, log in; the
        connection is closed again when any of that fails."""
        connection = (
            smtplib.SMTP_SSL(self._host, self._port, timeout=self._timeout, context=context)
            if self._security is SmtpSecurity.TLS
            else smtplib.SMTP(self._host, self._port, timeout=self._timeout)
        )
        try:
            connection.ehlo()
            if self._security is SmtpSecurity.STARTTLS:
                if not connection.has_extn("starttls"):
                    raise TransientFailure(
                        f"{self.description}: the server does not offer STARTTLS, so e-mails "
                        "would travel unencrypted. Ask your IT support to enable it, or use "
                        "smtps (TLS) if the server offers that."
                    )
                connection.starttls(context=context)
                connection.ehlo()
            if self._username:
                connection.login(self._username, self._password or "")
        except BaseException:
            connection.close()
            raise
        return connection

    def _tls_context(self) -> ssl.SSLContext | None:
        if self._security is SmtpSecurity.NONE:
            return None
        context = ssl.create_default_context(
            cafile=str(self._ca_file) if self._ca_file is not None else None
        )
        if not self._verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    def _drop_if_closed(self, connection: smtplib.SMTP) -> None:
        if connection.sock is None:  # smtplib closes it after a 421 reply
            self._connection = None

    def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()

    def _refusal(self, code: int, text: bytes | str, *, for_message: bool) -> DeliveryFailure:
        """A reply the server gave: a 5xx to this message is for good, anything else (a 4xx,
        or a 5xx while connecting, which is the server's set-up, not the message) may pass."""
        reason = f"{self.description} answered {_reply(code, text)}"
        if for_message and 500 <= code < 600:
            return PermanentFailure(reason)
        return TransientFailure(reason)

    def _failure(self, error: smtplib.SMTPException | OSError) -> TransientFailure:
        """A failure without a reply, in words."""
        where = self.description
        if isinstance(error, ssl.SSLCertVerificationError):
            return TransientFailure(
                f"{where}: the server's certificate is not trusted ({error.verify_message}). "
                "Ask your IT support for the certificate of the authority that issued it and "
                "name it as ca_file, or correct the server's certificate."
            )
        if isinstance(error, ssl.SSLError):
            return TransientFailure(
                f"{where}: the secure connection failed ({error.reason or error})."
            )
        # smtplib reports a reply that did not come in time as a closed connection.
        timed_out = isinstance(error, TimeoutError) or isinstance(error.__context__, TimeoutError)
        if timed_out:
            return TransientFailure(f"{where} did not answer within {self._timeout:g} seconds.")
        if isinstance(error, smtplib.SMTPServerDisconnected):
            return TransientFailure(f"{where} closed the connection.")
        if isinstance(error, smtplib.SMTPException):
            return TransientFailure(f"{where}: {error}.")
        if isinstance(error, ConnectionRefusedError):
            return TransientFailure(
                f"{where} refused the connection: is the server running, and are the name "
                "and port right?"
            )
        if isinstance(error, socket.gaierror):
            return TransientFailure(f"{where}: the server's name {self._host} was not found.")
        return TransientFailure(f"{where} could not be reached ({error.strerror or error}).")


class PickupDirectoryTransport(_Closing):
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


def transport_from_url(url: str, *, password: str | None = None) -> Transport:
    """The transport a mail-server address names (``InvalidSetting`` in plain words for one
    that is not understood):

    - ``smtp://[user@]host[:port]``: STARTTLS, port 587 unless given;
    - ``smtps://[user@]host[:port]``: TLS from the start, port 465 unless given;
    - options after ``?``: ``security=none`` (smtp:// only: no encryption, for a local test
      server), ``verify=no`` (accept any certificate), ``ca_file=/path`` (trust only the
      authorities in that file);
    - ``dir:///absolute/path`` or ``dir://relative/path``: a pickup folder.

    A password in the address is refused: it belongs in the keyring (``password``)."""
    try:
        parts = urlsplit(url.strip())
        scheme = parts.scheme.lower()
        host = parts.hostname
        port = parts.port
    except ValueError:
        raise _bad_url("That address is not understood.") from None
    if scheme == "dir":
        folder = unquote(parts.netloc + parts.path)
        if parts.query or parts.fragment or not folder:
            raise _bad_url("A pickup folder address names only the folder.")
        return PickupDirectoryTransport(Path(folder))
    if scheme not in _DEFAULT_PORTS:
        raise _bad_url("The address must start with smtp://, smtps:// or dir://.")
    if parts.password is not None:
        raise _bad_url(
            "The address must not contain a password: the console keeps the mail server's "
            "password in the system keyring."
        )
    if not host or parts.path not in ("", "/") or parts.fragment:
        raise _bad_url("The address must name the mail server and nothing after it but options.")
    options = _options(parts.query)
    security = SmtpSecurity.TLS if scheme == "smtps" else SmtpSecurity.STARTTLS
    if options.get("security") == "none" and scheme == "smtp":
        security = SmtpSecurity.NONE
    elif "security" in options:
        raise _bad_url("security=none is the only security option, and only for smtp://.")
    if options.get("verify", "yes") not in ("yes", "no"):
        raise _bad_url("verify must be yes or no.")
    return SmtpTransport(
        host,
        port or _DEFAULT_PORTS[scheme],
        security,
        username=unquote(parts.username or ""),
        password=password,
        verify_certificate=options.get("verify") != "no",
        ca_file=Path(options["ca_file"]) if options.get("ca_file") else None,
    )


def transport_from_settings(settings: ConsoleSettings, password: str | None) -> Transport:
    """The clinic's mail server as the settings name it, with its password from the
    keyring. ``InvalidSetting`` when no mail server is set."""
    if not settings.smtp_host.strip():
        raise InvalidSetting("Set the mail server in Settings before e-mails can be sent.")
    return SmtpTransport(
        settings.smtp_host,
        settings.smtp_port,
        settings.smtp_security,
        username=settings.smtp_username.strip(),
        password=password,
        verify_certificate=settings.smtp_verify_certificate,
    )


def _quote_user(username: str) -> str:
    """A user name as it appears in an smtp:// address (``@`` and ``:`` escaped)."""
    return username.replace("%", "%25").replace("@", "%40").replace(":", "%3A")


def _options(query: str) -> dict[str, str]:
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError:
        raise _bad_url("The options after ? are not understood.") from None
    names = [name for name, _ in pairs]
    unknown = sorted(set(names) - {"security", "verify", "ca_file"})
    if unknown or len(names) != len(set(names)):
        raise _bad_url(
            "The options after ? may be security, verify and ca_file, each once"
            + (f" (not {', '.join(unknown)})." if unknown else ".")
        )
    return {name: value.strip().lower() if name != "ca_file" else value for name, value in pairs}


def _bad_url(problem: str) -> InvalidSetting:
    return InvalidSetting(f"{problem} {_URL_FORMS}")


def _reply(code: int, text: bytes | str) -> str:
    """A server reply on one line: ``451 4.3.0 Try again later``."""
    words = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return f"{code} {' '.join(words.split())}".strip()


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
    "DeliveryFailure",
    "PermanentFailure",
    "PickupDirectoryTransport",
    "SmtpTransport",
    "TransientFailure",
    "Transport",
    "eml_name",
    "transport_from_settings",
    "transport_from_url",
]
