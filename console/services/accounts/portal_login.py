"""The portal login of SPEC §4. Its answer for the right password comes from the same
decision as the console's "what the patient sees" (``patient_view.situation_at``).

A login happens in three steps, so that the SQLite write lock is never held during bcrypt
(a quarter of a second per check):

1. read the accounts the login names (by username or by the comparison key of the e-mail);
2. check the password against them, outside any transaction;
3. in one write transaction, lock and re-read those rows and decide from what they hold
   *now*: a failure counted or a lock-out made meanwhile is respected, and only if the
   password hash itself changed (so step 2 proved nothing) is the login refused as
   ``StaleRecord``.

Unknown logins, wrong passwords, deactivated and locked accounts all get one message and the
same bcrypt work (unknown logins are checked against a dummy hash). Nothing here logs a
login, a password, an address or a name: only account ids and outcomes.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import case, or_, select
from sqlalchemy.orm import Session

from console.models.database import Database
from console.models.email_key import email_key
from console.models.schema import EMAIL_LENGTH, OutboxMessage, PortalAccount
from console.models.states import ACTIVE_STATES, AccountState, OutboxKind
from console.services.accounts.patient_view import (
    DEFAULT_PORTAL_NAME,
    LoginSituation,
    patient_message,
    reset_address,
    situation_at,
)
from console.services.clock import Clock
from console.services.errors import InvalidSetting, StaleRecord, changed_elsewhere, is_storable
from console.services.mail.outbox import queue_email
from console.services.passwords import (
    DEFAULT_POLICY,
    PasswordPolicy,
    hash_password,
    is_checkable,
    needs_rehash,
    spend_a_check,
    verify_password,
)

_log = logging.getLogger(__name__)

#: An address held by a few accounts is checked against each of them; a placeholder shared
#: by thousands is not worth thousands of bcrypt checks (all of those are flagged shared
#: and could not sign in anyway).
MAX_CANDIDATES = 4


@dataclass(frozen=True)
class LoginPolicy:
    """How the portal treats failed logins and reset e-mails; an admin setting."""

    max_failures: int = 5
    lockout_minutes: int = 15
    #: At most one reset e-mail per account in this many minutes.
    reset_email_minutes: int = 15
    passwords: PasswordPolicy = DEFAULT_POLICY

    def __post_init__(self) -> None:
        problems = []
        if not 1 <= self.max_failures <= 100:
            problems.append("the number of failures before a lock-out must be 1 to 100")
        if not 1 <= self.lockout_minutes <= 24 * 60:
            problems.append("a lock-out must last 1 minute to 24 hours")
        if not 0 <= self.reset_email_minutes <= 24 * 60:
            problems.append("the time between reset e-mails must be 0 minutes to 24 hours")
        if problems:
            raise InvalidSetting("Login policy: " + "; ".join(problems) + ".")

    @property
    def lockout(self) -> dt.timedelta:
        """How long a lock-out lasts."""
        return dt.timedelta(minutes=self.lockout_minutes)

    @property
    def reset_email_interval(self) -> dt.timedelta:
        """The least time between two reset e-mails to one account."""
        return dt.timedelta(minutes=self.reset_email_minutes)


DEFAULT_LOGIN_POLICY = LoginPolicy()


@dataclass(frozen=True)
class LoginOutcome:
    """The answer to one portal login, and what it changed (for views to refresh and for
    the audit log). ``situation`` and ``account_id`` are never to be shown to the patient."""

    situation: LoginSituation
    message: str
    signed_in: bool
    #: The account answered for; None for an unknown login, or when a shared address
    #: matched several accounts and the password none of them.
    account_id: int | None
    changed_accounts: frozenset[int] = field(default_factory=frozenset)
    #: The outbox row of a reset e-mail queued by this login.
    queued_email_id: int | None = None
    rehashed: bool = False


#: Called inside a login's write transaction with its outcome, e.g. to append the audit
#: event in the same transaction (if it raises, nothing of the login is written).
OutcomeRecorder = Callable[[Session, LoginOutcome], None]


def portal_login(
    database: Database,
    login: str,
    password: str,
    *,
    clock: Clock,
    policy: LoginPolicy = DEFAULT_LOGIN_POLICY,
    portal_name: str = DEFAULT_PORTAL_NAME,
    on_outcome: OutcomeRecorder | None = None,
) -> LoginOutcome:
    """A patient logs in with ``login`` (the login e-mail or the username) and ``password``:
    the answer and effects of SPEC §4, in one transaction.

    Never raises for anything a patient can type. Raises ``StaleRecord`` when an account's
    password changed while this login was checking it (nothing is written then).
    """
    candidates = _candidates(database, login)
    cost = policy.passwords.bcrypt_cost
    matched = _first_match(candidates, password, cost)
    now = clock.now()
    new_hash = None
    if (
        matched is not None
        and situation_at(matched, now) is LoginSituation.SIGNED_IN
        and needs_rehash(matched.password_hash, cost)
    ):
        new_hash = hash_password(password, cost)  # slow: before the write lock is taken
    involved = [matched] if matched is not None else candidates
    if not involved and on_outcome is None:
        return _logged(_outcome(LoginSituation.UNKNOWN_LOGIN, None, portal_name))
    with Session(database.writer) as session, changed_elsewhere(), session.begin():
        accounts = _lock_again(session, involved)
        if matched is not None:
            pending = _answer_right_password(session, accounts[0], now, policy, new_hash)
        elif accounts:
            pending = _answer_wrong_password(accounts, now, policy)
        else:
            pending = _Pending(LoginSituation.UNKNOWN_LOGIN, None)
        changed = frozenset(a.id for a in accounts if session.is_modified(a))
        session.flush()
        outcome = _outcome(
            pending.situation,
            pending.account_id,
            portal_name,
            changed_accounts=changed,
            queued_email_id=pending.queued.id if pending.queued is not None else None,
            rehashed=pending.rehashed,
        )
        if on_outcome is not None:
            on_outcome(session, outcome)
    return _logged(outcome)


def queue_password_reset(
    session: Session, account: PortalAccount, *, now: dt.datetime, min_interval: dt.timedelta
) -> OutboxMessage | None:
    """Queue a reset e-mail to the account's login e-mail in the session's transaction,
    unless one was queued less than ``min_interval`` ago or the account has no usable
    address (then None). Does not change the account's state."""
    address = reset_address(account)
    if address is None:
        return None
    recent = session.scalar(
        select(OutboxMessage.id)
        .where(
            OutboxMessage.account_id == account.id,
            OutboxMessage.kind == OutboxKind.PASSWORD_RESET,
            OutboxMessage.created_at > now - min_interval,
        )
        .limit(1)
    )
    if recent is not None:
        return None
    return queue_email(session, OutboxKind.PASSWORD_RESET, address, now=now, account_id=account.id)


# --- The decision ---------------------------------------------------------------------------


def _answer_right_password(
    session: Session,
    account: PortalAccount,
    now: dt.datetime,
    policy: LoginPolicy,
    new_hash: str | None,
) -> _Pending:
    situation = situation_at(account, now)
    if situation in (LoginSituation.LOCKED, LoginSituation.DEACTIVATED):
        _count_failure(account, now, policy)
    elif situation is LoginSituation.SIGNED_IN:
        account.failed_logins = 0
        account.locked_until = None
        account.last_login_at = now
        if new_hash is not None:
            account.password_hash = new_hash
        return _Pending(situation, account.id, rehashed=new_hash is not None)
    elif situation is LoginSituation.RESET_SENT:
        message = queue_password_reset(
            session, account, now=now, min_interval=policy.reset_email_interval
        )
        account.state = AccountState.RESET_PENDING.value
        if message is None:
            return _Pending(LoginSituation.RESET_RECENTLY_SENT, account.id)
        return _Pending(situation, account.id, queued=message)
    return _Pending(situation, account.id)


def _answer_wrong_password(
    accounts: list[PortalAccount], now: dt.datetime, policy: LoginPolicy
) -> _Pending:
    """Count the failure on every account the login named (several when it is a shared
    address and the password is nobody's)."""
    situations = [_count_failure(account, now, policy) for account in accounts]
    account_id = accounts[0].id if len(accounts) == 1 else None
    for worst in (LoginSituation.LOCKED_OUT, LoginSituation.LOCKED):
        if worst in situations:
            return _Pending(worst, account_id)
    return _Pending(LoginSituation.WRONG_PASSWORD, account_id)


def _count_failure(account: PortalAccount, now: dt.datetime, policy: LoginPolicy) -> LoginSituation:
    if account.locked_until is not None and account.locked_until <= now:
        # The lock ran out: the patient gets a fresh set of tries.
        account.locked_until = None
        account.failed_logins = 0
    account.failed_logins += 1
    if account.locked_until is not None:  # a failure while locked does not extend the lock
        return LoginSituation.LOCKED
    if account.failed_logins >= policy.max_failures:
        account.locked_until = now + policy.lockout
        return LoginSituation.LOCKED_OUT
    return LoginSituation.WRONG_PASSWORD


# --- Reading, checking, writing ---------------------------------------------------------------


@dataclass(frozen=True)
class _Candidate:
    """An account as read before the password check (see the module's docstring)."""

    id: int
    state: str
    shared_email: bool
    locked_until: dt.datetime | None
    login_email: str | None
    password_hash: str | None


def _candidates(database: Database, login: str) -> list[_Candidate]:
    """The accounts ``login`` names: the one whose username it is, and those whose login
    e-mail has its comparison key. Active accounts first, then revoked, then the rest."""
    text = login.strip()
    if not text or len(text) > EMAIL_LENGTH or not is_storable(text):
        return []
    named = PortalAccount.username_key == text.casefold()
    key = email_key(text)
    if key is not None:
        named = or_(named, PortalAccount.email_key == key)
    rank = case(
        (PortalAccount.state.in_(ACTIVE_STATES), 0),
        (PortalAccount.state == AccountState.REVOKED, 1),
        else_=2,
    )
    query = (
        select(
            PortalAccount.id,
            PortalAccount.state,
            PortalAccount.shared_email,
            PortalAccount.locked_until,
            PortalAccount.login_email,
            PortalAccount.password_hash,
        )
        .where(named)
        .order_by(rank, PortalAccount.id)
        .limit(MAX_CANDIDATES)
    )
    with database.engine.connect() as connection:
        return [_Candidate(*row) for row in connection.execute(query)]


def _first_match(candidates: list[_Candidate], password: str, cost: int) -> _Candidate | None:
    """The first candidate whose password this is, doing one bcrypt check per candidate
    (and one against the dummy hash when there is none, or when a check cannot run)."""
    if not candidates:
        spend_a_check(cost)
        return None
    for candidate in candidates:
        if not is_checkable(password, candidate.password_hash):
            spend_a_check(cost)
        elif verify_password(password, candidate.password_hash):
            return candidate
    return None


def _lock_again(session: Session, involved: list[_Candidate]) -> list[PortalAccount]:
    """The involved accounts, re-read under a row lock (in id order, so two logins cannot
    deadlock). Refused if one vanished or its password changed since it was checked."""
    if not involved:
        return []
    ids = [candidate.id for candidate in involved]
    rows = session.scalars(
        select(PortalAccount)
        .where(PortalAccount.id.in_(ids))
        .order_by(PortalAccount.id)
        .with_for_update()
    ).all()
    by_id = {row.id: row for row in rows}
    for candidate in involved:
        row = by_id.get(candidate.id)
        # A new version alone (a failure counted, a state changed) is answered from the
        # fresh row; a new password means the check above proved nothing.
        if row is None or row.password_hash != candidate.password_hash:
            raise StaleRecord()
    return [by_id[candidate.id] for candidate in involved]


@dataclass(frozen=True)
class _Pending:
    """An answer decided inside the transaction, before its rows have ids."""

    situation: LoginSituation
    account_id: int | None
    queued: OutboxMessage | None = None
    rehashed: bool = False


def _outcome(
    situation: LoginSituation,
    account_id: int | None,
    portal_name: str = DEFAULT_PORTAL_NAME,
    *,
    changed_accounts: frozenset[int] = frozenset(),
    queued_email_id: int | None = None,
    rehashed: bool = False,
) -> LoginOutcome:
    return LoginOutcome(
        situation,
        patient_message(situation, portal_name),
        situation is LoginSituation.SIGNED_IN,
        account_id,
        changed_accounts,
        queued_email_id,
        rehashed,
    )


def _logged(outcome: LoginOutcome) -> LoginOutcome:
    _log.info("portal login: %s (account %s)", outcome.situation.value, outcome.account_id)
    return outcome


__all__ = [
    "DEFAULT_LOGIN_POLICY",
    "MAX_CANDIDATES",
    "LoginOutcome",
    "LoginPolicy",
    "OutcomeRecorder",
    "portal_login",
    "queue_password_reset",
]
