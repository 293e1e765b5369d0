"""The GUI-stall probe's front-desk call (``python -m bench.gui_stall``): the demo front-desk
user signs in and, step by step the way a person does — keystrokes, clicks, menu actions,
every dialog opened with ``open()`` — searches, opens details, jumps to the end, sorts,
visits every page, revokes, re-issues an invitation (bcrypt) and prints its handout, links
a child to a guardian and goes through the small forms.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QPushButton
from sqlalchemy import text

from bench.measure import visible_rows
from bench.stall_console import Console, open_console, signed_in
from bench.stall_probe import Driver, StepFailed, run_loop, signalled
from console.adapters.account_cells import AccountColumn
from console.models.worklist import ClusterCase
from console.services.accounts.actions import RevokeReason
from console.services.accounts.worklist import shared_email_worklist
from console.services.settings.values import ConsoleSettings
from console.views import reissue_pin_page
from console.views.account_forms import DeactivateDialog, EditContactDialog, ResendResetDialog
from console.views.link_dialog import LinkDialog
from console.views.reissue_dialog import ReissueDialog
from console.views.revoke_dialog import RevokeDialog

STAFF_USER = "demo_front_desk"


@dataclass(frozen=True)
class Targets:
    """Whom the call is about, found before anything is measured."""

    revoke_username: str
    revoke_last_first: str
    revoke_mrn: str
    child_mrn: str
    guardian_username: str
    guardian_id: int
    plain_mrn: str
    search_name: str


def find_targets(cases: list[ClusterCase], engine: Any) -> Targets:
    """An adult to revoke and re-invite and a child to link, from the worklist's own
    proposals (two different shared addresses); an unshared account for the small forms."""
    revoke = link = None
    for case in cases:
        kinds = {step.kind: step for step in case.steps}
        if revoke is None and "revoke_and_reinvite" in kinds:
            revoke = (case, kinds["revoke_and_reinvite"])
        elif link is None and "link_to_guardian" in kinds:
            step = kinds["link_to_guardian"]
            link = (case, step) if step.guardian_account_id is not None else None
    if revoke is None or link is None:
        raise SystemExit("The demo clinic has no shared address to revoke or link.")
    adult = next(a for a in revoke[0].accounts if a.account_id == revoke[1].account_id)
    child = next(a for a in link[0].accounts if a.account_id == link[1].account_id)
    guardian = next(a for a in link[0].accounts if a.account_id == link[1].guardian_account_id)
    unshared = text(
        "SELECT p.mrn FROM portal_accounts a JOIN patients p ON p.id = a.patient_id "
        "WHERE a.state = 'legacy' AND NOT a.shared_email AND a.login_email IS NOT NULL "
        "AND NOT EXISTS (SELECT 1 FROM outbox_messages o WHERE o.account_id = a.id) "
        "ORDER BY a.id LIMIT 1 OFFSET :skip"
    )
    with engine.connect() as connection:
        plain_mrn = connection.execute(unshared, {"skip": 1000}).scalar()
        if plain_mrn is None:  # a small clinic (--patients 2000): its first will do
            plain_mrn = connection.execute(unshared, {"skip": 0}).scalar_one()
    return Targets(
        revoke_username=adult.username,
        revoke_last_first=f"{adult.last_name} {adult.first_name[:2]}".lower(),
        revoke_mrn=adult.mrn,
        child_mrn=child.mrn,
        guardian_username=guardian.username,
        guardian_id=guardian.account_id,
        plain_mrn=plain_mrn,
        search_name=adult.last_name.lower(),
    )


# --- the walk-through -------------------------------------------------------------------------


def walk(
    driver: Driver,
    database: Any,
    workstation: Any,
    settings: ConsoleSettings,
    *,
    folder: Path,
    freeze: bool,
) -> None:
    """Open the console and go through the call; every step measured by ``driver``. Files
    (the handout, the settings an administrator would save) go to ``folder``."""
    session = signed_in(workstation, STAFF_USER)
    targets = find_targets(shared_email_worklist(workstation, session.actor), database.engine)
    reissue_pin_page.open_with_system_viewer = lambda path: True  # no PDF viewer here

    # Step 1: the composition of console.app._run_gui, then the first page painted.
    with driver.step("Open the console: first page of the list painted"):
        made: list[Console] = []

        def build() -> None:
            made.append(
                open_console(database, workstation, settings, session, folder=folder, freeze=freeze)
            )

        driver.call("build and show the window (before it is on screen)", build)
        driver.restart()  # the build is not a stall: nothing is on screen yet
        (opened,) = made
        window, desk = opened.window, opened.desk
        model, table = window.model, window.table
        painted, settled = opened.painted, opened.settled
        driver.settled = settled
        driver.wait("first page", lambda: model.rowCount() > 0 and painted())
        window.activateWindow()  # shortcuts (Ctrl+2, F5, Escape) need the active window
        driver.wait("the window active", window.isActiveWindow)

    def shown(account_mrn: str) -> bool:
        details = desk.panel.details
        return details is not None and details.chart.mrn == account_mrn and not desk.panel.busy

    def key(widget: Any, key_code: Qt.Key, modifier: Any = Qt.KeyboardModifier.NoModifier) -> None:
        """Press a key as a person does: in the active window (shortcuts need it)."""
        if not window.isActiveWindow():  # a dialog that closed may have left it inactive
            window.activateWindow()
            driver.wait("the window active", window.isActiveWindow)
        driver.call(f"key {key_code.name}", lambda: QTest.keyClick(widget, key_code, modifier))

    def refresh_page(page: Any, loaded: list[object]) -> None:
        """F5 on a page; when it does nothing, its Refresh button (and say so)."""
        key(page, Qt.Key.Key_F5)
        if not run_loop(1.0, lambda: bool(loaded)):
            driver.note("F5 did nothing here (ambiguous shortcut?): clicked Refresh")
            buttons = page.findChildren(QPushButton)
            button = next(b for b in buttons if b.accessibleName().startswith("Refresh"))
            driver.call("Refresh", button.click)

    closed: dict[int, bool] = {}

    def visible(kind: type) -> Any:
        """The dialog of ``kind`` just opened; ``closed[id(dialog)]`` once it is done (it
        deletes itself on close, so it cannot be asked afterwards)."""
        found: list[Any] = window.findChildren(kind)
        dialogs = [d for d in found if d.isVisible()]
        if not dialogs:
            raise StepFailed(f"no {kind.__name__} open")
        dialog = dialogs[-1]
        number = id(dialog)
        closed[number] = False
        dialog.finished.connect(lambda _result: closed.update({number: True}))
        return dialog

    ctrl = Qt.KeyboardModifier.ControlModifier
    with driver.step("List: Down arrow to the next row, details shown"):
        driver.call("focus", lambda: table.setFocus(Qt.FocusReason.TabFocusReason))
        key(table, Qt.Key.Key_Down)
        current = model.account_row(table.currentIndex().row())
        assert current is not None
        driver.wait("its details", lambda: shown(current.mrn))
    with driver.step("List: jump to the end (Ctrl+End)"):
        key(table, Qt.Key.Key_End, ctrl)
        driver.wait("last rows", lambda: visible_rows(table).stop >= model.rowCount() - 1)
        driver.wait("last rows painted", painted)
    with driver.step("List: drag the scroll bar to the middle"):
        bar = table.verticalScrollBar()
        driver.call("scroll bar", lambda: bar.setValue(bar.maximum() // 2))
        driver.wait("middle rows painted", painted)
    with driver.step("List: back to the top (Ctrl+Home)"):
        key(table, Qt.Key.Key_Home, ctrl)
        driver.wait("first rows painted", painted)

    def sort_by(column: AccountColumn) -> None:
        header = table.horizontalHeader()
        middle = QPoint(header.sectionViewportPosition(column) + 20, header.height() // 2)
        driver.call(
            "header click",
            lambda: QTest.mouseClick(
                header.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, middle
            ),
        )
        driver.wait("sorted rows", lambda: model.account_sort.key is not None and painted())

    with driver.step("List: sort by last login (header click)"):
        sort_by(AccountColumn.LAST_LOGIN)
    with driver.step("List: sort by name again (header click)"):
        sort_by(AccountColumn.NAME)

    def visit(number: int, title: str, page: Any) -> None:
        """Switch to a page (its first show), then read it again: two steps."""
        with driver.step(f"{title}: switch to the page (Ctrl+{number})"):
            key(window, Qt.Key(Qt.Key.Key_0 + number), ctrl)
            driver.wait("the page", lambda: window.work_areas.currentWidget() is page)
        with driver.step(f"{title}: read it again (F5)"):
            loaded = signalled(page.loaded)
            refresh_page(page, loaded)
            driver.wait("the page read", lambda: bool(loaded))

    visit(2, "Shared e-mails", desk.worklist)
    with driver.step("Shared e-mails: open the first address"):
        first = desk.worklist.model.index(0, 0)
        driver.call("select", lambda: desk.worklist.tree.setCurrentIndex(first))
        driver.wait("its details", lambda: desk.worklist.detail.case is not None)
    visit(3, "Invitations", desk.invitations)
    with driver.step(f"Invitations: search '{targets.search_name}'"):
        loaded = signalled(desk.invitations.loaded)
        driver.type_text(desk.invitations.search, targets.search_name)
        driver.wait("matches", lambda: bool(loaded) and not desk.invitations.busy)
    visit(4, "Outbox", desk.outbox)
    with driver.step("Accounts: switch back (Ctrl+1)"):
        key(window, Qt.Key.Key_1, ctrl)
        driver.wait("list", lambda: window.work_areas.currentIndex() == 0 and painted())

    def search(typed: str, *, replace: bool = True) -> None:
        if replace:
            key(window.search_field, Qt.Key.Key_A, ctrl)  # select all: the next key replaces
        driver.type_text(window.search_field, typed)
        driver.wait("matches", lambda: model.account_filter.search == typed.strip() and painted())

    with driver.step(f"Search: type a name '{targets.revoke_last_first}'"):
        driver.call("focus", window.focus_search)
        search(targets.revoke_last_first, replace=False)
    with driver.step(f"Search: type an MRN '{targets.revoke_mrn}'"):
        search(targets.revoke_mrn)

    def open_first_row(mrn: str) -> None:
        centre = table.visualRect(model.index(0, AccountColumn.NAME)).center()
        driver.call(
            "click row",
            lambda: QTest.mouseClick(
                table.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, centre
            ),
        )
        driver.wait("account details", lambda: shown(mrn))

    with driver.step("Select the row: details panel"):
        open_first_row(targets.revoke_mrn)

    with driver.step("Revoke: open the dialog and read what stays behind"):
        driver.call("Revoke access…", window.actions_by_id["revoke"].trigger)
        revoke = visible(RevokeDialog)
        driver.wait("the preview", revoke.reason.isEnabled)
    with driver.step("Revoke: reason, confirm, Revoke; list and worklist re-read"):
        reason = revoke.reason.findData(RevokeReason.SHARED_EMAIL.value)
        driver.call("reason", lambda: revoke.reason.setCurrentIndex(reason))
        driver.call("confirm", revoke.confirmation.click)
        revoked = signalled(revoke.revoked)
        driver.call("Revoke", revoke.revoke_button.click)
        driver.wait("the revocation", lambda: bool(revoked))
        driver.wait(
            "the panel re-read",
            lambda: (
                desk.panel.details is not None
                and shown(targets.revoke_mrn)
                and desk.panel.details.account.state == "revoked"
            ),
        )

    with driver.step("Re-issue: open the dialog"):
        driver.call("Re-issue invitation…", window.actions_by_id["reissue"].trigger)
        reissue = visible(ReissueDialog)
        driver.wait("the form", reissue.email.isVisible)
    with driver.step("Re-issue: type the e-mail (checked as typed)"):
        address = f"{targets.revoke_username}.own@example.org"
        driver.type_text(reissue.email, address)
        driver.wait("the address checked", reissue.issue_button.isEnabled)
    with driver.step("Re-issue: Issue (bcrypt in the worker), the PIN shown"):
        driver.call("Issue", reissue.issue_button.click)
        driver.wait(
            "the PIN", lambda: reissue.on_pin_page and reissue.pin_page.pin_label.text() != ""
        )
    with driver.step("Re-issue: Print handout… (save dialog, PDF written)"):
        handout = folder / "handout.pdf"
        driver.call("Print handout…", reissue.pin_page.handout_button.click)
        chooser = reissue.pin_page.file_dialog
        if chooser is None:
            raise StepFailed("no file dialog")
        driver.wait("the save dialog", chooser.isVisible)
        driver.call("choose the file", lambda: chooser.selectFile(str(handout)))
        driver.call("Save", chooser.accept)
        driver.wait("the PDF", lambda: handout.exists() and "saved" in reissue.pin_page.note.text())
    with driver.step("Re-issue: Done (the PIN forgotten)"):
        driver.call("Done", reissue.pin_page.done_button.click)
        driver.wait("the dialog closed", lambda: closed[id(reissue)])

    with driver.step("Link: find the child by MRN and open the account"):
        search(targets.child_mrn)
        open_first_row(targets.child_mrn)
    with driver.step("Link: open the dialog"):
        driver.call("Link to an account…", window.actions_by_id["link"].trigger)
        link = visible(LinkDialog)
        driver.wait("the form", link.search.isEnabled)
    with driver.step(f"Link: search for the guardian '{targets.guardian_username}'"):
        driver.type_text(link.search, targets.guardian_username)
        driver.wait("results", lambda: link.results.topLevelItemCount() > 0)
    with driver.step("Link: choose the guardian, Link chart"):
        items = [link.results.topLevelItem(i) for i in range(link.results.topLevelItemCount())]
        item = next(i for i in items if i.data(0, Qt.ItemDataRole.UserRole) == targets.guardian_id)
        driver.call("choose", lambda: link.results.setCurrentItem(item))
        driver.wait("Link enabled", link.link_button.isEnabled)
        linked = signalled(link.changed)
        driver.call("Link chart", link.link_button.click)
        driver.wait("the link", lambda: bool(linked))

    with driver.step("Small forms: find an unshared account by MRN and open it"):
        search(targets.plain_mrn)
        open_first_row(targets.plain_mrn)
    with driver.step("Edit contact: open, change the phone, Save"):
        driver.call("Edit contact…", window.actions_by_id["edit_contact"].trigger)
        contact = visible(EditContactDialog)
        driver.wait("the contact details", contact.phone.isEnabled)
        driver.call("clear phone", contact.phone.clear)
        driver.call("type phone", lambda: QTest.keyClicks(contact.phone, "+1 555 010 2040"))
        driver.call("Save", contact.accept_button.click)
        driver.wait("saved", lambda: closed[id(contact)])
    with driver.step("Resend reset: open, Send"):
        driver.call("Resend reset e-mail…", window.actions_by_id["resend_reset"].trigger)
        resend = visible(ResendResetDialog)
        driver.wait("the address", resend.accept_button.isEnabled)
        driver.call("Send", resend.accept_button.click)
        driver.wait("sent", lambda: closed[id(resend)] or resend.problem.isVisible())
        if not closed[id(resend)]:
            raise StepFailed(f"refused: {resend.problem.text()}")
    with driver.step("Deactivate: open, note, confirm, Deactivate"):
        driver.call("Deactivate…", window.actions_by_id["deactivate"].trigger)
        deactivate = visible(DeactivateDialog)
        driver.wait("the account", deactivate.note.isEnabled)
        driver.call("note", lambda: QTest.keyClicks(deactivate.note, "Asked by phone."))
        driver.call("confirm", deactivate.confirmation.click)
        driver.wait("Deactivate enabled", deactivate.accept_button.isEnabled)
        driver.call("Deactivate", deactivate.accept_button.click)
        driver.wait("deactivated", lambda: closed[id(deactivate)])

    with driver.step("Search: clear (Escape) back to the whole list"):
        driver.call("focus", window.focus_search)
        key(window.search_field, Qt.Key.Key_Escape)
        driver.wait("whole list", lambda: model.account_filter.search == "" and painted())
    with driver.step("Refresh (F5)"):
        counted = signalled(model.row_count_changed)
        key(table, Qt.Key.Key_F5)
        driver.wait("the list re-read", lambda: bool(counted) and painted())

    opened.close()


__all__ = ["STAFF_USER", "Targets", "find_targets", "walk"]
