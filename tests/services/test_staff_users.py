"""Console users (SPEC §6, issue 5): adding, signing in, lock-out, administration by an
administrator and the forced password change, on a real database with real bcrypt and a
clock that stands still until moved."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from console.models.database import Database
from console.models.schema import AuditEvent, StaffRole, StaffUser
from console.services.clock import ManualClock
from console.services.errors import StaleRecord, WeakPassword
from console.services.passwords import check_staff_password
from console.services.permissions import Actor, NotAllowed
from console.services.portal_login import LoginPolicy
from console.services.staff_users import (
    SIGN_IN_FAILED,
    SignInFailed,
    StaffRefused,
    add_staff_user,
    change_own_password,
    change_role,
    disable_staff,
    enable_staff,
    has_staff,
    list_staff,
    new_temporary_password,
    reset_staff_password,
    sign_in,
)
from console.services.workstation import Workstation
from tests.services.conftest import NOW, STAFF_PASSWORD, add_staff

NEW_STAFF_PASSWORD = "Quiet-River-Lantern-77"
TEMPORARY_PASSWORD = "Plum-Harbor-Sixty-4"


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
    assert audit_actions(desk.database) == [("add_staff_user", "ok"), ("staff_sign_in", "ok")]


def test_only_admins_add_staff(desk: Workstation, staff: dict[StaffRole, Actor]) -> None:
    for role in (StaffRole.FRONT_DESK, StaffRole.MANAGER):
        with pytest.raises(NotAllowed, match="Only administrators may manage staff users"):
            add_staff_user(desk, staff[role], "newbie", "front_desk", NEW_STAFF_PASSWORD)
    add_staff_user(desk, staff[StaffRole.ADMIN], "newbie", "front_desk", NEW_STAFF_PASSWORD)
    with pytest.raises(StaffRefused, match="already exists"):
        add_staff_user(desk, staff[StaffRole.ADMIN], "NEWBIE", "manager", NEW_STAFF_PASSWORD)


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


# --- Staff administration ----------------------------------------------------------------------


@pytest.mark.parametrize("role", [StaffRole.FRONT_DESK, StaffRole.MANAGER])
def test_only_admins_manage_staff(
    desk: Workstation, staff: dict[StaffRole, Actor], role: StaffRole
) -> None:
    actor, target = staff[role], staff[StaffRole.FRONT_DESK].id
    for action in (
        lambda: list_staff(desk, actor),
        lambda: disable_staff(desk, actor, target),
        lambda: enable_staff(desk, actor, target),
        lambda: change_role(desk, actor, target, "manager"),
        lambda: reset_staff_password(desk, actor, target, TEMPORARY_PASSWORD),
    ):
        with pytest.raises(NotAllowed, match="Only administrators may manage staff users"):
            action()
    assert audit_actions(desk.database) == []


def test_list_staff(desk: Workstation, staff: dict[StaffRole, Actor]) -> None:
    lock_out(desk, staff[StaffRole.MANAGER].username)
    members = list_staff(desk, staff[StaffRole.ADMIN])
    assert [m.username for m in members] == ["admin_user", "front_desk_user", "manager_user"]
    locked = {m.username: m.locked for m in members}
    assert locked == {"admin_user": False, "front_desk_user": False, "manager_user": True}
    assert all(not m.disabled and not m.must_change_password for m in members)
    assert isinstance(desk.clock, ManualClock)
    desk.clock.advance(minutes=15)
    assert not any(m.locked for m in list_staff(desk, staff[StaffRole.ADMIN]))


def test_disable_and_enable(desk: Workstation, staff: dict[StaffRole, Actor]) -> None:
    admin, clerk = staff[StaffRole.ADMIN], staff[StaffRole.FRONT_DESK]
    assert disable_staff(desk, admin, clerk.id).staff == {clerk.id}
    with pytest.raises(SignInFailed, match=SIGN_IN_FAILED):
        sign_in(desk, clerk.username, STAFF_PASSWORD)
    for _ in range(6):  # failures while disabled must not lock them out once enabled
        with pytest.raises(SignInFailed):
            sign_in(desk, clerk.username, "wrong password")
    with pytest.raises(StaffRefused, match="already disabled"):
        disable_staff(desk, admin, clerk.id)
    enable_staff(desk, admin, clerk.id)
    with pytest.raises(StaffRefused, match="is not disabled"):
        enable_staff(desk, admin, clerk.id)
    with pytest.raises(SignInFailed):  # one typo after re-enabling: not a lock-out
        sign_in(desk, clerk.username, "wrong password")
    assert sign_in(desk, clerk.username, STAFF_PASSWORD).actor == clerk
    events = [e for e in audit_events(desk.database) if e.action != "staff_sign_in"]
    assert [(e.action, e.staff_username, e.target_id) for e in events] == [
        ("disable_staff_user", admin.username, str(clerk.id)),
        ("enable_staff_user", admin.username, str(clerk.id)),
    ]
    assert details(events[0]) == {"username": clerk.username}


def test_the_last_enabled_admin_stays(desk: Workstation, staff: dict[StaffRole, Actor]) -> None:
    admin = staff[StaffRole.ADMIN]
    with pytest.raises(StaffRefused, match="cannot disable your own"):
        disable_staff(desk, admin, admin.id)
    with pytest.raises(StaffRefused, match="cannot change your own role"):
        change_role(desk, admin, admin.id, "manager")
    assert staff_row(desk.database, admin.id).role == "admin"
    assert not staff_row(desk.database, admin.id).disabled
    assert audit_actions(desk.database) == []


def test_an_admin_removed_elsewhere_can_no_longer_manage_staff(
    desk: Workstation, staff: dict[StaffRole, Actor], staff_hash: str
) -> None:
    """Two administrators: one disables the other, whose console still holds an admin
    ``Actor``; then one demotes a third, whose stale ``Actor`` is refused too."""
    first = staff[StaffRole.ADMIN]
    second = add_staff(desk.database, StaffRole.ADMIN, staff_hash, "second_admin")
    third = add_staff(desk.database, StaffRole.ADMIN, staff_hash, "third_admin")
    disable_staff(desk, first, second.id)
    with pytest.raises(NotAllowed, match="has been disabled"):
        disable_staff(desk, second, first.id)
    change_role(desk, first, third.id, StaffRole.MANAGER)
    with pytest.raises(NotAllowed, match="Only administrators"):
        change_role(desk, third, first.id, StaffRole.MANAGER)
    with pytest.raises(NotAllowed, match="Only administrators"):
        add_staff_user(desk, third, "newbie", "admin", NEW_STAFF_PASSWORD)
    assert staff_row(desk.database, first.id).role == "admin"
    assert not staff_row(desk.database, first.id).disabled


def test_change_role(desk: Workstation, staff: dict[StaffRole, Actor]) -> None:
    admin, clerk = staff[StaffRole.ADMIN], staff[StaffRole.FRONT_DESK]
    seen = staff_row(desk.database, clerk.id).version
    change_role(desk, admin, clerk.id, "manager", expected_version=seen)
    assert sign_in(desk, clerk.username, STAFF_PASSWORD).actor.role == "manager"
    with pytest.raises(StaleRecord):  # changed (and signed in) since the admin saw it
        change_role(desk, admin, clerk.id, "admin", expected_version=seen)
    with pytest.raises(StaffRefused, match="already has the role manager"):
        change_role(desk, admin, clerk.id, StaffRole.MANAGER)
    with pytest.raises(StaffRefused, match="Choose a role"):
        change_role(desk, admin, clerk.id, "owner")
    with pytest.raises(StaffRefused, match="no such staff user"):
        change_role(desk, admin, 999, "manager")
    event = next(e for e in audit_events(desk.database) if e.action == "change_staff_role")
    assert details(event) == {
        "username": clerk.username,
        "old_role": "front_desk",
        "new_role": "manager",
    }


def test_staff_administration_on_postgresql_too(any_desk: Workstation, staff_hash: str) -> None:
    admin = add_staff(any_desk.database, StaffRole.ADMIN, staff_hash)
    clerk = add_staff(any_desk.database, StaffRole.FRONT_DESK, staff_hash)
    seen = {m.id: m.version for m in list_staff(any_desk, admin)}
    disable_staff(any_desk, admin, clerk.id, expected_version=seen[clerk.id])
    with pytest.raises(StaleRecord):
        enable_staff(any_desk, admin, clerk.id, expected_version=seen[clerk.id])
    enable_staff(any_desk, admin, clerk.id, expected_version=seen[clerk.id] + 1)
    change_role(any_desk, admin, clerk.id, "admin")
    assert [a for a, _ in audit_actions(any_desk.database)] == [
        "disable_staff_user",
        "enable_staff_user",
        "change_staff_role",
    ]


# --- Password resets and the forced change -----------------------------------------------------


def test_a_reset_password_must_be_changed_at_the_next_sign_in(
    desk: Workstation, staff: dict[StaffRole, Actor]
) -> None:
    admin, clerk = staff[StaffRole.ADMIN], staff[StaffRole.FRONT_DESK]
    lock_out(desk, clerk.username)
    reset_staff_password(desk, admin, clerk.id, TEMPORARY_PASSWORD)
    with pytest.raises(SignInFailed):  # the old password is gone
        sign_in(desk, clerk.username, STAFF_PASSWORD)
    first = sign_in(desk, clerk.username, TEMPORARY_PASSWORD)  # and the lock-out lifted
    assert first.must_change_password

    with pytest.raises(StaffRefused, match="different from the current one"):
        change_own_password(desk, clerk.username, TEMPORARY_PASSWORD, TEMPORARY_PASSWORD)
    with pytest.raises(WeakPassword, match="at least 12 characters"):
        change_own_password(desk, clerk.username, TEMPORARY_PASSWORD, "Short-1")
    changed = change_own_password(desk, clerk.username, TEMPORARY_PASSWORD, NEW_STAFF_PASSWORD)
    assert changed.actor == clerk and not changed.must_change_password

    with pytest.raises(SignInFailed):
        sign_in(desk, clerk.username, TEMPORARY_PASSWORD)
    assert not sign_in(desk, clerk.username, NEW_STAFF_PASSWORD).must_change_password
    reset = next(e for e in audit_events(desk.database) if e.action == "reset_staff_password")
    assert (reset.staff_username, details(reset)) == (admin.username, {"username": clerk.username})
    assert ("change_own_password", "ok") in audit_actions(desk.database)
    text = all_audit_text(desk.database)
    for password in (TEMPORARY_PASSWORD, NEW_STAFF_PASSWORD, STAFF_PASSWORD):
        assert password not in text


def test_reset_refusals(desk: Workstation, staff: dict[StaffRole, Actor]) -> None:
    admin, clerk = staff[StaffRole.ADMIN], staff[StaffRole.FRONT_DESK]
    with pytest.raises(WeakPassword, match="username"):
        reset_staff_password(desk, admin, clerk.id, f"{clerk.username}-Temporary-1")
    with pytest.raises(StaffRefused, match="Change my password"):
        reset_staff_password(desk, admin, admin.id, TEMPORARY_PASSWORD)
    with pytest.raises(StaffRefused, match="no such staff user"):
        reset_staff_password(desk, admin, 999, TEMPORARY_PASSWORD)
    assert audit_actions(desk.database) == []
    assert not staff_row(desk.database, clerk.id).must_change_password


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


def test_temporary_passwords_meet_the_staff_policy() -> None:
    for length in (12, 30, 64):
        password = new_temporary_password("pat", length)
        check_staff_password(password, username="pat", min_length=length)
        assert set(password) <= set("abcdefghjkmnpqrstuvwxyz23456789-")
    assert new_temporary_password("a", 12) != new_temporary_password("a", 12)


def test_the_lock_out_policy_comes_from_the_rules(
    database: Database, staff_hash: str, desk: Workstation
) -> None:
    strict = replace(desk, rules=replace(desk.rules, login=LoginPolicy(max_failures=2)))
    clerk = add_staff(database, StaffRole.FRONT_DESK, staff_hash)
    for _ in range(2):
        with pytest.raises(SignInFailed):
            sign_in(strict, clerk.username, "wrong password")
    assert staff_row(database, clerk.id).locked_until == NOW + dt.timedelta(minutes=15)
