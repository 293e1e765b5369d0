"""Re-issuing, cancelling and accepting invitations (SPEC §5), with real bcrypt, on real
databases and an injectable clock."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from console.models.database import Database
from console.models.schema import (
    Access,
    AuditEvent,
    Invitation,
    OutboxMessage,
    Patient,
    PortalAccount,
)
from console.models.states import AccountState, InvitationState, StaffRole
from console.services.accounts.actions import revoke_access
from console.services.accounts.portal_login import portal_login
from console.services.clock import ManualClock
from console.services.errors import EmailTaken, InvalidEmail, WeakPassword
from console.services.invitations.acceptance import accept_invitation
from console.services.invitations.issuing import (
    InvitationRefused,
    cancel_invitation,
    check_invitation_address,
    mint_invitation_token,
    reissue_invitation,
    resend_invitation,
)
from console.services.passwords import verify_password
from console.services.permissions import Actor
from console.services.workstation import Workstation
from tests.factories import add_account, add_patient
from tests.services.conftest import NOW, add_staff

BIRTH = dt.date(1984, 3, 9)
NEW_PASSWORD = "Harbour-Lights-42"


@pytest.fixture
def actor(staff: dict[StaffRole, Actor]) -> Actor:
    return staff[StaffRole.FRONT_DESK]


def chart(database: Database, **fields: object) -> int:
    with Session(database.writer) as session, session.begin():
        return add_patient(session, birth_date=BIRTH, **fields).id


def rows(database: Database, model: type[object]) -> list[object]:
    with Session(database.engine, expire_on_commit=False) as session:
        found = list(session.scalars(select(model).order_by(model.id)))  # type: ignore[attr-defined]
        session.expunge_all()
        return found


def token_for(desk: Workstation, invitation_id: int) -> str:
    """What the e-mail sender does as it sends: mint the link's token."""
    with Session(desk.database.writer) as session, session.begin():
        token = mint_invitation_token(session, invitation_id, now=desk.clock.now())
    assert token is not None
    return token


def test_reissue_stores_only_hashes_and_queues_the_email(desk: Workstation, actor: Actor) -> None:
    patient = chart(desk.database)
    issued = reissue_invitation(desk, actor, patient, " Jane.Doe@Example.ORG ")

    assert len(issued.pin) == 6 and issued.pin.isdigit()
    assert issued.pin not in repr(issued)
    (invitation,) = rows(desk.database, Invitation)
    assert isinstance(invitation, Invitation)
    assert (invitation.state, invitation.target_email, invitation.token_hash) == (
        "pending",
        "Jane.Doe@example.org",
        None,
    )
    assert verify_password(issued.pin, invitation.pin_hash)
    assert invitation.expires_at == NOW + dt.timedelta(days=7) == issued.expires_at
    (message,) = rows(desk.database, OutboxMessage)
    assert isinstance(message, OutboxMessage)
    assert (message.kind, message.to_email, message.invitation_id, message.state) == (
        "invitation",
        "Jane.Doe@example.org",
        invitation.id,
        "queued",
    )
    (event,) = rows(desk.database, AuditEvent)
    assert isinstance(event, AuditEvent)
    assert event.action == "reissue_invitation" and issued.pin not in event.details


def test_reissue_replaces_the_charts_pending_invitation(desk: Workstation, actor: Actor) -> None:
    patient = chart(desk.database)
    first = reissue_invitation(desk, actor, patient, "jane@example.org")
    second = reissue_invitation(desk, actor, patient, "jane@example.org", expires_days=3)
    states = [(i.id, i.state) for i in rows(desk.database, Invitation)]  # type: ignore[attr-defined]
    assert states == [(first.invitation_id, "cancelled"), (second.invitation_id, "pending")]
    assert second.changes.invitations == {first.invitation_id, second.invitation_id}
    assert [m.state for m in rows(desk.database, OutboxMessage)] == ["cancelled", "queued"]  # type: ignore[attr-defined]
    old, new = (m.id for m in rows(desk.database, OutboxMessage))  # type: ignore[attr-defined]
    assert (second.changes.outbox, second.changes.mail_queued) == ({old, new}, {new})


def test_reissue_refusals_write_nothing(desk: Workstation, actor: Actor) -> None:
    patient = chart(desk.database)
    with Session(desk.database.writer) as session, session.begin():
        add_account(session, "taken@example.org", username="jdoe")
        own = add_account(session, "own@example.org", patient=session.get(Patient, patient))
        own_id = own.id
    other = chart(desk.database)
    reissue_invitation(desk, actor, other, "invited@example.org")
    before = len(rows(desk.database, AuditEvent))

    with pytest.raises(InvitationRefused, match="still has an active portal account"):
        reissue_invitation(desk, actor, patient, "new@example.org")
    revoke_access(desk, actor, own_id, reason="shared_email")
    with pytest.raises(EmailTaken, match="the active portal account 'jdoe'"):
        reissue_invitation(desk, actor, patient, "TAKEN@example.org")
    with pytest.raises(EmailTaken, match="a pending invitation for chart"):
        reissue_invitation(desk, actor, patient, "invited@example.org")
    with pytest.raises(InvalidEmail):
        reissue_invitation(desk, actor, patient, "jane at example.org")
    with pytest.raises(InvitationRefused, match="1 to 90 days"):
        reissue_invitation(desk, actor, patient, "new@example.org", expires_days=0)
    with pytest.raises(InvitationRefused, match="no such chart"):
        reissue_invitation(desk, actor, 999_999, "new@example.org")
    assert len(rows(desk.database, AuditEvent)) == before + 1  # the revoke only
    assert len(rows(desk.database, Invitation)) == 1


def test_same_mailbox_variant_is_a_warning(desk: Workstation, actor: Actor) -> None:
    with Session(desk.database.writer) as session, session.begin():
        add_account(session, "jane.doe@gmail.com")
    patient = chart(desk.database)
    assert check_invitation_address(desk, actor, patient, "janedoe+kids@gmail.com").warning
    issued = reissue_invitation(desk, actor, patient, "janedoe+kids@gmail.com")
    assert issued.warning and "jane.doe@gmail.com" in issued.warning


def test_invite_accept_and_sign_in(desk: Workstation, actor: Actor) -> None:
    patient = chart(desk.database)
    issued = reissue_invitation(desk, actor, patient, "jane@example.org")
    token = token_for(desk, issued.invitation_id)

    accepted = accept_invitation(desk, token, f" {issued.pin} ", BIRTH, NEW_PASSWORD)

    (account,) = rows(desk.database, PortalAccount)
    assert isinstance(account, PortalAccount)
    assert (account.id, account.state, account.login_email, account.patient_id) == (
        accepted.account_id,
        AccountState.MIGRATED,
        "jane@example.org",
        patient,
    )
    assert accepted.username == "jane@example.org"
    (access,) = rows(desk.database, Access)
    assert (access.relation, access.patient_id) == ("self", patient)  # type: ignore[attr-defined]
    outcome = portal_login(desk.database, "JANE@example.org", NEW_PASSWORD, clock=desk.clock)
    assert outcome.signed_in
    with pytest.raises(InvitationRefused, match="already been used"):
        accept_invitation(desk, token, issued.pin, BIRTH, NEW_PASSWORD)


def test_wrong_pins_and_birth_dates_lock_the_invitation(desk: Workstation, actor: Actor) -> None:
    patient = chart(desk.database)
    issued = reissue_invitation(desk, actor, patient, "jane@example.org")
    token = token_for(desk, issued.invitation_id)
    wrong = f"{(int(issued.pin) + 1) % 1_000_000:06d}"

    with pytest.raises(InvitationRefused, match="4 tries left"):
        accept_invitation(desk, token, wrong, BIRTH, NEW_PASSWORD)
    with pytest.raises(InvitationRefused, match="3 tries left"):
        accept_invitation(desk, token, issued.pin, dt.date(1984, 3, 10), NEW_PASSWORD)
    with pytest.raises(InvitationRefused, match="2 tries left"):
        accept_invitation(desk, token, "12ab56", BIRTH, NEW_PASSWORD)
    with pytest.raises(InvitationRefused, match="1 try left"):
        accept_invitation(desk, token, wrong, BIRTH, NEW_PASSWORD)
    with pytest.raises(InvitationRefused, match="locked"):
        accept_invitation(desk, token, wrong, BIRTH, NEW_PASSWORD)
    with pytest.raises(InvitationRefused, match="locked"):
        accept_invitation(desk, token, issued.pin, BIRTH, NEW_PASSWORD)
    assert rows(desk.database, PortalAccount) == []
    outcomes = [e.outcome for e in rows(desk.database, AuditEvent)][1:]  # type: ignore[attr-defined]
    assert outcomes == ["wrong_pin_or_dob"] * 5 + ["locked"]


def test_a_weak_password_is_refused_without_counting(desk: Workstation, actor: Actor) -> None:
    patient = chart(desk.database)
    issued = reissue_invitation(desk, actor, patient, "jane@example.org")
    token = token_for(desk, issued.invitation_id)
    with pytest.raises(WeakPassword, match="upper-case") as refused:
        accept_invitation(desk, token, issued.pin, BIRTH, "lowercase-only-1")
    assert "must not contain" not in str(refused.value)
    with pytest.raises(WeakPassword, match="first part of the e-mail"):
        accept_invitation(desk, token, issued.pin, BIRTH, "Jane-1234567")
    (invitation,) = rows(desk.database, Invitation)
    assert invitation.pin_failures == 0  # type: ignore[attr-defined]


def test_an_expired_invitation_is_refused_and_marked(desk: Workstation, actor: Actor) -> None:
    assert isinstance(desk.clock, ManualClock)
    patient = chart(desk.database)
    issued = reissue_invitation(desk, actor, patient, "jane@example.org", expires_days=2)
    token = token_for(desk, issued.invitation_id)
    desk.clock.advance(days=2)
    with pytest.raises(InvitationRefused, match="expired"):
        accept_invitation(desk, token, issued.pin, BIRTH, NEW_PASSWORD)
    (invitation,) = rows(desk.database, Invitation)
    assert invitation.state == InvitationState.EXPIRED  # type: ignore[attr-defined]
    with pytest.raises(InvitationRefused, match="expired"):
        accept_invitation(desk, token, issued.pin, BIRTH, NEW_PASSWORD)


def test_a_new_token_retires_the_old_link(desk: Workstation, actor: Actor) -> None:
    patient = chart(desk.database)
    issued = reissue_invitation(desk, actor, patient, "jane@example.org")
    old = token_for(desk, issued.invitation_id)
    new = token_for(desk, issued.invitation_id)
    with pytest.raises(InvitationRefused, match="not valid"):
        accept_invitation(desk, old, issued.pin, BIRTH, NEW_PASSWORD)
    accept_invitation(desk, new, issued.pin, BIRTH, NEW_PASSWORD)


@pytest.mark.parametrize("token", ["", "   ", "x" * 500, "ünïcode", "a\x00b", "not-a-token"])
def test_any_text_as_a_token_is_a_clear_refusal(desk: Workstation, token: str) -> None:
    with pytest.raises(InvitationRefused, match="not valid"):
        accept_invitation(desk, token, "123456", BIRTH, NEW_PASSWORD)


def test_cancel_invitation(desk: Workstation, actor: Actor) -> None:
    patient = chart(desk.database)
    issued = reissue_invitation(desk, actor, patient, "jane@example.org")
    token = token_for(desk, issued.invitation_id)
    changes = cancel_invitation(desk, actor, issued.invitation_id)
    assert changes.invitations == {issued.invitation_id}
    (message,) = rows(desk.database, OutboxMessage)
    assert changes.outbox == {message.id} and not changes.mail_queued  # type: ignore[attr-defined]
    with pytest.raises(InvitationRefused, match="already cancelled"):
        cancel_invitation(desk, actor, issued.invitation_id)
    with pytest.raises(InvitationRefused, match="cancelled"):
        accept_invitation(desk, token, issued.pin, BIRTH, NEW_PASSWORD)
    # The address is free again.
    reissue_invitation(desk, actor, chart(desk.database), "jane@example.org")


def test_two_workstations_cannot_hand_out_one_address(
    any_desk: Workstation, staff_hash: str
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    actor = add_staff(any_desk.database, StaffRole.FRONT_DESK, staff_hash)
    charts = [chart(any_desk.database) for _ in range(4)]

    def invite(patient: int) -> str:
        try:
            reissue_invitation(any_desk, actor, patient, "one@example.org")
        except EmailTaken:
            return "taken"
        return "issued"

    with ThreadPoolExecutor(4) as pool:
        results = sorted(pool.map(invite, charts))
    assert results == ["issued", "taken", "taken", "taken"]


def test_a_long_address_still_makes_an_account(any_desk: Workstation, staff_hash: str) -> None:
    actor = add_staff(any_desk.database, StaffRole.FRONT_DESK, staff_hash)
    address = "a" * 60 + "." + "b" * 60 + "@" + "c" * 60 + ".example.org"
    patient = chart(any_desk.database)
    issued = reissue_invitation(any_desk, actor, patient, address)
    accepted = accept_invitation(
        any_desk, token_for(any_desk, issued.invitation_id), issued.pin, BIRTH, NEW_PASSWORD
    )
    assert len(accepted.username) <= 150 and address.startswith(accepted.username)
    assert portal_login(any_desk.database, address, NEW_PASSWORD, clock=any_desk.clock).signed_in


def test_a_reinvited_guardian_gets_the_childrens_charts_back(
    desk: Workstation, actor: Actor
) -> None:
    from console.services.accounts.chart_actions import link_chart

    guardian_chart = chart(desk.database)
    with Session(desk.database.writer) as session, session.begin():
        guardian = add_account(
            session, "family@example.org", patient=session.get(Patient, guardian_chart)
        ).id
        child = add_patient(session, birth_date=dt.date(2016, 5, 1)).id
        adult = add_patient(session, birth_date=dt.date(2001, 5, 1)).id
    link_chart(desk, actor, child, guardian, "guardian")
    link_chart(desk, actor, adult, guardian, "proxy")
    revoke_access(desk, actor, guardian, reason="security_concern")

    issued = reissue_invitation(desk, actor, guardian_chart, "parent.new@example.org")
    assert issued.carried_links == 2
    accepted = accept_invitation(
        desk, token_for(desk, issued.invitation_id), issued.pin, BIRTH, NEW_PASSWORD
    )

    with Session(desk.database.engine) as session:
        links = session.execute(
            select(Access.patient_id, Access.relation, Access.needs_review)
            .where(Access.account_id == accepted.account_id)
            .order_by(Access.id)
        ).all()
    assert links == [
        (guardian_chart, "self", False),
        (child, "guardian", False),
        (adult, "proxy", True),
    ]
    assert accepted.changes.patients == {guardian_chart, child, adult}


def test_resending_an_invitation_replaces_its_queued_email(desk: Workstation, actor: Actor) -> None:
    issued = reissue_invitation(desk, actor, chart(desk.database), "jane@example.org")
    changes = resend_invitation(desk, actor, issued.invitation_id)
    old, new = rows(desk.database, OutboxMessage)
    assert (old.state, new.state) == ("cancelled", "queued")  # type: ignore[attr-defined]
    assert changes.outbox == {old.id, new.id} and changes.mail_queued == {new.id}  # type: ignore[attr-defined]
