"""Signing in (issue 5): the presenter driven directly with a synchronous runner, and the real
dialog with its worker, over a real SQLite file and real bcrypt."""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy.orm import Session

from console.models.schema import StaffUser
from console.models.states import StaffRole
from console.services.desk import Desk
from console.services.staff.users import SignedIn
from console.services.workstation import Workstation
from console.views.sign_in import UNEXPECTED, SignInDialog, SignInPresenter, Stage
from tests.runners import InlineRunner
from tests.services.conftest import STAFF_PASSWORD, add_staff

NEW_PASSWORD = "Quiet-River-Lantern-77"


class FakeView:
    """Records what the presenter shows."""

    def __init__(self) -> None:
        self.stages: list[Stage] = []
        self.problems: list[str] = []
        self.busy: list[bool] = []
        self.finished: SignedIn | None = None

    def show_stage(self, stage: Stage, message: str) -> None:
        self.stages.append(stage)

    def show_busy(self, busy: bool) -> None:
        self.busy.append(busy)

    def show_problem(self, message: str) -> None:
        self.problems.append(message)

    def finish(self, signed_in: SignedIn) -> None:
        self.finished = signed_in


def presenter(desk: Workstation, *, first_run: bool = False) -> tuple[SignInPresenter, FakeView]:
    view = FakeView()
    shown = SignInPresenter(Desk(desk), InlineRunner().submit, view, first_run=first_run)
    shown.start()
    return shown, view


def test_the_first_administrator_is_created_and_signed_in(desk: Workstation) -> None:
    shown, view = presenter(desk, first_run=True)
    assert view.stages == [Stage.FIRST_ADMIN]
    shown.create_first_admin("ann", "Ann Admin", NEW_PASSWORD, NEW_PASSWORD + "x")
    assert view.problems == ["The two passwords are not the same."]
    shown.create_first_admin("ann", "Ann Admin", "short", "short")
    assert "at least 12 characters" in view.problems[-1]
    shown.create_first_admin("ann", "Ann Admin", NEW_PASSWORD, NEW_PASSWORD)
    assert view.finished is not None
    assert (view.finished.actor.username, view.finished.actor.role) == ("ann", "admin")


def test_a_wrong_password_is_one_message(desk: Workstation, staff_hash: str) -> None:
    add_staff(desk.database, StaffRole.MANAGER, staff_hash, name="mo")
    shown, view = presenter(desk)
    shown.sign_in("", "")
    shown.sign_in("mo", "not it")
    shown.sign_in("nobody", "not it")
    assert view.problems == [
        "Enter your username and password.",
        "Incorrect username or password.",
        "Incorrect username or password.",
    ]
    shown.sign_in("MO", STAFF_PASSWORD)
    assert view.finished is not None and view.finished.actor.role == "manager"
    assert view.busy == [True, False] * 3


def test_a_reset_password_must_be_replaced(desk: Workstation, staff_hash: str) -> None:
    actor = add_staff(desk.database, StaffRole.FRONT_DESK, staff_hash, name="pat")
    with Session(desk.database.writer) as session, session.begin():
        session.get_one(StaffUser, actor.id).must_change_password = True
    shown, view = presenter(desk)
    shown.sign_in("pat", STAFF_PASSWORD)
    assert view.finished is None and view.stages == [Stage.SIGN_IN, Stage.NEW_PASSWORD]
    shown.choose_new_password(NEW_PASSWORD, NEW_PASSWORD)
    assert view.finished is not None and not view.finished.must_change_password
    with Session(desk.database.engine) as session:
        assert not session.get_one(StaffUser, actor.id).must_change_password


def test_an_unexpected_failure_is_a_plain_message(
    desk: Workstation, staff_hash: str, caplog: pytest.LogCaptureFixture
) -> None:
    add_staff(desk.database, StaffRole.FRONT_DESK, staff_hash, name="pat")
    desk.database.engine.dispose()
    with desk.database.write() as connection:
        connection.exec_driver_sql("DROP TABLE staff_users")
    shown, view = presenter(desk)
    shown.sign_in("pat", STAFF_PASSWORD)
    assert view.problems == [UNEXPECTED]
    assert STAFF_PASSWORD not in caplog.text and "pat" not in caplog.text


def test_the_dialog_signs_in_without_blocking(
    qtbot: QtBot, desk: Workstation, staff_hash: str
) -> None:
    add_staff(desk.database, StaffRole.ADMIN, staff_hash, name="ann")
    dialog = SignInDialog(Desk(desk), first_run=False)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.username.hasFocus() or not dialog.isActiveWindow()
    dialog.username.setText("ann")
    dialog.password.setText("wrong password")
    dialog.buttons.accepted.emit()
    # The check runs in a worker: the form is greyed until the answer arrives.
    assert not dialog.pages.isEnabled()
    qtbot.waitUntil(dialog.problem.isVisible, timeout=5000)
    assert dialog.problem.text() == "Incorrect username or password."
    assert dialog.password.text() == ""
    dialog.password.setText(STAFF_PASSWORD)
    with qtbot.waitSignal(dialog.accepted, timeout=5000):
        dialog.buttons.accepted.emit()
    assert dialog.signed_in is not None and dialog.signed_in.actor.username == "ann"
    assert dialog.password.text() == ""
