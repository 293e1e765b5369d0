"""What every staff action needs to know about where it runs, and what it tells views back.

A ``Workstation`` is built once by the composition root (``app.py`` or ``cli.py``): the
database it points at, its clock, its audit trail (which carries the workstation's name) and
the clinic's rules. Service functions take it as their first argument, then the acting staff
user, so none of them reaches for a global.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from console.models.database import Database
from console.models.schema import PortalAccount, StaffUser
from console.models.states import ACTIVE_STATES
from console.services.accounts.patient_view import DEFAULT_PORTAL_NAME
from console.services.accounts.portal_login import DEFAULT_LOGIN_POLICY, LoginPolicy
from console.services.audit.trail import AuditTrail
from console.services.clock import Clock
from console.services.errors import InvalidSetting, StaleRecord, changed_elsewhere
from console.services.permissions import Actor, NotAllowed, Permission, require

_Row = TypeVar("_Row")

DEFAULT_INVITATION_DAYS = 7
MAX_INVITATION_DAYS = 90
DEFAULT_STAFF_PASSWORD_LENGTH = 12


@dataclass(frozen=True)
class ClinicRules:
    """The settings the rules depend on (an admin changes them in the settings dialog)."""

    portal_name: str = DEFAULT_PORTAL_NAME
    login: LoginPolicy = DEFAULT_LOGIN_POLICY
    invitation_days: int = DEFAULT_INVITATION_DAYS
    staff_password_length: int = DEFAULT_STAFF_PASSWORD_LENGTH

    def __post_init__(self) -> None:
        if not 1 <= self.invitation_days <= MAX_INVITATION_DAYS:
            raise InvalidSetting(f"Invitations must be valid for 1 to {MAX_INVITATION_DAYS} days.")
        if not DEFAULT_STAFF_PASSWORD_LENGTH <= self.staff_password_length <= 64:
            raise InvalidSetting(
                f"Staff passwords need at least {DEFAULT_STAFF_PASSWORD_LENGTH} characters; "
                "the minimum can be raised up to 64."
            )


@dataclass(frozen=True)
class Workstation:
    """One console's view of the clinic: database, clock, audit trail and rules."""

    database: Database
    audit: AuditTrail
    clock: Clock
    rules: ClinicRules = field(default_factory=ClinicRules)


@dataclass(frozen=True)
class Changes:
    """What an action changed, so that each open view refreshes only that."""

    accounts: frozenset[int] = frozenset()
    patients: frozenset[int] = frozenset()
    invitations: frozenset[int] = frozenset()
    staff: frozenset[int] = frozenset()
    #: Comparison keys of the login e-mails whose shared-e-mail cluster changed.
    email_keys: frozenset[str] = frozenset()
    #: Accounts whose shared-e-mail flag the action cleared: they can sign in again.
    unblocked: frozenset[int] = frozenset()
    #: Outbox e-mails the action queued, queued again or cancelled (the Outbox page reads
    #: again only when there are some).
    outbox: frozenset[int] = frozenset()
    #: Of ``outbox``, the e-mails now waiting to be sent (the mail relay wakes for them).
    mail_queued: frozenset[int] = frozenset()
    #: Records changed by the thousand (an import): every list and count reads again.
    bulk: bool = False


@contextmanager
def writing(
    workstation: Workstation, actor: Actor | None = None, permission: Permission | None = None
) -> Iterator[Session]:
    """One write transaction: committed when the block ends, rolled back (nothing written,
    audit event included) on any error. A row changed by another workstation meanwhile
    becomes ``StaleRecord``. With ``actor`` and ``permission``, the staff user is read again
    inside the transaction: someone disabled or given a lesser role since signing in may no
    longer act."""
    with Session(workstation.database.writer) as session, changed_elsewhere(), session.begin():
        if permission is Permission.MANAGE_STAFF:
            # Before reading the acting user: two administrators changing each other wait
            # for one another here instead of deadlocking on each other's rows.
            lock_staff_changes(session)
        if actor is not None and permission is not None:
            still_allowed(session, actor, permission)
        yield session


def lock_staff_changes(session: Session) -> None:
    """Hold, until the transaction ends, the lock every change to who may do what takes
    (PostgreSQL; SQLite's writer already holds the whole database)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(2026, 2048)"))


def still_allowed(session: Session, actor: Actor, permission: Permission) -> None:
    """Refuse (``NotAllowed``) a staff user who was disabled, renamed or given a role
    without ``permission`` since signing in, reading their row in ``session``."""
    # FOR SHARE: an administrator disabling this user waits for the action to finish.
    user = session.get(StaffUser, actor.id, with_for_update={"read": True})
    if user is None or user.disabled or user.username_key != actor.username.casefold():
        raise NotAllowed(
            "Your staff account has been disabled or changed; sign in again or ask an "
            "administrator."
        )
    require(user.role, permission)


def lock_row(
    session: Session, model: type[_Row], row_id: int, expected_version: int | None = None
) -> _Row | None:
    """The row, locked for this transaction (PostgreSQL ``FOR UPDATE``; SQLite's writer
    already holds the database lock). ``StaleRecord`` when the caller saw another version."""
    row = session.get(model, row_id, with_for_update=True, populate_existing=True)
    stale = row is not None and getattr(row, "version", None) != expected_version
    if expected_version is not None and stale:
        raise StaleRecord()
    return row


def lock_address(session: Session, key: str) -> None:
    """Hold, until the transaction ends, the lock that changes to address ``key`` take
    (PostgreSQL: the shared-e-mail triggers' advisory lock on the address's bucket), so that
    two workstations cannot both find an address free and both hand it out. SQLite's writer
    already holds the whole database."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(2026, hashtext(:key) & 1023)"), {"key": key}
        )


def active_sharers(session: Session, keys: Iterable[str | None]) -> dict[str, set[int]]:
    """The active accounts holding each of ``keys`` as their login e-mail's comparison key."""
    wanted = {key for key in keys if key}
    if not wanted:
        return {}
    found: dict[str, set[int]] = {key: set() for key in wanted}
    rows = session.execute(
        select(PortalAccount.email_key, PortalAccount.id).where(
            PortalAccount.email_key.in_(wanted), PortalAccount.state.in_(ACTIVE_STATES)
        )
    )
    for key, account_id in rows:
        found[str(key)].add(account_id)
    return found


def unblocked_by(before: dict[str, set[int]], after: dict[str, set[int]]) -> frozenset[int]:
    """Accounts that shared their address before and no longer do."""
    return frozenset(
        account
        for key, holders in before.items()
        if len(holders) > 1
        for account in after.get(key, set())
        if len(after[key]) == 1
    )


__all__ = [
    "DEFAULT_INVITATION_DAYS",
    "Changes",
    "ClinicRules",
    "Workstation",
    "active_sharers",
    "lock_address",
    "lock_row",
    "lock_staff_changes",
    "still_allowed",
    "unblocked_by",
    "writing",
]
