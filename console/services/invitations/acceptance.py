"""The patient's side of an invitation (SPEC §5): the link's token, the PIN and the date of
birth, then a password under the clinic's policy, give a new ``migrated`` account with
``self`` access to the chart and the guardian links the invitation carried. Five wrong PINs
(or dates of birth) lock the invitation; a token works once. bcrypt runs before the write
transaction, never while it holds the database. Staff issuing invitations is
``invitations``.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from console.models.ages import ADULT_AGE, age_on
from console.models.schema import USERNAME_LENGTH, Access, Invitation, Patient, PortalAccount
from console.models.states import AccessRelation, AccountState, InvitationState
from console.services.email_rules import check_new_address
from console.services.errors import EmailTaken
from console.services.invitations.issuing import (
    MAX_PIN_FAILURES,
    PIN_DIGITS,
    InvitationRefused,
    refuse_if_account_active,
    token_hash,
)
from console.services.passwords import (
    check_password,
    hash_password,
    spend_a_check,
    verify_password,
)
from console.services.workstation import Changes, Workstation, lock_address, lock_row, writing

_MAX_TOKEN_LENGTH = 200


@dataclass(frozen=True)
class AcceptedInvitation:
    """The account a patient created by accepting an invitation."""

    account_id: int
    username: str
    changes: Changes


class _Answer(StrEnum):
    ACCEPTED = "accepted"
    WRONG = "wrong_pin_or_dob"
    LOCKED = "locked"
    EXPIRED = "expired"


_INVALID_LINK = (
    "This invitation link is not valid. Use the newest invitation e-mail, or ask your clinic "
    "to send a new one."
)
_REFUSALS = {
    InvitationState.ACCEPTED: "This invitation has already been used. Log in to the portal "
    "with the e-mail address and the password you chose.",
    InvitationState.CANCELLED: "This invitation was cancelled. Ask your clinic to send a new one.",
    InvitationState.EXPIRED: "This invitation has expired. Ask your clinic to send a new one.",
}
_LOCKED = "This invitation is locked after too many wrong PINs. Ask your clinic to send a new one."


@dataclass(frozen=True)
class _Found:
    """An invitation as read before the PIN check."""

    id: int
    patient_id: int
    token_hash: str | None
    state: str
    expires_at: dt.datetime
    pin_failures: int
    pin_hash: str
    target_email: str
    birth_date: dt.date


def accept_invitation(
    workstation: Workstation, token: str, pin: str, birth_date: dt.date, new_password: str
) -> AcceptedInvitation:
    """The patient accepts an invitation (SPEC §5): the token from the e-mail, the PIN from
    the clinic, their date of birth, and a new password under the policy make a new
    ``migrated`` account with ``self`` access to the chart. A wrong PIN or date of birth is
    counted (five lock the invitation); a token works once; an expired one is refused.
    Every refusal is an ``InvitationRefused`` or ``WeakPassword`` the patient can read."""
    found = _find(workstation, token)
    rules = workstation.rules
    check_password(
        new_password, rules.login.passwords, username=found.target_email, email=found.target_email
    )
    now = workstation.clock.now()
    right = _pin_matches(pin, found.pin_hash) and birth_date == found.birth_date
    password_hash = hash_password(new_password, rules.login.passwords.bcrypt_cost) if right else ""
    with writing(workstation) as session:
        # The chart first, as re-issuing does, so the two cannot deadlock.
        lock_row(session, Patient, found.patient_id)
        invitation = lock_row(session, Invitation, found.id)
        assert invitation is not None  # invitations are never deleted
        if invitation.token_hash != found.token_hash:
            # A newer e-mail was sent meanwhile: this link stopped working.
            raise InvitationRefused(_INVALID_LINK)
        answer = _decide(invitation, now, right)
        if answer is _Answer.ACCEPTED:
            accepted = _create_account(session, invitation, password_hash, now)
        elif answer is _Answer.WRONG:
            invitation.pin_failures += 1
        elif answer is _Answer.EXPIRED and invitation.state == InvitationState.PENDING:
            invitation.state = InvitationState.EXPIRED.value
        session.flush()
        workstation.audit.record(
            session,
            "accept_invitation",
            actor=None,
            outcome=answer.value,
            target_type="invitation",
            target_id=invitation.id,
            details={"pin_failures": invitation.pin_failures},
        )
        left = MAX_PIN_FAILURES - invitation.pin_failures
        state = invitation.state
    # Outside the transaction: a refusal must not roll back the failure it counted.
    if answer is _Answer.ACCEPTED:
        return accepted
    if answer is _Answer.EXPIRED:
        raise InvitationRefused(
            _REFUSALS.get(InvitationState(state), _REFUSALS[InvitationState.EXPIRED])
        )
    if answer is _Answer.LOCKED or left <= 0:
        raise InvitationRefused(_LOCKED)
    tries = "1 try" if left == 1 else f"{left} tries"
    raise InvitationRefused(
        f"The PIN or the date of birth does not match this invitation ({tries} left)."
    )


def _find(workstation: Workstation, token: str) -> _Found:
    text = token.strip()
    if not text or len(text) > _MAX_TOKEN_LENGTH or not text.isascii():
        raise InvitationRefused(_INVALID_LINK)
    query = (
        select(
            Invitation.id,
            Invitation.patient_id,
            Invitation.token_hash,
            Invitation.state,
            Invitation.expires_at,
            Invitation.pin_failures,
            Invitation.pin_hash,
            Invitation.target_email,
            Patient.birth_date,
        )
        .join(Patient, Patient.id == Invitation.patient_id)
        .where(Invitation.token_hash == token_hash(text))
    )
    with workstation.database.engine.connect() as connection:
        row = connection.execute(query).first()
    if row is None:
        raise InvitationRefused(_INVALID_LINK)
    found = _Found(*row)
    if found.state != InvitationState.PENDING:
        raise InvitationRefused(_REFUSALS[InvitationState(found.state)])
    return found


def _pin_matches(pin: str, pin_hash: str) -> bool:
    typed = pin.strip()
    if len(typed) != PIN_DIGITS or not (typed.isascii() and typed.isdigit()):
        spend_a_check()  # as long as a real check: the answer must not tell which it was
        return False
    return verify_password(typed, pin_hash)


def _decide(invitation: Invitation, now: dt.datetime, right: bool) -> _Answer:
    if invitation.state != InvitationState.PENDING or invitation.expires_at <= now:
        return _Answer.EXPIRED
    if invitation.pin_failures >= MAX_PIN_FAILURES:
        return _Answer.LOCKED
    return _Answer.ACCEPTED if right else _Answer.WRONG


def _create_account(
    session: Session, invitation: Invitation, password_hash: str, now: dt.datetime
) -> AcceptedInvitation:
    patient_id = invitation.patient_id
    refuse_if_account_active(session, patient_id)
    lock_address(session, invitation.email_key)
    try:
        check_new_address(session, invitation.target_email, now=now, except_patient_id=patient_id)
    except EmailTaken:
        raise InvitationRefused(
            "This e-mail address is now used by another portal account. Ask your clinic to "
            "send a new invitation to another address."
        ) from None
    account = PortalAccount(
        patient_id=patient_id,
        username=_free_username(session, invitation.target_email),
        login_email=invitation.target_email,
        state=AccountState.MIGRATED.value,
        password_hash=password_hash,
        security_stamp=secrets.token_hex(16),
        failed_logins=0,
        created_at=now,
        updated_at=now,
    )
    session.add(account)
    session.flush()
    session.add(
        Access(
            account_id=account.id,
            patient_id=patient_id,
            relation=AccessRelation.SELF.value,
            granted_at=now,
        )
    )
    restored = _restore_links(session, invitation, account.id, now)
    invitation.state = InvitationState.ACCEPTED.value
    invitation.accepted_at = now
    invitation.accepted_account_id = account.id
    return AcceptedInvitation(
        account.id,
        account.username,
        Changes(
            accounts=frozenset({account.id}),
            patients=frozenset({patient_id}) | restored,
            invitations=frozenset({invitation.id}),
        ),
    )


def _restore_links(
    session: Session, invitation: Invitation, account_id: int, now: dt.datetime
) -> frozenset[int]:
    """Give the new account the links its invitation carried (charts that still exist);
    an adult's chart is flagged for review, as a new link would be."""
    links = json.loads(invitation.carried_links) if invitation.carried_links else []
    restored = set()
    for link in links:
        patient = session.get(Patient, int(link["patient_id"]))
        if patient is None or patient.id == invitation.patient_id:
            continue
        session.add(
            Access(
                account_id=account_id,
                patient_id=patient.id,
                relation=AccessRelation(link["relation"]).value,
                needs_review=age_on(patient.birth_date, now.date()) >= ADULT_AGE,
                granted_at=now,
                granted_by_id=invitation.created_by_id,
            )
        )
        restored.add(patient.id)
    return frozenset(restored)


def _free_username(session: Session, address: str) -> str:
    """The address itself (cut to fit the column), or with ``-2``, ``-3``… when an older
    account already has it."""
    base = address[: USERNAME_LENGTH - 8]
    candidate, n = base, 1
    while session.scalar(
        select(PortalAccount.id).where(PortalAccount.username_key == candidate.casefold())
    ):
        n += 1
        candidate = f"{base}-{n}"
    return candidate


__all__ = ["AcceptedInvitation", "accept_invitation"]
