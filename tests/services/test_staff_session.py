"""The idle lock and the session limit (issue 5), on the injectable clock: the console locks
after the idle time, only the same user's password opens it (failures count towards the
lock-out), a fresh sign-in is needed after 12 hours, and each step is audited."""

from __future__ import annotations

import datetime as dt
import json

import bcrypt
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from console.models.database import Database
from console.models.schema import AuditEvent, StaffUser
from console.models.states import StaffRole
from console.services.clock import ManualClock
from console.services.permissions import Actor
from console.services.staff.admin import change_role
from console.services.staff.session import SessionDue, SessionEnded, StaffSession
from console.services.staff.users import SignInFailed, sign_in
from console.services.workstation import Workstation
from tests.factories import refuse_audit_appends
from tests.services.conftest import NOW, STAFF_PASSWORD


@pytest.fixture
def clock(desk: Workstation) -> ManualClock:
    assert isinstance(desk.clock, ManualClock)
    return desk.clock


@pytest.fixture
def clerk(staff: dict[StaffRole, Actor]) -> Actor:
    return staff[StaffRole.FRONT_DESK]


@pytest.fixture
def session(desk: Workstation, clerk: Actor) -> StaffSession:
    return StaffSession.begin(sign_in(desk, clerk.username, STAFF_PASSWORD), NOW)


def audit_log(database: Database) -> list[tuple[str, str, str | None]]:
    with database.engine.connect() as connection:
        rows = connection.execute(
            select(AuditEvent.action, AuditEvent.outcome, AuditEvent.staff_username).order_by(
                AuditEvent.id
            )
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def test_idle_time_is_measured_from_the_last_input(
    session: StaffSession, clock: ManualClock
) -> None:
    assert session.due(clock.now()) is SessionDue.ACTIVE
    session.touch(clock.advance(minutes=6))
    clock.advance(minutes=9, seconds=59)
    assert not session.is_idle(clock.now())
    assert session.due(clock.now()) is SessionDue.ACTIVE
    clock.advance(seconds=1)
    assert session.is_idle(clock.now())
    assert session.due(clock.now()) is SessionDue.LOCK
    assert session.is_idle(clock.now(), idle_minutes=5)
    assert not session.is_idle(clock.now(), idle_minutes=11)
    session.touch(NOW)  # a late, older event does not move the time back
    assert session.last_activity == NOW + dt.timedelta(minutes=6)


def test_the_console_locks_and_the_same_password_opens_it(
    desk: Workstation, session: StaffSession, clock: ManualClock, clerk: Actor
) -> None:
    clock.advance(minutes=10)
    session.lock(desk)
    session.lock(desk)  # once only
    assert session.locked
    assert session.due(clock.now()) is SessionDue.ACTIVE  # waits for the password
    session.touch(clock.advance(minutes=1))  # input on the lock screen is not activity
    assert session.last_activity == NOW

    signed_in = session.unlock(desk, STAFF_PASSWORD)
    assert signed_in.actor == clerk and not session.locked
    assert session.last_activity == clock.now()
    assert audit_log(desk.database) == [
        ("staff_sign_in", "ok", clerk.username),
        ("session_locked", "ok", clerk.username),
        ("staff_unlock", "ok", clerk.username),
    ]
    with Session(desk.database.engine) as db:
        locked = db.scalars(select(AuditEvent).where(AuditEvent.action == "session_locked")).one()
    assert json.loads(locked.details) == {"idle_seconds": 600}
    assert locked.workstation == "test-desk"


def test_wrong_passwords_at_the_lock_screen_lock_the_user_out(
    desk: Workstation, session: StaffSession, clock: ManualClock
) -> None:
    session.lock(desk)
    for _ in range(5):
        with pytest.raises(SignInFailed):
            session.unlock(desk, "wrong password")
    with pytest.raises(SignInFailed):  # locked out: the right password does not help now
        session.unlock(desk, STAFF_PASSWORD)
    assert session.locked
    unlocks = [
        outcome for action, outcome, _ in audit_log(desk.database) if action == "staff_unlock"
    ]
    assert unlocks == ["wrong_password"] * 4 + ["locked_out", "locked"]
    clock.advance(minutes=15)
    session.unlock(desk, STAFF_PASSWORD)
    assert not session.locked


def test_another_users_password_does_not_open_the_lock(
    desk: Workstation, session: StaffSession, clerk: Actor
) -> None:
    own_password = "Clerk-Own-Password-5"
    with Session(desk.database.writer) as db, db.begin():
        own_hash = bcrypt.hashpw(own_password.encode(), bcrypt.gensalt(rounds=4)).decode()
        db.get_one(StaffUser, clerk.id).password_hash = own_hash
    session.lock(desk)
    with pytest.raises(SignInFailed):  # every other member of staff has STAFF_PASSWORD
        session.unlock(desk, STAFF_PASSWORD)
    assert session.locked
    session.unlock(desk, own_password)
    assert not session.locked


def test_a_disabled_user_cannot_unlock(
    desk: Workstation, session: StaffSession, clerk: Actor
) -> None:
    session.lock(desk)
    with Session(desk.database.writer) as db, db.begin():
        db.get_one(StaffUser, clerk.id).disabled = True
    with pytest.raises(SignInFailed):
        session.unlock(desk, STAFF_PASSWORD)
    assert audit_log(desk.database)[-1] == ("staff_unlock", "disabled", clerk.username)


def test_unlocking_takes_the_role_the_user_has_now(
    desk: Workstation, session: StaffSession, staff: dict[StaffRole, Actor], clerk: Actor
) -> None:
    session.lock(desk)
    change_role(desk, staff[StaffRole.ADMIN], clerk.id, "manager")
    session.unlock(desk, STAFF_PASSWORD)
    assert session.actor.role == "manager"


def test_after_twelve_hours_a_fresh_sign_in_is_needed(
    desk: Workstation, session: StaffSession, clock: ManualClock
) -> None:
    for _ in range(11 * 6):  # busy all day: never idle
        session.touch(clock.advance(minutes=10))
    assert session.due(clock.now()) is SessionDue.ACTIVE
    session.touch(clock.advance(minutes=59, seconds=59))
    assert not session.is_expired(clock.now())
    clock.advance(seconds=1)
    assert session.is_expired(clock.now())
    assert session.due(clock.now()) is SessionDue.SIGN_OUT
    assert session.is_expired(clock.now(), session_hours=8)
    assert not session.is_expired(clock.now(), session_hours=13)

    session.lock(desk)
    with pytest.raises(SessionEnded, match="sign in again"):
        session.unlock(desk, STAFF_PASSWORD)  # the password is not even checked
    session.expire(desk)
    session.expire(desk)  # once only
    assert session.ended and session.due(clock.now()) is SessionDue.SIGN_OUT
    actions = [action for action, _, _ in audit_log(desk.database)]
    assert actions == ["staff_sign_in", "session_locked", "session_expired"]


def test_the_session_limit_wins_over_the_idle_lock(
    session: StaffSession, clock: ManualClock
) -> None:
    clock.advance(hours=12)
    assert session.is_idle(clock.now())
    assert session.due(clock.now()) is SessionDue.SIGN_OUT


def test_signing_out_ends_the_session(
    desk: Workstation, session: StaffSession, clock: ManualClock
) -> None:
    clock.advance(minutes=30)
    session.sign_out(desk)
    assert session.ended and session.locked
    with pytest.raises(SessionEnded):
        session.unlock(desk, STAFF_PASSWORD)
    session.lock(desk)  # nothing more to audit once ended
    with Session(desk.database.engine) as db:
        event = db.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert event is not None and event.action == "signed_out"
    assert json.loads(event.details) == {"session_seconds": 1800}
    assert [a for a, _, _ in audit_log(desk.database)].count("session_locked") == 0


def test_the_console_locks_even_when_the_audit_log_fails(
    desk: Workstation, session: StaffSession
) -> None:
    refuse_audit_appends(desk.database)
    with pytest.raises(Exception, match="disk full"):
        session.lock(desk)
    assert session.locked
    with pytest.raises(Exception, match="disk full"):
        session.sign_out(desk)
    assert session.ended
