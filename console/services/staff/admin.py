"""Staff administration (SPEC §6): listing console users, disabling and re-enabling them,
giving them another role and resetting their password.

Only an administrator does these, and never in a way that leaves the clinic without an
enabled administrator. Each change re-reads the acting administrator inside its transaction
(someone disabled or demoted at another workstation meanwhile may no longer act), takes the
staff lock so that two administrators changing each other at once cannot both succeed, and
locks the changed row at the version the administrator saw.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from console.models.schema import StaffUser
from console.models.staff_list import StaffMember, read_staff
from console.models.states import StaffRole
from console.services.errors import WeakPassword
from console.services.passwords import check_staff_password, hash_password
from console.services.permissions import Actor, Permission
from console.services.staff.users import (
    StaffRefused,
    staff_hash_cost,
    staff_role,
)
from console.services.workstation import Changes, Workstation, lock_row, still_allowed, writing

#: Letters and digits that cannot be mistaken for one another when read out on the phone.
_TEMPORARY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def list_staff(workstation: Workstation, actor: Actor) -> list[StaffMember]:
    """Every console user, disabled ones included, by username (administrators only)."""
    actor.require(Permission.MANAGE_STAFF)
    with Session(workstation.database.engine) as session:
        still_allowed(session, actor, Permission.MANAGE_STAFF)  # not disabled or demoted since
        return read_staff(session, now=workstation.clock.now())


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
    new_role = staff_role(role)
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
    password_hash = hash_password(temporary_password, staff_hash_cost(workstation))
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


# --- the transaction each change runs in ---------------------------------------------------


@contextmanager
def _managing(
    workstation: Workstation, actor: Actor, staff_id: int, expected_version: int | None
) -> Iterator[tuple[Session, StaffUser]]:
    """One staff administration transaction: the acting administrator re-checked, the
    target row locked at the version the administrator saw."""
    actor.require(Permission.MANAGE_STAFF)
    with writing(workstation, actor, Permission.MANAGE_STAFF) as session:
        user = lock_row(session, StaffUser, staff_id, expected_version)
        if user is None:
            raise StaffRefused("There is no such staff user.")
        yield session, user


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


__all__ = [
    "change_role",
    "disable_staff",
    "enable_staff",
    "list_staff",
    "new_temporary_password",
    "reset_staff_password",
]
