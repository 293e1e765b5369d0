"""The outbox relay (issue 7) against a real SMTP server on 127.0.0.1 and a real pickup
folder: what arrives, retries and failures, and the crashes it must survive."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from console.models.schema import AuditEvent, Invitation, OutboxMessage, PortalAccount
from console.models.states import AccountState, OutboxKind, OutboxState, StaffRole
from console.services.accounts.actions import resend_reset, revoke_access
from console.services.accounts.password_reset import ResetRefused, reset_password_with_link
from console.services.clock import ManualClock
from console.services.errors import StaleRecord
from console.services.invitations.acceptance import accept_invitation
from console.services.invitations.issuing import (
    InvitationRefused,
    cancel_invitation,
    reissue_invitation,
    resend_invitation,
)
from console.services.mail.outbox_list import list_outbox
from console.services.mail.relay import (
    OutboxRefused,
    RelayPolicy,
    RelayReport,
    cancel_message,
    retry_message,
    send_due,
)
from console.services.mail.smtp import SmtpTransport
from console.services.mail.templates import Branding
from console.services.mail.transport import PickupDirectoryTransport, Transport
from console.services.permissions import Actor, NotAllowed
from console.services.settings.values import SmtpSecurity
from console.services.workstation import Workstation
from tests.factories import add_account, add_patient, refuse_audit_appends
from tests.services.conftest import add_staff
from tests.smtp_server import HOST, SmtpServer, free_port, smtp_server

BIRTH = dt.date(1984, 3, 9)
NEW_PASSWORD = "Harbour-Lights-42"
BRANDING = Branding(
    clinic_name="Riverside Family Clinic",
    portal_name="MyHealth",
    portal_base_url="https://portal.riverside.example",
    clinic_phone="555-0100",
    sender="portal@riverside.example",
)
_TOKEN = re.compile(r"token=([A-Za-z0-9_\-%]+)")


class Crash(BaseException):
    """The workstation dies (power cut, killed process): nothing after it runs."""


@pytest.fixture
def actor(staff: dict[StaffRole, Actor]) -> Actor:
    return staff[StaffRole.FRONT_DESK]


@pytest.fixture
def server() -> Iterator[SmtpServer]:
    with smtp_server() as running:
        yield running


def smtp(server: SmtpServer) -> SmtpTransport:
    return SmtpTransport(HOST, server.port, SmtpSecurity.NONE)


def chart(desk: Workstation) -> int:
    with Session(desk.database.writer) as session, session.begin():
        return add_patient(session, birth_date=BIRTH).id


def invite(desk: Workstation, actor: Actor, email: str = "jane@example.org") -> tuple[int, str]:
    """A chart with no account, invited: its invitation id and PIN."""
    issued = reissue_invitation(desk, actor, chart(desk), email)
    return issued.invitation_id, issued.pin


def token_in(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    found = _TOKEN.search(body.get_content())
    assert found is not None, "no link in the e-mail"
    return found.group(1)


def outbox(desk: Workstation) -> list[OutboxMessage]:
    with Session(desk.database.engine, expire_on_commit=False) as session:
        rows = list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        session.expunge_all()
        return rows


def audited(desk: Workstation) -> list[str]:
    with Session(desk.database.engine) as session:
        return list(
            session.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.action.like("email_%"))
                .order_by(AuditEvent.seq)
            )
        )


def later(desk: Workstation, minutes: float) -> None:
    clock = desk.clock
    assert isinstance(clock, ManualClock)
    clock.advance(minutes=minutes)


def test_an_invitation_arrives_and_its_link_accepts_the_pin(
    any_desk: Workstation, staff_hash: str, server: SmtpServer
) -> None:
    actor = add_staff(any_desk.database, StaffRole.FRONT_DESK, staff_hash)
    invitation_id, pin = invite(any_desk, actor)

    with smtp(server) as transport:
        report = send_due(any_desk, transport, BRANDING)

    assert report == RelayReport(sent=1)
    (received,) = server.received
    email = received.message
    (queued,) = outbox(any_desk)
    assert email["Message-ID"] == queued.message_id and queued.state == "sent"
    assert received.rcpt_tos == ("jane@example.org",)
    assert email.get_body(("html",)) is not None and email.get_body(("plain",)) is not None
    assert pin not in received.raw.decode()  # the PIN comes from the clinic, never by e-mail
    accepted = accept_invitation(any_desk, token_in(email), pin, BIRTH, NEW_PASSWORD)
    assert accepted.username
    assert audited(any_desk) == ["email_sent"]
    with Session(any_desk.database.engine) as session:
        stored = session.scalar(select(Invitation.token_hash).where(Invitation.id == invitation_id))
    assert stored is not None and token_in(email) not in stored  # only the hash is kept


def test_451_then_250_is_two_attempts_and_one_message(
    desk: Workstation, actor: Actor, server: SmtpServer
) -> None:
    invite(desk, actor)
    server.script("451 4.3.0 Mailbox busy, try again later")
    with smtp(server) as transport:
        assert send_due(desk, transport, BRANDING) == RelayReport(retrying=1)
        (waiting,) = outbox(desk)
        assert waiting.state == "queued" and waiting.attempts == 1
        assert waiting.last_error is not None and "451" in waiting.last_error
        assert send_due(desk, transport, BRANDING) == RelayReport()  # not due yet
        later(desk, 1)  # the first back-off
        assert send_due(desk, transport, BRANDING) == RelayReport(sent=1)
    (sent,) = outbox(desk)
    assert sent.state == "sent" and sent.attempts == 2 and sent.last_error is None
    assert len(server.received) == 1
    assert audited(desk) == ["email_retry_scheduled", "email_sent"]


def test_550_marks_the_message_failed_with_the_servers_reason(
    desk: Workstation, actor: Actor, server: SmtpServer
) -> None:
    invite(desk, actor)
    server.script("550 5.1.1 No such mailbox here")
    with smtp(server) as transport:
        assert send_due(desk, transport, BRANDING) == RelayReport(failed=1)
    (failed,) = outbox(desk)
    assert failed.state == "failed" and "No such mailbox" in (failed.last_error or "")
    assert server.received == [] and audited(desk) == ["email_failed"]


def test_transient_failures_stop_after_the_last_attempt(desk: Workstation, actor: Actor) -> None:
    invite(desk, actor)
    policy = RelayPolicy(max_attempts=3)
    # Nothing listens on this port: a refused connection, every time.
    with SmtpTransport(HOST, free_port(), SmtpSecurity.NONE, timeout=2) as transport:
        reports = []
        for _ in range(3):
            reports.append(send_due(desk, transport, BRANDING, policy=policy))
            later(desk, 60)
    assert reports == [RelayReport(retrying=1), RelayReport(retrying=1), RelayReport(failed=1)]
    assert outbox(desk)[0].state == "failed"


def test_back_off_doubles_up_to_an_hour() -> None:
    policy = RelayPolicy()
    waits = [policy.delay_after(n) for n in range(1, 9)]
    assert waits[:4] == [dt.timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert waits[-1] == dt.timedelta(hours=1)


def test_a_crash_after_the_action_and_before_sending_still_sends(
    desk: Workstation, actor: Actor, server: SmtpServer
) -> None:
    invite(desk, actor)  # committed; the workstation then died before its relay ran
    assert outbox(desk)[0].state == "queued"
    with smtp(server) as transport:  # the next relay, on any workstation
        assert send_due(desk, transport, BRANDING).sent == 1
    assert len(server.received) == 1


class _CrashAfterSending:
    """Sends for real, then the process dies before the relay can mark the message."""

    def __init__(self, transport: Transport) -> None:
        self.description = transport.description
        self._transport = transport

    def send(self, message: EmailMessage) -> None:
        self._transport.send(message)
        raise Crash

    def close(self) -> None:
        self._transport.close()


def test_a_crash_after_sending_sends_twice_at_most_and_only_the_newest_link_works(
    desk: Workstation, actor: Actor, server: SmtpServer
) -> None:
    _, pin = invite(desk, actor)
    with smtp(server) as transport, pytest.raises(Crash):
        send_due(desk, _CrashAfterSending(transport), BRANDING)
    assert outbox(desk)[0].state == "queued"  # claimed, never marked
    with smtp(server) as transport:
        assert send_due(desk, transport, BRANDING) == RelayReport()  # the claim still holds
        later(desk, 6)  # the claim lapses
        assert send_due(desk, transport, BRANDING) == RelayReport(sent=1)
        later(desk, 60)
        assert send_due(desk, transport, BRANDING) == RelayReport()  # nothing more
    first, second = (received.message for received in server.received)
    assert first["Message-ID"] == second["Message-ID"]  # the same message, sent again
    with pytest.raises(InvitationRefused):
        accept_invitation(desk, token_in(first), pin, BIRTH, NEW_PASSWORD)
    assert accept_invitation(desk, token_in(second), pin, BIRTH, NEW_PASSWORD).username


def test_a_rolled_back_action_sends_nothing(
    desk: Workstation, actor: Actor, server: SmtpServer
) -> None:
    patient = chart(desk)
    refuse_audit_appends(desk.database)
    with pytest.raises(Exception, match="audit"):
        reissue_invitation(desk, actor, patient, "jane@example.org")
    with smtp(server) as transport:
        assert send_due(desk, transport, BRANDING) == RelayReport()
    assert outbox(desk) == [] and server.received == []


def test_a_cancelled_or_expired_invitation_is_not_sent(
    desk: Workstation, actor: Actor, tmp_path: Path
) -> None:
    cancelled, _ = invite(desk, actor, "one@example.org")
    cancel_invitation(desk, actor, cancelled)
    invite(desk, actor, "two@example.org")
    later(desk, 8 * 24 * 60)  # past the 7-day expiry, still queued (no relay ran)
    pickup = tmp_path / "pickup"
    pickup.mkdir()
    assert send_due(desk, PickupDirectoryTransport(pickup), BRANDING) == RelayReport(dropped=1)
    assert [m.state for m in outbox(desk)] == ["cancelled", "cancelled"]
    assert list(pickup.iterdir()) == []


def test_a_reset_link_works_once_and_a_newer_email_retires_it(
    desk: Workstation, actor: Actor, server: SmtpServer
) -> None:
    with Session(desk.database.writer) as session, session.begin():
        account_id = add_account(session, "pat@example.org", AccountState.LEGACY).id
    with smtp(server) as transport:
        resend_reset(desk, actor, account_id)
        send_due(desk, transport, BRANDING)
        later(desk, 20)  # past the resend rate limit
        resend_reset(desk, actor, account_id)
        send_due(desk, transport, BRANDING)
    old, new = (token_in(received.message) for received in server.received)
    html = server.received[0].message.get_body(("html",))
    assert html is not None and "Reset Password" in html.get_content()
    with pytest.raises(ResetRefused):
        reset_password_with_link(desk, old, NEW_PASSWORD)
    reset_password_with_link(desk, new, NEW_PASSWORD)
    with pytest.raises(ResetRefused):
        reset_password_with_link(desk, new, "Another-Harbour-43")  # a link works once
    with Session(desk.database.engine) as session:
        account = session.get_one(PortalAccount, account_id)
        assert account.state == "migrated" and account.reset_token_hash is None


def test_staff_retry_a_failed_message_and_cancel_a_queued_one(
    desk: Workstation, actor: Actor, server: SmtpServer, staff: dict[StaffRole, Actor]
) -> None:
    invite(desk, actor, "one@example.org")
    server.script("550 5.1.1 No such mailbox here")
    with smtp(server) as transport:
        send_due(desk, transport, BRANDING)
    (failed,) = outbox(desk)
    with pytest.raises(StaleRecord):
        retry_message(desk, actor, failed.id, expected_version=failed.version - 1)
    with pytest.raises(OutboxRefused):
        cancel_message(desk, actor, 9999)
    retried = retry_message(desk, actor, failed.id, expected_version=failed.version)
    assert retried.outbox == retried.mail_queued == {failed.id}  # the relay wakes for it
    with smtp(server) as transport:
        assert send_due(desk, transport, BRANDING) == RelayReport(sent=1)
    with pytest.raises(OutboxRefused, match="Only a failed"):
        retry_message(desk, actor, failed.id)

    invite(desk, actor, "two@example.org")
    queued = outbox(desk)[-1]
    cancelled = cancel_message(desk, actor, queued.id)
    assert (cancelled.outbox, cancelled.mail_queued) == ({queued.id}, frozenset())
    with pytest.raises(OutboxRefused):
        cancel_message(desk, actor, queued.id)
    assert outbox(desk)[-1].state == "cancelled"
    assert audited(desk) == [
        "email_failed",
        "email_retried",
        "email_sent",
        "email_cancelled",
    ]


def test_only_staff_who_may_send_emails_retry_them(desk: Workstation) -> None:
    outsider = Actor(9999, "nobody", "front_desk")
    with pytest.raises(NotAllowed):
        cancel_message(desk, outsider, 1)


def test_messages_go_in_due_order_one_connection_for_all(
    desk: Workstation, actor: Actor, server: SmtpServer
) -> None:
    for n in range(5):
        invite(desk, actor, f"patient{n}@example.org")
    seen: list[tuple[int, int]] = []
    with smtp(server) as transport:
        report = send_due(desk, transport, BRANDING, progress=lambda d, t: seen.append((d, t)))
    assert report.sent == 5 and server.connections == 1
    assert seen == [(n, 5) for n in range(1, 6)]
    assert [r.rcpt_tos[0] for r in server.received] == [f"patient{n}@example.org" for n in range(5)]


def test_no_link_host_but_the_portals(desk: Workstation, actor: Actor, tmp_path: Path) -> None:
    invite(desk, actor)
    send_due(desk, PickupDirectoryTransport(tmp_path), BRANDING)
    (eml,) = tmp_path.glob("*.eml")
    links = re.findall(r"https?://[^\s\"<>]+", eml.read_text())
    assert links and all(link.startswith(BRANDING.portal_base_url + "/") for link in links)
    assert OutboxKind.INVITATION.value in audited_kinds(desk)


def audited_kinds(desk: Workstation) -> list[str]:
    with Session(desk.database.engine) as session:
        details = session.scalars(
            select(AuditEvent.details).where(AuditEvent.action == "email_sent")
        )
        return [json.loads(text)["kind"] for text in details]


def test_resending_an_invitation_keeps_the_pin_and_retires_the_old_link(
    desk: Workstation, actor: Actor, server: SmtpServer
) -> None:
    invitation_id, pin = invite(desk, actor)
    resend_invitation(desk, actor, invitation_id)  # before the first was sent: one e-mail
    with smtp(server) as transport:
        assert send_due(desk, transport, BRANDING) == RelayReport(sent=1)
        resend_invitation(desk, actor, invitation_id)  # the patient lost it
        assert send_due(desk, transport, BRANDING) == RelayReport(sent=1)
    old, new = (token_in(received.message) for received in server.received)
    with pytest.raises(InvitationRefused):
        accept_invitation(desk, old, pin, BIRTH, NEW_PASSWORD)
    accept_invitation(desk, new, pin, BIRTH, NEW_PASSWORD)
    with pytest.raises(InvitationRefused, match="pending"):
        resend_invitation(desk, actor, invitation_id)
    assert [m.state for m in outbox(desk)] == ["cancelled", "sent", "sent"]


def test_the_outbox_lists_newest_first_by_state(
    desk: Workstation, actor: Actor, server: SmtpServer
) -> None:
    invite(desk, actor, "one@example.org")
    later(desk, 1)
    invite(desk, actor, "two@example.org")
    server.script("550 5.1.1 No such mailbox here")
    with smtp(server) as transport:
        send_due(desk, transport, BRANDING, limit=1)
    everything = list_outbox(desk, actor)
    assert [row.to_email for row in everything.rows] == ["two@example.org", "one@example.org"]
    failed = list_outbox(desk, actor, state=OutboxState.FAILED)
    assert failed.total == 1 and failed.rows[0].to_email == "one@example.org"
    assert "No such mailbox" in (failed.rows[0].last_error or "")
    (queued,) = list_outbox(desk, actor, state=OutboxState.QUEUED).rows
    assert queued.next_attempt_at is not None and queued.attempts == 0
    with pytest.raises(NotAllowed):
        list_outbox(desk, Actor(1, "reporting", "nobody"))


def test_a_revocation_can_tell_the_login_address_that_access_ended(
    desk: Workstation, actor: Actor, server: SmtpServer
) -> None:
    with Session(desk.database.writer) as session, session.begin():
        told = add_account(session, "pat@example.org").id
        quiet = add_account(session, "sam@example.org").id
    revoke_access(desk, actor, told, reason="patient_request", notify_patient=True)
    revoke_access(desk, actor, quiet, reason="patient_request")
    with smtp(server) as transport:
        assert send_due(desk, transport, BRANDING) == RelayReport(sent=1)
    (received,) = server.received
    assert received.rcpt_tos == ("pat@example.org",)
    body = received.message.get_body(("plain",))
    assert body is not None and "token=" not in body.get_content()
    assert BRANDING.clinic_phone in body.get_content()
