"""The small account dialogs: their presenters driven directly (a stand-in view, calls run
inline or held), then the real dialogs offscreen over a real SQLite file and a real JobRunner."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog
from pytestqt.qtbot import QtBot
from sqlalchemy.orm import Session

from console.models.database import Database
from console.models.schema import Patient, PortalAccount
from console.models.states import AccountState, StaffRole
from console.services.desk import StaffDesk
from console.services.errors import STALE_RECORD_MESSAGE
from console.services.permissions import Actor, NotAllowed
from console.services.workstation import Changes, Workstation
from console.views.account_forms import (
    DEACTIVATION_CONFIRMATION,
    DeactivateDialog,
    EditContactDialog,
    ResendResetDialog,
)
from console.views.account_forms_presenter import (
    EMAIL_FIELD,
    PHONE_FIELD,
    TICK_DEACTIVATION,
    AccountFacts,
    ContactFacts,
    DeactivatePresenter,
    EditContactPresenter,
    FormState,
    ResendResetPresenter,
)
from console.workers.job_runner import JobRunner
from tests.factories import add_account, change_row
from tests.runners import HeldRunner, InlineRunner
from tests.services.conftest import add_staff, desk, staff_hash  # noqa: F401
from tests.views.dialog_helpers import FakeDialogView


class FakeFormView(FakeDialogView[FormState]):
    def __init__(self) -> None:
        super().__init__()
        self.facts: AccountFacts | ContactFacts | None = None
        self.problem = ("", "")
        self.done: list[Changes] = []

    def show_facts(self, facts: AccountFacts | ContactFacts) -> None:
        self.facts = facts

    def show_problem(self, text: str, field: str = "") -> None:
        self.problem = (text, field)

    def action_done(self, changes: Changes) -> None:
        self.done.append(changes)


@pytest.fixture
def front_desk(desk: Workstation, staff_hash: str) -> Actor:  # noqa: F811
    return add_staff(desk.database, StaffRole.FRONT_DESK, staff_hash, "frank")


@pytest.fixture
def account(desk: Workstation) -> tuple[int, int]:  # noqa: F811
    """A legacy account of its own address: (account id, chart id)."""
    with Session(desk.database.writer) as session, session.begin():
        row = add_account(session, "grace.okafor@example.org", username="grace.o")
        patient = session.get_one(Patient, row.patient_id)
        patient.contact_email = "grace.okafor@example.org"
        patient.mobile_phone = "+1 555 010 2040"
        return row.id, row.patient_id


def state_of(database: Database, account_id: int) -> str:
    with Session(database.engine) as session:
        return session.get_one(PortalAccount, account_id).state


def contact_of(database: Database, patient_id: int) -> tuple[str | None, str | None]:
    with Session(database.engine) as session:
        patient = session.get_one(Patient, patient_id)
        return patient.contact_email, patient.mobile_phone


# --- presenters -------------------------------------------------------------------------------


def test_resend_presenter_sends_once_then_shows_the_rate_limit(
    desk: Workstation,  # noqa: F811
    front_desk: Actor,
    account: tuple[int, int],
) -> None:
    view = FakeFormView()
    presenter = ResendResetPresenter(StaffDesk(desk, front_desk), InlineRunner(), account[0], view)
    presenter.load()
    assert view.facts == AccountFacts("grace.o", "grace.okafor@example.org", "legacy", 1)
    presenter.send()
    (done,) = view.done
    assert done == Changes(
        accounts=frozenset({account[0]}), outbox=done.mail_queued, mail_queued=done.mail_queued
    )
    assert len(done.mail_queued) == 1  # the reset e-mail: the relay wakes for it
    assert state_of(desk.database, account[0]) == AccountState.RESET_PENDING

    again = FakeFormView()
    second = ResendResetPresenter(StaffDesk(desk, front_desk), InlineRunner(), account[0], again)
    second.load()
    second.send()
    assert not again.done
    assert "A reset e-mail was queued for this account less than" in again.problem[0]
    assert again.current.accept_enabled  # the person may try again later


def test_presenter_waits_for_the_record_before_acting(
    desk: Workstation,  # noqa: F811
    front_desk: Actor,
    account: tuple[int, int],
) -> None:
    runner, view = HeldRunner(), FakeFormView()
    presenter = ResendResetPresenter(StaffDesk(desk, front_desk), runner, account[0], view)
    presenter.load()
    assert view.current.loading and not view.current.accept_enabled
    presenter.send()
    assert len(runner.jobs) == 1  # the read only
    runner.run_all()
    presenter.send()
    assert presenter.busy and not view.current.cancel_enabled
    runner.run_all()
    assert len(view.done) == 1


def test_deactivate_presenter_needs_the_confirmation(
    desk: Workstation,  # noqa: F811
    front_desk: Actor,
    account: tuple[int, int],
) -> None:
    view = FakeFormView()
    presenter = DeactivatePresenter(StaffDesk(desk, front_desk), InlineRunner(), account[0], view)
    presenter.load()
    presenter.write_note("Phoned on 2 March; prefers paper letters.")
    assert view.current.still_needed == TICK_DEACTIVATION
    presenter.deactivate()
    assert not view.done
    presenter.confirm(True)
    presenter.deactivate()
    assert len(view.done) == 1
    assert state_of(desk.database, account[0]) == AccountState.DEACTIVATED


def test_deactivate_presenter_stale_record_is_read_again(
    desk: Workstation,  # noqa: F811
    front_desk: Actor,
    account: tuple[int, int],
) -> None:
    view = FakeFormView()
    presenter = DeactivatePresenter(StaffDesk(desk, front_desk), InlineRunner(), account[0], view)
    presenter.load()
    presenter.confirm(True)
    change_row(desk.database, PortalAccount, account[0], failed_logins=3)
    presenter.deactivate()
    assert view.problem == (STALE_RECORD_MESSAGE, "") and view.reloads == 1
    assert view.current.accept_enabled  # the new version read; confirmation kept
    presenter.deactivate()
    assert len(view.done) == 1


def test_edit_contact_presenter_puts_each_refusal_next_to_its_field(
    desk: Workstation,  # noqa: F811
    front_desk: Actor,
    account: tuple[int, int],
) -> None:
    view = FakeFormView()
    presenter = EditContactPresenter(StaffDesk(desk, front_desk), InlineRunner(), account[1], view)
    presenter.load()
    assert view.facts == ContactFacts("grace.okafor@example.org", "+1 555 010 2040", 2)
    presenter.save("grace@", "+1 555 010 2040")
    assert view.problem[1] == EMAIL_FIELD
    presenter.save("grace@example.org", "call me")
    assert view.problem[1] == PHONE_FIELD and "mobile phone" in view.problem[0]
    presenter.save("grace@example.org", "")
    assert contact_of(desk.database, account[1]) == ("grace@example.org", None)


# --- dialogs ----------------------------------------------------------------------------------


def test_resend_dialog_says_where_it_goes_and_shows_the_rate_limit(
    qtbot: QtBot,
    desk: Workstation,  # noqa: F811
    front_desk: Actor,
    account: tuple[int, int],
    runner: JobRunner,
) -> None:
    dialog = ResendResetDialog(StaffDesk(desk, front_desk), runner, account[0], username="grace.o")
    qtbot.addWidget(dialog)
    dialog.open()
    qtbot.waitUntil(lambda: dialog.accept_button.isEnabled(), timeout=5000)
    assert dialog.address.text() == "grace.okafor@example.org"
    assert "Older reset links stop working" in dialog.intro.text()
    with qtbot.waitSignal(dialog.changed, timeout=5000) as changed:
        dialog.accept_button.click()
    (done,) = changed.args
    assert done.accounts == {account[0]} and len(done.mail_queued) == 1
    assert dialog.result() == QDialog.DialogCode.Accepted

    again = ResendResetDialog(StaffDesk(desk, front_desk), runner, account[0], username="grace.o")
    qtbot.addWidget(again)
    again.open()
    qtbot.waitUntil(lambda: again.accept_button.isEnabled(), timeout=5000)
    again.accept_button.click()
    qtbot.waitUntil(lambda: again.problem.isVisibleTo(again), timeout=5000)
    assert "less than" in again.problem.text() and again.isVisible()
    qtbot.keyClick(again, Qt.Key.Key_Escape)
    assert again.result() == QDialog.DialogCode.Rejected


def test_deactivate_dialog_deactivates_after_the_explicit_confirmation(
    qtbot: QtBot,
    desk: Workstation,  # noqa: F811
    front_desk: Actor,
    account: tuple[int, int],
    runner: JobRunner,
) -> None:
    dialog = DeactivateDialog(StaffDesk(desk, front_desk), runner, account[0], username="grace.o")
    qtbot.addWidget(dialog)
    dialog.open()
    qtbot.waitUntil(lambda: dialog.note.isEnabled(), timeout=5000)
    assert dialog.confirmation.text() == DEACTIVATION_CONFIRMATION
    qtbot.keyClicks(dialog.note, "Asked at the desk")
    assert not dialog.accept_button.isEnabled()
    dialog.confirmation.setChecked(True)
    assert dialog.accept_button.isEnabled()
    with qtbot.waitSignal(dialog.changed, timeout=5000):
        dialog.accept_button.click()
    assert state_of(desk.database, account[0]) == AccountState.DEACTIVATED


def test_edit_contact_dialog_shows_a_bad_phone_next_to_the_field(
    qtbot: QtBot,
    desk: Workstation,  # noqa: F811
    front_desk: Actor,
    account: tuple[int, int],
    runner: JobRunner,
) -> None:
    dialog = EditContactDialog(
        StaffDesk(desk, front_desk), runner, account[1], patient_name="Grace Okafor"
    )
    qtbot.addWidget(dialog)
    dialog.open()
    qtbot.waitUntil(lambda: dialog.email.text() != "", timeout=5000)
    assert dialog.phone.text() == "+1 555 010 2040"
    dialog.phone.clear()
    qtbot.keyClicks(dialog.phone, "555-CALL-NOW")
    dialog.accept_button.click()
    phone_problem = dialog.field_problems[PHONE_FIELD]
    qtbot.waitUntil(lambda: phone_problem.isVisibleTo(dialog), timeout=5000)
    assert "Enter the mobile phone as digits" in phone_problem.text()
    assert not dialog.field_problems[EMAIL_FIELD].isVisibleTo(dialog)
    dialog.phone.clear()
    qtbot.keyClicks(dialog.phone, "+1 555 010 9999")
    with qtbot.waitSignal(dialog.changed, timeout=5000) as changed:
        dialog.accept_button.click()
    assert changed.args == [Changes(patients=frozenset({account[1]}))]
    assert contact_of(desk.database, account[1]) == ("grace.okafor@example.org", "+1 555 010 9999")


def test_dialogs_need_their_permission_and_name_their_controls(
    qtbot: QtBot,
    desk: Workstation,  # noqa: F811
    front_desk: Actor,
    account: tuple[int, int],
    runner: JobRunner,
) -> None:
    nobody = Actor(999, "ghost", "no-such-role")
    with pytest.raises(NotAllowed):
        DeactivateDialog(StaffDesk(desk, nobody), runner, account[0], username="grace.o")
    with pytest.raises(NotAllowed):
        EditContactDialog(StaffDesk(desk, nobody), runner, account[1], patient_name="Grace Okafor")
    with pytest.raises(NotAllowed):
        ResendResetDialog(StaffDesk(desk, nobody), runner, account[0], username="grace.o")
    deactivate = DeactivateDialog(
        StaffDesk(desk, front_desk), runner, account[0], username="grace.o"
    )
    contact = EditContactDialog(
        StaffDesk(desk, front_desk), runner, account[1], patient_name="Grace Okafor"
    )
    for dialog in (deactivate, contact):
        qtbot.addWidget(dialog)
    controls = (
        deactivate.note,
        deactivate.confirmation,
        deactivate.accept_button,
        deactivate.cancel_button,
        contact.email,
        contact.phone,
        *contact.field_problems.values(),
        contact.accept_button,
        contact.problem,
    )
    assert all(control.accessibleName() for control in controls)
    qtbot.waitUntil(lambda: not deactivate.presenter.form.loading, timeout=5000)
    qtbot.waitUntil(lambda: not contact.presenter.form.loading, timeout=5000)
