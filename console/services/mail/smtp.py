"""The clinic's mail server over SMTP (issue 7): the outbox relay's transport, keeping one
connection open for its messages, encrypted and logged in as the settings ask. Each reply or
error the server gives becomes a ``TransientFailure`` or a ``PermanentFailure``
(``console.services.mail.transport``) in words for the clinic."""

from __future__ import annotations

import smtplib
import socket
import ssl
import time
from email.message import EmailMessage
from pathlib import Path

from console.services.errors import InvalidSetting
from console.services.mail.transport import (
    ClosingTransport,
    DeliveryFailure,
    PermanentFailure,
    TransientFailure,
)
from console.services.settings.values import SmtpSecurity

#: A connection unused for longer is checked with NOOP before the next message.
IDLE_CHECK_SECONDS = 5.0


class SmtpTransport(ClosingTransport):
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


def _quote_user(username: str) -> str:
    """A user name as it appears in an smtp:// address (``@`` and ``:`` escaped)."""
    return username.replace("%", "%25").replace("@", "%40").replace(":", "%3A")


def _reply(code: int, text: bytes | str) -> str:
    """A server reply on one line: ``451 4.3.0 Try again later``."""
    words = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return f"{code} {' '.join(words.split())}".strip()


__all__ = ["IDLE_CHECK_SECONDS", "SmtpTransport"]
