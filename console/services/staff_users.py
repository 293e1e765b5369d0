"""Console users: adding and administering them, and checking who is acting (SPEC §6).

There is never a default account: the first user of an empty database is added without an
acting user and must be an administrator; after that only an administrator adds, disables,
re-enables, re-roles a user or resets their password, and never in a way that leaves the
clinic without an enabled administrator. Signing in counts failures and locks the user out
for a while, answering an unknown user, a wrong password, a disabled and a locked user alike,
and audits every attempt (the audit trail adds the workstation's name). Unlocking an idle
console and changing one's own password check the password the same way, so their failures
count towards the same lock-out.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from console.models.schema import StaffRole, StaffUser
from console.services.errors import DomainError, WeakPassword
from console.services.passwords import (
    check_staff_password,
    hash_password,
    is_checkable,
    spend_a_check,
    verify_password,
)
from console.services.permissions import Actor, NotAllowed, Permission, require
from console.services.portal_login import LoginPolicy
from console.services.workstation import Changes, Workstation, lock_row, writing

_USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
MAX_DISPLAY_NAME = 200
SIGN_IN_FAILED = "Incorrect username or password."
#: Letters and digits that cannot be mistaken for one another when read out on the phone.
_TEMPORARY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
#: The PostgreSQL advisory lock every staff administration change takes, so that two
#: administrators disabling each other at once cannot both succeed (``lock_address`` uses
#: 2026 with 0 to 1023).
_STAFF_LOCK = {"group": 2026, "lock": 2048}

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
    #: An administrator reset the password: the user must choose a new one now.
    must_change_password: bool


@dataclass(frozen=True)
class StaffMember:
    """One console user as the staff administration list shows them."""

    id: int
    username: str
    display_name: str
    role: str
    disabled: bool
    must_change_password: bool
    #: Locked out by failed sign-ins at the time of listing (a password reset clears it).
    locked: bool
    locked_until: dt.datetime | None
    last_login_at: dt.datetime | None
    created_at: dt.datetime
    #: Pass back as ``expected_version`` so that a change made meanwhile is not overwritten.
    version: int


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
    new_role = _role(role)
    shown = " ".join((display_name or name).split())
    if not shown or len(shown) > MAX_DISPLAY_NAME or "\x00" in shown:
        raise StaffRefused(f"A display name is 1 to {MAX_DISPLAY_NAME} characters.")
    check_staff_password(
        password, username=name, min_length=workstation.rules.staff_password_length
    )
    password_hash = hash_password(password, _hash_cost(workstation))
    with writing(workstation) as session:
        if actor is None:
            _refuse_unless_first(session, new_role)
        else:
            _still_admin(session, actor)
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


def list_staff(workstation: Workstation, actor: Actor) -> list[StaffMember]:
    """Every console user, disabled ones included, by username (administrators only)."""
    actor.require(Permission.MANAGE_STAFF)
    now = workstation.clock.now()
    with Session(workstation.database.engine) as session:
        users = session.scalars(select(StaffUser).order_by(StaffUser.username_key, StaffUser.id))
        return [
            StaffMember(
                id=user.id,
                username=user.username,
                display_name=user.display_name,
                role=user.role,
                disabled=user.disabled,
                must_change_password=user.must_change_password,
                locked=user.locked_until is not None and user.locked_until > now,
                locked_until=user.locked_until,
                last_login_at=user.last_login_at,
                created_at=user.created_at,
                version=user.version,
            )
            for user in users
        ]


def disable_staff(
    workstation: Workstation, actor: Actor, staff_id: int, *, expected_version: int | None = None
) -> Changes:
    """Stop a console user from signing in (the row stays: the audit log names them). An
    administrator cannot disable themself, nor the last enabled administrator."""
    with _managing(workstation, actor, staff_id, expected_version) as (session, user):
        if user.id == actor.id:
            raise StaffRefused(
                "You cannot disable your own staff account; ask another administrator."
            )
        if user.disabled:
            raise StaffRefused(f"{user.username} is already disabled.")
        _keep_an_admin(session, user)
        user.disabled = True
        _audit(workstation, session, actor, "disable_staff_user", user, {})
    return Changes(staff=frozenset({staff_id}))


def enable_staff(
    workstation: Workstation, actor: Actor, staff_id: int, *, expected_version: int | None = None
) -> Changes:
    """Let a disabled console user sign in again, with a clean slate of failed sign-ins
    (those made while disabled would otherwise lock them out at the first typo)."""
    with _managing(workstation, actor, staff_id, expected_version) as (session, user):
        if not user.disabled:
            raise StaffRefused(f"{user.username} is not disabled.")
        user.disabled = False
        user.failed_logins, user.locked_until = 0, None
        _audit(workstation, session, actor, "enable_staff_user", user, {})
    return Changes(staff=frozenset({staff_id}))


def change_role(
    workstation: Workstation,
    actor: Actor,
    staff_id: int,
    role: StaffRole | str,
    *,
    expected_version: int | None = None,
) -> Changes:
    """Give a console user another role. An administrator cannot change their own role (the
    console they are signed in to would still act with the old one), nor take the role away
    from the last enabled administrator."""
    new_role = _role(role)
    with _managing(workstation, actor, staff_id, expected_version) as (session, user):
        if user.id == actor.id:
            raise StaffRefused("You cannot change your own role; ask another administrator.")
        if user.role == new_role.value:
            raise StaffRefused(f"{user.username} already has the role {new_role.value}.")
        if new_role is not StaffRole.ADMIN:
            _keep_an_admin(session, user)
        old_role = user.role
        user.role = new_role.value
        details = {"old_role": old_role, "new_role": new_role.value}
        _audit(workstation, session, actor, "change_staff_role", user, details)
    return Changes(staff=frozenset({staff_id}))


def reset_staff_password(
    workstation: Workstation,
    actor: Actor,
    staff_id: int,
    temporary_password: str,
    *,
    expected_version: int | None = None,
) -> Changes:
    """Give a console user a temporary password (checked under the staff password policy)
    that they must replace at their next sign-in, and lift any lock-out. For their own
    password an administrator uses ``change_own_password``, which asks for the old one."""
    actor.require(Permission.MANAGE_STAFF)
    if staff_id == actor.id:
        raise StaffRefused(
            "Change your own password with 'Change my password', which asks for the current one."
        )
    with workstation.database.engine.connect() as connection:
        username = connection.scalar(select(StaffUser.username).where(StaffUser.id == staff_id))
    if username is None:
        raise StaffRefused("There is no such staff user.")
    check_staff_password(
        temporary_password,
        username=username,
        min_length=workstation.rules.staff_password_length,
    )
    # bcrypt before the write transaction: the database lock is not held for it.
    password_hash = hash_password(temporary_password, _hash_cost(workstation))
    with _managing(workstation, actor, staff_id, expected_version) as (session, user):
        user.password_hash = password_hash
        user.must_change_password = True
        user.failed_logins, user.locked_until = 0, None
        _audit(workstation, session, actor, "reset_staff_password", user, {})
    return Changes(staff=frozenset({staff_id}))


def new_temporary_password(username: str, min_length: int) -> str:
    """A random temporary password that meets the staff policy for ``username``, in groups
    of four characters that are easy to read out (to offer in the reset dialog)."""
    groups = max(4, -(-min_length // 5) + 1)
    while True:
        password = "-".join(
            "".join(secrets.choice(_TEMPORARY_ALPHABET) for _ in range(4)) for _ in range(groups)
        )
        try:
            check_staff_password(password, username=username, min_length=min_length)
        except WeakPassword:  # it happened to contain the username: draw again
            continue
        return password


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
    new_hash = hash_password(new_password, _hash_cost(workstation)) if right else None
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


def require_current(session: Session, actor: Actor, permission: Permission) -> None:
    """Refuse, in the caller's write transaction, a member of staff who was disabled or
    given another role at another workstation since signing in (their ``Actor`` still
    carries the old role). For the actions that change who may do what."""
    me = session.get(StaffUser, actor.id, populate_existing=True)
    if me is None or me.disabled:
        raise NotAllowed("Your staff account has been disabled; ask an administrator.")
    require(me.role, permission)


# --- checking a password -----------------------------------------------------------------


def _check_password(
    workstation: Workstation, username: str, password: str
) -> tuple[int | None, str | None, bool]:
    """The user's id and stored hash as read before checking, and whether ``password``
    matches it. Runs bcrypt outside any transaction, and as long for an unknown user."""
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


# --- administration ----------------------------------------------------------------------


@contextmanager
def _managing(
    workstation: Workstation, actor: Actor, staff_id: int, expected_version: int | None
) -> Iterator[tuple[Session, StaffUser]]:
    """One staff administration transaction: the acting administrator re-checked, the
    target row locked at the version the administrator saw."""
    actor.require(Permission.MANAGE_STAFF)
    with writing(workstation) as session:
        _still_admin(session, actor)
        user = lock_row(session, StaffUser, staff_id, expected_version)
        if user is None:
            raise StaffRefused("There is no such staff user.")
        yield session, user


def _still_admin(session: Session, actor: Actor) -> None:
    """Take the staff administration lock, then check that the acting administrator still
    is one."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:group, :lock)"), _STAFF_LOCK)
    require_current(session, actor, Permission.MANAGE_STAFF)


def _keep_an_admin(session: Session, user: StaffUser) -> None:
    """Refuse a change that would leave no enabled administrator."""
    if user.role != StaffRole.ADMIN.value or user.disabled:
        return
    others = session.scalar(
        select(func.count())
        .select_from(StaffUser)
        .where(
            StaffUser.role == StaffRole.ADMIN.value,
            StaffUser.disabled.is_(False),
            StaffUser.id != user.id,
        )
    )
    if not others:
        raise StaffRefused(
            f"{user.username} is the last enabled administrator; make someone else an "
            "administrator first."
        )


def _audit(
    workstation: Workstation,
    session: Session,
    actor: Actor,
    action: str,
    user: StaffUser,
    details: Mapping[str, object],
) -> None:
    workstation.audit.record(
        session,
        action,
        actor=actor,
        target_type="staff",
        target_id=user.id,
        details={"username": user.username, **details},
    )


def _role(role: StaffRole | str) -> StaffRole:
    try:
        return StaffRole(role)
    except ValueError:
        known = ", ".join(r.value for r in StaffRole)
        raise StaffRefused(f"Choose a role: {known}.") from None


def _hash_cost(workstation: Workstation) -> int:
    """Staff passwords get at least the bcrypt cost the clinic set for portal passwords."""
    return workstation.rules.login.passwords.bcrypt_cost


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
    "StaffMember",
    "StaffRefused",
    "add_staff_user",
    "change_own_password",
    "change_role",
    "disable_staff",
    "enable_staff",
    "has_staff",
    "list_staff",
    "new_temporary_password",
    "require_current",
    "reset_staff_password",
    "sign_in",
]
