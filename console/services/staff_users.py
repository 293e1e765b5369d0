"""Console users: adding them, and checking who is acting (SPEC §6).

There is never a default account: the first user of an empty database is added without an
acting user and must be an administrator; after that only an administrator adds users.
Signing in counts failures and locks the user out for a while, answering an unknown user, a
wrong password, a disabled and a locked user alike, and audits every attempt.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from console.models.schema import StaffRole, StaffUser
from console.services.errors import DomainError
from console.services.passwords import (
    MIN_COST,
    check_staff_password,
    hash_password,
    is_checkable,
    spend_a_check,
    verify_password,
)
from console.services.permissions import Actor, Permission
from console.services.portal_login import LoginPolicy
from console.services.workstation import Changes, Workstation, lock_row, writing

_USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
MAX_DISPLAY_NAME = 200
SIGN_IN_FAILED = "Incorrect username or password."


class StaffRefused(DomainError):
    """A staff user cannot be added or changed as asked."""


class SignInFailed(DomainError):
    """The same answer for an unknown user, a wrong password, a disabled or locked user."""

    def __init__(self) -> None:
        super().__init__(SIGN_IN_FAILED)


@dataclass(frozen=True)
class SignedIn:
    """A verified sign-in."""

    actor: Actor
    #: An administrator reset the password: the user must choose a new one now.
    must_change_password: bool


def has_staff(workstation: Workstation) -> bool:
    """Whether any staff user exists (if not, the console asks for the first admin)."""
    with workstation.database.engine.connect() as connection:
        return bool(connection.scalar(select(func.count()).select_from(StaffUser)))


def add_staff_user(
    workstation: Workstation,
    actor: Actor | None,
    username: str,
    role: StaffRole | str,
    password: str,
    *,
    display_name: str | None = None,
) -> Changes:
    """Add a console user. ``actor`` is the administrator doing it, or None for the first
    user of a database with no staff (who must be an administrator)."""
    if actor is not None:
        actor.require(Permission.MANAGE_STAFF)
    name = username.strip()
    if not _USERNAME.fullmatch(name):
        raise StaffRefused(
            "A staff username is 1 to 64 letters, digits, dots, dashes, underscores or @, "
            "starting with a letter or digit."
        )
    try:
        new_role = StaffRole(role)
    except ValueError:
        known = ", ".join(r.value for r in StaffRole)
        raise StaffRefused(f"Choose a role: {known}.") from None
    shown = " ".join((display_name or name).split())
    if not shown or len(shown) > MAX_DISPLAY_NAME or "\x00" in shown:
        raise StaffRefused(f"A display name is 1 to {MAX_DISPLAY_NAME} characters.")
    check_staff_password(
        password, username=name, min_length=workstation.rules.staff_password_length
    )
    password_hash = hash_password(password, MIN_COST)
    with writing(workstation) as session:
        if actor is None:
            _refuse_unless_first(session, new_role)
        if session.scalar(select(StaffUser.id).where(StaffUser.username_key == name.casefold())):
            raise StaffRefused(f"A staff user named '{name}' already exists.")
        user = StaffUser(
            username=name,
            display_name=shown,
            role=new_role.value,
            password_hash=password_hash,
            must_change_password=False,
            disabled=False,
            failed_logins=0,
            created_at=workstation.clock.now(),
        )
        session.add(user)
        session.flush()
        workstation.audit.record(
            session,
            "add_staff_user",
            actor=actor or Actor(user.id, user.username, user.role),
            target_type="staff",
            target_id=user.id,
            details={"username": name, "role": new_role.value, "first_user": actor is None},
        )
        return Changes(staff=frozenset({user.id}))


def sign_in(workstation: Workstation, username: str, password: str) -> SignedIn:
    """Check a staff user's password (bcrypt, before the write transaction). Raises
    ``SignInFailed`` for every kind of failure, after counting and auditing it."""
    now = workstation.clock.now()
    policy = workstation.rules.login
    key = username.strip().casefold()
    with workstation.database.engine.connect() as connection:
        row = connection.execute(
            select(StaffUser.id, StaffUser.password_hash).where(StaffUser.username_key == key)
        ).first()
    stored = row.password_hash if row is not None else None
    if stored is None or not is_checkable(password, stored):
        spend_a_check()
        right = False
    else:
        right = verify_password(password, stored)
    if row is None:
        with writing(workstation) as session:
            _record(workstation, session, None, "unknown_user")
        raise SignInFailed()
    with writing(workstation) as session:
        user = lock_row(session, StaffUser, row.id)
        assert user is not None  # staff users are disabled, never deleted
        outcome = _decide(user, right and user.password_hash == stored, now, policy)
        _record(workstation, session, user, outcome)
        signed_in = SignedIn(Actor(user.id, user.username, user.role), user.must_change_password)
    if outcome != "ok":
        raise SignInFailed()
    return signed_in


def _decide(user: StaffUser, right: bool, now: dt.datetime, policy: LoginPolicy) -> str:
    if user.locked_until is not None and user.locked_until <= now:
        user.locked_until, user.failed_logins = None, 0
    if right and not user.disabled and user.locked_until is None:
        user.failed_logins = 0
        user.last_login_at = now
        return "ok"
    user.failed_logins += 1
    if user.disabled:
        return "disabled"
    if user.locked_until is not None:
        return "locked"
    if user.failed_logins >= policy.max_failures:
        user.locked_until = now + policy.lockout
        return "locked_out"
    return "wrong_password"


def _record(
    workstation: Workstation,
    session: Session,
    user: StaffUser | None,
    outcome: str,
) -> None:
    workstation.audit.record(
        session,
        "staff_sign_in",
        actor=Actor(user.id, user.username, user.role) if user is not None else None,
        outcome=outcome,
        target_type="staff",
        target_id=user.id if user is not None else None,
        details={"failed_logins": user.failed_logins} if user is not None else {},
    )


def _refuse_unless_first(session: Session, role: StaffRole) -> None:
    if session.scalar(select(func.count()).select_from(StaffUser)):
        raise StaffRefused(
            "Staff users already exist: an administrator must add new ones (--staff ADMIN)."
        )
    if role is not StaffRole.ADMIN:
        raise StaffRefused("The first staff user must be an administrator (--role admin).")


__all__ = [
    "SIGN_IN_FAILED",
    "SignInFailed",
    "SignedIn",
    "StaffRefused",
    "add_staff_user",
    "has_staff",
    "sign_in",
]
