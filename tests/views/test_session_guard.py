"""Automatic logoff (issue 5): after the idle time the window holds no patient data and needs
the same user's password; after the session limit a fresh sign-in is needed. Real window,
real database, real bcrypt, and a clock the test moves."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QToolBar
from pytestqt.qtbot import QtBot
from sqlalchemy import select
from sqlalchemy.orm import Session

from console.app import build_main_window, guard_session
from console.models.database import Database
from console.models.schema import AuditEvent, StaffUser
from console.models.states import StaffRole
from console.services.clock import ManualClock
from console.services.desk import StaffDesk
from console.services.settings.values import ConsoleSettings
from console.services.staff.session import StaffSession
from console.services.staff.users import SignedIn
from console.services.workstation import Workstation
from console.views.main_window import MainWindow
from console.views.session_guard import CHANGED, LockScreen, SessionGuard, lock_text
from tests.adapters.clinic_accounts import add_clinic_accounts
from tests.services.conftest import NOW, STAFF_PASSWORD, add_staff, make_workstation

SETTINGS = ConsoleSettings(idle_minutes=10, session_hours=12)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def desk(database: Database, clock: ManualClock) -> Workstation:
    add_clinic_accounts(database)
    return make_workstation(database, clock)


@pytest.fixture
def guarded(
    qtbot: QtBot, desk: Workstation, staff_hash: str
) -> Iterator[tuple[MainWindow, SessionGuard]]:
    actor = add_staff(desk.database, StaffRole.FRONT_DESK, staff_hash, name="pat")
    session = StaffSession.begin(SignedIn(actor, False), desk.clock.now())
    window = build_main_window(desk.database, session)
    qtbot.addWidget(window)
    guard = guard_session(window, StaffDesk(desk, session.actor), session, SETTINGS)
    with qtbot.waitSignal(window.model.row_count_changed, timeout=5000):
        pass
    yield window, guard
    guard.close()
    window.shutdown()


def actions(desk: Workstation) -> list[str]:
    with desk.database.engine.connect() as connection:
        return list(connection.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_idle_time_locks_and_clears_the_patient_data(
    qtbot: QtBot, desk: Workstation, clock: ManualClock, guarded: tuple[MainWindow, SessionGuard]
) -> None:
    window, guard = guarded
    window.search_field.setText("a")
    clock.advance(minutes=9, seconds=59)
    guard.check()
    assert not window.locked and window.model.rowCount() > 0

    clock.advance(seconds=1)
    guard.check()
    assert window.locked
    assert not guard.locked_by_hand
    assert window.lock_screen.who.text().startswith("Locked after 10 minutes without use.")
    assert window.model.rowCount() == 0
    assert window.model.index(0, 0).data() is None
    assert window.search_field.isHidden() or window.findChild(QToolBar, "filterBar").isHidden()
    qtbot.waitUntil(lambda: "session_locked" in actions(desk), timeout=5000)

    window.lock_screen.password.setText("not my password")
    window.lock_screen.unlock_button.click()
    qtbot.waitUntil(lambda: not window.lock_screen.problem.isHidden(), timeout=5000)
    assert window.locked and window.model.rowCount() == 0
    assert window.lock_screen.problem.text() == "Incorrect username or password."

    window.lock_screen.password.setText(STAFF_PASSWORD)
    with qtbot.waitSignal(window.model.row_count_changed, timeout=5000):
        window.lock_screen.unlock_button.click()
    assert not window.locked and window.model.rowCount() > 0
    assert window.search_field.text() == "a"  # the work in progress is still there


def test_input_keeps_the_console_unlocked(
    qtbot: QtBot, clock: ManualClock, guarded: tuple[MainWindow, SessionGuard]
) -> None:
    window, guard = guarded
    clock.advance(minutes=9)
    qtbot.keyClick(window.search_field, Qt.Key.Key_B)
    clock.advance(minutes=9)
    guard.check()
    assert not window.locked


def test_the_session_limit_ends_the_session(
    qtbot: QtBot, desk: Workstation, clock: ManualClock, guarded: tuple[MainWindow, SessionGuard]
) -> None:
    _, guard = guarded
    ended: list[str] = []
    guard.ended.connect(ended.append)
    for _ in range(12 * 6):  # input every ten minutes for twelve hours
        clock.advance(minutes=9, seconds=59)
        guard.session.touch(clock.now())
        guard.check()
    clock.advance(minutes=12)
    guard.check()
    assert ended == ["You have been signed in for 12 hours: sign in again to go on."]
    assert guard.ended_session
    qtbot.waitUntil(lambda: "session_expired" in actions(desk), timeout=5000)


def test_signing_out_from_the_lock_screen(
    qtbot: QtBot, desk: Workstation, guarded: tuple[MainWindow, SessionGuard]
) -> None:
    window, guard = guarded
    window.lock_action.trigger()
    assert window.locked
    assert guard.locked_by_hand  # Ctrl+L: the lock screen must not blame the idle time
    with qtbot.waitSignal(guard.ended, timeout=5000):
        window.lock_screen.sign_out_button.click()
    qtbot.waitUntil(lambda: "signed_out" in actions(desk), timeout=5000)
    assert actions(desk)[-2:] == ["session_locked", "signed_out"]


def test_what_a_role_may_not_do_is_disabled_with_the_reason(
    guarded: tuple[MainWindow, SessionGuard],
) -> None:
    window, _ = guarded
    assert not window.staff_action.isEnabled()
    assert window.staff_action.toolTip() == (
        "Only administrators may manage staff users; ask one of them."
    )
    assert not window.settings_action.isEnabled()
    assert "Only administrators may change settings" in window.settings_action.toolTip()


def test_locking_closes_open_dialogs_and_silences_shortcuts(
    qtbot: QtBot, clock: ManualClock, guarded: tuple[MainWindow, SessionGuard]
) -> None:
    window, guard = guarded
    left_open = QDialog(window)
    left_open.open()
    clock.advance(minutes=10)
    guard.check()
    assert left_open.isHidden() and left_open.result() == QDialog.DialogCode.Rejected
    assert not any(action.isEnabled() for action in window.actions())
    window.lock_screen.password.setText(STAFF_PASSWORD)
    with qtbot.waitSignal(guard.unlocked, timeout=5000):
        window.lock_screen.unlock_button.click()
    assert window.find_action.isEnabled() and window.refresh_action.isEnabled()


def test_a_role_changed_while_locked_needs_a_fresh_sign_in(
    qtbot: QtBot, desk: Workstation, clock: ManualClock, guarded: tuple[MainWindow, SessionGuard]
) -> None:
    window, guard = guarded
    clock.advance(minutes=10)
    guard.check()
    with Session(desk.database.writer) as session, session.begin():
        session.get_one(StaffUser, guard.session.actor.id).role = "manager"
    window.lock_screen.password.setText(STAFF_PASSWORD)
    with qtbot.waitSignal(guard.ended, timeout=5000) as ended:
        window.lock_screen.unlock_button.click()
    assert ended.args == [CHANGED]
    assert window.locked and window.model.rowCount() == 0


def test_the_timer_locks_without_being_asked(
    qtbot: QtBot, desk: Workstation, clock: ManualClock, staff_hash: str
) -> None:
    actor = add_staff(desk.database, StaffRole.FRONT_DESK, staff_hash, name="tim")
    session = StaffSession.begin(SignedIn(actor, False), clock.now())
    guard = SessionGuard(
        StaffDesk(desk, session.actor), session, idle_minutes=10, session_hours=12, poll_ms=20
    )
    try:
        clock.advance(minutes=10)
        with qtbot.waitSignal(guard.locked, timeout=2000):
            pass
    finally:
        guard.close()


def test_the_lock_screen_says_why_it_is_locked(qtbot: QtBot) -> None:
    screen = LockScreen()
    qtbot.addWidget(screen)
    screen.show_for("pat", 10)
    assert screen.who.text() == (
        "Locked after 10 minutes without use. pat, enter your password to go on."
    )
    screen.show_for("pat", 10, by_hand=True)
    assert screen.who.text() == "pat locked this console. Enter your password to go on."
    assert "minutes" not in screen.who.text()
    assert lock_text("pat", 1, by_hand=False).startswith("Locked after 1 minute without use.")
