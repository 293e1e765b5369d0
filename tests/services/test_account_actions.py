"""Revoke, deactivate and resend-reset (SPEC §5) on real databases: their effects, their
refusals, their audit events, and that a refused or failed action writes nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from console.models.database import Database
from console.models.schema import (
    Access,
    AuditEvent,
    Invitation,
    OutboxMessage,
    PortalAccount,
    StaffUser,
)
from console.models.states import AccountState, InvitationState, OutboxKind, OutboxState, StaffRole
from console.services.accounts.actions import (
    AccountRefused,
    RevokeReason,
    deactivate_account,
    resend_reset,
    revoke_access,
    revoke_preview,
)
from console.services.clock import ManualClock
from console.services.errors import StaleRecord
from console.services.permissions import Actor, NotAllowed
from console.services.workstation import Changes, Workstation
from tests.factories import add_account, add_patient, refuse_audit_appends
from tests.services.conftest import NOW, add_staff

SHARED = "family@example.org"


def accounts(database: Database, *emails: str | None, **fields: object) -> list[int]:
    """One account per address, each with its own chart and ``self`` access."""
    with Session(database.writer) as session, session.begin():
        made = [add_account(session, email, **fields) for email in emails]  # type: ignore[arg-type]
        for account in made:
            session.add(
                Access(account_id=account.id, patient_id=account.patient_id, relation="self")
            )
        return [a.id for a in made]


def ids_of(database: Database, model: type[OutboxMessage]) -> list[int]:
    with Session(database.engine) as session:
        return list(session.scalars(select(model.id).order_by(model.id)))


def account(database: Database, account_id: int) -> PortalAccount:
    with Session(database.engine, expire_on_commit=False) as session:
        row = session.get_one(PortalAccount, account_id)
        session.expunge(row)
        return row


def audit_rows(database: Database) -> list[AuditEvent]:
    with Session(database.engine, expire_on_commit=False) as session:
        rows = list(session.scalars(select(AuditEvent).order_by(AuditEvent.id)))
        session.expunge_all()
        return rows


def count(database: Database, model: type[object], *where: object) -> int:
    with database.engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(model).where(*where)) or 0)  # type: ignore[arg-type]


@pytest.fixture
def front_desk(staff: dict[StaffRole, Actor]) -> Actor:
    return staff[StaffRole.FRONT_DESK]


# --- Revoke ------------------------------------------------------------------------------------


def test_revoke_ends_everything_in_one_transaction(desk: Workstation, front_desk: Actor) -> None:
    (target,) = accounts(desk.database, "jane@example.org")
    before = account(desk.database, target)

    changes = revoke_access(
        desk, front_desk, target, reason=RevokeReason.DUPLICATE_ACCOUNT, note=" created twice "
    )

    after = account(desk.database, target)
    assert (after.state, after.revoke_reason, after.revoke_note) == (
        "revoked",
        "duplicate_account",
        "created twice",
    )
    assert after.revoked_at == NOW
    assert after.security_stamp != before.security_stamp
    assert (
        count(desk.database, Access, Access.account_id == target, Access.revoked_at.is_(None)) == 0
    )
    (event,) = audit_rows(desk.database)
    assert (event.action, event.outcome, event.staff_user_id, event.target_id) == (
        "revoke_access",
        "ok",
        front_desk.id,
        str(target),
    )
    assert event.workstation == "test-desk"
    assert changes.accounts == {target} and changes.unblocked == frozenset()


def test_revoking_all_but_one_of_a_cluster_unblocks_the_last(
    desk: Workstation, front_desk: Actor
) -> None:
    first, second, third = accounts(desk.database, SHARED, " Family@Example.org", SHARED.upper())
    assert all(account(desk.database, a).shared_email for a in (first, second, third))

    preview = revoke_preview(desk, front_desk, first)
    assert (preview.will_unblock, preview.still_shared) == ((), (second, third))
    changes = revoke_access(desk, front_desk, first, reason=RevokeReason.SHARED_EMAIL)
    assert changes.unblocked == frozenset() and changes.accounts == {first, second, third}
    assert account(desk.database, third).shared_email

    assert revoke_preview(desk, front_desk, second).will_unblock == (third,)
    changes = revoke_access(desk, front_desk, second, reason=RevokeReason.SHARED_EMAIL)
    assert changes.unblocked == {third}
    assert not account(desk.database, third).shared_email
    assert changes.email_keys == {"family@example.org"}


def test_preview_shows_what_stays_behind(desk: Workstation, front_desk: Actor) -> None:
    (target,) = accounts(desk.database, "jane@example.org", message_count=12, intake_form_count=3)
    preview = revoke_preview(desk, front_desk, target)
    assert (preview.message_count, preview.intake_form_count) == (12, 3)


def test_revoke_cancels_the_charts_pending_invitations(
    desk: Workstation, front_desk: Actor
) -> None:
    (target,) = accounts(desk.database, "jane@example.org")
    patient_id = account(desk.database, target).patient_id
    with Session(desk.database.writer) as session, session.begin():
        invitation = Invitation(
            patient_id=patient_id,
            target_email="jane.new@example.org",
            pin_hash="x",
            expires_at=NOW + dt.timedelta(days=7),
        )
        session.add(invitation)
        session.flush()
        session.add(
            OutboxMessage(
                kind=OutboxKind.INVITATION.value,
                to_email="jane.new@example.org",
                invitation_id=invitation.id,
                message_id="<m1@test>",
            )
        )
        invitation_id = invitation.id
    changes = revoke_access(desk, front_desk, target, reason="security_concern")
    assert changes.invitations == {invitation_id}
    assert count(desk.database, Invitation, Invitation.state == InvitationState.CANCELLED) == 1
    assert count(desk.database, OutboxMessage, OutboxMessage.state == OutboxState.CANCELLED) == 1
    assert changes.outbox == set(ids_of(desk.database, OutboxMessage)) and not changes.mail_queued


def test_revoke_names_the_notice_it_queued(desk: Workstation, front_desk: Actor) -> None:
    """The relay wakes for the "access ended" notice, and only when one was queued."""
    quiet, told = accounts(desk.database, "quiet@example.org", "told@example.org")
    changes = revoke_access(desk, front_desk, quiet, reason="patient_request")
    assert (changes.outbox, changes.mail_queued) == (frozenset(), frozenset())
    changes = revoke_access(desk, front_desk, told, reason="patient_request", notify_patient=True)
    (notice,) = ids_of(desk.database, OutboxMessage)
    assert changes.outbox == changes.mail_queued == {notice}


@pytest.mark.parametrize(
    ("reason", "note", "message"),
    [
        ("other", "  ", "needs one"),
        ("because", "", "Choose a reason"),
        ("other", "x" * 2001, "longer than 2000"),
    ],
)
def test_revoke_refusals_write_nothing(
    desk: Workstation, front_desk: Actor, reason: str, note: str, message: str
) -> None:
    (target,) = accounts(desk.database, "jane@example.org")
    with pytest.raises(AccountRefused, match=message):
        revoke_access(desk, front_desk, target, reason=reason, note=note)
    assert account(desk.database, target).state == "legacy"
    assert audit_rows(desk.database) == []


def test_an_account_revoked_twice_is_refused(desk: Workstation, front_desk: Actor) -> None:
    (target,) = accounts(desk.database, "jane@example.org")
    revoke_access(desk, front_desk, target, reason="deceased")
    with pytest.raises(AccountRefused, match="already revoked"):
        revoke_access(desk, front_desk, target, reason="deceased")
    with pytest.raises(AccountRefused, match="no such portal account"):
        revoke_access(desk, front_desk, 999_999, reason="deceased")


def test_a_change_made_elsewhere_is_reported_and_nothing_is_written(
    desk: Workstation, front_desk: Actor
) -> None:
    (target,) = accounts(desk.database, "jane@example.org")
    seen = account(desk.database, target).version
    with Session(desk.database.writer) as session, session.begin():  # another workstation
        session.get_one(PortalAccount, target).failed_logins = 2
    with pytest.raises(StaleRecord, match="changed by someone else"):
        revoke_access(desk, front_desk, target, reason="deceased", expected_version=seen)
    assert account(desk.database, target).state == "legacy"
    assert audit_rows(desk.database) == []


def test_a_failing_audit_append_rolls_the_action_back(desk: Workstation, front_desk: Actor) -> None:
    first, second = accounts(desk.database, SHARED, SHARED)
    refuse_audit_appends(desk.database)
    with pytest.raises(Exception, match="disk full"):
        revoke_access(desk, front_desk, first, reason="shared_email")
    assert account(desk.database, first).state == "legacy"
    assert account(desk.database, second).shared_email
    assert count(desk.database, Access, Access.revoked_at.is_not(None)) == 0


def test_a_role_the_rules_do_not_know_may_do_nothing(desk: Workstation) -> None:
    (target,) = accounts(desk.database, "jane@example.org")
    visitor = Actor(1, "visitor", "visitor")
    for action in (
        lambda: revoke_access(desk, visitor, target, reason="deceased"),
        lambda: deactivate_account(desk, visitor, target),
        lambda: resend_reset(desk, visitor, target),
        lambda: revoke_preview(desk, visitor, target),
    ):
        with pytest.raises(NotAllowed, match="no valid role"):
            action()
    assert account(desk.database, target).state == "legacy"


def test_revoke_on_postgresql_too(any_desk: Workstation, staff_hash: str) -> None:
    actor = add_staff(any_desk.database, StaffRole.FRONT_DESK, staff_hash)
    first, second = accounts(any_desk.database, SHARED, SHARED)
    changes = revoke_access(any_desk, actor, first, reason="shared_email")
    assert changes.unblocked == {second}
    assert not account(any_desk.database, second).shared_email


# --- Deactivate --------------------------------------------------------------------------------


def test_deactivate_closes_the_account(desk: Workstation, front_desk: Actor) -> None:
    first, second = accounts(desk.database, SHARED, SHARED)
    with Session(desk.database.writer) as session, session.begin():
        session.add(
            OutboxMessage(
                kind=OutboxKind.PASSWORD_RESET.value,
                to_email=SHARED,
                account_id=first,
                message_id="<m2@test>",
            )
        )
    changes = deactivate_account(desk, front_desk, first, note="opted out by phone")
    assert account(desk.database, first).state == "deactivated"
    (cancelled,) = ids_of(desk.database, OutboxMessage)
    assert changes == Changes(
        accounts=frozenset({first, second}),
        patients=frozenset({account(desk.database, first).patient_id}),
        email_keys=frozenset({SHARED}),
        unblocked=frozenset({second}),
        outbox=frozenset({cancelled}),  # the Outbox page shows it cancelled; no mail to send
    )
    assert count(desk.database, OutboxMessage, OutboxMessage.state == OutboxState.QUEUED) == 0
    assert [e.action for e in audit_rows(desk.database)] == ["deactivate_account"]
    with pytest.raises(AccountRefused, match="already deactivated"):
        deactivate_account(desk, front_desk, first)


# --- Resend reset ------------------------------------------------------------------------------


def test_resend_reset_is_rate_limited(desk: Workstation, front_desk: Actor) -> None:
    assert isinstance(desk.clock, ManualClock)
    (target,) = accounts(desk.database, "Jane@Example.org")
    changes = resend_reset(desk, front_desk, target)
    assert changes.outbox == changes.mail_queued == set(ids_of(desk.database, OutboxMessage))
    assert account(desk.database, target).state == AccountState.RESET_PENDING
    with pytest.raises(AccountRefused, match="less than 15 minutes ago"):
        resend_reset(desk, front_desk, target)
    desk.clock.advance(minutes=15, seconds=1)
    resend_reset(desk, front_desk, target)
    with desk.database.engine.connect() as connection:
        sent = connection.execute(select(OutboxMessage.kind, OutboxMessage.to_email)).all()
    assert sent == [("password_reset", "Jane@example.org")] * 2
    assert [e.action for e in audit_rows(desk.database)] == ["resend_reset"] * 2


@pytest.mark.parametrize(
    ("emails", "message"),
    [((SHARED, SHARED), "shares its e-mail"), (("not an address",), "no usable login e-mail")],
)
def test_resend_reset_refusals(
    desk: Workstation, front_desk: Actor, emails: tuple[str, ...], message: str
) -> None:
    target = accounts(desk.database, *emails)[0]
    with pytest.raises(AccountRefused, match=message):
        resend_reset(desk, front_desk, target)
    assert count(desk.database, OutboxMessage) == 0
    assert audit_rows(desk.database) == []


def test_patient_of_the_revoked_account_keeps_the_chart(
    desk: Workstation, front_desk: Actor
) -> None:
    with Session(desk.database.writer) as session, session.begin():
        patient = add_patient(session)
        target = add_account(session, "jane@example.org", patient=patient).id
        patient_id = patient.id
    revoke_access(desk, front_desk, target, reason="patient_request")
    assert account(desk.database, target).patient_id == patient_id


def test_a_staff_user_disabled_since_signing_in_may_no_longer_act(
    any_desk: Workstation, staff_hash: str
) -> None:
    actor = add_staff(any_desk.database, StaffRole.FRONT_DESK, staff_hash)
    (target,) = accounts(any_desk.database, "jane@example.org")
    with Session(any_desk.database.writer) as session, session.begin():
        session.get_one(StaffUser, actor.id).disabled = True
    with pytest.raises(NotAllowed, match="disabled or changed"):
        revoke_access(any_desk, actor, target, reason="deceased")
    assert account(any_desk.database, target).state == "legacy"
    assert audit_rows(any_desk.database) == []


@pytest.mark.parametrize("note", ["\ud800", "a\x00b"])
def test_a_note_that_cannot_be_stored_is_refused(
    desk: Workstation, front_desk: Actor, note: str
) -> None:
    (target,) = accounts(desk.database, "jane@example.org")
    with pytest.raises(AccountRefused, match="cannot be stored"):
        deactivate_account(desk, front_desk, target, note=note)
