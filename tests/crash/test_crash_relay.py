"""The mail relay sending invitations, reset e-mails and "access ended" notices to a real
SMTP server on 127.0.0.1, in a real process killed with SIGKILL: at random points, and
exactly between the server accepting a message and the relay marking it sent (the window
the README documents). After the kill the database opens, its integrity check passes, the
audit chain verifies, every message marked sent was received and audited once, and at most
the message in flight was received without being marked. A fresh relay, once the claim has
lapsed, then sends the rest: every message arrives, none more than twice, at most one twice,
and of a message that came twice only the newest link works (the older one is refused by
the real acceptance and reset services)."""

from __future__ import annotations

import datetime as dt
import itertools
import re
import shutil
import threading
from collections import Counter
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import unquote

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from console.models.database import Database, open_database, resolve_database_url
from console.models.schema import Invitation, OutboxMessage, PortalAccount
from console.models.states import AccountState, OutboxKind, OutboxState, StaffRole
from console.services.accounts.actions import resend_reset, revoke_access
from console.services.accounts.password_reset import ResetRefused, reset_password_with_link
from console.services.audit.trail import AuditTrail
from console.services.clock import ManualClock
from console.services.errors import DomainError
from console.services.invitations.acceptance import accept_invitation
from console.services.invitations.issuing import InvitationRefused, reissue_invitation, token_hash
from console.services.mail.relay import RelayPolicy
from console.services.workstation import Workstation
from tests.crash.checks import Problems, audit_events, check_database, opened
from tests.crash.common import ACCEPTED, AUDIT_KEY, START
from tests.crash.conftest import add_crash_staff, setup_desk
from tests.crash.processes import (
    FINISH_TIMEOUT,
    START_TIMEOUT,
    Child,
    CrashRun,
    KillPoint,
    children,
    launch,
    start,
)
from tests.factories import add_account, add_patient
from tests.smtp_server import HOST, Received, SmtpServer, smtp_server

pytestmark = pytest.mark.crash

BIRTH = dt.date(1984, 3, 9)
NEW_PASSWORD = "Harbour-Lights-42"
#: When the relay that is killed runs, and when the next one does: after the claim lapsed.
RELAY_AT = START + dt.timedelta(minutes=1)
RESUME_AT = RELAY_AT + RelayPolicy().lease + dt.timedelta(minutes=1)
_TOKEN = re.compile(r"token=([A-Za-z0-9_\-%]+)")


@dataclass(frozen=True)
class Outbox:
    """A clinic database with mail waiting (closed, to be copied for each round), and the
    PINs of its invitations, which the clinic gave the patients by phone."""

    path: Path
    pins: dict[int, str] = field(repr=False)  # never in a test's output
    messages: int = 0


def fill_outbox(path: Path, staff_hash: str, invitations: int, resets: int, notices: int) -> Outbox:
    """Invitations, then reset e-mails, then more invitations, then "access ended" notices,
    each queued by the front desk's own action: the relay takes them in that order."""
    database = open_database(resolve_database_url(str(path), {}))
    try:
        clerk = add_crash_staff(database, staff_hash)[StaffRole.FRONT_DESK]
        desk = setup_desk(database)
        pins: dict[int, str] = {}
        numbers = itertools.count(1)

        def invite(count: int) -> None:
            for _ in range(count):
                with Session(database.writer) as session, session.begin():
                    chart = add_patient(session, birth_date=BIRTH).id
                issued = reissue_invitation(desk, clerk, chart, f"invited{chart}@example.org")
                pins[issued.invitation_id] = issued.pin

        def accounts(count: int) -> list[int]:
            with Session(database.writer) as session, session.begin():
                made = [
                    add_account(session, f"holder{next(numbers)}@example.net", AccountState.LEGACY)
                    for _ in range(count)
                ]
                return [account.id for account in made]

        invite(invitations // 2)
        for account in accounts(resets):
            resend_reset(desk, clerk, account)
        invite(invitations - invitations // 2)
        for account in accounts(notices):
            revoke_access(desk, clerk, account, reason="patient_request", notify_patient=True)
    finally:
        database.dispose()
    assert not Path(f"{path}-wal").exists(), "the outbox database was not closed cleanly"
    return Outbox(path, pins, invitations + resets + notices)


@pytest.fixture(scope="module")
def outbox(
    tmp_path_factory: pytest.TempPathFactory, crash_run: CrashRun, crash_staff_hash: str
) -> Outbox:
    folder = tmp_path_factory.mktemp("outbox")
    if crash_run.full:
        return fill_outbox(folder / "outbox.db", crash_staff_hash, 8, 200, 6)
    return fill_outbox(folder / "outbox.db", crash_staff_hash, 2, 40, 2)


# --- one round: a relay killed, checked, a relay run again, checked -------------------------


@dataclass(frozen=True)
class Kill:
    """Where a round kills its relay: at a random ``point``; or, with ``window``, once the
    mail server has accepted message number ``message`` and before the relay marks it sent,
    stopped by the ``server`` as it accepts (before its 250 reply goes back) or by the
    ``relay``'s transport once that reply is in."""

    point: KillPoint | None = None
    window: str = ""
    message: int = 0

    def __str__(self) -> str:
        if self.point is not None:
            return "a relay killed at random"
        return f"a relay killed as the {self.window} had message {self.message} accepted"


def relay_round(outbox: Outbox, folder: Path, kill: Kill) -> str:
    """Copy the outbox, start a relay, kill it, check; run a relay again once its claim has
    lapsed, check. Where the kill landed."""
    folder.mkdir()
    path = folder / "clinic.db"
    shutil.copyfile(outbox.path, path)
    url = resolve_database_url(str(path), {})
    with smtp_server() as server, children() as running:
        smtp = f"smtp://{HOST}:{server.port}?security=none"
        arguments = ["--db", url, "--clock", RELAY_AT.isoformat(), "--smtp", smtp]
        landed = _kill(kill, running, server, folder, arguments)
        with opened(url) as after:
            problems = check_database(after, AUDIT_KEY) + check_after_kill(after, server.received)
            unmarked = _unmarked(after, server.received)
        assert not problems, f"{landed}: {problems}"
        if kill.window:
            assert len(unmarked) == 1, f"{landed}: not between sending and marking: {unmarked}"
        server.when_accepted(None)
        arguments[3] = RESUME_AT.isoformat()
        start(running, folder, "relay", *arguments).finish()
        received = list(server.received)
    with opened(url) as after:
        problems = check_database(after, AUDIT_KEY) + check_after_resume(after, received, outbox)
        assert not problems, f"after {landed} and a relay run again: {problems}"
        if kill.window:
            only_the_newest_link_works(after, outbox, received, unmarked[0])
    return landed


def _kill(
    kill: Kill, running: list[Child], server: SmtpServer, folder: Path, arguments: list[str]
) -> str:
    if kill.point is not None:
        return f"{kill}: {start(running, folder, 'relay', *arguments).kill_at(kill.point)}"
    if kill.window == "relay":
        arguments = [*arguments, "--pause-after-sent", str(kill.message)]
        child = start(running, folder, "relay", *arguments)
        if not child.wait_for(lambda lines: ACCEPTED in lines, FINISH_TIMEOUT):
            raise AssertionError(f"{kill}: the relay never paused:\n{child.errors()}")
        child.kill()
        return str(kill)
    launched, stopped = threading.Event(), threading.Event()
    relay: list[Child] = []

    def stop_the_relay(_: Received) -> None:
        # On the server's thread, before its 250 reply: the relay cannot go on to mark.
        if len(server.received) == kill.message:
            launched.wait(START_TIMEOUT)
            relay[0].stop()
            stopped.set()

    server.when_accepted(stop_the_relay)
    relay.append(launch(running, folder, "relay", *arguments))
    launched.set()
    relay[0].wait_ready()
    if not stopped.wait(FINISH_TIMEOUT):
        raise AssertionError(f"{kill}: the server never had that message:\n{relay[0].errors()}")
    relay[0].kill()
    return str(kill)


def _received_ids(received: list[Received]) -> Counter[str]:
    return Counter(str(copy.message["Message-ID"]) for copy in received)


def _unmarked(database: Database, received: list[Received]) -> list[int]:
    """Messages the server accepted that are not marked sent."""
    arrived = _received_ids(received)
    with Session(database.engine) as session:
        rows = session.execute(
            select(OutboxMessage.id, OutboxMessage.message_id, OutboxMessage.state)
        ).all()
    return [id_ for id_, message_id, state in rows if arrived[message_id] and state != "sent"]


def check_after_kill(database: Database, received: list[Received]) -> Problems:
    """Whatever the relay was doing when it died: every message marked sent arrived once
    and was audited once; besides those, at most the message in flight arrived, and at most
    it is still claimed."""
    problems: Problems = []
    arrived = _received_ids(received)
    with Session(database.engine) as session:
        messages = session.scalars(select(OutboxMessage)).all()
    sent = [m.id for m in messages if m.state == OutboxState.SENT]
    wrong = [m.id for m in messages if m.state == OutboxState.SENT and arrived[m.message_id] != 1]
    if wrong:
        problems.append(f"e-mails {wrong} are marked sent but did not arrive exactly once")
    claimed = [m.id for m in messages if m.claimed_until and m.claimed_until > RELAY_AT]
    if len(claimed) > 1:
        problems.append(f"e-mails {claimed} are all claimed: a relay claims one at a time")
    with database.engine.connect() as connection:
        audited = [int(target or 0) for target, _ in audit_events(connection, "email_sent")]
    if sorted(audited) != sorted(sent):
        problems.append(f"{len(sent)} e-mails are marked sent, {len(audited)} audited as sent")
    if len(unmarked := _unmarked(database, received)) > 1:
        problems.append(f"e-mails {unmarked} arrived without being marked sent")
    return problems


def check_after_resume(database: Database, received: list[Received], outbox: Outbox) -> Problems:
    """Every message sent and audited once; none arrived more than twice and at most one
    twice (the one in flight at the crash); the link in each newest copy is its only valid
    one (only its hash is kept)."""
    problems: Problems = []
    arrived = _received_ids(received)
    with Session(database.engine) as session:
        messages = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        if len(messages) != outbox.messages or any(m.state != "sent" for m in messages):
            states = Counter(m.state for m in messages)
            problems.append(f"not every e-mail was sent in the end: {dict(states)}")
        times = Counter(arrived[m.message_id] for m in messages)
        if set(times) - {1, 2} or times[2] > 1:
            problems.append(f"e-mails arrived this many times (times: e-mails): {dict(times)}")
        for message in messages:
            problems += _newest_link_only(session, message, _links(received, message))
    with database.engine.connect() as connection:
        audited = Counter(int(target or 0) for target, _ in audit_events(connection, "email_sent"))
    if audited != Counter(m.id for m in messages):
        problems.append("an e-mail was not audited as sent exactly once")
    return problems


def _links(received: list[Received], message: OutboxMessage) -> list[str | None]:
    """The link token in each copy of ``message`` that arrived, oldest first."""
    copies = [c.message for c in received if c.message["Message-ID"] == message.message_id]
    return [_link_token(copy) for copy in copies]


def _link_token(message: EmailMessage) -> str | None:
    body = message.get_body(("plain",))
    found = _TOKEN.search(body.get_content()) if body is not None else None
    return unquote(found.group(1)) if found else None


def _newest_link_only(
    session: Session, message: OutboxMessage, links: list[str | None]
) -> Problems:
    if message.kind == OutboxKind.ACCESS_REVOKED:
        return [f"e-mail {message.id} carries a link"] if any(links) else []
    if message.kind == OutboxKind.INVITATION:
        stored = session.scalar(
            select(Invitation.token_hash).where(Invitation.id == message.invitation_id)
        )
    else:
        stored = session.scalar(
            select(PortalAccount.reset_token_hash).where(PortalAccount.id == message.account_id)
        )
    hashes = [token_hash(token) if token else None for token in links]
    if not hashes or hashes[-1] != stored or stored in hashes[:-1]:
        return [f"e-mail {message.id}: the link of its newest copy is not its only valid one"]
    return []


def only_the_newest_link_works(
    database: Database, outbox: Outbox, received: list[Received], message_id: int
) -> None:
    """The message that arrived twice, as the patient uses it: the first copy's link is
    refused (accepting the invitation with the clinic's PIN, or setting a new password) and
    the second one's works. (A refusal is reported by the message's id: a failing test
    shows no token.)"""
    clock = ManualClock(RESUME_AT + dt.timedelta(minutes=1))
    desk = Workstation(database, AuditTrail(AUDIT_KEY, workstation="patient", clock=clock), clock)
    with Session(database.engine) as session:
        message = session.get_one(OutboxMessage, message_id)
    if message.kind == OutboxKind.ACCESS_REVOKED:
        return  # no link in either copy (check_after_resume)
    links = _links(received, message)
    assert len(links) == 2, f"e-mail {message_id} arrived {len(links)} times, not twice"
    first, second = (token or "" for token in links)
    if message.kind == OutboxKind.INVITATION:
        assert message.invitation_id is not None
        pin = outbox.pins[message.invitation_id]

        def use(token: str) -> None:
            accept_invitation(desk, token, pin, BIRTH, NEW_PASSWORD)
    else:

        def use(token: str) -> None:
            reset_password_with_link(desk, token, NEW_PASSWORD)

    try:
        use(first)
    except (InvitationRefused, ResetRefused):
        pass
    else:
        raise AssertionError(f"e-mail {message_id}: the link of its first copy still worked")
    try:
        use(second)
    except DomainError as refusal:
        raise AssertionError(
            f"e-mail {message_id}: its newest link was refused: {refusal}"
        ) from None


# --- the tests --------------------------------------------------------------------------------


def test_a_relay_killed_at_random_loses_nothing_and_sends_nothing_twice_but_the_one_in_flight(
    outbox: Outbox, tmp_path: Path, crash_run: CrashRun
) -> None:
    # About 7 ms a message here: up to a little more than that after one is handled.
    count = crash_run.kills(fast=1, full=16)
    points = crash_run.kill_points("relay", count, outbox.messages, 0.012)
    landed = [relay_round(outbox, tmp_path / f"round{n}", Kill(p)) for n, p in enumerate(points)]
    assert any("(killed" in where for where in landed), landed


@pytest.mark.parametrize("window", ["server", "relay"])
def test_a_relay_killed_between_the_server_accepting_and_the_relay_marking_sends_it_twice_at_most(
    outbox: Outbox, tmp_path: Path, crash_run: CrashRun, window: str
) -> None:
    """The README's promise: the message goes again once the claim lapses, so at most two
    arrive, and only the newest link works."""
    # Message 1 is an invitation, then come reset e-mails, more invitations, the notices.
    first_reset, last = len(outbox.pins) // 2 + 1, outbox.messages
    fast = {"server": [1], "relay": [first_reset + 5]}[window]
    full = sorted({1, 2, first_reset, first_reset + 7, last - 3, last})
    for n, message in enumerate(full if crash_run.full else fast):
        relay_round(outbox, tmp_path / f"round{n}", Kill(window=window, message=message))
