"""Invitations as staff issue them (SPEC §5): re-issued from a chart to a new address,
resent, cancelled. The patient's side, accepting one, is ``invitation_acceptance``.

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
from typing import NamedTuple

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from console.models.schema import Access, Invitation, OutboxMessage, Patient, PortalAccount
from console.models.states import (
    ACTIVE_STATES,
    AccessRelation,
    AccountState,
    InvitationState,
    OutboxKind,
)
from console.services.email_rules import NewAddress, check_new_address, validate_email
from console.services.errors import DomainError
from console.services.mail.outbox import cancel_queued, queue_email
from console.services.passwords import (
    hash_password,
)
from console.services.permissions import Actor, Permission
from console.services.workstation import (
    MAX_INVITATION_DAYS,
    Changes,
    Workstation,
    lock_address,
    lock_row,
    writing,
)

PIN_DIGITS = 6
MAX_PIN_FAILURES = 5
#: 256 random bits, well over SPEC §5's 128.
TOKEN_BYTES = 32


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
        refuse_if_account_active(session, patient_id)
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


def refuse_if_account_active(session: Session, patient_id: int) -> None:
    """Refuse (``InvitationRefused``) a chart whose own account is still active: the order
    is always revoke, then re-issue."""
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
    "CancelledInvitations",
    "InvitationRefused",
    "IssuedInvitation",
    "cancel_invitation",
    "cancel_pending_invitations",
    "check_invitation_address",
    "mint_invitation_token",
    "new_token",
    "refuse_if_account_active",
    "reissue_invitation",
    "resend_invitation",
    "token_hash",
]
