"""The re-issue invitation dialog: its presenter driven directly (a stand-in view, calls run
inline or held), then the real dialog offscreen over a real SQLite file and a real
JobRunner — typed address, verdicts, Issue, the PIN page, Copy, the handout, closing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from pytestqt.qtbot import QtBot
from sqlalchemy import select
from sqlalchemy.orm import Session

from console.models.schema import Invitation
from console.models.states import AccountState, StaffRole
from console.services.accounts.actions import RevokeReason, revoke_access
from console.services.desk import StaffDesk
from console.services.passwords import verify_password
from console.services.permissions import Actor, NotAllowed
from console.services.workstation import Changes, Workstation
from console.views import reissue_pin_page
from console.views.address_verdict import AddressState, AddressVerdict
from console.views.form_presenter import FormState
from console.views.reissue_dialog import ReissueDialog
from console.views.reissue_presenter import (
    CHECKING,
    FREE_ADDRESS_NEEDED,
    ISSUING,
    TYPE_ADDRESS,
    PinPage,
    ReissuePresenter,
)
from console.workers.job_runner import JobRunner
from tests.factories import add_account, add_patient
from tests.runners import HeldRunner, InlineRunner
from tests.services.conftest import NOW, add_staff, make_workstation, staff_hash  # noqa: F401

TAKEN = "jdoe@example.org"
FREE = "maria.new@example.org"


class FakeReissueView:
    def __init__(self) -> None:
        self.verdicts: list[AddressVerdict] = []
        self.refusals: list[str] = []
        self.busy_changes: list[bool] = []
        self.forms: list[FormState] = []
        self.pages: list[PinPage] = []
        self.changes: list[Changes] = []
        self.opened: list[Path] = []
        self.handout_problems: list[str] = []

    def show_address(self, verdict: AddressVerdict) -> None:
        self.verdicts.append(verdict)

    def show_refusal(self, text: str) -> None:
        self.refusals.append(text)

    def show_form(self, form: FormState) -> None:
        self.forms.append(form)
        if form.busy != (self.busy_changes or [False])[-1]:
            self.busy_changes.append(form.busy)

    def show_pin(self, page: PinPage) -> None:
        self.pages.append(page)

    def invitation_issued(self, changes: Changes) -> None:
        self.changes.append(changes)

    def open_document(self, path: Path) -> None:
        self.opened.append(path)

    def show_handout_problem(self, text: str) -> None:
        self.handout_problems.append(text)


@pytest.fixture
def front_desk(desk: Workstation, staff_hash: str) -> Actor:  # noqa: F811
    return add_staff(desk.database, StaffRole.FRONT_DESK, staff_hash, "dana")


@pytest.fixture
def chart(desk: Workstation, front_desk: Actor) -> int:
    """Maria's chart, whose shared-address account was revoked (re-inviting); and John's
    active account holding TAKEN."""
    with Session(desk.database.writer) as session, session.begin():
        maria = add_patient(session, first_name="Maria", last_name="Gonzalez", mrn="M0042317")
        own = add_account(session, "family@example.org", AccountState.LEGACY, maria)
        add_account(session, TAKEN, AccountState.LEGACY, username="jdoe")
        maria_id, own_id = maria.id, own.id
    revoke_access(desk, front_desk, own_id, reason=RevokeReason.SHARED_EMAIL)
    return maria_id


def stored_pin_hash(desk: Workstation, patient_id: int) -> str:
    with Session(desk.database.engine) as session:
        return session.scalars(
            select(Invitation.pin_hash).where(
                Invitation.patient_id == patient_id, Invitation.state == "pending"
            )
        ).one()


def make_presenter(
    desk: Workstation, actor: Actor, chart: int, runner: Any, writer: Any = None
) -> tuple[ReissuePresenter, FakeReissueView]:
    view = FakeReissueView()
    presenter = ReissuePresenter(
        StaffDesk(desk, actor),
        runner,
        view,
        chart,
        patient_name="Maria Gonzalez",
        write_handout=writer or (lambda path, **_: Path(path)),
        clinic_name="Riverside Family Practice",
    )
    return presenter, view


# --- the presenter -------------------------------------------------------------------------


def test_presenter_verdicts(desk: Workstation, front_desk: Actor, chart: int) -> None:
    presenter, view = make_presenter(desk, front_desk, chart, InlineRunner())
    presenter.check_address("maria@@example")
    assert view.verdicts[-1].state is AddressState.INVALID
    assert view.verdicts[-1].words.startswith("Not a valid address: ")
    assert not presenter.can_issue("maria@@example")

    presenter.check_address(TAKEN)
    assert view.verdicts[-1].state is AddressState.TAKEN
    assert view.verdicts[-1].words == "Taken by the active portal account 'jdoe'"

    presenter.check_address(FREE)
    assert view.verdicts[-1].state is AddressState.FREE
    assert presenter.can_issue(FREE)
    assert not presenter.can_issue(FREE + "x")  # typed on since: not checked yet
    presenter.address_edited(FREE + "x")
    assert view.verdicts[-1].state is AddressState.CHECKING
    assert not presenter.can_issue(FREE)


def test_presenter_warns_about_a_likely_same_mailbox(
    desk: Workstation, front_desk: Actor, chart: int
) -> None:
    with Session(desk.database.writer) as session, session.begin():
        add_account(session, "jane.doe@gmail.com", AccountState.LEGACY, username="jane")
    presenter, view = make_presenter(desk, front_desk, chart, InlineRunner())
    presenter.check_address("janedoe+maria@gmail.com")
    verdict = view.verdicts[-1]
    assert verdict.state is AddressState.WARNING
    assert verdict.words.startswith("Probably the same mailbox as jane.doe@gmail.com")
    assert presenter.can_issue("janedoe+maria@gmail.com")


def test_presenter_drops_stale_answers(desk: Workstation, front_desk: Actor, chart: int) -> None:
    runner = HeldRunner()
    presenter, view = make_presenter(desk, front_desk, chart, runner)
    presenter.check_address(FREE)
    presenter.check_address(TAKEN)
    runner.run_all()
    assert [v.state for v in view.verdicts] == [AddressState.CHECKING] * 2 + [AddressState.TAKEN]
    assert not presenter.can_issue(FREE)


def test_presenter_issues_shows_the_pin_once_and_forgets_it(
    desk: Workstation, front_desk: Actor, chart: int, tmp_path: Path
) -> None:
    written: list[dict[str, Any]] = []

    def writer(path: str, **fields: Any) -> Path:
        written.append(fields)
        return Path(path)

    presenter, view = make_presenter(desk, front_desk, chart, InlineRunner(), writer)
    presenter.issue(FREE, 10)
    assert view.refusals == ["Wait until the address has been checked."]

    presenter.check_address(FREE)
    presenter.issue(FREE, 10)
    assert view.busy_changes == [True, False]
    (page,) = view.pages
    digits = page.pin.replace(" ", "")
    assert len(page.pin) == 7 and page.pin[3] == " " and digits.isdigit() and len(digits) == 6
    assert verify_password(digits, stored_pin_hash(desk, chart))
    assert page.address == FREE
    assert "March 2026" in page.expires
    assert view.changes[0].patients == frozenset({chart})
    assert not presenter.can_issue(FREE)  # once

    presenter.save_handout(str(tmp_path / "handout.pdf"))
    assert view.opened == [tmp_path / "handout.pdf"]
    assert written[0]["pin"] == digits
    assert written[0]["patient_name"] == "Maria Gonzalez"
    assert written[0]["expires_at"] == dt.datetime(2026, 3, 12, 9, 0, tzinfo=dt.UTC)
    assert "birth" not in " ".join(written[0])

    presenter.close()
    assert presenter.pin is None and presenter.handout() is None


def test_presenter_shows_the_refusal_for_a_chart_with_an_active_account(
    desk: Workstation, front_desk: Actor
) -> None:
    with Session(desk.database.writer) as session, session.begin():
        active = add_account(session, "still@example.org", AccountState.MIGRATED).patient_id
    presenter, view = make_presenter(desk, front_desk, active, InlineRunner())
    presenter.check_address(FREE)
    presenter.issue(FREE, 7)
    assert "Revoke it first" in view.refusals[-1]
    assert view.pages == [] and view.busy_changes == [True, False]


def test_presenter_reports_a_handout_that_cannot_be_written(
    desk: Workstation, front_desk: Actor, chart: int
) -> None:
    def writer(path: str, **_: Any) -> Path:
        raise PermissionError(13, "Permission denied")

    presenter, view = make_presenter(desk, front_desk, chart, InlineRunner(), writer)
    presenter.check_address(FREE)
    presenter.issue(FREE, 7)
    presenter.save_handout("/nowhere/handout.pdf")
    assert view.opened == []
    assert view.handout_problems == [
        "The handout could not be saved there (Permission denied). Choose another folder."
    ]


# --- the dialog ----------------------------------------------------------------------------


def open_dialog(
    qtbot: QtBot, desk: Workstation, actor: Actor, runner: JobRunner, chart: int
) -> ReissueDialog:
    dialog = ReissueDialog(
        StaffDesk(desk, actor), runner, chart, patient_name="Maria Gonzalez", mrn="M0042317"
    )
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def type_address(qtbot: QtBot, dialog: ReissueDialog, text: str) -> AddressState:
    dialog.email.clear()
    qtbot.keyClicks(dialog.email, text)
    assert dialog.presenter.verdict.state is AddressState.CHECKING
    assert not dialog.issue_button.isEnabled()
    qtbot.waitUntil(
        lambda: dialog.presenter.verdict.state is not AddressState.CHECKING, timeout=5000
    )
    return dialog.presenter.verdict.state


def test_dialog_refuses_a_user_who_may_not_invite(
    qtbot: QtBot, desk: Workstation, runner: JobRunner, chart: int
) -> None:
    nobody = Actor(999, "ghost", "none")
    with pytest.raises(NotAllowed):
        ReissueDialog(StaffDesk(desk, nobody), runner, chart, patient_name="Maria", mrn="M1")


def test_dialog_checks_the_address_as_it_is_typed(
    qtbot: QtBot, desk: Workstation, front_desk: Actor, runner: JobRunner, chart: int
) -> None:
    dialog = open_dialog(qtbot, desk, front_desk, runner, chart)
    assert dialog.days.value() == desk.rules.invitation_days
    assert (dialog.days.minimum(), dialog.days.maximum()) == (1, 90)
    assert dialog.expiry.text() == "until Monday 9 March 2026"
    for control in (dialog.email, dialog.days, dialog.issue_button, dialog.cancel_button):
        assert control.accessibleName()
    assert not dialog.issue_button.isEnabled()

    assert type_address(qtbot, dialog, "maria@@example") is AddressState.INVALID
    assert dialog.address_status.text().startswith("Not a valid address: ")
    assert dialog.address_icon.accessibleName() == "Not valid"  # not by colour alone
    assert not dialog.issue_button.isEnabled()

    assert type_address(qtbot, dialog, TAKEN) is AddressState.TAKEN
    assert dialog.address_status.text() == "Taken by the active portal account 'jdoe'"
    assert not dialog.issue_button.isEnabled()

    assert type_address(qtbot, dialog, FREE) is AddressState.FREE
    assert dialog.address_status.text().startswith("Free")
    assert dialog.issue_button.isEnabled()


def test_dialog_issues_shows_the_pin_copies_prints_and_forgets_it(
    qtbot: QtBot,
    desk: Workstation,
    front_desk: Actor,
    runner: JobRunner,
    chart: int,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    opened: list[Path] = []
    monkeypatch.setattr(reissue_pin_page, "open_with_system_viewer", lambda p: opened.append(p))
    dialog = open_dialog(qtbot, desk, front_desk, runner, chart)
    issued: list[Changes] = []
    dialog.issued.connect(issued.append)
    type_address(qtbot, dialog, FREE)
    dialog.days.setValue(14)

    dialog.issue_button.click()
    assert runner.pending_jobs >= 1  # on the worker, not the GUI thread
    qtbot.waitUntil(lambda: dialog.on_pin_page, timeout=10000)
    shown = dialog.pin_page.pin_label.text()
    assert len(shown) == 7 and shown[3] == " "
    pin = shown.replace(" ", "")
    assert pin.isdigit() and verify_password(pin, stored_pin_hash(desk, chart))
    assert FREE in dialog.pin_page.sent_to.text()
    assert "Monday 16 March 2026" in dialog.pin_page.pin_expiry.text()
    assert issued and issued[0].patients == frozenset({chart})

    dialog.pin_page.copy_button.click()
    assert QGuiApplication.clipboard().text() == pin

    dialog.pin_page.handout_button.click()
    assert dialog.pin_page.file_dialog is not None and dialog.pin_page.file_dialog.isVisible()
    target = tmp_path / "handout.pdf"
    dialog.pin_page.file_dialog.selectFile(str(target))
    dialog.pin_page.file_dialog.accept()
    assert opened == [target]
    assert target.read_bytes().startswith(b"%PDF")

    with qtbot.waitSignal(dialog.finished, timeout=1000):
        dialog.pin_page.done_button.click()
    assert dialog.pin_page.pin_label.text() == ""
    assert QGuiApplication.clipboard().text() == ""
    assert dialog.presenter.pin is None


def test_dialog_shows_a_refusal_and_keeps_what_was_typed(
    qtbot: QtBot, desk: Workstation, front_desk: Actor, runner: JobRunner
) -> None:
    with Session(desk.database.writer) as session, session.begin():
        active = add_account(session, "still@example.org", AccountState.MIGRATED).patient_id
    dialog = open_dialog(qtbot, desk, front_desk, runner, active)
    type_address(qtbot, dialog, FREE)
    dialog.issue_button.click()
    qtbot.waitUntil(lambda: not dialog.problem.isHidden(), timeout=10000)
    assert "Revoke it first" in dialog.problem.text()
    assert not dialog.on_pin_page
    assert dialog.email.text() == FREE
    assert dialog.cancel_button.isEnabled()


def test_the_form_says_what_is_still_needed_before_issue_can_be_pressed(
    desk: Workstation, front_desk: Actor, chart: int
) -> None:
    held = HeldRunner()
    presenter, view = make_presenter(desk, front_desk, chart, held)
    presenter.address_edited("")  # as the dialog opens
    assert view.forms[-1].still_needed == TYPE_ADDRESS and not view.forms[-1].accept_enabled
    presenter.address_edited(TAKEN)
    presenter.check_address(TAKEN)
    assert view.forms[-1].loading and view.forms[-1].still_needed == CHECKING
    held.run_all()
    assert view.forms[-1].still_needed == FREE_ADDRESS_NEEDED
    assert not view.forms[-1].accept_enabled and view.forms[-1].editable
    presenter.address_edited(FREE)
    presenter.check_address(FREE)
    held.run_all()
    assert view.forms[-1].accept_enabled and view.forms[-1].still_needed == ""
    presenter.issue(FREE, 7)
    busy = view.forms[-1]
    assert busy.busy and not busy.editable and not busy.cancel_enabled
    assert busy.still_needed == ISSUING
    held.run_all()
    done = view.forms[-1]
    assert not done.busy and not done.editable and not done.accept_enabled


def test_enter_before_typing_paused_checks_the_address_at_once(
    qtbot: QtBot, desk: Workstation, front_desk: Actor, runner: JobRunner, chart: int
) -> None:
    dialog = open_dialog(qtbot, desk, front_desk, runner, chart)
    qtbot.keyClicks(dialog.email, FREE)
    qtbot.keyClick(dialog.email, Qt.Key.Key_Return)  # within the typing pause
    qtbot.waitUntil(dialog.issue_button.isEnabled, timeout=5000)  # checked, not stuck
    assert dialog.presenter.verdict.state is AddressState.FREE and not dialog.on_pin_page


def test_dialog_says_what_is_needed_next_to_the_field_and_holds_still_while_issuing(
    qtbot: QtBot, desk: Workstation, front_desk: Actor, chart: int
) -> None:
    held = HeldRunner()
    dialog = ReissueDialog(
        StaffDesk(desk, front_desk), held, chart, patient_name="Maria <Gonzalez>", mrn="M1"
    )
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.focusWidget() is dialog.email  # the first decision
    # What is still needed is said once, next to the field; the footer's hint stays hidden.
    assert dialog.address_status.text() == TYPE_ADDRESS and dialog.hint.isHidden()

    qtbot.keyClicks(dialog.email, FREE)
    qtbot.waitUntil(lambda: bool(held.jobs), timeout=5000)  # typing paused: the check
    held.run_all()
    assert dialog.issue_button.isEnabled()
    dialog.issue_button.click()
    assert dialog.issue_button.text() == "Issuing…"
    assert not dialog.issue_button.isEnabled() and not dialog.cancel_button.isEnabled()
    assert dialog.email.isReadOnly() and not dialog.days.isEnabled()
    dialog.reject()  # Escape: the invitation cannot be called back
    assert dialog.isVisible() and dialog.hint.isHidden()

    held.run_all()
    assert dialog.on_pin_page and dialog.buttons.isHidden() and dialog.hint.isHidden()
    with qtbot.waitSignal(dialog.finished, timeout=1000):
        dialog.pin_page.done_button.click()
