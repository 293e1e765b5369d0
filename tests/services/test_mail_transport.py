"""Handing e-mails over: to a real SMTP server on 127.0.0.1 (tests/smtp_server.py), and to
a pickup folder."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import stat
import threading
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import pytest

from console.models.states import OutboxKind
from console.services.errors import InvalidSetting
from console.services.mail import smtp as mail_smtp
from console.services.mail.mail_server import transport_from_settings, transport_from_url
from console.services.mail.smtp import SmtpTransport
from console.services.mail.templates import Branding, compose
from console.services.mail.transport import (
    PermanentFailure,
    PickupDirectoryTransport,
    TransientFailure,
    Transport,
    eml_name,
)
from console.services.settings.values import ConsoleSettings, SmtpSecurity
from tests.smtp_server import (
    HOST,
    PASSWORD,
    USERNAME,
    SmtpServer,
    free_port,
    silent_server,
    smtp_server,
)

BRANDING = Branding(
    clinic_name="Riverside Family Clinic",
    portal_name="Riverside Portal",
    portal_base_url="https://portal.riverside.example",
    clinic_phone="(555) 010-2040",
    sender="no-reply@riverside.example",
)
SENT = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def an_email(number: int = 1, to: str = "pat@example.org") -> EmailMessage:
    return compose(
        OutboxKind.PASSWORD_RESET,
        to_email=to,
        message_id=f"<{number:032x}@portal-console>",
        branding=BRANDING,
        sent_at=SENT,
        link=f"https://portal.riverside.example/reset-password?token=t{number}",
    )


def plain_transport(server: SmtpServer, **options: object) -> SmtpTransport:
    return SmtpTransport(server.host, server.port, SmtpSecurity.NONE, **options)  # type: ignore[arg-type]


# --- SMTP -----------------------------------------------------------------------------------


def test_a_message_arrives_with_its_headers_and_both_parts() -> None:
    with smtp_server() as server, plain_transport(server) as transport:
        transport.send(an_email())

        (got,) = server.received
    assert got.mail_from == "no-reply@riverside.example"
    assert got.rcpt_tos == ("pat@example.org",)
    message = got.message
    assert message["Message-ID"] == f"<{1:032x}@portal-console>"
    assert message["Subject"] == "Reset your Riverside Portal password"
    assert message["From"].addresses[0].display_name == "Riverside Family Clinic"
    assert message["To"] == "pat@example.org"
    assert message["Date"] is not None
    plain, rich = message.iter_parts()
    assert plain.get_content_type() == "text/plain"
    assert rich.get_content_type() == "text/html"
    assert "Reset Password" in rich.get_content()


def test_one_connection_carries_many_messages() -> None:
    with smtp_server() as server, plain_transport(server) as transport:
        for number in (1, 2, 3):
            transport.send(an_email(number))

        assert server.connections == 1
        assert [r.message["Message-ID"] for r in server.received] == [
            f"<{n:032x}@portal-console>" for n in (1, 2, 3)
        ]


def test_a_4xx_reply_is_transient_and_names_the_servers_answer() -> None:
    with smtp_server() as server, plain_transport(server) as transport:
        server.script("451 4.3.0 Mailbox busy, try again later")
        with pytest.raises(TransientFailure) as failure:
            transport.send(an_email(1))
        transport.send(an_email(1))  # the retry, on the same connection after RSET

        assert server.connections == 1
        assert len(server.received) == 1
    assert "451 4.3.0 Mailbox busy, try again later" in failure.value.reason
    assert f"smtp://{HOST}:{server.port}" in failure.value.reason
    assert "Reset Password" not in failure.value.reason  # never the message


def test_a_5xx_reply_to_the_message_is_permanent_and_the_next_one_goes() -> None:
    with smtp_server() as server, plain_transport(server) as transport:
        server.script("550 5.1.1 No such mailbox")
        with pytest.raises(PermanentFailure) as failure:
            transport.send(an_email(1))
        transport.send(an_email(2))

        assert server.connections == 1
        assert [r.message["Message-ID"] for r in server.received] == [f"<{2:032x}@portal-console>"]
    assert "550 5.1.1 No such mailbox" in str(failure.value)


def test_a_connection_the_server_dropped_is_replaced_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(mail_smtp, "IDLE_CHECK_SECONDS", 0.0)  # as if idle for a while
    with smtp_server() as server, plain_transport(server) as transport:
        transport.send(an_email(1))
        server.drop_connections()
        transport.send(an_email(2))

        assert server.connections == 2
        assert len(server.received) == 2


def test_a_server_that_is_down_is_transient() -> None:
    transport = SmtpTransport(HOST, free_port(), SmtpSecurity.NONE, timeout=5)
    with pytest.raises(TransientFailure, match="refused the connection"):
        transport.send(an_email())


def test_a_server_that_does_not_answer_is_transient() -> None:
    with silent_server() as port:
        transport = SmtpTransport(HOST, port, SmtpSecurity.NONE, timeout=0.2)
        with pytest.raises(TransientFailure, match=r"did not answer within 0\.2 seconds"):
            transport.send(an_email())


def test_starttls_is_required_when_asked_for() -> None:
    with smtp_server("none") as server:
        transport = SmtpTransport(server.host, server.port, SmtpSecurity.STARTTLS)
        with pytest.raises(TransientFailure, match="does not offer STARTTLS"):
            transport.send(an_email())
        assert server.received == []


def test_starttls_with_an_untrusted_certificate_is_refused() -> None:
    with smtp_server("starttls") as server:
        transport = SmtpTransport(server.host, server.port, SmtpSecurity.STARTTLS)
        with pytest.raises(TransientFailure, match="certificate is not trusted"):
            transport.send(an_email())
        assert server.received == []


def test_starttls_with_the_authority_in_ca_file_is_accepted(tmp_path: Path) -> None:
    with smtp_server("starttls") as server:
        ca_file = server.write_ca(tmp_path)
        with SmtpTransport(
            server.host, server.port, SmtpSecurity.STARTTLS, ca_file=ca_file
        ) as transport:
            transport.send(an_email())
        assert len(server.received) == 1


def test_a_certificate_for_another_name_is_refused_even_from_a_trusted_authority(
    tmp_path: Path,
) -> None:
    with smtp_server("starttls", cert_names=("mail.elsewhere.example",)) as server:
        transport = SmtpTransport(
            server.host, server.port, SmtpSecurity.STARTTLS, ca_file=server.write_ca(tmp_path)
        )
        with pytest.raises(TransientFailure, match="certificate is not trusted"):
            transport.send(an_email())


def test_starttls_without_checking_the_certificate_when_told_so() -> None:
    with smtp_server("starttls") as server:
        with SmtpTransport(
            server.host, server.port, SmtpSecurity.STARTTLS, verify_certificate=False
        ) as transport:
            transport.send(an_email())
            assert "certificate not checked" in transport.description
        assert len(server.received) == 1


def test_smtps(tmp_path: Path) -> None:
    with smtp_server("tls") as server:
        with pytest.raises(TransientFailure, match="certificate is not trusted"):
            SmtpTransport(server.host, server.port, SmtpSecurity.TLS).send(an_email(1))
        url = f"smtps://{server.host}:{server.port}?ca_file={server.write_ca(tmp_path)}"
        with transport_from_url(url) as transport:
            transport.send(an_email(2))
            transport.send(an_email(3))
        assert len(server.received) == 2
        assert server.connections == 2  # the refused one, then one for both messages


def test_a_login_with_the_right_password_sends(tmp_path: Path) -> None:
    with smtp_server("starttls", auth=True) as server:
        with SmtpTransport(
            server.host,
            server.port,
            SmtpSecurity.STARTTLS,
            username=USERNAME,
            password=PASSWORD,
            ca_file=server.write_ca(tmp_path),
        ) as transport:
            transport.send(an_email())
        assert len(server.received) == 1


def test_a_refused_login_is_transient_and_never_shows_the_password(tmp_path: Path) -> None:
    with smtp_server("starttls", auth=True) as server:
        transport = SmtpTransport(
            server.host,
            server.port,
            SmtpSecurity.STARTTLS,
            username=USERNAME,
            password="Wrong-Password-1",
            ca_file=server.write_ca(tmp_path),
        )
        with pytest.raises(TransientFailure) as failure:
            transport.send(an_email())
        assert server.received == []
    assert "535" in failure.value.reason
    assert USERNAME in failure.value.reason
    assert "Wrong-Password-1" not in failure.value.reason + transport.description


def test_a_user_name_without_a_password_is_a_missing_setting() -> None:
    with pytest.raises(InvalidSetting, match="Enter the mail server's password"):
        SmtpTransport("mail.example.org", 587, SmtpSecurity.STARTTLS, username="desk")


# --- pickup folder --------------------------------------------------------------------------


def test_the_pickup_folder_gets_one_parseable_owner_only_file_per_message(tmp_path: Path) -> None:
    with PickupDirectoryTransport(tmp_path) as transport:
        transport.send(an_email(1))
        transport.send(an_email(2))
        transport.send(an_email(1))  # sent again: replaces its file

    files = sorted(tmp_path.iterdir())
    assert [f.name for f in files] == [
        f"{1:032x}@portal-console.eml",
        f"{2:032x}@portal-console.eml",
    ]  # and no temporary file left behind
    for file in files:
        if os.name == "posix":
            assert stat.S_IMODE(file.stat().st_mode) == 0o600
        message = BytesParser(policy=policy.default).parsebytes(file.read_bytes())
        assert message["Message-ID"] == f"<{file.stem}>"
        assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]


def test_a_pickup_file_is_never_seen_half_written(tmp_path: Path) -> None:
    """A reader watching the folder while large messages are written again and again sees
    only whole files under the final name."""
    big = an_email(7)
    big.get_body(("plain",)).set_content("x" * 2_000_000)  # type: ignore[union-attr]
    expected = len(bytes(big).replace(b"\n", b"\r\n"))
    target = tmp_path / eml_name(str(big["Message-ID"]))
    done = threading.Event()
    sizes: set[int] = set()

    def watch() -> None:
        while not done.is_set():
            with contextlib.suppress(FileNotFoundError):
                sizes.add(len(target.read_bytes()))

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        transport = PickupDirectoryTransport(tmp_path)
        for _ in range(10):
            transport.send(big)
    finally:
        done.set()
        watcher.join()
    assert sizes <= {expected}
    assert target.stat().st_size == expected


def test_a_missing_pickup_folder_is_transient_and_named(tmp_path: Path) -> None:
    missing = tmp_path / "not-there"
    with pytest.raises(TransientFailure, match="not-there"):
        PickupDirectoryTransport(missing).send(an_email())


def test_pickup_file_names_are_safe() -> None:
    assert eml_name("<abc123@portal-console>") == "abc123@portal-console.eml"
    assert eml_name("<../../etc/passwd>") == "_.._etc_passwd.eml"
    with pytest.raises(ValueError):
        eml_name("<>")


# --- addresses and settings -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "description"),
    [
        ("smtp://mail.example.org", "smtp://mail.example.org:587 (STARTTLS)"),
        ("smtp://mail.example.org:2525", "smtp://mail.example.org:2525 (STARTTLS)"),
        ("smtps://mail.example.org", "smtps://mail.example.org:465 (TLS)"),
        ("SMTPS://desk@mail.example.org:1465", "smtps://desk@mail.example.org:1465 (TLS)"),
        ("smtp://localhost:1025?security=none", "smtp://localhost:1025 (no encryption)"),
        (
            "smtp://mail.example.org?verify=no",
            "smtp://mail.example.org:587 (STARTTLS, certificate not checked)",
        ),
        ("smtp://[::1]:25", "smtp://[::1]:25 (STARTTLS)"),
        ("dir:///var/spool/pickup", "pickup folder /var/spool/pickup"),
        ("dir://outbox/pickup", "pickup folder outbox/pickup"),
    ],
)
def test_mail_server_addresses(url: str, description: str) -> None:
    transport: Transport = transport_from_url(url, password="from-the-keyring")
    assert transport.description == description


def test_the_ca_file_option_is_used(tmp_path: Path) -> None:
    with smtp_server("starttls") as server:
        url = f"smtp://{server.host}:{server.port}?ca_file={server.write_ca(tmp_path)}"
        with transport_from_url(url) as transport:
            transport.send(an_email())
        assert len(server.received) == 1


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("smtp://desk:Secret-99@mail.example.org", "must not contain a password"),
        ("http://mail.example.org", "must start with smtp://, smtps:// or dir://"),
        ("mail.example.org", "must start with smtp://"),
        ("", "must start with smtp://"),
        ("smtp://", "must name the mail server"),
        ("smtp://mail.example.org:port", "not understood"),
        ("smtp://mail.example.org:99999", "not understood"),
        ("smtp://mail.example.org/inbox", "must name the mail server"),
        ("smtps://mail.example.org?security=none", "only for smtp://"),
        ("smtp://mail.example.org?security=ssl", "security=none is the only"),
        ("smtp://mail.example.org?verify=maybe", "verify must be yes or no"),
        ("smtp://mail.example.org?colour=blue", "not colour"),
        ("smtp://mail.example.org?verify=no&verify=yes", "each once"),
        ("dir://", "names only the folder"),
        ("dir:///tmp/pickup?verify=no", "names only the folder"),
    ],
)
def test_addresses_that_are_refused_say_which_forms_work(url: str, problem: str) -> None:
    with pytest.raises(InvalidSetting) as refused:
        transport_from_url(url)
    assert problem in str(refused.value)
    assert "smtp://host:port" in str(refused.value)
    assert "dir:///path/to/folder" in str(refused.value)
    assert "Secret-99" not in str(refused.value)


def test_transport_from_settings() -> None:
    settings = ConsoleSettings(
        smtp_host="mail.example.org",
        smtp_port=465,
        smtp_security=SmtpSecurity.TLS,
        smtp_username="desk",
        smtp_verify_certificate=False,
    )
    transport = transport_from_settings(settings, "from-the-keyring")
    assert transport.description == (
        "smtps://desk@mail.example.org:465 (TLS, certificate not checked)"
    )
    assert "from-the-keyring" not in transport.description


def test_settings_without_a_mail_server_are_refused() -> None:
    with pytest.raises(InvalidSetting, match="Set the mail server in Settings"):
        transport_from_settings(ConsoleSettings(), None)


def test_settings_reach_a_real_server() -> None:
    with smtp_server() as server:
        settings = ConsoleSettings(
            smtp_host=server.host, smtp_port=server.port, smtp_security=SmtpSecurity.NONE
        )
        with transport_from_settings(settings, None) as transport:
            transport.send(an_email())
        assert len(server.received) == 1
