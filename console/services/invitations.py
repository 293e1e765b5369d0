"""Invitations (SPEC §5): staff re-issue one from a chart to a new address; the patient
accepts it with the link's token, the PIN and their date of birth.

Only hashes are stored: the PIN's (bcrypt; the PIN itself is returned once, to be given to
the patient by phone or on a printed handout, never by e-mail) and the token's (SHA-256). The
token is minted only when the invitation e-mail is sent (``mint_invitation_token``), so a
token exists in that e-mail and nowhere else, and a re-send makes the older link stop working.
bcrypt runs before the write transaction, never while it holds the database.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from dataclasses import dataclass, field
from enum import StrEnum
from typing import NamedTuple

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from console.models.schema import (
    ACTIVE_STATES,
    USERNAME_LENGTH,
    Access,
    AccessRelation,
    AccountState,
    Invitation,
    InvitationState,
    OutboxKind,
    OutboxMessage,
    Patient,
    PortalAccount,
)
from console.services.email_rules import NewAddress, check_new_address, validate_email
from console.services.errors import DomainError, EmailTaken
from console.services.outbox import cancel_queued, queue_email
from console.services.passwords import (
    check_password,
    hash_password,
    spend_a_check,
    verify_password,
)
from console.services.permissions import Actor, Permission
from console.services.workstation import (
    ADULT_AGE,
    MAX_INVITATION_DAYS,
    Changes,
    Workstation,
    age_on,
    lock_address,
    lock_row,
    writing,
)

PIN_DIGITS = 6
MAX_PIN_FAILURES = 5
#: 256 random bits, well over SPEC §5's 128.
TOKEN_BYTES = 32
_MAX_TOKEN_LENGTH = 200


class InvitationRefused(DomainError):
    """The invitation cannot be issued, cancelled or accepted as asked."""


@dataclass(frozen=True)
class IssuedInvitation:
    """A new invitation. ``pin`` is shown to staff once and exists nowhere else."""

    invitation_id: int
    pin: str = field(repr=False)
    address: str
    expires_at: dt.datetime
    #: A likely same-mailbox warning for staff (the invitation was still issued).
    warning: str | None
    changes: Changes
    #: Family links of the revoked account that accepting will restore.
    carried_links: int = 0


@dataclass(frozen=True)
class AcceptedInvitation:
    """The account a patient created by accepting an invitation."""

    account_id: int
    username: str
    changes: Changes


def check_invitation_address(
    workstation: Workstation, actor: Actor, patient_id: int, text: str
) -> NewAddress:
    """Validate an address as the re-issue dialog's field is typed: ``InvalidEmail``,
    ``EmailTaken`` naming the holder, or the address with any same-mailbox warning."""
    actor.require(Permission.REISSUE_INVITATION)
    with workstation.database.engine.connect() as connection:
        return check_new_address(
            connection, text, now=workstation.clock.now(), except_patient_id=patient_id
        )


def reissue_invitation(
    workstation: Workstation,
    actor: Actor,
    patient_id: int,
    email: str,
    *,
    expires_days: int | None = None,
    expected_version: int | None = None,
) -> IssuedInvitation:
    """Invite the chart ``patient_id`` to create a new account with ``email`` (SPEC §5):
    the chart's earlier pending invitations are cancelled and the invitation e-mail queued,
    with the audit event, in one transaction. Refused while the chart's own account is still
    active (revoke it first), for an address that is invalid or taken, and for an expiry
    outside 1 to 90 days."""
    actor.require(Permission.REISSUE_INVITATION)
    days = workstation.rules.invitation_days if expires_days is None else expires_days
    if not 1 <= days <= MAX_INVITATION_DAYS:
        raise InvitationRefused(f"An invitation must be valid for 1 to {MAX_INVITATION_DAYS} days.")
    validate_email(email)  # a typing mistake is refused before any bcrypt work
    pin = f"{secrets.randbelow(10**PIN_DIGITS):0{PIN_DIGITS}d}"
    pin_hash = hash_password(pin, workstation.rules.login.passwords.bcrypt_cost)
    now = workstation.clock.now()
    with writing(workstation, actor, Permission.REISSUE_INVITATION) as session:
        patient = lock_row(session, Patient, patient_id, expected_version)
        if patient is None:
            raise InvitationRefused("There is no such chart; it may have been removed.")
        _refuse_if_account_active(session, patient_id)
        new = check_new_address(session, email, now=now, except_patient_id=patient_id)
        lock_address(session, new.key)
        # Checked again under the lock: another workstation may have just taken it.
        new = check_new_address(session, email, now=now, except_patient_id=patient_id)
        cancelled = cancel_pending_invitations(session, patient_id, now)
        links = _links_to_carry(session, patient_id)
        invitation = Invitation(
            patient_id=patient_id,
            carried_links=json.dumps(links) if links else None,
            target_email=new.address,
            pin_hash=pin_hash,
            pin_failures=0,
            state=InvitationState.PENDING.value,
            expires_at=now + dt.timedelta(days=days),
            created_at=now,
            created_by_id=actor.id,
        )
        session.add(invitation)
        session.flush()
        message = queue_email(
            session, OutboxKind.INVITATION, new.address, now=now, invitation_id=invitation.id
        )
        workstation.audit.record(
            session,
            "reissue_invitation",
            actor=actor,
            target_type="patient",
            target_id=patient_id,
            details={
                "invitation": invitation.id,
                "email": new.address,
                "expires_at": invitation.expires_at.isoformat(),
                "invitations_cancelled": sorted(cancelled.invitations),
                "same_mailbox_warning": new.warning is not None,
                "carried_links": len(links),
                "outbox_message": message.id,
            },
        )
        return IssuedInvitation(
            invitation.id,
            pin,
            new.address,
            invitation.expires_at,
            new.warning,
            Changes(
                patients=frozenset({patient_id}),
                invitations=frozenset({invitation.id}) | cancelled.invitations,
                outbox=frozenset({message.id}) | cancelled.emails,
                mail_queued=frozenset({message.id}),
            ),
            len(links),
        )


def cancel_invitation(
    workstation: Workstation,
    actor: Actor,
    invitation_id: int,
    *,
    expected_version: int | None = None,
) -> Changes:
    """Cancel a pending invitation and the e-mail still waiting to carry it; audited."""
    actor.require(Permission.CANCEL_INVITATION)
    now = workstation.clock.now()
    with writing(workstation, actor, Permission.CANCEL_INVITATION) as session:
        invitation = lock_row(session, Invitation, invitation_id, expected_version)
        if invitation is None:
            raise InvitationRefused("There is no such invitation.")
        if invitation.state != InvitationState.PENDING:
            raise InvitationRefused(
                f"This invitation is already {invitation.state}; there is nothing to cancel."
            )
        cancelled = cancel_pending_invitations(
            session, invitation.patient_id, now, only=invitation.id
        )
        workstation.audit.record(
            session,
            "cancel_invitation",
            actor=actor,
            target_type="invitation",
            target_id=invitation.id,
        )
        return Changes(
            patients=frozenset({invitation.patient_id}),
            invitations=frozenset({invitation.id}),
            outbox=cancelled.emails,
        )


def resend_invitation(
    workstation: Workstation,
    actor: Actor,
    invitation_id: int,
    *,
    expected_version: int | None = None,
) -> Changes:
    """Queue the invitation e-mail again (the patient lost it): the PIN stays, and the new
    e-mail's link replaces the old one when it is sent. A copy still waiting is replaced,
    so that one e-mail goes. Refused unless the invitation is pending and unexpired."""
    actor.require(Permission.RESEND_EMAIL)
    now = workstation.clock.now()
    with writing(workstation, actor, Permission.RESEND_EMAIL) as session:
        invitation = lock_row(session, Invitation, invitation_id, expected_version)
        if invitation is None:
            raise InvitationRefused("There is no such invitation.")
        if invitation.state != InvitationState.PENDING or invitation.expires_at <= now:
            raise InvitationRefused(
                "Only a pending invitation that has not expired can be sent again; "
                "re-issue one from the chart instead."
            )
        replaced = cancel_queued(session, OutboxMessage.invitation_id == invitation.id)
        message = queue_email(
            session,
            OutboxKind.INVITATION,
            invitation.target_email,
            now=now,
            invitation_id=invitation.id,
        )
        workstation.audit.record(
            session,
            "resend_invitation",
            actor=actor,
            target_type="invitation",
            target_id=invitation.id,
        )
        return Changes(
            invitations=frozenset({invitation.id}),
            outbox=frozenset({message.id}) | replaced,
            mail_queued=frozenset({message.id}),
        )


class CancelledInvitations(NamedTuple):
    """What ``cancel_pending_invitations`` cancelled: invitations, and outbox e-mails."""

    invitations: frozenset[int]
    emails: frozenset[int]


def cancel_pending_invitations(
    session: Session, patient_id: int, now: dt.datetime, *, only: int | None = None
) -> CancelledInvitations:
    """Cancel a chart's pending invitations (or ``only`` that one) and the e-mails still
    waiting to carry them, in the session's transaction; the ids of both."""
    query = select(Invitation.id).where(
        Invitation.patient_id == patient_id, Invitation.state == InvitationState.PENDING
    )
    if only is not None:
        query = query.where(Invitation.id == only)
    ids = session.scalars(query.with_for_update()).all()
    emails: frozenset[int] = frozenset()
    if ids:
        session.execute(
            update(Invitation)
            .where(Invitation.id.in_(ids))
            .values(
                state=InvitationState.CANCELLED.value,
                cancelled_at=now,
                version=Invitation.version + 1,
            )
        )
        emails = cancel_queued(session, OutboxMessage.invitation_id.in_(ids))
    return CancelledInvitations(frozenset(ids), emails)


def mint_invitation_token(session: Session, invitation_id: int, *, now: dt.datetime) -> str | None:
    """A new raw token for a pending, unexpired invitation, in the session's transaction:
    only its SHA-256 is stored, replacing the previous one (whose link stops working). The
    e-mail sender calls this as it sends; None when the invitation can no longer be used."""
    invitation = session.get(Invitation, invitation_id, with_for_update=True)
    if (
        invitation is None
        or invitation.state != InvitationState.PENDING
        or invitation.expires_at <= now
    ):
        return None
    token = new_token()
    invitation.token_hash = token_hash(token)
    return token


def new_token() -> str:
    """A raw link token: TOKEN_BYTES random bytes, URL-safe, never starting with "-" (a
    patient or staff member pasting it after a command would have it read as an option)."""
    while (token := secrets.token_urlsafe(TOKEN_BYTES)).startswith("-"):
        pass
    return token


def token_hash(token: str) -> str:
    """What is stored of an invitation token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


# --- The patient's side ---------------------------------------------------------------------


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
    _refuse_if_account_active(session, patient_id)
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


def _links_to_carry(session: Session, patient_id: int) -> list[dict[str, object]]:
    """The guardian and proxy links that revoking the chart's most recent own account ended
    (SPEC §5: an invitation carries them, so a re-invited guardian keeps the children)."""
    last = session.execute(
        select(PortalAccount.id, PortalAccount.revoked_at)
        .where(
            PortalAccount.patient_id == patient_id,
            PortalAccount.state == AccountState.REVOKED,
            PortalAccount.revoked_at.is_not(None),
        )
        .order_by(PortalAccount.revoked_at.desc(), PortalAccount.id.desc())
        .limit(1)
    ).first()
    if last is None:
        return []
    rows = session.execute(
        select(Access.patient_id, Access.relation)
        .where(
            Access.account_id == last.id,
            Access.relation != AccessRelation.SELF,
            Access.revoked_at == last.revoked_at,
        )
        .order_by(Access.id)
    )
    return [{"patient_id": chart, "relation": relation} for chart, relation in rows]


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


def _refuse_if_account_active(session: Session, patient_id: int) -> None:
    username = session.scalar(
        select(PortalAccount.username).where(
            PortalAccount.patient_id == patient_id, PortalAccount.state.in_(ACTIVE_STATES)
        )
    )
    if username is not None:
        raise InvitationRefused(
            f"This chart still has an active portal account ('{username}'). Revoke it first "
            "(reason: shared e-mail — re-inviting), then send the new invitation."
        )


__all__ = [
    "MAX_PIN_FAILURES",
    "PIN_DIGITS",
    "AcceptedInvitation",
    "CancelledInvitations",
    "InvitationRefused",
    "IssuedInvitation",
    "accept_invitation",
    "cancel_invitation",
    "cancel_pending_invitations",
    "check_invitation_address",
    "mint_invitation_token",
    "new_token",
    "reissue_invitation",
    "resend_invitation",
    "token_hash",
]
