"""The portal login (SPEC §4): every row of the table with its exact message and effect,
lock-outs and reset e-mails on an injectable clock, shared addresses, rehashing, timing, and
races with other writers.

Real bcrypt throughout. Where the cost is not what is tested, accounts carry cost-4 hashes
(checked in about a millisecond; an account that signs in with one is rehashed at cost 12,
as in production); the cost-12 hash is made once for the module."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterator
from typing import Any

import bcrypt
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from console.models.database import Database, open_database, resolve_database_url
from console.models.schema import OutboxMessage, PortalAccount
from console.models.states import AccountState
from console.services import passwords
from console.services.accounts import portal_login as login_module
from console.services.accounts.patient_view import (
    ASK_FOR_ACCESS,
    ASK_FOR_NEW_ACCOUNT,
    INCORRECT,
    RESET_EMAIL_SENT,
    SIGNED_IN,
    LoginSituation,
    what_patient_sees,
)
from console.services.accounts.portal_login import LoginOutcome, LoginPolicy, portal_login
from console.services.clock import ManualClock
from console.services.errors import InvalidSetting, StaleRecord, changed_elsewhere
from console.services.passwords import hash_cost, hash_password, verify_password
from tests.factories import add_account, add_patient

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
PASSWORD = "Harbour-Lights-42"
OTHER_PASSWORD = "Quiet-River-77"
#: SPEC §4's messages, written out here rather than imported, so that the test checks them.
SPEC_INCORRECT = "Incorrect email or password"
SPEC_NEW_ACCOUNT = (
    "Please ask your healthcare provider to create a new Patient Portal account for you"
)
SPEC_RESET = (
    "A password reset email has been sent to the email address linked to your Patient Portal "
    "account"
)
SPEC_ACCESS = "Please ask your healthcare provider to provide access to your health records"


@pytest.fixture(scope="module")
def policy_hash() -> str:
    """PASSWORD at the policy's cost, made once for the module."""
    return hash_password(PASSWORD)


@pytest.fixture(scope="module")
def stored_hash() -> str:
    """PASSWORD at bcrypt's least cost."""
    return bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()


@pytest.fixture(scope="module")
def other_hash() -> str:
    return bcrypt.hashpw(OTHER_PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


def add(database: Database, login_email: str | None, state: AccountState, **fields: Any) -> int:
    with Session(database.writer) as session, session.begin():
        return add_account(session, login_email, state, **fields).id


def read(database: Database, account_id: int) -> PortalAccount:
    with Session(database.engine, expire_on_commit=False) as session:
        account = session.get(PortalAccount, account_id)
        assert account is not None
        session.expunge(account)
        return account


def queued(database: Database) -> list[OutboxMessage]:
    with Session(database.engine, expire_on_commit=False) as session:
        messages = list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        session.expunge_all()
        return messages


def log_in(
    database: Database, login: str, password: str, clock: ManualClock, **options: Any
) -> LoginOutcome:
    return portal_login(database, login, password, clock=clock, **options)


# --- SPEC §4, row by row ----------------------------------------------------------------------


def test_the_messages_are_spec_4s() -> None:
    assert (INCORRECT, ASK_FOR_ACCESS) == (SPEC_INCORRECT, SPEC_ACCESS)
    assert ASK_FOR_NEW_ACCOUNT.format(portal="Patient Portal") == SPEC_NEW_ACCOUNT
    assert RESET_EMAIL_SENT.format(portal="Patient Portal") == SPEC_RESET


def test_unknown_login(database: Database, clock: ManualClock) -> None:
    outcome = log_in(database, "nobody@example.org", PASSWORD, clock)
    assert outcome == LoginOutcome(
        LoginSituation.UNKNOWN_LOGIN, SPEC_INCORRECT, signed_in=False, account_id=None
    )


def test_wrong_password_is_counted(
    database: Database, clock: ManualClock, stored_hash: str
) -> None:
    account_id = add(database, "jane@example.org", AccountState.MIGRATED, password_hash=stored_hash)
    outcome = log_in(database, "jane@example.org", "Harbour-Lights-43", clock)
    assert (outcome.message, outcome.situation, outcome.signed_in) == (
        SPEC_INCORRECT,
        LoginSituation.WRONG_PASSWORD,
        False,
    )
    assert outcome.changed_accounts == {account_id}
    assert read(database, account_id).failed_logins == 1


def test_deactivated_with_the_right_password(
    database: Database, clock: ManualClock, stored_hash: str
) -> None:
    account_id = add(
        database, "jane@example.org", AccountState.DEACTIVATED, password_hash=stored_hash
    )
    outcome = log_in(database, "jane@example.org", PASSWORD, clock)
    assert (outcome.message, outcome.situation) == (SPEC_INCORRECT, LoginSituation.DEACTIVATED)
    assert read(database, account_id).failed_logins == 1


def test_locked_with_the_right_password(
    database: Database, clock: ManualClock, stored_hash: str
) -> None:
    until = NOW + dt.timedelta(minutes=3)
    account_id = add(
        database,
        "jane@example.org",
        AccountState.MIGRATED,
        password_hash=stored_hash,
        failed_logins=5,
        locked_until=until,
    )
    outcome = log_in(database, "jane@example.org", PASSWORD, clock)
    assert (outcome.message, outcome.situation, outcome.signed_in) == (
        SPEC_INCORRECT,
        LoginSituation.LOCKED,
        False,
    )
    after = read(database, account_id)
    assert (after.failed_logins, after.locked_until, after.last_login_at) == (6, until, None)


def test_shared_email_with_the_right_password_changes_nothing(
    database: Database, clock: ManualClock, stored_hash: str
) -> None:
    ours = add(database, "family@example.org", AccountState.LEGACY, password_hash=stored_hash)
    add(database, "Family@Example.org", AccountState.MIGRATED, password_hash="$2b$12$" + "x" * 53)
    before = read(database, ours)
    assert before.shared_email
    outcome = log_in(database, "family@example.org", PASSWORD, clock)
    assert (outcome.message, outcome.situation, outcome.account_id) == (
        SPEC_NEW_ACCOUNT,
        LoginSituation.SHARED_EMAIL,
        ours,
    )
    assert outcome.changed_accounts == set()
    after = read(database, ours)
    assert (after.state, after.version, after.failed_logins) == ("legacy", before.version, 0)
    assert queued(database) == []


@pytest.mark.parametrize("state", [AccountState.LEGACY, AccountState.RESET_PENDING])
def test_legacy_and_reset_pending_get_a_reset_email(
    database: Database, clock: ManualClock, stored_hash: str, state: AccountState
) -> None:
    account_id = add(database, "Jane.Doe@Example.ORG", state, password_hash=stored_hash)
    outcome = log_in(database, "jane.doe@example.org", PASSWORD, clock)
    assert (outcome.message, outcome.situation, outcome.signed_in) == (
        SPEC_RESET,
        LoginSituation.RESET_SENT,
        False,
    )
    [message] = queued(database)
    assert outcome.queued_email_id == message.id
    assert (message.kind, message.state, message.to_email, message.account_id) == (
        "password_reset",
        "queued",
        "Jane.Doe@example.org",
        account_id,
    )
    assert (message.created_at, message.next_attempt_at) == (NOW, NOW)
    assert message.message_id.startswith("<") and message.message_id.endswith("@portal-console>")
    after = read(database, account_id)
    assert after.state == "reset_pending"
    assert after.password_hash == stored_hash  # the old password is replaced only by the reset


def test_revoked_with_the_right_password_changes_nothing(
    database: Database, clock: ManualClock, stored_hash: str
) -> None:
    account_id = add(database, "jane@example.org", AccountState.REVOKED, password_hash=stored_hash)
    version = read(database, account_id).version
    outcome = log_in(database, "jane@example.org", PASSWORD, clock)
    assert (outcome.message, outcome.situation, outcome.changed_accounts) == (
        SPEC_ACCESS,
        LoginSituation.REVOKED,
        frozenset(),
    )
    assert read(database, account_id).version == version


def test_migrated_signs_in_and_resets_the_failures(
    database: Database, clock: ManualClock, policy_hash: str
) -> None:
    account_id = add(
        database,
        "jane@example.org",
        AccountState.MIGRATED,
        password_hash=policy_hash,
        failed_logins=3,
    )
    outcome = log_in(database, "jane@example.org", PASSWORD, clock)
    assert outcome == LoginOutcome(
        LoginSituation.SIGNED_IN,
        SIGNED_IN,
        signed_in=True,
        account_id=account_id,
        changed_accounts=frozenset({account_id}),
    )
    after = read(database, account_id)
    assert (after.failed_logins, after.locked_until, after.last_login_at) == (0, None, NOW)
    assert after.password_hash == policy_hash  # already at the policy's cost


def test_the_portal_name_is_configurable(
    database: Database, clock: ManualClock, stored_hash: str
) -> None:
    add(database, "jane@example.org", AccountState.LEGACY, password_hash=stored_hash)
    outcome = log_in(database, "jane@example.org", PASSWORD, clock, portal_name="Riverside MyChart")
    assert outcome.message == (
        "A password reset email has been sent to the email address linked to your Riverside "
        "MyChart account"
    )


# --- Which account a login names ----------------------------------------------------------------


def test_login_by_username_or_any_spelling_of_the_email(
    database: Database, clock: ManualClock, stored_hash: str
) -> None:
    account_id = add(
        database,
        "x@bücher.example",
        AccountState.MIGRATED,
        password_hash=stored_hash,
        username="JaneDoe",
    )
    for login in ("  janedoe ", "X@XN--BCHER-KVA.example"):
        outcome = log_in(database, login, PASSWORD, clock)
        assert (outcome.signed_in, outcome.account_id) == (True, account_id)


def test_a_shared_address_answers_for_the_account_whose_password_it_is(
    database: Database, clock: ManualClock, stored_hash: str, other_hash: str
) -> None:
    mum = add(database, "family@example.org", AccountState.MIGRATED, password_hash=stored_hash)
    kid = add(database, "family@example.org", AccountState.LEGACY, password_hash=other_hash)

    outcome = log_in(database, "family@example.org", OTHER_PASSWORD, clock)
    assert (outcome.message, outcome.account_id) == (SPEC_NEW_ACCOUNT, kid)
    outcome = log_in(database, "family@example.org", PASSWORD, clock)
    assert (outcome.message, outcome.account_id) == (SPEC_NEW_ACCOUNT, mum)

    # Nobody's password: a plain failure, counted on every account the address names.
    outcome = log_in(database, "family@example.org", "Not-Theirs-1", clock)
    assert (outcome.message, outcome.account_id) == (SPEC_INCORRECT, None)
    assert outcome.changed_accounts == {mum, kid}
    assert [read(database, i).failed_logins for i in (mum, kid)] == [1, 1]


def test_an_address_also_held_by_a_revoked_account(
    database: Database, clock: ManualClock, stored_hash: str, other_hash: str
) -> None:
    old = add(database, "jane@example.org", AccountState.REVOKED, password_hash=other_hash)
    new = add(database, "jane@example.org", AccountState.MIGRATED, password_hash=stored_hash)
    assert not read(database, new).shared_email  # only active accounts share an address
    assert log_in(database, "jane@example.org", PASSWORD, clock).account_id == new
    revoked = log_in(database, "jane@example.org", OTHER_PASSWORD, clock)
    assert (revoked.message, revoked.account_id) == (SPEC_ACCESS, old)


def test_a_legacy_account_without_a_usable_address_cannot_be_reset(
    database: Database, clock: ManualClock, stored_hash: str
) -> None:
    no_address = add(database, None, AccountState.LEGACY, password_hash=stored_hash, username="a1")
    junk = add(
        database, "jane at home", AccountState.LEGACY, password_hash=stored_hash, username="a2"
    )
    for account_id, username in ((no_address, "a1"), (junk, "a2")):
        outcome = log_in(database, username, PASSWORD, clock)
        assert (outcome.message, outcome.situation) == (
            SPEC_NEW_ACCOUNT,
            LoginSituation.NO_RESET_ADDRESS,
        )
        assert read(database, account_id).state == "legacy"
    assert queued(database) == []


# --- Lock-out and reset e-mails over time ---------------------------------------------------------


def test_five_failures_lock_the_login_for_fifteen_minutes(
    database: Database, clock: ManualClock, stored_hash: str
) -> None:
    account_id = add(database, "jane@example.org", AccountState.MIGRATED, password_hash=stored_hash)
    situations = [
        log_in(database, "jane@example.org", "Wrong-1", clock).situation for _ in range(5)
    ]
    assert situations == [LoginSituation.WRONG_PASSWORD] * 4 + [LoginSituation.LOCKED_OUT]
    assert read(database, account_id).locked_until == NOW + dt.timedelta(minutes=15)

    clock.advance(minutes=14, seconds=59)
    locked = log_in(database, "jane@example.org", PASSWORD, clock)
    assert (locked.message, locked.situation) == (SPEC_INCORRECT, LoginSituation.LOCKED)
    # A failure while locked is counted but does not make the lock longer.
    assert read(database, account_id).locked_until == NOW + dt.timedelta(minutes=15)

    clock.advance(seconds=1)
    assert log_in(database, "jane@example.org", PASSWORD, clock).signed_in
    after = read(database, account_id)
    assert (after.failed_logins, after.locked_until) == (0, None)


def test_after_a_lock_runs_out_the_patient_gets_a_fresh_set_of_tries(
    database: Database, clock: ManualClock, stored_hash: str
) -> None:
    policy = LoginPolicy(max_failures=2, lockout_minutes=5)
    account_id = add(database, "jane@example.org", AccountState.MIGRATED, password_hash=stored_hash)
    for expected in (LoginSituation.WRONG_PASSWORD, LoginSituation.LOCKED_OUT):
        assert log_in(database, "jane@example.org", "Wrong-1", clock, policy=policy).situation == (
            expected
        )
    clock.advance(minutes=5)
    first_try = log_in(database, "jane@example.org", "Wrong-1", clock, policy=policy)
    assert first_try.situation is LoginSituation.WRONG_PASSWORD
    after = read(database, account_id)
    assert (after.failed_logins, after.locked_until) == (1, None)


def test_reset_emails_are_rate_limited(
    database: Database, clock: ManualClock, stored_hash: str
) -> None:
    add(database, "jane@example.org", AccountState.LEGACY, password_hash=stored_hash)
    first = log_in(database, "jane@example.org", PASSWORD, clock)
    clock.advance(minutes=14)
    again = log_in(database, "jane@example.org", PASSWORD, clock)
    assert again.message == first.message == SPEC_RESET
    assert (again.situation, again.queued_email_id) == (LoginSituation.RESET_RECENTLY_SENT, None)
    assert len(queued(database)) == 1

    clock.advance(minutes=1, seconds=1)
    third = log_in(database, "jane@example.org", PASSWORD, clock)
    assert third.situation is LoginSituation.RESET_SENT
    messages = queued(database)
    assert [m.id for m in messages] == [first.queued_email_id, third.queued_email_id]
    assert messages[0].message_id != messages[1].message_id


def test_the_reset_interval_is_configurable(
    database: Database, clock: ManualClock, stored_hash: str
) -> None:
    add(database, "jane@example.org", AccountState.RESET_PENDING, password_hash=stored_hash)
    policy = LoginPolicy(reset_email_minutes=60)
    log_in(database, "jane@example.org", PASSWORD, clock, policy=policy)
    clock.advance(minutes=30)
    log_in(database, "jane@example.org", PASSWORD, clock, policy=policy)
    assert len(queued(database)) == 1


@pytest.mark.parametrize(
    "setting",
    [{"max_failures": 0}, {"lockout_minutes": 0}, {"reset_email_minutes": -1}],
)
def test_the_login_policy_refuses_nonsense(setting: dict[str, int]) -> None:
    with pytest.raises(InvalidSetting, match=r"^Login policy: "):
        LoginPolicy(**setting)  # type: ignore[arg-type]


# --- Hashes and timing --------------------------------------------------------------------------


def test_a_lower_cost_hash_is_replaced_at_sign_in(database: Database, clock: ManualClock) -> None:
    cost_10 = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=10)).decode()
    account_id = add(database, "jane@example.org", AccountState.MIGRATED, password_hash=cost_10)
    outcome = log_in(database, "jane@example.org", PASSWORD, clock)
    assert (outcome.signed_in, outcome.rehashed) == (True, True)
    stored = read(database, account_id).password_hash
    assert hash_cost(stored) == 12
    assert verify_password(PASSWORD, stored)


def test_a_legacy_hash_is_not_rehashed_before_the_reset(
    database: Database, clock: ManualClock
) -> None:
    cost_10 = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=10)).decode()
    account_id = add(database, "jane@example.org", AccountState.LEGACY, password_hash=cost_10)
    assert not log_in(database, "jane@example.org", PASSWORD, clock).rehashed
    assert read(database, account_id).password_hash == cost_10


@pytest.fixture
def bcrypt_checks(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Every bcrypt check made, by the hash it was made against."""
    made: list[bytes] = []
    real = bcrypt.checkpw

    def counting(password: bytes, hashed: bytes) -> bool:
        made.append(hashed)
        return real(password, hashed)

    monkeypatch.setattr(bcrypt, "checkpw", counting)
    return made


@pytest.mark.parametrize(
    ("login", "password"),
    [
        pytest.param("nobody@example.org", PASSWORD, id="unknown"),
        pytest.param("jane@example.org", "Wrong-Password-1", id="wrong"),
        pytest.param("jane@example.org", "Aa1" + "x" * 70, id="over-72-bytes"),
        pytest.param("\x00", PASSWORD, id="nul-login"),
        pytest.param("x" * 1000, PASSWORD, id="overlong-login"),
        pytest.param("nohash", PASSWORD, id="account-without-hash"),
    ],
)
def test_every_failure_costs_exactly_one_bcrypt_check(
    database: Database,
    clock: ManualClock,
    policy_hash: str,
    bcrypt_checks: list[bytes],
    login: str,
    password: str,
) -> None:
    add(database, "jane@example.org", AccountState.MIGRATED, password_hash=policy_hash)
    add(database, None, AccountState.MIGRATED, password_hash=None, username="nohash")
    outcome = log_in(database, login, password, clock)
    assert outcome.message == SPEC_INCORRECT
    assert len(bcrypt_checks) == 1
    assert hash_cost(bcrypt_checks[0].decode()) == 12


def test_an_unknown_login_takes_a_real_bcrypt_check(database: Database, clock: ManualClock) -> None:
    passwords.dummy_hash()  # made once per process; the check itself is what is timed
    started = time.perf_counter()
    log_in(database, "nobody@example.org", PASSWORD, clock)
    assert time.perf_counter() - started > 0.05  # cost 12 takes ~0.25 s; cost 4 under 0.002 s


def test_a_password_over_72_bytes_is_a_plain_failure(
    database: Database, clock: ManualClock
) -> None:
    long_password = "Aa1" + "x" * 69 + "tail"
    prefix_hash = bcrypt.hashpw(long_password[:72].encode(), bcrypt.gensalt(rounds=4)).decode()
    account_id = add(database, "jane@example.org", AccountState.MIGRATED, password_hash=prefix_hash)
    outcome = log_in(database, "jane@example.org", long_password, clock)
    assert (outcome.message, outcome.situation) == (SPEC_INCORRECT, LoginSituation.WRONG_PASSWORD)
    assert read(database, account_id).failed_logins == 1


# --- Races with other writers ---------------------------------------------------------------------


def test_a_password_changed_during_the_check_refuses_the_login(
    database: Database, clock: ManualClock, stored_hash: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    account_id = add(database, "jane@example.org", AccountState.LEGACY, password_hash=stored_hash)
    real = passwords.verify_password

    def verify_while_the_patient_resets(password: str, stored: str | None) -> bool:
        with database.write() as connection:  # another workstation, during the bcrypt check
            connection.execute(
                update(PortalAccount)
                .where(PortalAccount.id == account_id)
                .values(password_hash="$2b$12$" + "y" * 53, version=PortalAccount.version + 1)
            )
        return real(password, stored)

    monkeypatch.setattr(login_module, "verify_password", verify_while_the_patient_resets)
    with pytest.raises(StaleRecord, match="changed by someone else"):
        log_in(database, "jane@example.org", PASSWORD, clock)
    after = read(database, account_id)
    assert (after.state, after.failed_logins, queued(database)) == ("legacy", 0, [])


def test_a_failure_counted_meanwhile_is_kept(
    database: Database, clock: ManualClock, stored_hash: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    account_id = add(database, "jane@example.org", AccountState.MIGRATED, password_hash=stored_hash)
    real = passwords.verify_password

    def verify_while_another_login_fails(password: str, stored: str | None) -> bool:
        with database.write() as connection:
            connection.execute(
                update(PortalAccount)
                .where(PortalAccount.id == account_id)
                .values(failed_logins=4, version=PortalAccount.version + 1)
            )
        return real(password, stored)

    monkeypatch.setattr(login_module, "verify_password", verify_while_another_login_fails)
    outcome = log_in(database, "jane@example.org", "Wrong-1", clock)
    assert outcome.situation is LoginSituation.LOCKED_OUT  # the fifth failure, not the first
    assert read(database, account_id).failed_logins == 5


def test_a_stale_write_becomes_a_domain_error(database: Database) -> None:
    account_id = add(database, "jane@example.org", AccountState.LEGACY)
    with Session(database.writer) as slow, Session(database.writer) as quick:
        slow.expire_on_commit = False
        mine = slow.get(PortalAccount, account_id)
        assert mine is not None
        slow.commit()  # end the read, keep the loaded (now older) version
        theirs = quick.get(PortalAccount, account_id)
        assert theirs is not None
        theirs.failed_logins = 2
        quick.commit()
        mine.revoke_note = "late"
        with pytest.raises(StaleRecord), changed_elsewhere():
            slow.flush()


def test_the_outcome_can_be_recorded_in_the_same_transaction(
    database: Database, clock: ManualClock, stored_hash: str
) -> None:
    account_id = add(database, "jane@example.org", AccountState.LEGACY, password_hash=stored_hash)
    seen: list[tuple[LoginOutcome, int]] = []

    def record(session: Session, outcome: LoginOutcome) -> None:
        # The reset e-mail is visible: it is this transaction.
        seen.append((outcome, len(session.scalars(select(OutboxMessage)).all())))

    known = log_in(database, "jane@example.org", PASSWORD, clock, on_outcome=record)
    unknown = log_in(database, "nobody@example.org", PASSWORD, clock, on_outcome=record)
    assert seen == [(known, 1), (unknown, 1)]
    assert (known.account_id, unknown.account_id) == (account_id, None)


def test_on_postgresql_too(any_db_url: str, clock: ManualClock, stored_hash: str) -> None:
    database = open_database(any_db_url)
    try:
        legacy = add(database, "jane@example.org", AccountState.LEGACY, password_hash=stored_hash)
        reset = log_in(database, "JANE@example.org", PASSWORD, clock)
        assert (reset.message, reset.account_id) == (SPEC_RESET, legacy)
        failed = log_in(database, "jane@example.org", "Wrong-1", clock)
        assert (failed.message, failed.changed_accounts) == (SPEC_INCORRECT, frozenset({legacy}))
        after = read(database, legacy)
        assert (after.state, after.failed_logins, len(queued(database))) == ("reset_pending", 1, 1)
    finally:
        database.dispose()


# --- What staff see ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "situation", "message"),
    [
        ({"state": "legacy"}, LoginSituation.RESET_SENT, SPEC_RESET),
        ({"state": "reset_pending"}, LoginSituation.RESET_SENT, SPEC_RESET),
        ({"state": "migrated"}, LoginSituation.SIGNED_IN, "(signed in)"),
        ({"state": "revoked"}, LoginSituation.REVOKED, SPEC_ACCESS),
        ({"state": "deactivated"}, LoginSituation.DEACTIVATED, SPEC_INCORRECT),
        (
            {"state": "migrated", "shared_email": True},
            LoginSituation.SHARED_EMAIL,
            SPEC_NEW_ACCOUNT,
        ),
        (
            {"state": "legacy", "login_email": None},
            LoginSituation.NO_RESET_ADDRESS,
            SPEC_NEW_ACCOUNT,
        ),
        (
            {"state": "migrated", "locked_until": NOW + dt.timedelta(minutes=1)},
            LoginSituation.LOCKED,
            SPEC_INCORRECT,
        ),
        ({"state": "migrated", "locked_until": NOW}, LoginSituation.SIGNED_IN, "(signed in)"),
    ],
)
def test_what_the_patient_sees(
    fields: dict[str, Any], situation: LoginSituation, message: str
) -> None:
    values: dict[str, Any] = {"login_email": "jane@example.org", "shared_email": False}
    account = PortalAccount(username="jdoe", **(values | fields))
    view = what_patient_sees(account, now=NOW)
    assert (view.situation, view.message, view.signed_in) == (
        situation,
        message,
        situation is LoginSituation.SIGNED_IN,
    )
    assert view.explanation
    assert (view.suggested_fix is None) == (
        situation in (LoginSituation.SIGNED_IN, LoginSituation.RESET_SENT)
        and fields["state"] != "reset_pending"
    )


def test_staff_are_told_how_to_fix_a_shared_email() -> None:
    account = PortalAccount(state="legacy", shared_email=True, login_email="f@example.org")
    view = what_patient_sees(account, portal_name="Riverside MyChart", now=NOW)
    assert view.message == (
        "Please ask your healthcare provider to create a new Riverside MyChart account for you"
    )
    assert "same e-mail address" in view.explanation
    assert view.suggested_fix is not None
    assert "Revoke" in view.suggested_fix and "link the children's charts" in view.suggested_fix


def test_staff_see_when_a_lock_ends() -> None:
    account = PortalAccount(
        state="migrated", shared_email=False, locked_until=NOW + dt.timedelta(minutes=15)
    )
    assert "locked until 2026-03-02 09:15 UTC" in what_patient_sees(account, now=NOW).explanation


def test_staff_and_the_portal_agree(
    database: Database, clock: ManualClock, stored_hash: str
) -> None:
    account_id = add(database, "jane@example.org", AccountState.REVOKED, password_hash=stored_hash)
    staff_view = what_patient_sees(read(database, account_id), now=NOW)
    assert log_in(database, "jane@example.org", PASSWORD, clock).message == staff_view.message


# --- Nothing a patient types can crash it, and nothing they type is logged ------------------------

CHEAP_PASSWORD = "Cheap-Password-1"


@pytest.fixture(scope="module")
def cheap_clinic(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    """A small clinic whose hashes (and dummy hash) cost 4, for many logins in a row."""
    cheap = bcrypt.hashpw(CHEAP_PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
    dummy = bcrypt.hashpw(b"dummy", bcrypt.gensalt(rounds=4)).decode()
    database = open_database(
        resolve_database_url(str(tmp_path_factory.mktemp("cheap") / "c.db"), {})
    )
    with Session(database.writer) as session, session.begin():
        patient = add_patient(session)
        for n, state in enumerate(AccountState):
            add_account(
                session, f"p{n}@example.org", state, patient, username=f"p{n}", password_hash=cheap
            )
        add_account(session, "p0@example.org", AccountState.MIGRATED, patient, password_hash=cheap)
        add_account(
            session, None, AccountState.LEGACY, patient, username="noaddress", password_hash=cheap
        )
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(passwords, "dummy_hash", lambda cost=12: dummy)
        patch.setattr(login_module, "needs_rehash", lambda *_: False)
        yield database
    database.dispose()


MESSAGES = {SPEC_INCORRECT, SPEC_NEW_ACCOUNT, SPEC_RESET, SPEC_ACCESS, "(signed in)"}
logins = st.sampled_from(["p0@example.org", "P1@EXAMPLE.ORG", "p2", "p3", "p4", "noaddress"])


@settings(max_examples=150, deadline=None)
@given(
    login=st.text(st.characters(codec=None), max_size=40) | logins,
    password=st.text(st.characters(codec=None), max_size=90) | st.just(CHEAP_PASSWORD),
    minutes=st.integers(0, 30),
)
@example(login="p2", password=CHEAP_PASSWORD, minutes=0)
@example(login="\x00", password="\x00", minutes=0)
@example(login="\ud800", password="\udfff" * 40, minutes=0)
@example(login="p0@example.org", password="é" * 80, minutes=0)
def test_any_login_and_password_get_an_answer(
    cheap_clinic: Database, login: str, password: str, minutes: int
) -> None:
    outcome = portal_login(
        cheap_clinic, login, password, clock=ManualClock(NOW + dt.timedelta(minutes=minutes))
    )
    assert outcome.message in MESSAGES
    assert outcome.signed_in is (outcome.message == "(signed in)")


def test_no_login_password_address_or_name_is_logged(
    database: Database, clock: ManualClock, stored_hash: str, caplog: pytest.LogCaptureFixture
) -> None:
    with Session(database.writer) as session, session.begin():
        patient = add_patient(session, first_name="Philippa", last_name="Quartermaine")
        add_account(
            session,
            "philippa.q@example.org",
            AccountState.LEGACY,
            patient,
            username="pquartermaine",
            password_hash=stored_hash,
        )
    caplog.set_level(logging.DEBUG)
    log_in(database, "philippa.q@example.org", PASSWORD, clock)
    log_in(database, "pquartermaine", "Secret-Guess-9", clock)
    log_in(database, "stranger@example.org", "Secret-Guess-9", clock)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "portal login: reset_sent" in logged
    for secret in (
        "philippa",
        "quartermaine",
        "stranger",
        "Harbour",
        "Secret-Guess",
        "example.org",
    ):
        assert secret.lower() not in logged.lower()
