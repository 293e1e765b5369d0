"""The password-reset link (issue 7): minted when the reset e-mail is sent, only its SHA-256
kept on the account, and the patient's side that sets the new password with it.

A newer reset e-mail mints a new link and the older one stops working, so at most one link
is ever valid; a link works once and for ``RESET_LINK_HOURS``.
"""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from console.models.schema import PortalAccount
from console.models.states import ACTIVE_STATES, AccountState
from console.services.accounts.patient_view import reset_address
from console.services.errors import DomainError
from console.services.invitations.issuing import new_token, token_hash
from console.services.passwords import check_password, hash_password
from console.services.workstation import Workstation, lock_row, writing

RESET_LINK_HOURS = 24
_MAX_TOKEN_LENGTH = 200
_INVALID_LINK = (
    "This password reset link is not valid any more. Ask for a new reset e-mail from the "
    "portal's login page, or call your clinic."
)


class ResetRefused(DomainError):
    """A reset link that cannot be used, in words the patient can read."""


def mint_reset_token(session: Session, account_id: int, *, now: dt.datetime) -> str | None:
    """A new raw reset token for an active account that may still receive reset e-mails, in
    the session's transaction (the relay calls this as it sends): its hash replaces the
    previous one, whose link stops working. None when no reset e-mail should go any more
    (the account was revoked, deactivated, has no usable address or shares it)."""
    account = lock_row(session, PortalAccount, account_id)
    if (
        account is None
        or account.state not in ACTIVE_STATES
        or account.shared_email
        or reset_address(account) is None
    ):
        return None
    token = new_token()
    account.reset_token_hash = token_hash(token)
    account.reset_token_expires_at = now + dt.timedelta(hours=RESET_LINK_HOURS)
    return token


def reset_password_with_link(workstation: Workstation, token: str, new_password: str) -> None:
    """The patient sets a new password from the reset e-mail's link: the password must meet
    the policy; the account becomes ``migrated`` and the link stops working. Refusals are
    ``ResetRefused`` or ``WeakPassword``, in the patient's words."""
    text = token.strip()
    if not text or len(text) > _MAX_TOKEN_LENGTH or not text.isascii():
        raise ResetRefused(_INVALID_LINK)
    digest = token_hash(text)
    with Session(workstation.database.engine) as session:
        found = session.execute(
            select(PortalAccount.id, PortalAccount.username, PortalAccount.login_email).where(
                PortalAccount.reset_token_hash == digest
            )
        ).one_or_none()
    if found is None:
        raise ResetRefused(_INVALID_LINK)
    account_id, username, email = found
    policy = workstation.rules.login.passwords
    check_password(new_password, policy, username=username, email=email or "")
    password_hash = hash_password(new_password, policy.bcrypt_cost)  # never inside the writer
    now = workstation.clock.now()
    with writing(workstation) as session:
        account = lock_row(session, PortalAccount, account_id)
        usable = (
            account is not None
            and account.reset_token_hash == digest
            and account.reset_token_expires_at is not None
            and account.reset_token_expires_at > now
            and account.state in ACTIVE_STATES
            and not account.shared_email
        )
        if account is not None and usable:
            account.password_hash = password_hash
            account.state = AccountState.MIGRATED.value
            account.failed_logins = 0
            account.locked_until = None
            account.security_stamp = secrets.token_hex(16)
        if account is not None and account.reset_token_hash == digest:
            account.reset_token_hash = None  # a link works once, and an expired one never
            account.reset_token_expires_at = None
        if account is not None:
            workstation.audit.record(
                session,
                "reset_password",
                actor=None,
                outcome="ok" if usable else "refused",
                target_type="account",
                target_id=account_id,
            )
    if not usable:
        raise ResetRefused(_INVALID_LINK)


__all__ = [
    "RESET_LINK_HOURS",
    "ResetRefused",
    "mint_reset_token",
    "reset_password_with_link",
]
