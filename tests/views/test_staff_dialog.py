"""The staff users dialog: its presenter driven directly (a stand-in view, calls run
inline), then the real dialog offscreen over a real SQLite file and a real JobRunner, its
forms answered through their buttons and signals."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QLabel, QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import update
from sqlalchemy.orm import Session

from console.adapters.staff_table import StaffColumn
from console.models.schema import StaffUser
from console.models.staff_list import StaffMember
from console.models.states import StaffRole
from console.services.desk import StaffDesk
from console.services.errors import STALE_RECORD_MESSAGE
from console.services.permissions import Actor, NotAllowed
from console.services.staff.admin import list_staff
from console.services.staff.users import sign_in
from console.services.workstation import Changes, Workstation
from console.views.staff_dialog import StaffDialog
from console.views.staff_forms import AddStaffForm, ChangeRoleForm, ResetPasswordForm
from console.views.staff_presenter import NOTHING_SELECTED, PASSWORDS_DIFFER, StaffPresenter
from console.workers.job_runner import JobRunner
from tests.runners import InlineRunner
from tests.services.conftest import NOW, add_staff, make_workstation, staff_hash  # noqa: F401

REFUSED = "Only administrators may manage staff users; ask one of them."
NEW_PASSWORD = "Plum-Orchard-Lantern-42"
TEMPORARY = re.compile(r"[a-z2-9]{4}(?:-[a-z2-9]{4}){3,}")


class FakeStaffView:
    def __init__(self) -> None:
        self.members: list[StaffMember] = []
        self.message = ("", False)
        self.refusals: list[str] = []
        self.done: list[str] = []
        self.resets: list[str] = []
        self.selected: list[int] = []
        self.busy_changes: list[bool] = []

    def show_staff(self, members: Sequence[StaffMember]) -> None:
        self.members = list(members)

    def show_message(self, text: str, *, problem: bool) -> None:
        self.message = (text, problem)

    def show_refusal(self, text: str) -> None:
        self.refusals.append(text)

    def change_made(self, text: str, changes: Changes) -> None:
        self.done.append(text)

    def password_reset(self, text: str, changes: Changes) -> None:
        self.resets.append(text)

    def select_staff(self, staff_id: int) -> None:
        self.selected.append(staff_id)

    def set_busy(self, busy: bool) -> None:
        self.busy_changes.append(busy)

    def member(self, username: str) -> StaffMember:
        return next(m for m in self.members if m.username == username)


@pytest.fixture
def admin(desk: Workstation, staff_hash: str) -> Actor:  # noqa: F811
    admin = add_staff(desk.database, StaffRole.ADMIN, staff_hash, "ada")
    add_staff(desk.database, StaffRole.FRONT_DESK, staff_hash, "frank")
    add_staff(desk.database, StaffRole.MANAGER, staff_hash, "maria")
    return admin


@pytest.fixture
def runner() -> Iterator[JobRunner]:
    runner = JobRunner()
    yield runner
    runner.close()


@pytest.fixture
def presenter(desk: Workstation, admin: Actor) -> tuple[StaffPresenter, FakeStaffView]:
    view = FakeStaffView()
    presenter = StaffPresenter(StaffDesk(desk, admin), InlineRunner(), view)
    presenter.load()
    return presenter, view


Driven = tuple[StaffPresenter, FakeStaffView]


# --- the presenter -------------------------------------------------------------------------


def test_load_lists_every_staff_user(presenter: Driven) -> None:
    _, view = presenter
    assert [m.username for m in view.members] == ["ada", "frank", "maria"]


def test_actions_follow_the_selection(presenter: Driven, admin: Actor) -> None:
    presenter_, view = presenter
    nothing = presenter_.actions(None)
    assert (nothing.toggle, nothing.change_role, nothing.reset_password) == (NOTHING_SELECTED,) * 3
    frank = presenter_.actions(view.member("frank"))
    assert frank.toggle_label == "Disable"
    assert (frank.toggle, frank.change_role, frank.reset_password) == (None, None, None)
    own = presenter_.actions(view.member("ada"))
    assert own.toggle is not None and "your own staff account" in own.toggle
    assert own.change_role is not None and "your own role" in own.change_role
    assert own.reset_password is not None and "Change my password" in own.reset_password


def test_add_checks_the_repeated_password_then_asks_the_service(
    presenter: Driven, desk: Workstation
) -> None:
    presenter_, view = presenter
    presenter_.add("bea", "Bea Arthur", StaffRole.MANAGER, NEW_PASSWORD, NEW_PASSWORD + "x")
    assert view.refusals == [PASSWORDS_DIFFER]

    presenter_.add("bea", "", StaffRole.MANAGER, "short", "short")
    assert "needs at least 12 characters" in view.refusals[-1]
    assert view.busy_changes[-2:] == [True, False]

    presenter_.add(" bea ", "Bea Arthur", StaffRole.MANAGER, NEW_PASSWORD, NEW_PASSWORD)
    assert view.done == ["Added bea (Manager)."]
    bea = view.member("bea")
    assert (bea.display_name, bea.role) == ("Bea Arthur", "manager")
    assert view.selected == [bea.id]
    assert bea.must_change_password  # the administrator typed it: bea chooses her own
    assert sign_in(desk, "BEA", NEW_PASSWORD).actor.id == bea.id


def test_disable_then_enable(presenter: Driven) -> None:
    presenter_, view = presenter
    presenter_.toggle_disabled(view.member("frank"))
    assert view.done == ["frank is disabled and can no longer sign in."]
    frank = view.member("frank")
    assert frank.disabled
    assert presenter_.actions(frank).toggle_label == "Enable"
    presenter_.toggle_disabled(frank)
    assert view.done[-1] == "frank is enabled and can sign in again."
    assert not view.member("frank").disabled


def test_change_role(presenter: Driven) -> None:
    presenter_, view = presenter
    presenter_.change_role(view.member("frank"), StaffRole.MANAGER)
    assert view.done == ["frank is now Manager."]
    assert view.member("frank").role == "manager"
    presenter_.change_role(view.member("frank"), StaffRole.MANAGER)
    assert view.refusals == ["frank already has the role manager."]


def test_a_change_made_elsewhere_meanwhile_is_refused_and_shown(
    presenter: Driven, desk: Workstation, admin: Actor
) -> None:
    presenter_, view = presenter
    seen = view.member("frank")
    with Session(desk.database.writer) as session, session.begin():
        session.execute(
            update(StaffUser)
            .where(StaffUser.id == seen.id)
            .values(role="manager", version=StaffUser.version + 1)
        )
    presenter_.toggle_disabled(seen)
    assert view.refusals == [STALE_RECORD_MESSAGE]
    assert view.member("frank").role == "manager"  # reloaded after the refusal


def test_reset_offers_a_temporary_password_the_user_must_replace(
    presenter: Driven, desk: Workstation
) -> None:
    presenter_, view = presenter
    frank = view.member("frank")
    temporary = presenter_.temporary_password(frank)
    assert TEMPORARY.fullmatch(temporary)
    assert presenter_.temporary_password(frank) != temporary
    presenter_.reset_password(frank, temporary)
    assert len(view.resets) == 1
    assert view.resets[0].startswith("Done. Tell frank this temporary password now")
    assert temporary not in view.resets[0]
    assert view.member("frank").must_change_password
    assert sign_in(desk, "frank", temporary).must_change_password


@pytest.mark.parametrize("role", [StaffRole.FRONT_DESK, StaffRole.MANAGER])
def test_a_front_desk_or_manager_presenter_gets_the_refusal(
    desk: Workstation,
    admin: Actor,
    staff_hash: str,  # noqa: F811
    role: StaffRole,
) -> None:
    actor = add_staff(desk.database, role, staff_hash, "someone")
    view, runner = FakeStaffView(), InlineRunner()
    presenter = StaffPresenter(StaffDesk(desk, actor), runner, view)
    assert presenter.refusal == REFUSED
    presenter.load()
    assert view.message == (REFUSED, True)
    presenter.add("bea", "", StaffRole.ADMIN, NEW_PASSWORD, NEW_PASSWORD)
    presenter.toggle_disabled(list_staff(desk, admin)[0])
    assert view.refusals == [REFUSED, REFUSED]
    assert runner.calls == 0 and view.members == []


# --- the dialog ----------------------------------------------------------------------------


def open_dialog(qtbot: QtBot, desk: Workstation, actor: Actor, runner: JobRunner) -> StaffDialog:
    dialog = StaffDialog(StaffDesk(desk, actor), runner)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.model.rowCount() > 0, timeout=5000)
    return dialog


def settle(qtbot: QtBot, runner: JobRunner) -> None:
    qtbot.waitUntil(lambda: runner.pending_jobs == 0, timeout=5000)


def select(dialog: StaffDialog, username: str) -> StaffMember:
    row = [m.username for m in list_members(dialog)].index(username)
    dialog.table.selectRow(row)
    member = dialog.selected_member()
    assert member is not None and member.username == username
    return member


def list_members(dialog: StaffDialog) -> list[StaffMember]:
    return [m for r in range(dialog.model.rowCount()) if (m := dialog.model.row_number(r))]


def status_of(dialog: StaffDialog, username: str) -> str:
    row = [m.username for m in list_members(dialog)].index(username)
    return str(dialog.model.index(row, StaffColumn.STATUS).data())


def test_dialog_lists_staff_and_names_every_control(
    qtbot: QtBot, desk: Workstation, admin: Actor, runner: JobRunner
) -> None:
    dialog = open_dialog(qtbot, desk, admin, runner)
    assert dialog.windowTitle() == "Staff users"
    assert [m.username for m in list_members(dialog)] == ["ada", "frank", "maria"]
    controls: list[QWidget] = [
        dialog.table,
        dialog.add_button,
        dialog.toggle_button,
        dialog.role_button,
        dialog.reset_button,
        *dialog.buttons.buttons(),
    ]
    for control in controls:
        assert control.accessibleName()
    # Nothing selected: only Add… works, and the others say why not.
    assert dialog.add_button.isEnabled()
    for button in (dialog.toggle_button, dialog.role_button, dialog.reset_button):
        assert not button.isEnabled()
        assert button.toolTip() == NOTHING_SELECTED

    chain: list[QWidget] = []
    widget: QWidget = dialog.table
    for _ in range(100):
        chain.append(widget)
        widget = widget.nextInFocusChain()
        if widget is dialog.table:
            break
    for control in controls:
        assert control in chain


def test_dialog_reads_like_the_action_dialogs_and_the_invitations_table(
    qtbot: QtBot, desk: Workstation, admin: Actor, runner: JobRunner
) -> None:
    dialog = open_dialog(qtbot, desk, admin, runner)
    heading = dialog.findChild(QLabel, "staffHeading")
    assert heading is not None and heading.text() == "Staff users"
    assert dialog.layout().contentsMargins().left() >= 16
    assert not dialog.table.showGrid()
    header = dialog.table.horizontalHeader()
    assert header.defaultAlignment() & Qt.AlignmentFlag.AlignLeft
    # The status is written, with a dot beside it: never the colour alone.
    status = dialog.model.index(0, StaffColumn.STATUS)
    assert status.data() == "Active"
    assert isinstance(status.data(Qt.ItemDataRole.DecorationRole), QIcon)
    # Room for a handful of staff users, not a screenful of empty rows.
    assert dialog.table.height() < 300


def test_own_row_cannot_be_disabled_demoted_or_reset(
    qtbot: QtBot, desk: Workstation, admin: Actor, runner: JobRunner
) -> None:
    dialog = open_dialog(qtbot, desk, admin, runner)
    select(dialog, "ada")
    for button in (dialog.toggle_button, dialog.role_button, dialog.reset_button):
        assert not button.isEnabled()
        assert "own" in button.toolTip()


def test_disable_and_enable_from_the_dialog(
    qtbot: QtBot, desk: Workstation, admin: Actor, runner: JobRunner
) -> None:
    dialog = open_dialog(qtbot, desk, admin, runner)
    changed: list[Changes] = []
    dialog.changed.connect(changed.append)
    frank = select(dialog, "frank")
    assert dialog.toggle_button.text() == "&Disable"

    dialog.toggle_button.click()
    assert runner.pending_jobs >= 1  # on the worker, not the GUI thread
    settle(qtbot, runner)
    assert dialog.message.text() == "frank is disabled and can no longer sign in."
    assert status_of(dialog, "frank") == "Disabled"
    assert dialog.selected_member() is not None
    assert dialog.selected_member().username == "frank"  # type: ignore[union-attr]
    assert dialog.toggle_button.text() == "&Enable"
    assert changed == [Changes(staff=frozenset({frank.id}))]

    dialog.toggle_button.click()
    settle(qtbot, runner)
    assert status_of(dialog, "frank") == "Active"


def test_add_form_keeps_a_refusal_in_the_form_and_closes_on_success(
    qtbot: QtBot, desk: Workstation, admin: Actor, runner: JobRunner
) -> None:
    dialog = open_dialog(qtbot, desk, admin, runner)
    dialog.add_button.click()
    form = dialog.open_form
    assert isinstance(form, AddStaffForm)
    assert form.isVisible()
    for control in (form.username, form.display_name, form.role, form.password, form.repeated):
        assert control.accessibleName()
    qtbot.keyClicks(form.username, "bea")
    qtbot.keyClicks(form.display_name, "Bea Arthur")
    form.role.setCurrentIndex(form.role.findData("manager"))
    qtbot.keyClicks(form.password, "bea-password")
    qtbot.keyClicks(form.repeated, "bea-password")

    form.action_button.click()
    settle(qtbot, runner)
    assert form.isVisible()
    assert "must not contain the username" in form.problem.text()
    assert form.username.text() == "bea"  # nothing typed is lost

    for field in (form.password, form.repeated):
        field.clear()
        qtbot.keyClicks(field, NEW_PASSWORD)
    with qtbot.waitSignal(form.finished, timeout=5000):
        form.action_button.click()
    settle(qtbot, runner)
    qtbot.waitUntil(lambda: len(list_members(dialog)) == 4, timeout=5000)
    assert dialog.open_form is None
    assert dialog.message.text() == "Added bea (Manager)."
    selected = dialog.selected_member()
    assert selected is not None and selected.username == "bea"


def test_change_role_form(qtbot: QtBot, desk: Workstation, admin: Actor, runner: JobRunner) -> None:
    dialog = open_dialog(qtbot, desk, admin, runner)
    select(dialog, "maria")
    dialog.role_button.click()
    form = dialog.open_form
    assert isinstance(form, ChangeRoleForm)
    assert form.chosen_role() is StaffRole.MANAGER
    form.role.setCurrentIndex(form.role.findData("admin"))
    with qtbot.waitSignal(form.finished, timeout=5000):
        form.action_button.click()
    settle(qtbot, runner)
    qtbot.waitUntil(lambda: select(dialog, "maria").role == "admin", timeout=5000)
    assert dialog.message.text() == "maria is now Administrator."


def test_reset_form_shows_the_temporary_password_once(
    qtbot: QtBot, desk: Workstation, admin: Actor, runner: JobRunner
) -> None:
    dialog = open_dialog(qtbot, desk, admin, runner)
    select(dialog, "frank")
    dialog.reset_button.click()
    form = dialog.open_form
    assert isinstance(form, ResetPasswordForm)
    temporary = form.password.text()
    assert TEMPORARY.fullmatch(temporary)
    assert form.password.accessibleName() == "Temporary password"

    form.action_button.click()
    settle(qtbot, runner)
    qtbot.waitUntil(lambda: status_of(dialog, "frank") == "Must change password", timeout=5000)
    assert form.isVisible() and form.password.isReadOnly()
    assert form.password.text() == temporary
    assert form.problem.text().startswith("Done. Tell frank this temporary password now")
    assert not form.action_button.isVisible()
    assert form.cancel_button.text() == "Done"
    assert temporary not in dialog.message.text()

    with qtbot.waitSignal(form.finished, timeout=1000):
        form.cancel_button.click()
    assert dialog.open_form is None
    assert sign_in(desk, "frank", temporary).must_change_password


def test_closing_the_dialog_drops_answers_still_on_their_way(
    qtbot: QtBot, desk: Workstation, admin: Actor, runner: JobRunner
) -> None:
    dialog = open_dialog(qtbot, desk, admin, runner)
    select(dialog, "frank")
    dialog.toggle_button.click()
    dialog.done(0)
    settle(qtbot, runner)
    assert dialog.message.text() == ""
    assert status_of(dialog, "frank") == "Active"  # the table was not touched again


@pytest.mark.parametrize("role", [StaffRole.FRONT_DESK, StaffRole.MANAGER])
def test_dialog_does_not_open_for_a_role_without_the_permission(
    desk: Workstation,
    staff_hash: str,  # noqa: F811
    runner: JobRunner,
    role: StaffRole,
) -> None:
    actor = add_staff(desk.database, role, staff_hash)
    with pytest.raises(NotAllowed, match=REFUSED):
        StaffDialog(StaffDesk(desk, actor), runner)
    assert runner.pending_jobs == 0
