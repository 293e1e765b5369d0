"""The revoke dialog: its presenter driven directly (a stand-in view, calls run inline or
held), then the real dialog offscreen over a real SQLite file and a real JobRunner."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import select
from sqlalchemy.orm import Session

from console.models.database import Database
from console.models.schema import PortalAccount, StaffUser
from console.models.states import AccountState, StaffRole
from console.services.accounts.actions import MAX_NOTE_LENGTH, RevokeReason
from console.services.desk import StaffDesk
from console.services.errors import STALE_RECORD_MESSAGE
from console.services.permissions import Actor
from console.services.workstation import Changes, Workstation
from console.views.revoke_dialog import CONFIRMATION, RevokeDialog
from console.views.revoke_presenter import (
    CHANGED_SINCE,
    CHOOSE_REASON,
    READING,
    REASON_CHOICES,
    TICK_CONFIRMATION,
    WRITE_NOTE,
    RevokeForm,
    RevokePresenter,
    left_behind_text,
)
from console.workers.job_runner import JobRunner
from tests.factories import add_account, change_row
from tests.runners import HeldRunner, InlineRunner
from tests.services.conftest import add_staff, desk, staff_hash  # noqa: F401
from tests.views.dialog_helpers import FakeDialogView

NO_ROLE = "Your staff account has no valid role; ask an administrator to set it."
LEFT_BEHIND = (
    "12 messages and 3 intake forms stay with the revoked account; they do not move to a new "
    "account — the clinic keeps its own record."
)


@dataclass
class Family:
    """Accounts sharing one e-mail address; the first has the messages and forms."""

    ids: list[int]
    usernames: list[str]


def add_family(database: Database, sharers: int = 2, address: str = "family@example.org") -> Family:
    with Session(database.writer) as session, session.begin():
        accounts = [
            add_account(
                session,
                address,
                AccountState.LEGACY,
                username=f"{name}.family",
                message_count=12 if i == 0 else 1,
                intake_form_count=3 if i == 0 else 0,
            )
            for i, name in enumerate(("ann", "ben", "cal", "dee")[:sharers])
        ]
        return Family([a.id for a in accounts], [a.username for a in accounts])


def account_state(database: Database, account_id: int) -> tuple[str, str | None, str | None]:
    with Session(database.engine) as session:
        account = session.get_one(PortalAccount, account_id)
        return account.state, account.revoke_reason, account.revoke_note


class FakeRevokeView(FakeDialogView[RevokeForm]):
    def __init__(self) -> None:
        super().__init__()
        self.facts: tuple[str, str] = ("", "")
        self.problem = ""
        self.revoked: list[Changes] = []

    def show_facts(self, left_behind: str, sharing: str) -> None:
        self.facts = (left_behind, sharing)

    def show_problem(self, text: str) -> None:
        self.problem = text

    def account_revoked(self, changes: Changes) -> None:
        self.revoked.append(changes)


@pytest.fixture
def front_desk(desk: Workstation, staff_hash: str) -> Actor:  # noqa: F811
    return add_staff(desk.database, StaffRole.FRONT_DESK, staff_hash, "frank")


@pytest.fixture
def family(desk: Workstation) -> Family:  # noqa: F811
    return add_family(desk.database)


def presenter_for(
    desk: Workstation,  # noqa: F811
    actor: Actor,
    account_id: int,
    runner: InlineRunner | HeldRunner | None = None,
) -> tuple[RevokePresenter, FakeRevokeView]:
    view = FakeRevokeView()
    presenter = RevokePresenter(StaffDesk(desk, actor), runner or InlineRunner(), account_id, view)
    presenter.load()
    return presenter, view


def complete(presenter: RevokePresenter, reason: RevokeReason = RevokeReason.SHARED_EMAIL) -> None:
    presenter.choose_reason(reason)
    presenter.confirm(True)


# --- the presenter -------------------------------------------------------------------------


def test_the_preview_says_what_stays_behind_and_whom_it_unblocks(
    desk: Workstation,  # noqa: F811
    front_desk: Actor,
    family: Family,
) -> None:
    _, view = presenter_for(desk, front_desk, family.ids[0])
    left_behind, sharing = view.facts
    assert left_behind == LEFT_BEHIND
    assert sharing.startswith("Unblocks ben.family: it shares this account's e-mail address")


def test_the_preview_names_who_still_shares_the_address(
    desk: Workstation,  # noqa: F811
    front_desk: Actor,
) -> None:
    family = add_family(desk.database, sharers=3)
    _, view = presenter_for(desk, front_desk, family.ids[0])
    assert view.facts[1].startswith(
        "Unblocks no one: 2 other accounts still share the e-mail address afterwards "
        "(ben.family, cal.family)"
    )


def test_the_preview_of_an_account_that_shares_nothing(
    desk: Workstation,  # noqa: F811
    front_desk: Actor,
) -> None:
    family = add_family(desk.database, sharers=1, address="own@example.org")
    _, view = presenter_for(desk, front_desk, family.ids[0])
    assert view.facts[1] == "No other account uses this e-mail address; revoking unblocks no one."


def test_what_stays_behind_reads_naturally() -> None:
    assert left_behind_text(1, 0).startswith("1 message and no intake forms stay with")
    assert left_behind_text(0, 2).startswith("no messages and 2 intake forms stay with")
    assert left_behind_text(0, 0) == (
        "Nothing stays behind: the account has no messages or intake forms."
    )


def test_revoke_is_disabled_until_a_reason_and_the_confirmation(
    desk: Workstation,  # noqa: F811
    front_desk: Actor,
    family: Family,
) -> None:
    presenter, view = presenter_for(desk, front_desk, family.ids[0])
    assert view.current.editable and not view.current.accept_enabled
    assert view.current.still_needed == CHOOSE_REASON
    presenter.choose_reason(RevokeReason.SHARED_EMAIL)
    assert view.current.still_needed == TICK_CONFIRMATION and not view.current.accept_enabled
    presenter.confirm(True)
    assert view.current.accept_enabled and view.current.still_needed == ""
    presenter.choose_reason(None)
    assert not view.current.accept_enabled


def test_other_needs_a_note_and_a_note_has_a_limit(
    desk: Workstation,  # noqa: F811
    front_desk: Actor,
    family: Family,
) -> None:
    presenter, view = presenter_for(desk, front_desk, family.ids[0])
    complete(presenter, RevokeReason.OTHER)
    assert view.current.note_required and view.current.still_needed == WRITE_NOTE
    presenter.write_note("   ")
    assert not view.current.accept_enabled
    presenter.write_note("Patient moved abroad; asked by phone.")
    assert view.current.accept_enabled
    presenter.write_note("x" * (MAX_NOTE_LENGTH + 1))
    assert not view.current.accept_enabled
    assert "at most 2000 characters (it has 2001)" in view.current.still_needed
    presenter.choose_reason(RevokeReason.DECEASED)
    assert not view.current.note_required


def test_the_shared_email_fix_comes_first() -> None:
    assert REASON_CHOICES[0].label == "Shared e-mail — re-inviting"
    assert set(REASON_CHOICES) == set(RevokeReason)


def test_revoking_sends_the_reason_and_note_and_says_whom_it_unblocked(
    desk: Workstation,  # noqa: F811
    front_desk: Actor,
    family: Family,
) -> None:
    presenter, view = presenter_for(desk, front_desk, family.ids[0])
    complete(presenter)
    presenter.write_note("  Re-inviting Ann at her own address.  ")
    presenter.revoke()
    (changes,) = view.revoked
    assert changes.unblocked == frozenset({family.ids[1]})
    assert account_state(desk.database, family.ids[0]) == (
        "revoked",
        "shared_email",
        "Re-inviting Ann at her own address.",
    )
    assert not view.current.editable and not view.current.accept_enabled


def test_nothing_can_be_revoked_before_the_preview_or_twice(
    desk: Workstation,  # noqa: F811
    front_desk: Actor,
    family: Family,
) -> None:
    runner = HeldRunner()
    presenter, view = presenter_for(desk, front_desk, family.ids[0], runner)
    assert view.facts == (READING, READING)
    assert view.current.loading and not view.current.editable
    complete(presenter)
    presenter.revoke()
    assert len(runner.jobs) == 1  # the preview only
    runner.run_all()
    presenter.revoke()
    presenter.revoke()
    assert len(runner.jobs) == 1 and presenter.busy
    assert view.current.busy and not view.current.cancel_enabled and not view.current.editable
    runner.run_all()
    assert len(view.revoked) == 1 and not presenter.busy


def test_a_record_changed_meanwhile_is_said_and_read_again_nothing_lost(
    desk: Workstation,  # noqa: F811
    front_desk: Actor,
    family: Family,
) -> None:
    presenter, view = presenter_for(desk, front_desk, family.ids[0])
    complete(presenter, RevokeReason.OTHER)
    presenter.write_note("Asked by phone.")
    change_row(desk.database, PortalAccount, family.ids[0], failed_logins=1)
    presenter.revoke()
    assert view.problem == STALE_RECORD_MESSAGE and view.reloads == 1
    assert view.revoked == [] and account_state(desk.database, family.ids[0])[0] == "legacy"
    # The same facts at the new version: the choices stand, and trying again works.
    assert view.current.accept_enabled and view.current.confirmed
    presenter.revoke()
    assert len(view.revoked) == 1


def test_a_changed_preview_asks_for_the_confirmation_again(
    desk: Workstation,  # noqa: F811
    front_desk: Actor,
    family: Family,
) -> None:
    presenter, view = presenter_for(desk, front_desk, family.ids[0])
    complete(presenter)
    change_row(desk.database, PortalAccount, family.ids[0], message_count=13)
    presenter.revoke()
    assert view.reloads == 1 and view.problem == CHANGED_SINCE
    assert view.facts[0].startswith("13 messages and 3 intake forms")
    assert not view.current.confirmed and view.current.still_needed == TICK_CONFIRMATION
    assert view.current.editable  # the reason stays chosen
    presenter.confirm(True)
    assert view.current.accept_enabled


def test_an_unknown_role_is_refused_with_the_services_message(
    desk: Workstation,  # noqa: F811
    family: Family,
) -> None:
    stranger = Actor(999, "stranger", "receptionist")
    presenter, view = presenter_for(desk, stranger, family.ids[0])
    assert view.problem == NO_ROLE
    complete(presenter)
    assert not view.current.editable and not view.current.accept_enabled


def test_an_account_already_revoked_cannot_be_revoked(
    desk: Workstation,  # noqa: F811
    front_desk: Actor,
    family: Family,
) -> None:
    change_row(desk.database, PortalAccount, family.ids[0], state="revoked")
    _, view = presenter_for(desk, front_desk, family.ids[0])
    assert view.problem == "This account is already revoked; there is nothing to revoke."
    assert not view.current.accept_enabled


# --- the dialog ----------------------------------------------------------------------------


@pytest.fixture
def runner() -> Iterator[JobRunner]:
    runner = JobRunner()
    yield runner
    runner.close()


def open_dialog(
    qtbot: QtBot,
    desk: Workstation,  # noqa: F811
    actor: Actor,
    runner: JobRunner | HeldRunner,
    account_id: int,
) -> RevokeDialog:
    dialog = RevokeDialog(StaffDesk(desk, actor), runner, account_id, username="ann.family")
    qtbot.addWidget(dialog)
    dialog.open()
    return dialog


def loaded(qtbot: QtBot, dialog: RevokeDialog) -> None:
    qtbot.waitUntil(lambda: not dialog.presenter.form.loading, timeout=5000)


def choose(dialog: RevokeDialog, reason: RevokeReason) -> None:
    dialog.reason.setCurrentIndex(dialog.reason.findData(reason.value))


def test_dialog_shows_the_preview_before_anything_can_be_confirmed(
    qtbot: QtBot,
    desk: Workstation,  # noqa: F811
    front_desk: Actor,
    family: Family,
    runner: JobRunner,
) -> None:
    dialog = open_dialog(qtbot, desk, front_desk, runner, family.ids[0])
    assert dialog.left_behind.text() == READING
    assert not dialog.reason.isEnabled() and not dialog.revoke_button.isEnabled()
    loaded(qtbot, dialog)
    assert dialog.left_behind.text() == LEFT_BEHIND
    assert dialog.sharing.text().startswith("Unblocks ben.family")
    assert dialog.reason.currentIndex() == -1
    assert dialog.reason.itemText(0) == "Shared e-mail — re-inviting"
    assert dialog.windowTitle() == "Revoke access — ann.family"


def test_dialog_enables_revoke_only_when_all_is_complete(
    qtbot: QtBot,
    desk: Workstation,  # noqa: F811
    front_desk: Actor,
    family: Family,
    runner: JobRunner,
) -> None:
    dialog = open_dialog(qtbot, desk, front_desk, runner, family.ids[0])
    loaded(qtbot, dialog)
    assert not dialog.revoke_button.isEnabled() and dialog.hint.text() == CHOOSE_REASON
    choose(dialog, RevokeReason.OTHER)
    assert dialog.note.accessibleName() == "Note (required)"
    assert dialog.note_count.text() == "0 / 2000 characters — required for 'Other'"
    dialog.confirmation.setChecked(True)
    assert not dialog.revoke_button.isEnabled() and dialog.hint.text() == WRITE_NOTE
    dialog.note.setPlainText("Patient asked in person.")
    assert dialog.revoke_button.isEnabled() and dialog.hint.text() == ""
    dialog.confirmation.setChecked(False)
    assert not dialog.revoke_button.isEnabled()
    assert dialog.revoke_button.toolTip() == TICK_CONFIRMATION


def test_dialog_revokes_as_front_desk_and_hands_on_the_changes(
    qtbot: QtBot,
    desk: Workstation,  # noqa: F811
    front_desk: Actor,
    family: Family,
    runner: JobRunner,
) -> None:
    dialog = open_dialog(qtbot, desk, front_desk, runner, family.ids[0])
    loaded(qtbot, dialog)
    choose(dialog, RevokeReason.SHARED_EMAIL)
    dialog.confirmation.setChecked(True)
    with qtbot.waitSignal(dialog.revoked, timeout=5000) as revoked:
        qtbot.mouseClick(dialog.revoke_button, Qt.MouseButton.LeftButton)
        assert dialog.revoke_button.text() == "Revoking…"
        assert not dialog.cancel_button.isEnabled()
    changes = revoked.args[0]
    assert isinstance(changes, Changes)
    assert changes.unblocked == frozenset({family.ids[1]})
    assert family.ids[0] in changes.accounts
    assert account_state(desk.database, family.ids[0]) == ("revoked", "shared_email", None)
    assert dialog.result() == QDialog.DialogCode.Accepted and not dialog.isVisible()


def test_dialog_stale_record_asks_for_a_reload_and_keeps_what_was_typed(
    qtbot: QtBot,
    desk: Workstation,  # noqa: F811
    front_desk: Actor,
    family: Family,
    runner: JobRunner,
) -> None:
    dialog = open_dialog(qtbot, desk, front_desk, runner, family.ids[0])
    loaded(qtbot, dialog)
    choose(dialog, RevokeReason.OTHER)
    dialog.note.setPlainText("Asked by phone.")
    dialog.confirmation.setChecked(True)
    change_row(desk.database, PortalAccount, family.ids[0], login_email="ann@example.org")
    with qtbot.waitSignal(dialog.reload_requested, timeout=5000):
        dialog.revoke_button.click()
    assert dialog.problem.text() == STALE_RECORD_MESSAGE and dialog.isVisible()
    assert dialog.chosen_reason() is RevokeReason.OTHER
    assert dialog.note.toPlainText() == "Asked by phone."
    loaded(qtbot, dialog)
    # Ann's own address now: nothing is unblocked any more, so confirm again.
    assert dialog.sharing.text().startswith("No other account uses this e-mail address")
    assert dialog.problem.text() == CHANGED_SINCE
    assert not dialog.confirmation.isChecked() and not dialog.revoke_button.isEnabled()
    assert account_state(desk.database, family.ids[0])[0] == "legacy"


def test_dialog_shows_a_refusal_and_stays_open(
    qtbot: QtBot,
    desk: Workstation,  # noqa: F811
    front_desk: Actor,
    family: Family,
    runner: JobRunner,
) -> None:
    dialog = open_dialog(qtbot, desk, front_desk, runner, family.ids[0])
    loaded(qtbot, dialog)
    choose(dialog, RevokeReason.DUPLICATE_ACCOUNT)
    dialog.confirmation.setChecked(True)
    change_row(desk.database, StaffUser, front_desk.id, disabled=True)
    dialog.revoke_button.click()
    qtbot.waitUntil(lambda: dialog.problem.isVisible(), timeout=5000)
    assert "has been disabled or changed" in dialog.problem.text()
    assert dialog.isVisible() and dialog.revoke_button.isEnabled()


def test_dialog_refuses_an_unknown_role_with_the_services_message(
    qtbot: QtBot,
    desk: Workstation,  # noqa: F811
    family: Family,
    runner: JobRunner,
) -> None:
    stranger = Actor(999, "stranger", "receptionist")
    dialog = open_dialog(qtbot, desk, stranger, runner, family.ids[0])
    qtbot.waitUntil(lambda: dialog.problem.isVisible(), timeout=5000)
    assert dialog.problem.text() == NO_ROLE
    assert not dialog.reason.isEnabled() and not dialog.revoke_button.isEnabled()
    assert dialog.cancel_button.isEnabled()


def test_escape_cancels_but_not_while_revoking(
    qtbot: QtBot,
    desk: Workstation,  # noqa: F811
    front_desk: Actor,
    family: Family,
) -> None:
    held = HeldRunner()
    dialog = open_dialog(qtbot, desk, front_desk, held, family.ids[0])
    held.run_all()
    choose(dialog, RevokeReason.SHARED_EMAIL)
    dialog.confirmation.setChecked(True)
    dialog.revoke_button.click()
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert dialog.isVisible()
    held.run_all()
    assert not dialog.isVisible() and dialog.result() == QDialog.DialogCode.Accepted

    other = open_dialog(qtbot, desk, front_desk, HeldRunner(), family.ids[1])
    qtbot.keyClick(other, Qt.Key.Key_Escape)
    assert not other.isVisible() and other.result() == QDialog.DialogCode.Rejected


def test_every_control_is_named_and_tab_follows_the_form(
    qtbot: QtBot,
    desk: Workstation,  # noqa: F811
    front_desk: Actor,
    family: Family,
    runner: JobRunner,
) -> None:
    dialog = open_dialog(qtbot, desk, front_desk, runner, family.ids[0])
    loaded(qtbot, dialog)
    unnamed = [
        w.objectName() or type(w).__name__
        for w in dialog.findChildren(QWidget)
        if w.focusPolicy() != Qt.FocusPolicy.NoFocus
        and w.isVisibleTo(dialog)
        and not w.accessibleName()
        and w.parent() is not dialog.reason  # the combo's own internal view
    ]
    assert unnamed == []
    assert dialog.confirmation.accessibleName() == CONFIRMATION
    order = [
        dialog.reason,
        dialog.note,
        dialog.confirmation,
        dialog.revoke_button,
        dialog.cancel_button,
    ]
    assert [_next_focusable(w) for w in order[:-1]] == order[1:]


def _next_focusable(widget: QWidget) -> QWidget:
    candidate = widget.nextInFocusChain()
    while candidate.focusPolicy() & Qt.FocusPolicy.TabFocus != Qt.FocusPolicy.TabFocus or (
        not candidate.isVisible()
    ):
        candidate = candidate.nextInFocusChain()
    return candidate


def test_family_accounts_share_one_address(desk: Workstation, family: Family) -> None:  # noqa: F811
    with Session(desk.database.engine) as session:
        shared = session.scalars(
            select(PortalAccount.shared_email).where(PortalAccount.id.in_(family.ids))
        ).all()
    assert shared == [True, True]
