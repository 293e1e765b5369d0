"""Console users: adding them and checking who they are (SPEC §6).

There is never a default account: the first user of an empty database is added without an
acting user and must be an administrator; after that only an administrator adds users (and
administers them: ``staff.admin``). Signing in counts failures and locks the user out for a
while, answering an unknown user, a wrong password, a disabled and a locked user alike, and
audits every attempt (the audit trail adds the workstation's name). Unlocking an idle
console and changing one's own password check the password the same way, so their failures
count towards the same lock-out.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from console.models.schema import StaffUser
from console.models.states import StaffRole
from console.services.accounts.portal_login import LoginPolicy
from console.services.errors import DomainError, is_storable
from console.services.passwords import (
    check_staff_password,
    hash_password,
    is_checkable,
    spend_a_check,
    verify_password,
)
from console.services.permissions import Actor, Permission
from console.services.workstation import Changes, Workstation, lock_row, writing

_USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
MAX_DISPLAY_NAME = 200
SIGN_IN_FAILED = "Incorrect username or password."
#: The PostgreSQL advisory lock every change to who may do what takes, so that two
#: administrators disabling each other at once cannot both succeed (``lock_address`` uses
#: 2026 with 0 to 1023).
#: The unique index on ``StaffUser.username_key``: another workstation took the name.
_USERNAME_INDEX = "uq_staff_users_username_key"

#: The audit action of each way a staff user's password is checked.
_CHECK_ACTIONS = {
    "sign_in": "staff_sign_in",
    "unlock": "staff_unlock",
    "change_own_password": "change_own_password",
}


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
    #: An administrator chose the password (added the user or reset it): the user must
    #: choose a new one now.
    must_change_password: bool


def has_staff(workstation: Workstation) -> bool:
    """Whether any staff user exists (if not, the console asks for the first admin)."""
    with workstation.database.engine.connect() as connection:
        return bool(connection.scalar(select(func.count()).select_from(StaffUser)))


def check_new_staff_user(
    username: str, password: str, display_name: str | None, *, min_length: int
) -> tuple[str, str]:
    """The username and display name of a new console user as they will be kept, once they
    and the password pass the staff rules (``StaffRefused``, ``WeakPassword`` otherwise).
    Writes nothing: a command checks what was typed before it creates anything."""
    name = username.strip()
    if not _USERNAME.fullmatch(name):
        raise StaffRefused(
            "A staff username is 1 to 64 letters, digits, dots, dashes, underscores or @, "
            "starting with a letter or digit."
        )
    shown = " ".join((display_name or name).split())
    if not shown or len(shown) > MAX_DISPLAY_NAME:
        raise StaffRefused(f"A display name is 1 to {MAX_DISPLAY_NAME} characters.")
    if not is_storable(shown):
        raise StaffRefused(
            "The display name contains a character that cannot be stored; type it again."
        )
    check_staff_password(password, username=name, min_length=min_length)
    return name, shown


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
    user of a database with no staff (who must be an administrator). A user an
    administrator adds must choose their own password at their first sign-in, since the
    administrator knows this one; the first user chose theirs."""
    if actor is not None:
        actor.require(Permission.MANAGE_STAFF)
    new_role = staff_role(role)
    name, shown = check_new_staff_user(
        username, password, display_name, min_length=workstation.rules.staff_password_length
    )
    password_hash = hash_password(password, staff_hash_cost(workstation))
    # The acting administrator re-read in the transaction (none for the first user).
    with writing(workstation, actor, Permission.MANAGE_STAFF) as session:
        if actor is None:
            _refuse_unless_first(session, new_role)
        taken = f"A staff user named '{name}' already exists."
        if session.scalar(select(StaffUser.id).where(StaffUser.username_key == name.casefold())):
            raise StaffRefused(taken)
        user = StaffUser(
            username=name,
            display_name=shown,
            role=new_role.value,
            password_hash=password_hash,
            must_change_password=actor is not None,
            disabled=False,
            failed_logins=0,
            created_at=workstation.clock.now(),
        )
        session.add(user)
        try:
            session.flush()
        except IntegrityError as error:
            # Added meanwhile by a writer that does not take the staff lock: the unique
            # index, not the check above, has the last word.
            if not _username_taken(error):
                raise
            raise StaffRefused(taken) from None
        workstation.audit.record(
            session,
            "add_staff_user",
            actor=actor or Actor(user.id, user.username, user.role),
            target_type="staff",
            target_id=user.id,
            details={"username": name, "role": new_role.value, "first_user": actor is None},
        )
        return Changes(staff=frozenset({user.id}))


def sign_in(
    workstation: Workstation,
    username: str,
    password: str,
    *,
    purpose: Literal["sign_in", "unlock"] = "sign_in",
) -> SignedIn:
    """Check a staff user's password (bcrypt, before the write transaction). Raises
    ``SignInFailed`` for every kind of failure, after counting and auditing it. ``purpose``
    only names the audit event: unlocking an idle console (``staff_unlock``) counts
    failures towards the same lock-out as signing in (``staff_sign_in``)."""
    found, stored, right = _check_password(workstation, username, password)
    with writing(workstation) as session:
        user, outcome = _settle(workstation, session, found, stored, right, purpose)
        signed_in = (
            SignedIn(Actor(user.id, user.username, user.role), user.must_change_password)
            if user is not None
            else None
        )
    if outcome != "ok" or signed_in is None:
        raise SignInFailed()
    return signed_in


def change_own_password(
    workstation: Workstation, username: str, old_password: str, new_password: str
) -> SignedIn:
    """Replace a staff user's password, proving who they are with the old one (checked like
    a sign-in: failures count, lock out and are audited), for example the temporary password
    an administrator gave them. The new one must meet the staff policy and differ from the
    old. Clears the must-change flag."""
    name = username.strip()
    check_staff_password(
        new_password, username=name, min_length=workstation.rules.staff_password_length
    )
    if new_password == old_password:
        raise StaffRefused("Choose a new password that is different from the current one.")
    found, stored, right = _check_password(workstation, name, old_password)
    # Hashed only when the old password was right: a wrong guess costs no extra bcrypt work.
    new_hash = hash_password(new_password, staff_hash_cost(workstation)) if right else None
    with writing(workstation) as session:
        user, outcome = _settle(workstation, session, found, stored, right, "change_own_password")
        signed_in = None
        if user is not None and outcome == "ok" and new_hash is not None:
            user.password_hash = new_hash
            user.must_change_password = False
            signed_in = SignedIn(Actor(user.id, user.username, user.role), False)
    if signed_in is None:
        raise SignInFailed()
    return signed_in


# --- shared with staff administration ------------------------------------------------------


def staff_role(role: StaffRole | str) -> StaffRole:
    """The role named ``role``; ``StaffRefused`` listing the roles when there is none."""
    try:
        return StaffRole(role)
    except ValueError:
        known = ", ".join(r.value for r in StaffRole)
        raise StaffRefused(f"Choose a role: {known}.") from None


def staff_hash_cost(workstation: Workstation) -> int:
    """The bcrypt cost of a new staff password: at least the one the clinic set for portal
    passwords."""
    return workstation.rules.login.passwords.bcrypt_cost


# --- checking a password -----------------------------------------------------------------


def _check_password(
    workstation: Workstation, username: str, password: str
) -> tuple[int | None, str | None, bool]:
    """The user's id and stored hash as read before checking, and whether ``password``
    matches it. Runs bcrypt outside any transaction, and as long for an unknown user."""
    key = username.strip().casefold()
    row = None
    # A name no database can hold (NUL, a lone surrogate) names nobody: not looked up.
    if is_storable(key):
        with workstation.database.engine.connect() as connection:
            row = connection.execute(
                select(StaffUser.id, StaffUser.password_hash).where(StaffUser.username_key == key)
            ).first()
    stored = row.password_hash if row is not None else None
    if stored is None or not is_checkable(password, stored):
        # At the cost real staff hashes have, so an unknown name takes as long as a known one.
        spend_a_check(staff_hash_cost(workstation))
        right = False
    else:
        right = verify_password(password, stored)
    return (row.id if row is not None else None), stored, right


def _settle(
    workstation: Workstation,
    session: Session,
    user_id: int | None,
    stored: str | None,
    right: bool,
    purpose: str,
) -> tuple[StaffUser | None, str]:
    """Decide and audit a password check in the write transaction, from what the user's row
    holds now (a lock-out made meanwhile counts; a password changed meanwhile is a failure,
    since the check proved nothing about the new one)."""
    action = _CHECK_ACTIONS[purpose]
    user = lock_row(session, StaffUser, user_id) if user_id is not None else None
    if user is None:
        _record(workstation, session, None, action, "unknown_user")
        return None, "unknown_user"
    now = workstation.clock.now()
    outcome = _decide(user, right and user.password_hash == stored, now, workstation.rules.login)
    _record(workstation, session, user, action, outcome)
    return user, outcome


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
    action: str,
    outcome: str,
) -> None:
    workstation.audit.record(
        session,
        action,
        actor=Actor(user.id, user.username, user.role) if user is not None else None,
        outcome=outcome,
        target_type="staff",
        target_id=user.id if user is not None else None,
        details={"failed_logins": user.failed_logins} if user is not None else {},
    )


def _username_taken(error: IntegrityError) -> bool:
    """Whether ``error`` is another row holding the username (PostgreSQL names the unique
    index; SQLite names the column)."""
    index = getattr(getattr(error.orig, "diag", None), "constraint_name", None)
    return index == _USERNAME_INDEX or "staff_users.username_key" in str(error.orig)


def _refuse_unless_first(session: Session, role: StaffRole) -> None:
    if session.scalar(select(func.count()).select_from(StaffUser)):
        raise StaffRefused(
            "Staff users already exist: an administrator must add new ones (--staff ADMIN)."
        )
    if role is not StaffRole.ADMIN:
        raise StaffRefused("The first staff user must be an administrator (--role admin).")


__all__ = [
    "MAX_DISPLAY_NAME",
    "SIGN_IN_FAILED",
    "SignInFailed",
    "SignedIn",
    "StaffRefused",
    "add_staff_user",
    "change_own_password",
    "check_new_staff_user",
    "has_staff",
    "sign_in",
    "staff_hash_cost",
    "staff_role",
]
