"""The front-desk workflow on the real window over a real database (issue 6): search, select,
see what the patient sees, revoke, re-issue, read the PIN, write the handout; the list and the
details read again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QMenuBar,
    QScrollBar,
    QTabBar,
    QWidget,
)
from pytestqt.qtbot import QtBot
from sqlalchemy import select
from sqlalchemy.orm import Session

from console.adapters.account_table import AccountTableModel
from console.app import build_main_window
from console.models.account_list import AccountRow
from console.models.database import Database
from console.models.schema import Access, Invitation, OutboxMessage, PortalAccount
from console.models.states import StaffRole
from console.services.accounts.actions import RevokeReason
from console.services.clock import ManualClock
from console.services.desk import StaffDesk
from console.services.passwords import verify_password
from console.services.staff.session import StaffSession
from console.services.staff.users import SignedIn
from console.services.workstation import Changes
from console.views import reissue_pin_page
from console.views.account_forms import DeactivateDialog, EditContactDialog, ResendResetDialog
from console.views.actions import ACTIONS
from console.views.front_desk import FrontDesk
from console.views.link_dialog import LinkDialog
from console.views.main_window import MainWindow
from console.views.reissue_dialog import ReissueDialog
from console.views.revoke_dialog import RevokeDialog
from console.workers.job_runner import JobRunner
from tests.adapters.clinic_accounts import CountedReads, add_clinic_accounts
from tests.services.conftest import NOW, add_staff, make_workstation


@pytest.fixture
def desk_window(
    qtbot: QtBot, database: Database, staff_hash: str
) -> Iterator[tuple[MainWindow, FrontDesk]]:
    add_clinic_accounts(database)
    actor = add_staff(database, StaffRole.FRONT_DESK, staff_hash)
    workstation = make_workstation(database, ManualClock(NOW))
    window = build_main_window(database, StaffSession.begin(SignedIn(actor, False), NOW))
    qtbot.addWidget(window)
    runner = JobRunner()
    desk = FrontDesk(window, StaffDesk(workstation, actor), runner)
    with qtbot.waitSignal(window.model.row_count_changed, timeout=5000):
        pass
    yield window, desk
    runner.close()
    window.shutdown()


def open_account(qtbot: QtBot, window: MainWindow, desk: FrontDesk, search: str) -> None:
    """Search, then select the first row and wait for its details."""
    with qtbot.waitSignal(window.model.row_count_changed, timeout=5000):
        window.search_field.setText(search)
    with qtbot.waitSignal(desk.panel.loaded, timeout=5000):
        window.table.selectRow(0)


def test_search_select_revoke_reissue_and_print_the_handout(
    qtbot: QtBot,
    database: Database,
    desk_window: tuple[MainWindow, FrontDesk],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    opened: list[Path] = []  # the system's PDF viewer is outside the product
    monkeypatch.setattr(
        reissue_pin_page, "open_with_system_viewer", lambda p: opened.append(p) or True
    )
    window, desk = desk_window
    open_account(qtbot, window, desk, "whopper")
    details = desk.panel.details
    assert details is not None and details.account.username == "whopper"
    assert "create a new Patient Portal account" in details.patient_view.message

    window.actions_by_id["revoke"].trigger()
    (dialog,) = window.findChildren(RevokeDialog)
    qtbot.waitUntil(lambda: dialog.reason.isEnabled(), timeout=5000)
    dialog.reason.setCurrentIndex(dialog.reason.findData(RevokeReason.SHARED_EMAIL.value))
    dialog.confirmation.setChecked(True)
    assert dialog.revoke_button.isEnabled()
    with qtbot.waitSignal(dialog.revoked, timeout=5000):
        dialog.revoke_button.click()

    with Session(database.engine) as session:
        account = session.get_one(PortalAccount, details.account_id)
        assert account.state == "revoked" and account.revoke_reason == "shared_email"
    qtbot.waitUntil(
        lambda: desk.panel.details is not None and desk.panel.details.account.state == "revoked",
        timeout=5000,
    )

    # Re-issue from the same chart, to an address of Walter's own.
    window.actions_by_id["reissue"].trigger()
    (reissue,) = window.findChildren(ReissueDialog)
    qtbot.keyClicks(reissue.email, "walter.hopper@example.net")
    qtbot.waitUntil(reissue.issue_button.isEnabled, timeout=5000)  # checked: free
    with qtbot.waitSignal(reissue.issued, timeout=10_000):
        reissue.issue_button.click()
    pin = reissue.pin_page.pin_label.text().replace(" ", "")
    assert len(pin) == 6 and pin.isdigit()
    with Session(database.engine) as session:
        invitation = session.scalars(
            select(Invitation).where(Invitation.patient_id == details.chart.patient_id)
        ).one()
        assert invitation.state == "pending" and verify_password(pin, invitation.pin_hash)
    handout = tmp_path / "handout.pdf"
    reissue.presenter.save_handout(handout)
    assert handout.read_bytes().startswith(b"%PDF") and opened == [handout]
    reissue.pin_page.done_button.click()
    assert reissue.pin_page.pin_label.text() == ""

    # The new invitation is on the Invitations page (Ctrl+3), pending.
    window.navigation.setCurrentRow(2)
    qtbot.waitUntil(
        lambda: any(
            row.target_email == "walter.hopper@example.net" and row.state == "pending"
            for row in desk.invitations.model.rows
        ),
        timeout=5000,
    )


def test_locking_clears_the_details(
    qtbot: QtBot, desk_window: tuple[MainWindow, FrontDesk]
) -> None:
    window, desk = desk_window
    open_account(qtbot, window, desk, "ada")
    desk.clear()
    assert desk.panel.details is None


def test_a_worklist_step_resolves_its_cluster(
    qtbot: QtBot, database: Database, desk_window: tuple[MainWindow, FrontDesk]
) -> None:
    window, desk = desk_window
    worklist = desk.worklist
    qtbot.waitUntil(lambda: not worklist.busy and worklist.model.cases != [], timeout=5000)
    window.navigation.setCurrentRow(1)
    assert window.work_areas.currentWidget() is worklist
    (thompsons,) = [c for c in worklist.model.cases if c.email_key == "unix@example.com"]
    dennis = next(a for a in thompsons.accounts if a.username == "dthompson")
    step = thompsons.step_for(dennis.account_id)
    assert step is not None and step.kind == "revoke_and_reinvite"

    worklist.account_chosen.emit(dennis.account_id, dennis.patient_id, step.kind)
    (dialog,) = window.findChildren(RevokeDialog)
    qtbot.waitUntil(lambda: dialog.reason.isEnabled(), timeout=5000)
    assert dialog.chosen_reason() is RevokeReason.SHARED_EMAIL  # filled in, staff confirm
    assert not dialog.revoke_button.isEnabled()
    dialog.confirmation.setChecked(True)
    with qtbot.waitSignal(dialog.revoked, timeout=5000):
        dialog.revoke_button.click()
    qtbot.waitUntil(
        lambda: all(c.email_key != "unix@example.com" for c in worklist.model.cases), timeout=5000
    )
    assert any(c.email_key == "hopper.family@example.com" for c in worklist.model.cases)
    with Session(database.engine) as session:  # the notice was ticked by default
        notices = session.scalars(
            select(OutboxMessage.kind).where(OutboxMessage.account_id == dennis.account_id)
        ).all()
    assert notices == ["access_revoked"]
    # The next step opens by itself: re-invite Dennis's chart at an address of his own.
    (reissue,) = window.findChildren(ReissueDialog)
    assert "Dennis Thompson" in reissue.windowTitle()
    reissue.done(0)


def test_a_worklist_link_step_links_the_child_then_revokes_its_login(
    qtbot: QtBot, database: Database, desk_window: tuple[MainWindow, FrontDesk]
) -> None:
    window, desk = desk_window
    worklist = desk.worklist
    qtbot.waitUntil(lambda: not worklist.busy and worklist.model.cases != [], timeout=5000)
    (hoppers,) = [c for c in worklist.model.cases if c.email_key == "hopper.family@example.com"]
    walter = next(a for a in hoppers.accounts if a.username == "whopper")
    step = hoppers.step_for(walter.account_id)
    assert step is not None and step.kind == "link_to_guardian"

    worklist.account_chosen.emit(walter.account_id, walter.patient_id, step.kind)
    (link,) = window.findChildren(LinkDialog)
    # Grace's account is found and chosen already; nothing happens until staff press Link.
    qtbot.waitUntil(link.link_button.isEnabled, timeout=5000)
    chosen = link.presenter.chosen
    assert chosen is not None and chosen.username == "ghopper"
    with qtbot.waitSignal(link.changed, timeout=5000):
        link.link_button.click()

    (revoke,) = window.findChildren(RevokeDialog)
    assert revoke.windowTitle() == "Revoke access — whopper"
    assert revoke.chosen_reason() is RevokeReason.SHARED_EMAIL
    assert revoke.note.toPlainText() == "Chart linked to ghopper's account."
    qtbot.waitUntil(lambda: revoke.reason.isEnabled(), timeout=5000)
    revoke.notify.setChecked(False)  # a child's login: nobody to tell
    revoke.confirmation.setChecked(True)
    with qtbot.waitSignal(revoke.revoked, timeout=5000):
        revoke.revoke_button.click()
    with Session(database.engine) as session:
        grace = session.scalars(select(PortalAccount).where(PortalAccount.username == "ghopper"))
        relations = session.scalars(
            select(Access.relation).where(
                Access.account_id == grace.one().id,
                Access.patient_id == walter.patient_id,
                Access.revoked_at.is_(None),
            )
        ).all()
        walter_state = session.scalars(
            select(PortalAccount.state).where(PortalAccount.id == walter.account_id)
        ).one()
        notices = session.scalars(
            select(OutboxMessage).where(OutboxMessage.account_id == walter.account_id)
        ).all()
    assert relations == ["guardian"] and walter_state == "revoked" and notices == []
    assert not window.findChildren(ReissueDialog)  # a linked child needs no invitation


def test_link_a_child_to_the_guardian_from_the_details(
    qtbot: QtBot, database: Database, desk_window: tuple[MainWindow, FrontDesk]
) -> None:
    window, desk = desk_window
    open_account(qtbot, window, desk, "whopper")
    child = desk.panel.details
    assert child is not None
    window.actions_by_id["link"].trigger()
    (dialog,) = window.findChildren(LinkDialog)
    qtbot.keyClicks(dialog.search, "ghopper")
    qtbot.waitUntil(lambda: dialog.results.topLevelItemCount() == 1, timeout=5000)
    dialog.results.setCurrentItem(dialog.results.topLevelItem(0))
    qtbot.waitUntil(dialog.link_button.isEnabled, timeout=5000)
    with qtbot.waitSignal(dialog.changed, timeout=5000):
        dialog.link_button.click()
    with Session(database.engine) as session:
        guardian = session.scalars(
            select(PortalAccount).where(PortalAccount.username == "ghopper")
        ).one()
        links = session.scalars(
            select(Access.relation).where(
                Access.account_id == guardian.id, Access.patient_id == child.chart.patient_id
            )
        ).all()
    assert links == ["guardian"]


def test_the_small_account_actions_open_for_the_shown_account(
    qtbot: QtBot, desk_window: tuple[MainWindow, FrontDesk]
) -> None:
    window, desk = desk_window
    open_account(qtbot, window, desk, "ada")
    for action, dialog_class in (
        ("resend_reset", ResendResetDialog),
        ("deactivate", DeactivateDialog),
        ("edit_contact", EditContactDialog),
    ):
        window.actions_by_id[action].trigger()
        (dialog,) = window.findChildren(dialog_class)
        dialog.done(0)
        dialog.deleteLater()
        qtbot.waitUntil(lambda cls=dialog_class: not window.findChildren(cls), timeout=5000)


def test_a_shared_email_call_by_keyboard_alone(
    qtbot: QtBot, desk_window: tuple[MainWindow, FrontDesk]
) -> None:
    """Ctrl+F, type, Down to the row, Enter to what the patient sees, Escape back, Ctrl+R
    (revoke's shortcut) opens the dialog for that account."""
    window, desk = desk_window
    window.show()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert window.search_field.hasFocus()
    with qtbot.waitSignal(window.model.row_count_changed, timeout=5000):
        qtbot.keyClicks(window.search_field, "whopper")
    qtbot.keyClick(window.search_field, Qt.Key.Key_Down)
    assert window.table.hasFocus()
    with qtbot.waitSignal(desk.panel.loaded, timeout=5000):
        qtbot.keyClick(window.table, Qt.Key.Key_Down)
    qtbot.keyClick(window.table, Qt.Key.Key_Return)
    focused = QApplication.focusWidget()
    assert focused is not None and focused.accessibleName() == "Message the patient sees"
    assert "healthcare provider" in focused.text()
    qtbot.keyClick(focused, Qt.Key.Key_Escape)
    assert window.table.hasFocus()
    revoke = window.actions_by_id["revoke"]
    qtbot.keyClick(
        window.table, revoke.shortcut()[0].key(), revoke.shortcut()[0].keyboardModifiers()
    )
    (dialog,) = window.findChildren(RevokeDialog)
    assert dialog.windowTitle() == "Revoke access — whopper"
    dialog.done(0)


def test_every_control_on_every_page_has_an_accessible_name(
    qtbot: QtBot, desk_window: tuple[MainWindow, FrontDesk]
) -> None:
    window, desk = desk_window
    window.show()
    open_account(qtbot, window, desk, "whopper")
    qtbot.waitUntil(lambda: not desk.worklist.busy and desk.worklist.model.cases != [])
    for page in range(window.navigation.count()):
        window.navigation.setCurrentRow(page)
        unnamed = [
            f"{type(widget).__name__} {widget.objectName()}"
            for widget in window.findChildren(QWidget)
            if widget.isVisible()
            and widget.focusPolicy() != Qt.FocusPolicy.NoFocus
            and not widget.accessibleName()
            and not (isinstance(widget, QAbstractButton) and widget.text())
            and not isinstance(widget, QScrollBar | QTabBar | QMenuBar)
        ]
        assert unnamed == [], window.navigation.item(page).text()


def test_f5_reads_the_page_on_screen_again(
    qtbot: QtBot, desk_window: tuple[MainWindow, FrontDesk]
) -> None:
    window, desk = desk_window
    qtbot.waitUntil(lambda: not desk.worklist.busy and not desk.invitations.busy, timeout=5000)
    for page, view in ((1, desk.worklist), (2, desk.invitations)):
        window.navigation.setCurrentRow(page)
        with qtbot.waitSignal(view.loaded, timeout=5000):
            window.refresh_action.trigger()
    window.navigation.setCurrentRow(0)
    with qtbot.waitSignal(window.model.row_count_changed, timeout=5000):
        window.refresh_action.trigger()


# --- What changed drives every refresh (issue 12, point 5) ---------------------------------


@pytest.fixture
def counted_desk(
    qtbot: QtBot, database: Database, staff_hash: str
) -> Iterator[tuple[MainWindow, FrontDesk, CountedReads]]:
    """The front desk over a table whose reads are counted, in windows of four rows, every
    window read and every page loaded."""
    add_clinic_accounts(database)
    actor = add_staff(database, StaffRole.FRONT_DESK, staff_hash)
    workstation = make_workstation(database, ManualClock(NOW))
    source = CountedReads(database)
    model = AccountTableModel(source, window_size=4)
    window = MainWindow(model, database.display_name, actor=actor)
    qtbot.addWidget(window)
    runner = JobRunner()
    desk = FrontDesk(window, StaffDesk(workstation, actor), runner)
    with qtbot.waitSignal(model.row_count_changed, timeout=5000):
        model.refresh()
    qtbot.waitUntil(
        lambda: (
            all(model.account_row(r) for r in range(model.rowCount()))
            and not model.is_loading
            and not (desk.worklist.busy or desk.invitations.busy or desk.outbox.busy)
        ),
        timeout=5000,
    )
    yield window, desk, source
    runner.close()
    window.shutdown()


def shown(window: MainWindow, row: int) -> AccountRow:
    """Row ``row`` of the table, which must be in memory."""
    line = window.model.account_row(row)
    assert line is not None
    return line


def row_of(window: MainWindow, username: str) -> int:
    return next(r for r in range(window.model.rowCount()) if shown(window, r).username == username)


def select_account(qtbot: QtBot, window: MainWindow, desk: FrontDesk, username: str) -> int:
    """Select ``username``'s row and wait for its details; its row number."""
    row = row_of(window, username)
    with qtbot.waitSignal(desk.panel.loaded, timeout=5000):
        window.table.selectRow(row)
    return row


def test_one_revoke_rereads_only_the_changed_accounts_rows(
    qtbot: QtBot, counted_desk: tuple[MainWindow, FrontDesk, CountedReads]
) -> None:
    """Revoking Dennis Thompson changes his row and Ken's (their address is Ken's alone now):
    those two accounts are read again, those two rows announced; nothing is counted, no
    window is read and no other row is touched."""
    window, desk, source = counted_desk
    ken = row_of(window, "kthompson")
    dennis = select_account(qtbot, window, desk, "dthompson")
    ids = {shown(window, r).account_id for r in (ken, dennis)}
    source.calls.clear()
    announced: list[int] = []
    window.model.dataChanged.connect(
        lambda top, bottom, *_: announced.extend(range(top.row(), bottom.row() + 1))
    )

    window.actions_by_id["revoke"].trigger()
    (dialog,) = window.findChildren(RevokeDialog)
    qtbot.waitUntil(lambda: dialog.reason.isEnabled(), timeout=5000)
    dialog.reason.setCurrentIndex(dialog.reason.findData(RevokeReason.SHARED_EMAIL.value))
    dialog.confirmation.setChecked(True)
    with qtbot.waitSignal(dialog.revoked, timeout=5000):
        dialog.revoke_button.click()
    qtbot.waitUntil(
        lambda: (
            not window.model.is_loading
            and desk.panel.details is not None
            and desk.panel.details.account.state == "revoked"
        ),
        timeout=5000,
    )

    assert source.calls == [("rows_by_id", ids)]
    assert sorted(announced) == sorted([ken, dennis])
    assert shown(window, dennis).state == "revoked" and not shown(window, ken).shared_email


def test_the_panel_reloads_only_for_a_change_that_names_its_account_or_chart(
    qtbot: QtBot, database: Database, counted_desk: tuple[MainWindow, FrontDesk, CountedReads]
) -> None:
    window, desk, _ = counted_desk
    select_account(qtbot, window, desk, "aturing")
    details = desk.panel.details
    assert details is not None
    desk.changes.publish(Changes(accounts=frozenset({10**6}), patients=frozenset({10**6})))
    assert not desk.panel.busy and desk.panel.details is details
    with qtbot.waitSignal(desk.panel.loaded, timeout=5000):
        desk.changes.publish(Changes(patients=frozenset({details.chart.patient_id})))
    with qtbot.waitSignal(desk.panel.loaded, timeout=5000):
        desk.changes.publish(Changes(accounts=frozenset({details.account_id})))


def test_the_outbox_and_the_relay_wake_only_for_a_change_that_queued_mail(
    qtbot: QtBot, database: Database, counted_desk: tuple[MainWindow, FrontDesk, CountedReads]
) -> None:
    window, desk, _ = counted_desk
    woken: list[bool] = []
    desk.mail_queued.connect(lambda: woken.append(True))
    select_account(qtbot, window, desk, "aturing")
    details = desk.panel.details
    assert details is not None

    window.actions_by_id["edit_contact"].trigger()  # a change that queues no e-mail
    (edit,) = window.findChildren(EditContactDialog)
    qtbot.waitUntil(lambda: edit.phone.isEnabled(), timeout=5000)
    edit.phone.setText("555-0199")
    with qtbot.waitSignal(edit.changed, timeout=5000) as edited:
        edit.accept_button.click()
    assert edited.args[0].patients == {details.chart.patient_id}
    assert not desk.outbox.busy and woken == []
    qtbot.waitUntil(lambda: not desk.panel.busy, timeout=5000)

    window.actions_by_id["resend_reset"].trigger()  # one that does
    (resend,) = window.findChildren(ResendResetDialog)
    qtbot.waitUntil(resend.accept_button.isEnabled, timeout=5000)
    with qtbot.waitSignal(resend.changed, timeout=5000):
        resend.accept_button.click()
    assert desk.outbox.busy and woken == [True]
    qtbot.waitUntil(lambda: len(desk.outbox.model.rows) == 1, timeout=5000)


def test_account_actions_wait_for_the_selected_accounts_details(
    qtbot: QtBot, counted_desk: tuple[MainWindow, FrontDesk, CountedReads]
) -> None:
    """The row is there at once, its details a moment later: until then no account action
    can be clicked (it would have nothing to act on)."""
    window, desk, _ = counted_desk
    account_actions = [window.actions_by_id[spec.id] for spec in ACTIONS if spec.needs_account]
    assert len(account_actions) == 6

    window.table.selectRow(0)
    assert window.selected_account_id is not None and desk.panel.details is None
    assert not any(action.isEnabled() for action in account_actions)
    qtbot.waitUntil(lambda: desk.panel.details is not None, timeout=5000)
    assert all(action.isEnabled() for action in account_actions)

    window.table.selectRow(1)  # another account: its details are not there yet
    assert not any(action.isEnabled() for action in account_actions)
    qtbot.waitUntil(lambda: all(action.isEnabled() for action in account_actions), timeout=5000)
    assert desk.panel.details is not None
    assert desk.panel.details.account_id == window.selected_account_id


def test_changes_reach_no_page_while_the_console_is_locked(
    qtbot: QtBot, counted_desk: tuple[MainWindow, FrontDesk, CountedReads]
) -> None:
    """Behind the lock screen no page reads patient data; unlocking reads every page anyway."""
    window, desk, source = counted_desk
    window.show_locked("front desk", 5)
    desk.clear()
    source.calls.clear()
    woken: list[bool] = []
    desk.mail_queued.connect(lambda: woken.append(True))
    desk.changes.publish(
        Changes(
            accounts=frozenset({1}),
            invitations=frozenset({1}),
            email_keys=frozenset({"unix@example.com"}),
            outbox=frozenset({1}),
            mail_queued=frozenset({1}),
        )
    )
    assert not (desk.outbox.busy or desk.invitations.busy or desk.worklist.busy)
    assert source.calls == [] and woken == []
