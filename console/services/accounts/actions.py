"""What staff do to a portal account (SPEC §5): revoke its access, deactivate it, resend its
reset e-mail.

Each action checks the acting user's role, validates, and does all of its work and its
audit event in one transaction; it returns ``Changes`` for the views. Refusals are
``DomainError``s worded for the front desk; a row changed elsewhere is ``StaleRecord``.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from console.models.schema import Access, OutboxMessage, PortalAccount
from console.models.states import ACTIVE_STATES, AccountState, OutboxKind
from console.services.accounts.patient_view import reset_address
from console.services.accounts.portal_login import queue_password_reset
from console.services.errors import DomainError, is_storable
from console.services.invitations.issuing import cancel_pending_invitations
from console.services.mail.outbox import cancel_queued, queue_email
from console.services.permissions import Actor, Permission
from console.services.workstation import (
    Changes,
    Workstation,
    active_sharers,
    lock_row,
    unblocked_by,
    writing,
)

MAX_NOTE_LENGTH = 2000


class RevokeReason(StrEnum):
    """Why staff end an account's access (SPEC §5)."""

    SHARED_EMAIL = "shared_email"
    DUPLICATE_ACCOUNT = "duplicate_account"
    PATIENT_REQUEST = "patient_request"
    DECEASED = "deceased"
    SECURITY_CONCERN = "security_concern"
    OTHER = "other"

    @property
    def label(self) -> str:
        """The reason as the revoke dialog lists it."""
        return _REASON_LABELS[self]


_REASON_LABELS = {
    RevokeReason.SHARED_EMAIL: "Shared e-mail — re-inviting",
    RevokeReason.DUPLICATE_ACCOUNT: "Duplicate account",
    RevokeReason.PATIENT_REQUEST: "Patient request",
    RevokeReason.DECEASED: "Deceased",
    RevokeReason.SECURITY_CONCERN: "Security concern",
    RevokeReason.OTHER: "Other (note required)",
}


class AccountRefused(DomainError):
    """The account is not in a state that allows this action."""


@dataclass(frozen=True)
class RevokePreview:
    """What staff must see before confirming a revocation (SPEC §5)."""

    account_id: int
    version: int
    #: Stays with the revoked account: it does not move to a new one.
    message_count: int
    intake_form_count: int
    #: Other active accounts that share the address and will be able to sign in after it.
    will_unblock: tuple[int, ...]
    #: Other active accounts that will still share the address after it.
    still_shared: tuple[int, ...]
    #: The usernames of those other accounts, by username.
    other_usernames: tuple[str, ...] = ()


def revoke_preview(workstation: Workstation, actor: Actor, account_id: int) -> RevokePreview:
    """What revoking ``account_id`` would leave behind and whom it would unblock."""
    actor.require(Permission.REVOKE_ACCESS)
    with workstation.database.engine.connect() as connection, Session(bind=connection) as session:
        account = _active_account(session, account_id, "revoke")
        sharers = active_sharers(session, [account.email_key]).get(account.email_key or "", set())
        others = tuple(sorted(sharers - {account.id}))
        usernames = session.scalars(
            select(PortalAccount.username)
            .where(PortalAccount.id.in_(others))
            .order_by(PortalAccount.username)
        )
        return RevokePreview(
            account.id,
            account.version,
            account.message_count,
            account.intake_form_count,
            others if len(others) == 1 else (),
            others if len(others) > 1 else (),
            tuple(usernames),
        )


def revoke_access(
    workstation: Workstation,
    actor: Actor,
    account_id: int,
    *,
    reason: RevokeReason | str,
    note: str = "",
    notify_patient: bool = False,
    expected_version: int | None = None,
) -> Changes:
    """End an account's access (SPEC §5): state ``revoked`` with the reason, every access
    row ended, the pending invitations of its own chart cancelled, its security stamp
    changed (signing out any portal session), and the audit event — in one transaction.
    Messages and intake forms stay with the revoked account. ``notify_patient`` queues the
    "access ended" e-mail to its login address (when it has a usable one)."""
    actor.require(Permission.REVOKE_ACCESS)
    why = _revoke_reason(reason)
    note = _note(note, required=why is RevokeReason.OTHER)
    now = workstation.clock.now()
    with writing(workstation, actor, Permission.REVOKE_ACCESS) as session:
        account = _lock_active(session, account_id, expected_version, "revoke")
        before = active_sharers(session, [account.email_key])
        account.state = AccountState.REVOKED.value
        account.revoked_at = now
        account.revoke_reason = why.value
        account.revoke_note = note or None
        unsent = _close(session, account, actor, now, why.value)
        cancelled = cancel_pending_invitations(session, account.patient_id, now)
        address = reset_address(account) if notify_patient else None
        notice = None
        if address is not None:
            notice = queue_email(
                session, OutboxKind.ACCESS_REVOKED, address, now=now, account_id=account.id
            ).id
        session.flush()
        after = active_sharers(session, [account.email_key])
        unblocked = unblocked_by(before, after)
        workstation.audit.record(
            session,
            "revoke_access",
            actor=actor,
            target_type="account",
            target_id=account.id,
            details={
                "reason": why.value,
                "note": note,
                "messages_left_behind": account.message_count,
                "intake_forms_left_behind": account.intake_form_count,
                "invitations_cancelled": sorted(cancelled.invitations),
                "unblocked_accounts": sorted(unblocked),
                "notice_queued": address is not None,
            },
        )
        queued = frozenset({notice}) if notice is not None else frozenset()
        return _changes(
            account,
            before,
            unblocked,
            invitations=cancelled.invitations,
            outbox=unsent | cancelled.emails | queued,
            mail_queued=queued,
        )


def deactivate_account(
    workstation: Workstation,
    actor: Actor,
    account_id: int,
    *,
    note: str = "",
    expected_version: int | None = None,
) -> Changes:
    """Close an account at the patient's request (opt-out, SPEC §3): state ``deactivated``,
    access ended, queued e-mails to it cancelled, security stamp changed, audited."""
    actor.require(Permission.DEACTIVATE_ACCOUNT)
    note = _note(note, required=False)
    now = workstation.clock.now()
    with writing(workstation, actor, Permission.DEACTIVATE_ACCOUNT) as session:
        account = _lock_active(session, account_id, expected_version, "deactivate")
        before = active_sharers(session, [account.email_key])
        account.state = AccountState.DEACTIVATED.value
        unsent = _close(session, account, actor, now, RevokeReason.PATIENT_REQUEST.value)
        session.flush()
        unblocked = unblocked_by(before, active_sharers(session, [account.email_key]))
        workstation.audit.record(
            session,
            "deactivate_account",
            actor=actor,
            target_type="account",
            target_id=account.id,
            details={"note": note, "unblocked_accounts": sorted(unblocked)},
        )
        return _changes(account, before, unblocked, outbox=unsent)


def resend_reset(
    workstation: Workstation, actor: Actor, account_id: int, *, expected_version: int | None = None
) -> Changes:
    """Queue another password reset e-mail to the account's login address (rate-limited as
    the portal login is). A ``legacy`` account becomes ``reset_pending``."""
    actor.require(Permission.RESEND_EMAIL)
    now = workstation.clock.now()
    policy = workstation.rules.login
    with writing(workstation, actor, Permission.RESEND_EMAIL) as session:
        account = _lock_active(session, account_id, expected_version, "send a reset e-mail to")
        if account.shared_email:
            raise AccountRefused(
                "This account shares its e-mail address with another account, so it cannot "
                "reset its password. Revoke it and send a new invitation, or link the chart "
                "to the guardian's account."
            )
        if reset_address(account) is None:
            raise AccountRefused(
                "This account has no usable login e-mail address. Send a new invitation from "
                "the chart to the patient's own address instead."
            )
        message = queue_password_reset(
            session, account, now=now, min_interval=policy.reset_email_interval
        )
        if message is None:
            raise AccountRefused(
                "A reset e-mail was queued for this account less than "
                f"{policy.reset_email_minutes} minutes ago. Ask the patient to check their "
                "inbox and spam folder first."
            )
        if account.state == AccountState.LEGACY:
            account.state = AccountState.RESET_PENDING.value
        session.flush()
        workstation.audit.record(
            session,
            "resend_reset",
            actor=actor,
            target_type="account",
            target_id=account.id,
            details={"outbox_message": message.id},
        )
        return Changes(
            accounts=frozenset({account.id}),
            outbox=frozenset({message.id}),
            mail_queued=frozenset({message.id}),
        )


# --- Shared steps ------------------------------------------------------------------------------


def _revoke_reason(reason: RevokeReason | str) -> RevokeReason:
    try:
        return RevokeReason(reason)
    except ValueError:
        known = ", ".join(r.value for r in RevokeReason)
        raise AccountRefused(f"Choose a reason for revoking ({known}).") from None


def _note(note: str, *, required: bool) -> str:
    text = note.strip()
    if required and not text:
        raise AccountRefused("Write a note saying why: the reason 'other' needs one.")
    if len(text) > MAX_NOTE_LENGTH:
        raise AccountRefused(f"The note cannot be longer than {MAX_NOTE_LENGTH} characters.")
    if not is_storable(text):
        raise AccountRefused("The note contains a character that cannot be stored.")
    return text


def _active_account(session: Session, account_id: int, doing: str) -> PortalAccount:
    account = session.get(PortalAccount, account_id)
    return _must_be_active(account, doing)


def _lock_active(
    session: Session, account_id: int, expected_version: int | None, doing: str
) -> PortalAccount:
    return _must_be_active(lock_row(session, PortalAccount, account_id, expected_version), doing)


def _must_be_active(account: PortalAccount | None, doing: str) -> PortalAccount:
    if account is None:
        raise AccountRefused("There is no such portal account; it may have been removed.")
    if account.state not in ACTIVE_STATES:
        state = "revoked" if account.state == AccountState.REVOKED else "deactivated"
        raise AccountRefused(f"This account is already {state}; there is nothing to {doing}.")
    return account


def _close(
    session: Session, account: PortalAccount, actor: Actor, now: dt.datetime, reason: str
) -> frozenset[int]:
    """End the account's access rows, cancel e-mails still waiting to go to it (their ids
    are returned), and change its security stamp so that no portal session of it survives."""
    account.security_stamp = secrets.token_hex(16)
    account.locked_until = None
    session.execute(
        update(Access)
        .where(Access.account_id == account.id, Access.revoked_at.is_(None))
        .values(
            revoked_at=now,
            revoked_by_id=actor.id,
            revoke_reason=reason,
            version=Access.version + 1,
        )
    )
    return cancel_queued(session, OutboxMessage.account_id == account.id)


def _changes(
    account: PortalAccount,
    before: dict[str, set[int]],
    unblocked: frozenset[int],
    *,
    invitations: frozenset[int] = frozenset(),
    outbox: frozenset[int] = frozenset(),
    mail_queued: frozenset[int] = frozenset(),
) -> Changes:
    key = account.email_key
    return Changes(
        # Every account that shared the address: the flag of each may have changed.
        accounts=frozenset({account.id}) | frozenset(before.get(key or "", set())),
        patients=frozenset({account.patient_id}),
        invitations=invitations,
        email_keys=frozenset({key}) if key else frozenset(),
        unblocked=unblocked,
        outbox=outbox,
        mail_queued=mail_queued,
    )


__all__ = [
    "AccountRefused",
    "RevokePreview",
    "RevokeReason",
    "deactivate_account",
    "resend_reset",
    "revoke_access",
    "revoke_preview",
]
