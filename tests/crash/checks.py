"""What must hold in the clinic's database after any crash: each check returns the problems
it found, in words that name ids and never patient data, tokens or PINs (an empty list is
a sound database).

- ``check_database``: it opens; SQLite's integrity and foreign-key checks pass; the audit
  chain verifies under the clinic's key; and the rules that hold between rows, whatever
  work was killed: a closed account has no open access and no e-mail waiting for it but its
  "access ended" notice, a revoked one says when and left no invitation of its chart from
  before pending; a chart has at most one pending
  invitation (one valid link) and none while its own account is active; a cancelled
  invitation has no e-mail waiting; the outbox rows are whole; the shared-e-mail flags are
  what the addresses say.
- ``check_staff_actions``: every staff action in the database has its audit event and every
  audit event its change (nothing half-written either way).
- The import and the relay have their own, in their tests' modules.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, func, select

from console.models.database import Database, DatabaseUnavailable, open_database
from console.models.schema import Access, AuditEvent, Invitation, OutboxMessage, Patient
from console.models.schema import PortalAccount as Account
from console.models.states import (
    ACTIVE_STATES,
    AccessRelation,
    AccountState,
    InvitationState,
    OutboxKind,
    OutboxState,
)
from console.services.audit.key import AuditKey
from console.services.audit.verifier import verify_chain

Problems = list[str]


@contextmanager
def opened(url: str) -> Iterator[Database]:
    """The database at ``url``, opened afresh as a console starting after the crash would
    (``AssertionError`` when it cannot be)."""
    try:
        database = open_database(url, must_exist=True)
    except DatabaseUnavailable as error:
        raise AssertionError(f"the database does not open after the crash: {error}") from None
    try:
        yield database
    finally:
        database.dispose()


def check_database(database: Database, key: AuditKey) -> Problems:
    """Everything that must hold after any crash (see the module's docstring)."""
    problems: Problems = []
    with database.engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            problems += _sqlite_checks(connection)
        chain = verify_chain(connection, key)
        if not chain.ok:
            problems.append(f"the audit chain does not verify: {chain.summary()}")
        problems += _closed_accounts(connection)
        problems += _invitations(connection)
        problems += _outbox_rows(connection)
        problems += _shared_flags(connection)
    return problems


def _sqlite_checks(connection: Connection) -> Problems:
    problems: Problems = []
    integrity = connection.exec_driver_sql("PRAGMA integrity_check").scalars().all()
    if integrity != ["ok"]:
        problems.append(f"SQLite's integrity check fails: {integrity[:5]}")
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
    if broken:
        problems.append(f"rows point at rows that are not there: {broken[:5]}")
    return problems


def _closed_accounts(connection: Connection) -> Problems:
    problems: Problems = []
    closed = (AccountState.REVOKED, AccountState.DEACTIVATED)
    open_access = connection.execute(
        select(Account.id, func.count(Access.id))
        .join(Access, Access.account_id == Account.id)
        .where(Account.state.in_(closed), Access.revoked_at.is_(None))
        .group_by(Account.id)
    ).all()
    problems += [f"closed account {a} still has {n} open access row(s)" for a, n in open_access]
    undated = connection.execute(
        select(Account.id).where(
            Account.state == AccountState.REVOKED, Account.revoked_at.is_(None)
        )
    ).scalars()
    problems += [f"revoked account {a} does not say when" for a in undated]
    left_pending = connection.execute(
        select(Account.id, Invitation.id)
        .join(Invitation, Invitation.patient_id == Account.patient_id)
        .where(
            Account.state == AccountState.REVOKED,
            Invitation.state == InvitationState.PENDING,
            Invitation.created_at <= Account.revoked_at,
        )
    ).all()
    problems += [f"revoking account {a} left invitation {i} pending" for a, i in left_pending]
    waiting = connection.execute(
        select(OutboxMessage.id, OutboxMessage.account_id)
        .join(Account, Account.id == OutboxMessage.account_id)
        .where(
            Account.state.in_(closed),
            OutboxMessage.state == OutboxState.QUEUED,
            OutboxMessage.kind != OutboxKind.ACCESS_REVOKED,
        )
    ).all()
    problems += [f"e-mail {m} still waits to go to closed account {a}" for m, a in waiting]
    return problems


def _invitations(connection: Connection) -> Problems:
    problems: Problems = []
    pending = connection.execute(
        select(Invitation.patient_id, func.count())
        .where(Invitation.state == InvitationState.PENDING)
        .group_by(Invitation.patient_id)
        .having(func.count() > 1)
    ).all()
    problems += [f"chart {p} has {n} pending invitations (valid links)" for p, n in pending]
    beside_active = connection.execute(
        select(Invitation.id)
        .join(Account, Account.patient_id == Invitation.patient_id)
        .where(Invitation.state == InvitationState.PENDING, Account.state.in_(ACTIVE_STATES))
    ).scalars()
    problems += [f"invitation {i} is pending beside an active account" for i in beside_active]
    undated = connection.execute(
        select(Invitation.id).where(
            Invitation.state == InvitationState.CANCELLED, Invitation.cancelled_at.is_(None)
        )
    ).scalars()
    problems += [f"cancelled invitation {i} does not say when" for i in undated]
    waiting = connection.execute(
        select(OutboxMessage.id, Invitation.id)
        .join(Invitation, Invitation.id == OutboxMessage.invitation_id)
        .where(
            Invitation.state != InvitationState.PENDING,
            OutboxMessage.state == OutboxState.QUEUED,
        )
    ).all()
    problems += [f"e-mail {m} still waits for closed invitation {i}" for m, i in waiting]
    return problems


def _outbox_rows(connection: Connection) -> Problems:
    problems: Problems = []
    for row in connection.execute(select(OutboxMessage)).all():
        message = row._mapping
        name = f"e-mail {message['id']}"
        state = message["state"]
        if (state == OutboxState.SENT) != (message["sent_at"] is not None):
            problems.append(f"{name} is {state} with sent_at {message['sent_at']}")
        if state == OutboxState.SENT and (
            message["attempts"] < 1 or message["claimed_until"] is not None
        ):
            problems.append(f"{name} is sent but still claimed, or never tried")
        wanted = "invitation_id" if message["kind"] == OutboxKind.INVITATION else "account_id"
        if message[wanted] is None:
            problems.append(f"{name} ({message['kind']}) has no {wanted}")
    return problems


def _shared_flags(connection: Connection) -> Problems:
    accounts = connection.execute(
        select(Account.id, Account.email_key, Account.state, Account.shared_email)
    ).all()
    holders = Counter(key for _, key, state, _ in accounts if key and state in ACTIVE_STATES)
    return [
        f"account {account} is {'flagged' if flagged else 'not flagged'} as sharing its address"
        for account, key, state, flagged in accounts
        if bool(flagged) != (state in ACTIVE_STATES and key is not None and holders[key] > 1)
    ]


# --- staff actions and their audit events ---------------------------------------------------


def audit_events(connection: Connection, action: str) -> list[tuple[str | None, dict[str, Any]]]:
    """Every ``action`` event: its target id and its details."""
    rows = connection.execute(
        select(AuditEvent.target_id, AuditEvent.details)
        .where(AuditEvent.action == action)
        .order_by(AuditEvent.seq)
    )
    return [(target, json.loads(details)) for target, details in rows]


def check_staff_actions(database: Database) -> Problems:
    """Each change the front desk's actions make is in the database exactly when its audit
    event is: revocations, invitations issued and cancelled, family links, contact edits,
    reset e-mails and "access ended" notices (on a database whose accounts were all
    ``legacy``, with no invitation, link or edit, before the actions began)."""
    with database.engine.connect() as connection:
        return list(_staff_actions(connection))


def _staff_actions(connection: Connection) -> Iterator[str]:
    revokes = audit_events(connection, "revoke_access")
    revoked = _ids(connection, select(Account.id).where(Account.state == AccountState.REVOKED))
    yield from _same("revoked accounts", revoked, [int(t or 0) for t, _ in revokes])
    notices = [int(t or 0) for t, d in revokes if d["notice_queued"]]
    noticed = _ids(
        connection,
        select(OutboxMessage.account_id).where(OutboxMessage.kind == OutboxKind.ACCESS_REVOKED),
    )
    yield from _same('"access ended" notices', noticed, notices)

    issues = audit_events(connection, "reissue_invitation")
    invitations = _ids(connection, select(Invitation.id))
    yield from _same("invitations", invitations, [d["invitation"] for _, d in issues])
    carried = dict(
        connection.execute(
            select(OutboxMessage.id, OutboxMessage.invitation_id).where(
                OutboxMessage.kind == OutboxKind.INVITATION
            )
        ).all()
    )
    yield from _same("invitation e-mails", list(carried), [d["outbox_message"] for _, d in issues])
    for _, details in issues:
        if carried.get(details["outbox_message"]) != details["invitation"]:
            yield f"invitation {details['invitation']}'s e-mail is not the one its event names"
    cancels = [int(t or 0) for t, _ in audit_events(connection, "cancel_invitation")]
    cancels += [i for _, d in revokes + issues for i in d["invitations_cancelled"]]
    cancelled = _ids(
        connection, select(Invitation.id).where(Invitation.state == InvitationState.CANCELLED)
    )
    yield from _same("cancelled invitations", cancelled, cancels)

    links = [d["access"] for _, d in audit_events(connection, "link_chart")]
    linked = _ids(connection, select(Access.id).where(Access.relation != AccessRelation.SELF))
    yield from _same("family links", linked, links)

    edits = len(audit_events(connection, "edit_contact"))
    changed = connection.scalar(select(func.coalesce(func.sum(Patient.version - 1), 0)))
    if edits != changed:
        yield f"{edits} contact edits were audited but charts were changed {changed} times"

    resets = [d["outbox_message"] for _, d in audit_events(connection, "resend_reset")]
    queued = _ids(
        connection,
        select(OutboxMessage.id).where(OutboxMessage.kind == OutboxKind.PASSWORD_RESET),
    )
    yield from _same("reset e-mails", queued, resets)


def _ids(connection: Connection, query: Any) -> list[int]:
    return [int(value) for value in connection.execute(query).scalars()]


def _same(what: str, in_rows: Iterable[int], in_audit: Iterable[int]) -> Iterator[str]:
    """Problems unless the rows and the audit events name the same ids, each once."""
    rows, audit = Counter(in_rows), Counter(in_audit)
    if rows == audit:
        return
    only_rows = sorted((rows - audit).elements())
    only_audit = sorted((audit - rows).elements())
    yield (
        f"{what}: in the tables without their audit event {only_rows[:10]}, audited but "
        f"not in the tables (or twice) {only_audit[:10]}"
    )


__all__ = ["Problems", "audit_events", "check_database", "check_staff_actions", "opened"]
