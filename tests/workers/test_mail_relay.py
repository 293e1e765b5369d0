"""The relay inside the console (issue 7), over a real SQLite workstation and a real SMTP
server on 127.0.0.1: queued invitations arrive after ``wake()``, a 451 leaves them to be tried
again, a missing mail server is a problem in words, a run with nothing due builds no
transport, runs never overlap, and ``stop()`` leaves nothing running."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from email.message import EmailMessage

import pytest
from PySide6.QtCore import QCoreApplication
from pytestqt.qtbot import QtBot
from sqlalchemy.orm import Session

from console.models.database import Database
from console.models.states import OutboxState, StaffRole
from console.services.clock import ManualClock
from console.services.errors import InvalidSetting
from console.services.invitations.issuing import reissue_invitation
from console.services.mail.outbox_list import list_outbox
from console.services.mail.relay import RelayReport
from console.services.mail.smtp import SmtpTransport
from console.services.mail.templates import Branding
from console.services.mail.transport import Transport
from console.services.permissions import Actor
from console.services.settings.values import SmtpSecurity
from console.services.workstation import Workstation
from console.workers.mail_relay import MailRelay
from tests.factories import add_patient
from tests.services.conftest import (
    NOW,
    add_staff,
    make_workstation,
    staff_hash,  # noqa: F401 - a fixture
)
from tests.smtp_server import HOST, SmtpServer, smtp_server

BRANDING = Branding(
    clinic_name="Riverside Family Clinic",
    portal_name="MyHealth",
    portal_base_url="https://portal.riverside.example",
    clinic_phone="555-0100",
    sender="portal@riverside.example",
)
#: Long enough that only start() and wake() run the relay in a test.
NEVER_MS = 3_600_000
Relays = Callable[[Callable[[], Transport], Branding | Callable[[], Branding]], MailRelay]


@pytest.fixture
def desk(database: Database) -> Workstation:
    return make_workstation(database, ManualClock(NOW))


@pytest.fixture
def actor(desk: Workstation, staff_hash: str) -> Actor:  # noqa: F811 - the fixture
    return add_staff(desk.database, StaffRole.FRONT_DESK, staff_hash)


@pytest.fixture
def server() -> Iterator[SmtpServer]:
    with smtp_server() as running:
        yield running


class Transports:
    """Makes SMTP transports to the test server, counting them and the ones closed."""

    def __init__(self, server: SmtpServer, gate: threading.Event | None = None) -> None:
        self.server = server
        self.gate = gate
        self.made = 0
        self.closed = 0
        self.open = 0
        self.most_open = 0

    def __call__(self) -> Transport:
        self.made += 1
        self.open += 1
        self.most_open = max(self.most_open, self.open)
        return _Counted(self, SmtpTransport(HOST, self.server.port, SmtpSecurity.NONE))


class _Counted:
    """A real transport, its close counted by its maker, each send waiting for the gate."""

    def __init__(self, maker: Transports, inner: SmtpTransport) -> None:
        self._maker = maker
        self._inner = inner
        self.description = inner.description

    def send(self, message: EmailMessage) -> None:
        if self._maker.gate is not None:
            assert self._maker.gate.wait(timeout=10)
        self._inner.send(message)

    def close(self) -> None:
        self._inner.close()
        self._maker.closed += 1
        self._maker.open -= 1

    def __enter__(self) -> _Counted:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


@pytest.fixture
def relays(desk: Workstation) -> Iterator[Relays]:
    """Build relays on ``desk``; each is stopped when the test ends."""
    made: list[MailRelay] = []

    def make(
        make_transport: Callable[[], Transport], branding: Branding | Callable[[], Branding]
    ) -> MailRelay:
        relay = MailRelay(desk, make_transport, branding)
        made.append(relay)
        return relay

    yield make
    for relay in made:
        relay.stop()


def invite(desk: Workstation, actor: Actor, email: str) -> None:
    """A chart with no account, invited: its invitation e-mail is queued."""
    with Session(desk.database.writer) as session, session.begin():
        patient_id = add_patient(session).id
    reissue_invitation(desk, actor, patient_id, email)


def states(desk: Workstation, actor: Actor) -> list[OutboxState]:
    return [row.state for row in list_outbox(desk, actor).rows]


def test_nothing_due_is_a_cheap_run_then_wake_sends_what_was_queued(
    qtbot: QtBot,
    desk: Workstation,
    actor: Actor,
    server: SmtpServer,
    relays: Relays,
) -> None:
    transports = Transports(server)
    relay = relays(transports, BRANDING)
    with qtbot.waitSignal(relay.ran, timeout=5000) as first:
        relay.start(interval_ms=NEVER_MS)
    assert first.args == [RelayReport()]
    assert transports.made == 0  # nothing due: no connection, no branding

    invite(desk, actor, "jane@example.org")
    invite(desk, actor, "john@example.org")
    with qtbot.waitSignal(relay.ran, timeout=10_000) as second:
        relay.wake()
        relay.wake()  # one run for both
    assert second.args == [RelayReport(sent=2)]
    assert sorted(r.rcpt_tos[0] for r in server.received) == [
        "jane@example.org",
        "john@example.org",
    ]
    assert server.connections == 1
    assert (transports.made, transports.closed) == (1, 1)
    assert states(desk, actor) == [OutboxState.SENT, OutboxState.SENT]
    assert not relay.running


def test_a_451_leaves_the_message_to_be_tried_again(
    qtbot: QtBot,
    desk: Workstation,
    actor: Actor,
    server: SmtpServer,
    relays: Relays,
) -> None:
    server.script("451 4.3.0 Mailbox busy, try again later")
    invite(desk, actor, "jane@example.org")
    relay = relays(Transports(server), lambda: BRANDING)
    with qtbot.waitSignal(relay.ran, timeout=10_000) as ran:
        relay.start(interval_ms=NEVER_MS)
    assert ran.args == [RelayReport(retrying=1)]
    assert server.received == []
    (row,) = list_outbox(desk, actor).rows
    assert row.state is OutboxState.QUEUED and row.attempts == 1
    assert "451" in (row.last_error or "")


def test_no_mail_server_is_a_problem_in_words_and_the_mail_waits(
    qtbot: QtBot, desk: Workstation, actor: Actor, relays: Relays
) -> None:
    def no_server() -> Transport:
        raise InvalidSetting("Set the mail server in Settings before e-mails can be sent.")

    invite(desk, actor, "jane@example.org")
    relay = relays(no_server, BRANDING)
    with qtbot.waitSignal(relay.problem, timeout=5000) as problem:
        relay.start(interval_ms=NEVER_MS)
    assert problem.args == [
        "E-mail could not be sent: Set the mail server in Settings before e-mails can be "
        "sent. Messages wait in the outbox and are tried again."
    ]
    assert states(desk, actor) == [OutboxState.QUEUED]


def test_an_unexpected_failure_is_a_problem_and_a_log_line(
    qtbot: QtBot,
    desk: Workstation,
    actor: Actor,
    relays: Relays,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken() -> Branding:
        raise KeyError("clinic")

    def no_transport() -> Transport:
        raise AssertionError("built after the branding failed")

    invite(desk, actor, "jane@example.org")
    relay = relays(no_transport, broken)
    with qtbot.waitSignal(relay.problem, timeout=5000) as problem:
        relay.start(interval_ms=NEVER_MS)
    assert "unexpected error (KeyError)" in problem.args[0]
    assert "The e-mail relay failed unexpectedly: KeyError" in caplog.text


def test_a_wake_during_a_run_is_one_more_run_after_it(
    qtbot: QtBot,
    desk: Workstation,
    actor: Actor,
    server: SmtpServer,
    relays: Relays,
) -> None:
    gate = threading.Event()
    transports = Transports(server, gate)
    invite(desk, actor, "jane@example.org")
    relay = relays(transports, BRANDING)
    reports: list[RelayReport] = []
    relay.ran.connect(reports.append)
    relay.start(interval_ms=NEVER_MS)
    qtbot.waitUntil(lambda: relay.running and transports.made == 1, timeout=5000)
    invite(desk, actor, "john@example.org")
    relay.wake()
    relay.wake()
    gate.set()
    qtbot.waitUntil(lambda: len(reports) == 2 and not relay.running, timeout=10_000)
    # The first run may have sent John's e-mail too; the second found nothing or sent it.
    assert sum(report.sent for report in reports) == 2
    assert transports.most_open == 1
    assert states(desk, actor) == [OutboxState.SENT, OutboxState.SENT]


def test_stop_waits_for_the_send_under_way_and_delivers_nothing_more(
    qtbot: QtBot,
    desk: Workstation,
    actor: Actor,
    server: SmtpServer,
    relays: Relays,
) -> None:
    gate = threading.Event()
    transports = Transports(server, gate)
    invite(desk, actor, "jane@example.org")
    relay = relays(transports, BRANDING)
    reports: list[RelayReport] = []
    relay.ran.connect(reports.append)
    relay.start(interval_ms=NEVER_MS)
    qtbot.waitUntil(lambda: transports.made == 1, timeout=5000)
    threading.Thread(target=gate.set).start()
    relay.stop()
    assert not relay.started and not relay.running
    assert transports.closed == 1
    assert states(desk, actor) == [OutboxState.SENT]  # finished and marked before stop returned
    relay.wake()  # stopped: nothing
    QCoreApplication.processEvents()
    assert reports == []
