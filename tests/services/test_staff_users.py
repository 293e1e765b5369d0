"""Console users (SPEC §6, issue 5): adding, signing in, lock-out and changing one's own
password, on a real database with real bcrypt and a clock that stands still until moved.
Administration by an administrator is tested in test_staff_admin.py."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from console.models.database import Database
from console.models.schema import AuditEvent, StaffUser
from console.models.states import StaffRole
from console.services.accounts.portal_login import LoginPolicy
from console.services.clock import ManualClock
from console.services.errors import WeakPassword
from console.services.permissions import Actor, NotAllowed
from console.services.staff import users as staff_users
from console.services.staff.users import (
    SIGN_IN_FAILED,
    SignInFailed,
    StaffRefused,
    add_staff_user,
    change_own_password,
    has_staff,
    sign_in,
)
from console.services.workstation import Workstation
from tests.services.conftest import NOW, STAFF_PASSWORD, add_staff

NEW_STAFF_PASSWORD = "Quiet-River-Lantern-77"


def audit_actions(database: Database) -> list[tuple[str, str]]:
    with database.engine.connect() as connection:
        rows = connection.execute(
            select(AuditEvent.action, AuditEvent.outcome).order_by(AuditEvent.id)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def audit_events(database: Database) -> list[AuditEvent]:
    with Session(database.engine) as session:
        return list(session.scalars(select(AuditEvent).order_by(AuditEvent.id)))


def details(event: AuditEvent) -> dict[str, Any]:
    return json.loads(event.details)  # type: ignore[no-any-return]


def staff_row(database: Database, staff_id: int) -> StaffUser:
    with Session(database.engine) as session:
        return session.get_one(StaffUser, staff_id)


def lock_out(desk: Workstation, username: str) -> None:
    for _ in range(desk.rules.login.max_failures):
        with pytest.raises(SignInFailed):
            sign_in(desk, username, "wrong password")


def all_audit_text(database: Database) -> str:
    with database.engine.connect() as connection:
        rows = connection.execute(select(AuditEvent.__table__)).all()
    return " ".join(str(value) for row in rows for value in row)


# --- Adding staff and signing in ---------------------------------------------------------------


def test_the_first_user_is_an_admin_added_without_anyone(desk: Workstation) -> None:
    assert not has_staff(desk)
    with pytest.raises(StaffRefused, match="must be an administrator"):
        add_staff_user(desk, None, "pat", StaffRole.FRONT_DESK, NEW_STAFF_PASSWORD)
    add_staff_user(desk, None, "Admin.One", "admin", NEW_STAFF_PASSWORD, display_name="Ann Admin")
    assert has_staff(desk)
    with pytest.raises(StaffRefused, match="administrator must add"):
        add_staff_user(desk, None, "sneaky", StaffRole.ADMIN, NEW_STAFF_PASSWORD)
    signed_in = sign_in(desk, "admin.one", NEW_STAFF_PASSWORD)
    assert (signed_in.actor.username, signed_in.actor.role) == ("Admin.One", "admin")
    assert not signed_in.must_change_password  # they chose their own password
    assert audit_actions(desk.database) == [("add_staff_user", "ok"), ("staff_sign_in", "ok")]


def test_only_admins_add_staff(desk: Workstation, staff: dict[StaffRole, Actor]) -> None:
    for role in (StaffRole.FRONT_DESK, StaffRole.MANAGER):
        with pytest.raises(NotAllowed, match="Only administrators may manage staff users"):
            add_staff_user(desk, staff[role], "newbie", "front_desk", NEW_STAFF_PASSWORD)
    add_staff_user(desk, staff[StaffRole.ADMIN], "newbie", "front_desk", NEW_STAFF_PASSWORD)
    with pytest.raises(StaffRefused, match="already exists"):
        add_staff_user(desk, staff[StaffRole.ADMIN], "NEWBIE", "manager", NEW_STAFF_PASSWORD)


def test_a_user_an_admin_adds_chooses_their_own_password_at_first_sign_in(
    desk: Workstation, staff: dict[StaffRole, Actor]
) -> None:
    add_staff_user(desk, staff[StaffRole.ADMIN], "newbie", "front_desk", NEW_STAFF_PASSWORD)
    first = sign_in(desk, "newbie", NEW_STAFF_PASSWORD)
    assert first.must_change_password  # the administrator knows this password
    changed = change_own_password(desk, "newbie", NEW_STAFF_PASSWORD, "Plum-Orchard-Lantern-42")
    assert not changed.must_change_password
    assert not sign_in(desk, "newbie", "Plum-Orchard-Lantern-42").must_change_password


@pytest.mark.parametrize(
    ("username", "role", "password", "error", "message"),
    [
        ("", "admin", NEW_STAFF_PASSWORD, StaffRefused, "1 to 64 letters"),
        ("a b", "admin", NEW_STAFF_PASSWORD, StaffRefused, "1 to 64 letters"),
        ("pat", "superuser", NEW_STAFF_PASSWORD, StaffRefused, "Choose a role"),
        ("pat", "admin", "Short-1", WeakPassword, "at least 12 characters"),
        ("patricia", "admin", "patricia-is-here-99", WeakPassword, "username"),
        ("pat", "admin", "x" * 73, WeakPassword, "72 bytes"),
    ],
)
def test_add_staff_refusals(
    desk: Workstation,
    staff: dict[StaffRole, Actor],
    username: str,
    role: str,
    password: str,
    error: type[Exception],
    message: str,
) -> None:
    with pytest.raises(error, match=message):
        add_staff_user(desk, staff[StaffRole.ADMIN], username, role, password)
    assert audit_actions(desk.database) == []


def test_sign_in_locks_out_and_unlocks(desk: Workstation, staff: dict[StaffRole, Actor]) -> None:
    assert isinstance(desk.clock, ManualClock)
    username = staff[StaffRole.MANAGER].username
    for _ in range(5):
        with pytest.raises(SignInFailed):
            sign_in(desk, username, "wrong password")
    with pytest.raises(SignInFailed) as refused:  # locked: the right password does not help
        sign_in(desk, username.upper(), STAFF_PASSWORD)
    assert str(refused.value) == SIGN_IN_FAILED
    desk.clock.advance(minutes=14, seconds=59)
    with pytest.raises(SignInFailed):  # still locked a second before the 15 minutes are up
        sign_in(desk, username, STAFF_PASSWORD)
    desk.clock.advance(seconds=1)
    assert sign_in(desk, username, STAFF_PASSWORD).actor == staff[StaffRole.MANAGER]
    outcomes = [o for _, o in audit_actions(desk.database)]
    assert outcomes == ["wrong_password"] * 4 + ["locked_out", "locked", "locked", "ok"]


def test_unknown_and_disabled_users_get_the_same_answer(
    desk: Workstation, staff: dict[StaffRole, Actor]
) -> None:
    with Session(desk.database.writer) as session, session.begin():
        session.get_one(StaffUser, staff[StaffRole.FRONT_DESK].id).disabled = True
    for username in ("nobody", staff[StaffRole.FRONT_DESK].username):
        with pytest.raises(SignInFailed, match=SIGN_IN_FAILED):
            sign_in(desk, username, STAFF_PASSWORD)
    assert [o for _, o in audit_actions(desk.database)] == ["unknown_user", "disabled"]


def test_staff_sign_in_is_audited_with_the_time(
    desk: Workstation, staff: dict[StaffRole, Actor]
) -> None:
    sign_in(desk, staff[StaffRole.ADMIN].username, STAFF_PASSWORD)
    with Session(desk.database.engine) as session:
        event = session.scalars(select(AuditEvent)).one()
        user = session.get_one(StaffUser, staff[StaffRole.ADMIN].id)
    assert event.occurred_at == NOW == user.last_login_at


def test_every_sign_in_attempt_names_the_workstation(
    desk: Workstation, staff: dict[StaffRole, Actor]
) -> None:
    username = staff[StaffRole.FRONT_DESK].username
    sign_in(desk, username, STAFF_PASSWORD)
    with pytest.raises(SignInFailed):
        sign_in(desk, "nobody", STAFF_PASSWORD)
    lock_out(desk, username)
    events = audit_events(desk.database)
    assert {e.outcome for e in events} == {"ok", "unknown_user", "wrong_password", "locked_out"}
    assert {e.workstation for e in events} == {"test-desk"}
    assert STAFF_PASSWORD not in all_audit_text(desk.database)


# --- Changing one's own password and the lock-out policy --------------------------------------


def test_wrong_old_passwords_count_towards_the_lock_out(
    desk: Workstation, staff: dict[StaffRole, Actor]
) -> None:
    clerk = staff[StaffRole.FRONT_DESK]
    for _ in range(5):
        with pytest.raises(SignInFailed, match=SIGN_IN_FAILED):
            change_own_password(desk, clerk.username, "not the password", NEW_STAFF_PASSWORD)
    with pytest.raises(SignInFailed):  # locked out: the right old password does not help
        change_own_password(desk, clerk.username, STAFF_PASSWORD, NEW_STAFF_PASSWORD)
    with pytest.raises(SignInFailed):
        change_own_password(desk, "nobody", STAFF_PASSWORD, NEW_STAFF_PASSWORD)
    assert audit_actions(desk.database) == [("change_own_password", "wrong_password")] * 4 + [
        ("change_own_password", "locked_out"),
        ("change_own_password", "locked"),
        ("change_own_password", "unknown_user"),
    ]
    assert isinstance(desk.clock, ManualClock)
    desk.clock.advance(minutes=15)
    assert sign_in(desk, clerk.username, STAFF_PASSWORD).actor == clerk  # unchanged


def test_the_lock_out_policy_comes_from_the_rules(
    database: Database, staff_hash: str, desk: Workstation
) -> None:
    strict = replace(desk, rules=replace(desk.rules, login=LoginPolicy(max_failures=2)))
    clerk = add_staff(database, StaffRole.FRONT_DESK, staff_hash)
    for _ in range(2):
        with pytest.raises(SignInFailed):
            sign_in(strict, clerk.username, "wrong password")
    assert staff_row(database, clerk.id).locked_until == NOW + dt.timedelta(minutes=15)


# --- Input no database can store, and two workstations at once -----------------------------


@pytest.mark.parametrize("username", ["admin\x00", "ad\ud800min"], ids=["nul", "surrogate"])
def test_a_username_no_database_can_store_is_just_a_failed_sign_in(
    any_desk: Workstation, staff_hash: str, monkeypatch: pytest.MonkeyPatch, username: str
) -> None:
    """A NUL (PostgreSQL refuses it) or a lone surrogate (no driver can encode it) in the
    username: the same answer, the same bcrypt work and the same audit as an unknown user."""
    add_staff(any_desk.database, StaffRole.ADMIN, staff_hash, "admin")
    spent: list[int] = []
    real = staff_users.spend_a_check
    monkeypatch.setattr(staff_users, "spend_a_check", lambda *cost: spent.append(1) or real(*cost))
    with pytest.raises(SignInFailed, match=SIGN_IN_FAILED):
        sign_in(any_desk, username, STAFF_PASSWORD)
    with pytest.raises(SignInFailed, match=SIGN_IN_FAILED):
        change_own_password(any_desk, username, STAFF_PASSWORD, NEW_STAFF_PASSWORD)
    assert spent == [1, 1]
    assert audit_actions(any_desk.database) == [
        ("staff_sign_in", "unknown_user"),
        ("change_own_password", "unknown_user"),
    ]


@pytest.mark.parametrize("shown", ["Ann\x00Admin", "Ann \ud800 Admin"], ids=["nul", "surrogate"])
def test_a_display_name_no_database_can_store_is_refused(
    any_desk: Workstation, staff_hash: str, shown: str
) -> None:
    admin = add_staff(any_desk.database, StaffRole.ADMIN, staff_hash)
    with pytest.raises(StaffRefused, match="display name"):
        add_staff_user(
            any_desk, admin, "ann", StaffRole.MANAGER, NEW_STAFF_PASSWORD, display_name=shown
        )
    assert audit_actions(any_desk.database) == []


@pytest.mark.parametrize("first", [True, False], ids=["first-user", "by-an-admin"])
def test_a_name_taken_at_another_workstation_meanwhile_is_refused(
    pg_desk: Workstation, staff_hash: str, first: bool
) -> None:
    """Another workstation adds the same username after this one checked that it was free
    (PostgreSQL: the unique index on the username, not the check, has the last word)."""
    # PostgreSQL only: SQLite's writer holds the whole database from BEGIN, nobody gets between.
    any_desk = pg_desk
    admin = None if first else add_staff(any_desk.database, StaffRole.ADMIN, staff_hash)
    taken_elsewhere = False

    def just_before_our_insert(_connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        nonlocal taken_elsewhere
        if statement.startswith("INSERT INTO staff_users") and not taken_elsewhere:
            taken_elsewhere = True  # first: the other workstation's INSERT comes here too
            add_staff(any_desk.database, StaffRole.ADMIN, staff_hash, "Newbie")

    engine = any_desk.database.engine
    event.listen(engine, "before_cursor_execute", just_before_our_insert)
    try:
        with pytest.raises(StaffRefused, match="A staff user named 'newbie' already exists"):
            add_staff_user(any_desk, admin, "newbie", StaffRole.ADMIN, NEW_STAFF_PASSWORD)
    finally:
        event.remove(engine, "before_cursor_execute", just_before_our_insert)
    assert taken_elsewhere
    assert audit_actions(any_desk.database) == []
