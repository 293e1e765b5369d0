"""The Invitations page's decisions, driven without a display or a QApplication: a fake
screen, a real database and a runner that runs the work inline (or holds it)."""

from __future__ import annotations

import pytest

from console.models.invitation_list import InvitationRow
from console.models.states import InvitationState, OutboxState, StaffRole
from console.services.desk import StaffDesk
from console.services.invitations.issuing import cancel_invitation
from console.services.mail.outbox_list import list_outbox
from console.services.permissions import Actor
from console.services.workstation import Changes, Workstation
from console.views.invitations_presenter import (
    CANCEL_TIP,
    LOADING_TEXT,
    ONLY_PENDING_CANCELLED,
    ONLY_PENDING_RESENT,
    RESEND_TIP,
    InvitationActions,
    InvitationsPresenter,
    footer_text,
)
from console.workers.service_calls import Submitter
from tests.runners import HeldRunner, InlineRunner
from tests.services.conftest import NOW, add_staff
from tests.services.test_invitation_list import add_invitations
from tests.views.fake_screens import FakeTableScreen


class FakeInvitationsScreen(FakeTableScreen):
    def __init__(self) -> None:
        super().__init__("invitation_id")
        self.search = ""
        self.confirming = ""

    def criteria(self) -> tuple[InvitationState | None, str]:
        return self.state, self.search

    def ask_to_confirm(self, text: str) -> None:
        self.confirming = text

    def end_confirmation(self) -> None:
        self.confirming = ""

    def changes_made(self, changes: Changes) -> None:
        self.changes.append(changes)


@pytest.fixture
def actor(desk: Workstation, staff_hash: str) -> Actor:
    add_invitations(desk, None)
    return add_staff(desk.database, StaffRole.FRONT_DESK, staff_hash)


@pytest.fixture
def screen() -> FakeInvitationsScreen:
    return FakeInvitationsScreen()


def presenter_for(
    screen: FakeInvitationsScreen,
    desk: Workstation,
    actor: Actor,
    runner: Submitter | None = None,
) -> InvitationsPresenter:
    return InvitationsPresenter(screen, StaffDesk(desk, actor), runner or InlineRunner())


def names(screen: FakeInvitationsScreen) -> list[str]:
    return [row.patient_name for row in screen.rows]


def test_footer_text() -> None:
    assert footer_text(500, 12_345) == "Showing 500 of 12,345 invitations"
    assert footer_text(1, 1) == "Showing 1 of 1 invitation"
    assert footer_text(0, 0) == "No invitations match"


def test_a_read_is_busy_until_its_page_arrives(
    screen: FakeInvitationsScreen, desk: Workstation, actor: Actor
) -> None:
    held = HeldRunner()
    presenter = presenter_for(screen, desk, actor, held)
    presenter.refresh()
    assert presenter.busy and screen.busy
    assert screen.figures == LOADING_TEXT
    held.run_all()
    assert not presenter.busy and not screen.busy
    assert names(screen) == [
        "Grace Hopper",
        "Walter Hopper",
        "Alan Turing",
        "Ada Lovelace",
        "Sara Turing",
    ]
    assert screen.figures == "Showing 5 of 5 invitations"
    assert screen.pages == [5]


def test_a_newer_read_drops_the_older_answer(
    screen: FakeInvitationsScreen, desk: Workstation, actor: Actor
) -> None:
    held = HeldRunner()
    presenter = presenter_for(screen, desk, actor, held)
    presenter.refresh()
    screen.search = "turing"
    presenter.refresh()
    held.run_all()
    assert names(screen) == ["Alan Turing", "Sara Turing"]
    assert screen.pages == [2]


def test_what_the_selected_invitation_allows(
    screen: FakeInvitationsScreen, desk: Workstation, actor: Actor
) -> None:
    presenter = presenter_for(screen, desk, actor)
    presenter.refresh()
    assert screen.actions == InvitationActions(False, CANCEL_TIP, False, RESEND_TIP)
    screen.select(0)  # Grace: pending
    presenter.selection_changed()
    assert screen.actions == InvitationActions(True, CANCEL_TIP, True, RESEND_TIP)
    for expired_accepted_or_cancelled in (1, 2, 3, 4):
        screen.select(expired_accepted_or_cancelled)
        presenter.selection_changed()
        assert screen.actions == InvitationActions(
            False, ONLY_PENDING_CANCELLED, False, ONLY_PENDING_RESENT
        )


def test_a_role_without_the_permission_is_told_why(
    screen: FakeInvitationsScreen, desk: Workstation
) -> None:
    nobody = Actor(9999, "nobody", "no-such-role")
    presenter = presenter_for(screen, desk, nobody)
    screen.rows = [_row(InvitationState.PENDING)]
    screen.select(0)
    presenter.selection_changed()
    assert not screen.actions.cancel_enabled and not screen.actions.resend_enabled
    assert "no valid role" in screen.actions.cancel_tip
    assert "no valid role" in screen.actions.resend_tip
    presenter.refresh()  # the read is refused too, and said
    assert "no valid role" in screen.message and not screen.done
    assert screen.figures == "" and not screen.busy


def test_cancel_asks_first_then_shows_the_row_cancelled_in_place(
    screen: FakeInvitationsScreen, desk: Workstation, actor: Actor
) -> None:
    held = HeldRunner()
    presenter = presenter_for(screen, desk, actor, held)
    screen.state = InvitationState.PENDING
    presenter.refresh()
    held.run_all()
    assert names(screen) == ["Grace Hopper"]
    grace = screen.rows[0]
    screen.select(0)
    presenter.ask_to_cancel()
    assert screen.confirming.startswith("Cancel the invitation to Grace Hopper (M0000001) at")
    assert presenter.confirming == grace
    presenter.end_confirmation()  # "Keep it"
    assert screen.confirming == "" and presenter.confirming is None
    presenter.ask_to_cancel()
    presenter.confirm_cancel()
    assert screen.confirming == ""
    assert presenter.busy and screen.busy
    assert not screen.actions.cancel_enabled and not screen.actions.resend_enabled
    presenter.confirm_cancel()  # nothing to confirm any more: nothing more is sent
    assert len(held.jobs) == 1
    held.run_all()
    assert not screen.busy
    assert screen.rows[0].state is InvitationState.CANCELLED  # in place, under "Pending"
    assert screen.rows[0].version == grace.version + 1
    assert (screen.message, screen.done) == ("Invitation to Grace Hopper cancelled", True)
    assert not screen.actions.cancel_enabled
    assert [c.invitations for c in screen.changes] == [frozenset({grace.invitation_id})]
    # The feed hands the page its own change back: the row stays where it is.
    presenter.invitations_changed(screen.changes[0])
    assert held.jobs == [] and screen.rows[0].state is InvitationState.CANCELLED
    presenter.invitations_changed(Changes(invitations=frozenset({grace.invitation_id})))
    assert len(held.jobs) == 1  # another action's change: read again


def test_selecting_another_row_withdraws_the_question(
    screen: FakeInvitationsScreen, desk: Workstation, actor: Actor
) -> None:
    presenter = presenter_for(screen, desk, actor)
    presenter.refresh()
    screen.select(0)
    presenter.ask_to_cancel()
    assert screen.confirming
    screen.select(1)
    presenter.selection_changed()
    assert screen.confirming == "" and presenter.confirming is None


def test_only_a_pending_invitation_is_asked_about_or_resent(
    screen: FakeInvitationsScreen, desk: Workstation, actor: Actor
) -> None:
    runner = InlineRunner()
    presenter = presenter_for(screen, desk, actor, runner)
    presenter.refresh()
    screen.select(1)  # Walter: pending, past its expiry
    presenter.ask_to_cancel()
    presenter.resend()
    assert screen.confirming == "" and runner.calls == 1  # the read only


def test_resend_queues_the_email_again_and_says_so(
    screen: FakeInvitationsScreen, desk: Workstation, actor: Actor
) -> None:
    presenter = presenter_for(screen, desk, actor)
    presenter.refresh()
    screen.select(0)
    presenter.resend()
    assert screen.message == (
        "Invitation e-mail to grace@example.com queued again; its older link stops working "
        "once it is sent"
    )
    assert screen.done
    assert [row.to_email for row in list_outbox(desk, actor, state=OutboxState.QUEUED).rows] == [
        "grace@example.com"
    ]
    assert screen.changes[0].invitations == frozenset({screen.rows[0].invitation_id})


def test_a_stale_row_is_refused_said_and_read_again(
    screen: FakeInvitationsScreen, desk: Workstation, actor: Actor
) -> None:
    runner = InlineRunner()
    presenter = presenter_for(screen, desk, actor, runner)
    presenter.refresh()
    screen.select(0)
    presenter.ask_to_cancel()
    cancel_invitation(desk, actor, screen.rows[0].invitation_id)  # another workstation
    presenter.confirm_cancel()
    assert screen.message and not screen.done
    assert runner.calls == 3  # read, cancel, read again
    assert screen.rows[0].state is InvitationState.CANCELLED
    assert screen.changes == []


def test_changes_read_the_page_again_only_when_they_name_an_invitation(
    screen: FakeInvitationsScreen, desk: Workstation, actor: Actor
) -> None:
    runner = InlineRunner()
    presenter = presenter_for(screen, desk, actor, runner)
    presenter.invitations_changed(Changes(accounts=frozenset({1})))
    assert runner.calls == 0
    presenter.invitations_changed(Changes(invitations=frozenset({1})))
    assert runner.calls == 1
    # An import names no invitation, but renames charts: every row may read differently.
    presenter.invitations_changed(Changes(bulk=True))
    assert runner.calls == 2


def test_clear_drops_answers_on_their_way(
    screen: FakeInvitationsScreen, desk: Workstation, actor: Actor
) -> None:
    held = HeldRunner()
    presenter = presenter_for(screen, desk, actor, held)
    presenter.refresh()
    presenter.clear()
    held.run_all()
    assert screen.rows == [] and screen.pages == []
    assert not presenter.busy and not screen.busy
    assert screen.figures == "" and screen.message == ""


def _row(state: InvitationState) -> InvitationRow:
    return InvitationRow(
        invitation_id=1,
        state=state,
        target_email="grace@example.com",
        patient_id=1,
        first_name="Grace",
        last_name="Hopper",
        mrn="M0000001",
        created_at=NOW,
        expires_at=NOW,
        created_by=None,
        version=1,
    )
