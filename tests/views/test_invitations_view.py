"""The invitations view over a real database and a real worker: it loads a page, filters
by state, searches after a pause in typing, and cancels a pending invitation after a
confirmation, showing it as cancelled (issue 6, point 5)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytestqt.qtbot import QtBot

from console.adapters.invitation_table import InvitationColumn
from console.models.states import InvitationState, OutboxState
from console.services.desk import StaffDesk
from console.services.invitations.listing import list_invitations
from console.services.mail.outbox_list import list_outbox
from console.services.permissions import Actor
from console.services.workstation import Changes, Workstation
from console.views.invitations_presenter import RESEND_TIP, footer_text
from console.views.invitations_view import InvitationsView
from console.workers.job_runner import JobRunner
from tests.services.test_invitation_list import add_invitations


@pytest.fixture
def view(
    qtbot: QtBot, desk: Workstation, actor: Actor, runner: JobRunner
) -> Iterator[InvitationsView]:
    add_invitations(desk, actor.id)
    widget = InvitationsView(StaffDesk(desk, actor), runner)
    qtbot.addWidget(widget)
    widget.resize(1100, 600)
    yield widget
    widget.clear()


def load(qtbot: QtBot, view: InvitationsView) -> None:
    with qtbot.waitSignal(view.loaded, timeout=5000):
        view.refresh()
    assert view.busy is False


def shown(view: InvitationsView, column: InvitationColumn = InvitationColumn.PATIENT) -> list[str]:
    return [view.model.index(row, column).data() for row in range(view.model.rowCount())]


def test_footer_text() -> None:
    assert footer_text(500, 12_345) == "Showing 500 of 12,345 invitations"
    assert footer_text(1, 1) == "Showing 1 of 1 invitation"
    assert footer_text(0, 0) == "No invitations match"


def test_loads_newest_first_with_the_footer(qtbot: QtBot, view: InvitationsView) -> None:
    load(qtbot, view)
    assert shown(view) == [
        "Grace Hopper",
        "Walter Hopper",
        "Alan Turing",
        "Ada Lovelace",
        "Sara Turing",
    ]
    assert shown(view, InvitationColumn.STATE)[1] == "Expired"  # pending, past its expiry
    assert view.footer == "Showing 5 of 5 invitations"
    assert not view.resend_button.isEnabled()  # nothing selected
    assert view.resend_button.toolTip() == RESEND_TIP


def test_state_filter_and_debounced_search(qtbot: QtBot, view: InvitationsView) -> None:
    load(qtbot, view)
    with qtbot.waitSignal(view.loaded, timeout=5000):
        view.set_state_filter(InvitationState.EXPIRED)
    assert shown(view) == ["Walter Hopper", "Sara Turing"]
    with qtbot.waitSignal(view.loaded, timeout=5000):
        qtbot.keyClicks(view.search, "turing")  # one read, after the pause
    assert shown(view) == ["Sara Turing"]
    assert view.footer == "Showing 1 of 1 invitation"


def test_cancel_a_pending_invitation_after_confirming(
    qtbot: QtBot, view: InvitationsView, desk: Workstation, actor: Actor
) -> None:
    load(qtbot, view)
    with qtbot.waitSignal(view.loaded, timeout=5000):
        view.set_state_filter(InvitationState.PENDING)
    assert shown(view) == ["Grace Hopper"]
    grace = view.model.rows[0]
    view.table.selectRow(0)
    assert view.cancel_button.isEnabled()
    view.cancel_button.click()
    assert view.confirm_strip.isVisibleTo(view)
    # "Keep it" changes nothing.
    view.keep_button.click()
    assert not view.confirm_strip.isVisibleTo(view)
    view.cancel_button.click()
    with qtbot.waitSignal(view.changed, timeout=5000) as changed:
        view.confirm_button.click()
    changes = changed.args[0]
    assert isinstance(changes, Changes)
    assert changes.invitations == frozenset({grace.invitation_id})
    assert shown(view, InvitationColumn.STATE) == ["Cancelled"]  # in place, still shown
    assert not view.cancel_button.isEnabled()
    assert "cancelled" in view.message
    stored = list_invitations(desk, actor, state=InvitationState.CANCELLED, search="grace")
    assert [row.invitation_id for row in stored.rows] == [grace.invitation_id]
    # Read again, the pending filter no longer finds it.
    load(qtbot, view)
    assert shown(view) == []
    assert view.footer == "No invitations match"


def test_resend_a_pending_invitation_queues_its_email_again(
    qtbot: QtBot, view: InvitationsView, desk: Workstation, actor: Actor
) -> None:
    load(qtbot, view)
    with qtbot.waitSignal(view.loaded, timeout=5000):
        view.set_state_filter(InvitationState.PENDING)
    grace = view.model.rows[0]
    view.table.selectRow(0)
    with qtbot.waitSignal(view.changed, timeout=5000) as changed:
        view.resend_button.click()
    assert changed.args[0].invitations == frozenset({grace.invitation_id})
    assert "queued again" in view.message
    queued = list_outbox(desk, actor, state=OutboxState.QUEUED).rows
    assert [row.to_email for row in queued] == [grace.target_email]
    # An expired one cannot be resent.
    with qtbot.waitSignal(view.loaded, timeout=5000):
        view.set_state_filter(InvitationState.EXPIRED)
    view.table.selectRow(0)
    assert not view.resend_button.isEnabled()


def test_expired_or_accepted_cannot_be_cancelled(qtbot: QtBot, view: InvitationsView) -> None:
    load(qtbot, view)
    for row in (1, 2, 3):
        view.table.selectRow(row)
        assert not view.cancel_button.isEnabled()
    view.table.selectRow(0)
    assert view.cancel_button.isEnabled()


def test_a_stale_row_is_refused_and_read_again(
    qtbot: QtBot, view: InvitationsView, desk: Workstation, actor: Actor
) -> None:
    from console.services.invitations.issuing import cancel_invitation

    load(qtbot, view)
    view.table.selectRow(0)
    view.cancel_button.click()
    cancel_invitation(desk, actor, view.model.rows[0].invitation_id)  # another workstation
    with qtbot.waitSignal(view.loaded, timeout=5000):
        view.confirm_button.click()
    assert view.message
    assert shown(view, InvitationColumn.STATE)[0] == "Cancelled"


def test_clear_forgets_everything(qtbot: QtBot, view: InvitationsView) -> None:
    load(qtbot, view)
    view.search.setText("grace")
    view.clear()
    assert view.model.rowCount() == 0
    assert view.search.text() == ""
    assert view.footer == ""
    assert not view.busy
