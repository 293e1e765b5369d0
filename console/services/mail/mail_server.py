"""Which transport the clinic's mail server is (issue 7): read from an address written on
the command line (``smtp://``, ``smtps://`` or ``dir://`` for a pickup folder) or from the
settings, with the password from the keyring. An address that is not understood is refused
in plain words that show the forms that are."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from console.services.errors import InvalidSetting
from console.services.mail.smtp import SmtpTransport
from console.services.mail.transport import PickupDirectoryTransport, Transport
from console.services.settings.values import ConsoleSettings, SmtpSecurity

_DEFAULT_PORTS = {"smtp": 587, "smtps": 465}
_URL_FORMS = (
    "The mail server must be written as smtp://host:port (STARTTLS; port 587 when left out) "
    "or smtps://host:port (TLS; port 465 when left out), with the user name in front of the "
    "host when the server needs one (smtp://user@host), and optionally ?verify=no, "
    "?ca_file=/path/to/certificates.pem, or ?security=none (smtp:// only, no encryption, for "
    "a local test server); or as dir:///path/to/folder to write each e-mail as a file in a "
    "pickup folder."
)


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


__all__ = ["transport_from_settings", "transport_from_url"]
