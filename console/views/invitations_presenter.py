"""What the Invitations page decides, without Qt: the footer's figures, which of Cancel and
Resend the selected invitation allows and why not, the confirmation asked before a
cancellation, and what is said after each action.

``InvitationsPresenter`` reads a page with ``list_invitations`` in the worker for the
filter and search its screen (``InvitationsScreen``: the ``InvitationsView``, or a test's
stand-in) reports, cancels or resends the selected invitation with the version read, shows
a cancelled one in place, and hands on the ``Changes`` each action returns.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Protocol

from console.adapters.local_time import when
from console.models.invitation_list import InvitationPage, InvitationRow
from console.models.states import InvitationState
from console.services.desk import StaffDesk
from console.services.errors import DomainError
from console.services.invitations.issuing import cancel_invitation, resend_invitation
from console.services.invitations.listing import list_invitations
from console.services.permissions import Permission, refusal
from console.services.workstation import Changes
from console.views.list_presenter import ListPresenter, ListScreen, showing_text
from console.workers.service_calls import Submitter

LOADING_TEXT = "Loading the invitations…"
NONE_MATCH = "No invitations match"
CANCEL_TEXT = "Cancel invitation…"
CONFIRM_CANCEL = "Cancel invitation"
KEEP_TEXT = "Keep it"
RESEND_TEXT = "Resend e-mail"
CANCEL_TIP = "Cancel the selected invitation: its link and PIN stop working"
ONLY_PENDING_CANCELLED = "Only a pending invitation can be cancelled"
RESEND_TIP = "Send the invitation e-mail again: the PIN stays, the older link stops working"
ONLY_PENDING_RESENT = "Only a pending invitation is resent"
SEARCH_HINT = "Search by name, MRN or e-mail"

#: The state filter's choices, in order.
FILTERS: tuple[tuple[str, InvitationState | None], ...] = (
    ("All", None),
    ("Pending", InvitationState.PENDING),
    ("Expired", InvitationState.EXPIRED),
    ("Accepted", InvitationState.ACCEPTED),
    ("Cancelled", InvitationState.CANCELLED),
)


def footer_text(shown: int, total: int) -> str:
    """ "Showing 500 of 12,345 invitations"; "No invitations match" when there are none."""
    return showing_text(shown, total, "invitation", "invitations", NONE_MATCH)


def confirm_text(row: InvitationRow) -> str:
    """The question asked before ``row`` is cancelled."""
    return (
        f"Cancel the invitation to {row.patient_name} ({row.mrn}) at {row.target_email}, "
        f"valid until {when(row.expires_at)}? Its link and PIN stop working at once."
    )


@dataclass(frozen=True)
class InvitationActions:
    """What the buttons under the table allow for the selected invitation, and why not."""

    cancel_enabled: bool
    cancel_tip: str
    resend_enabled: bool
    resend_tip: str


class InvitationsScreen(ListScreen, Protocol):
    """What the presenter asks of and tells the Invitations page."""

    def criteria(self) -> tuple[InvitationState | None, str]:
        """The state chosen (None: all) and the search typed, to be read now."""
        ...

    def selected(self) -> InvitationRow | None:
        """The invitation selected in the table."""
        ...

    def show_rows(self, rows: Sequence[InvitationRow]) -> None:
        """Show ``rows``, keeping the selected invitation selected when it is among them."""
        ...

    def show_row(self, row: InvitationRow) -> None:
        """Show ``row`` in place of the row with its id."""
        ...

    def show_actions(self, actions: InvitationActions) -> None:
        """Enable and explain the buttons as ``actions`` says."""
        ...

    def ask_to_confirm(self, text: str) -> None:
        """Ask ``text`` in the confirmation strip, its Yes button focused."""
        ...

    def end_confirmation(self) -> None:
        """Hide the confirmation strip."""
        ...

    def page_shown(self, count: int) -> None:
        """A page arrived: ``count`` invitations are shown."""
        ...

    def changes_made(self, changes: Changes) -> None:
        """An action changed something: hand ``changes`` on to the other pages."""
        ...


class InvitationsPresenter(ListPresenter):
    """The Invitations page's reads, actions and decisions."""

    def __init__(
        self,
        screen: InvitationsScreen,
        desk: StaffDesk,
        runner: Submitter,
    ) -> None:
        super().__init__(screen, runner)
        self._page = screen
        self._desk = desk
        self._may_cancel = refusal(desk.actor.role, Permission.CANCEL_INVITATION)
        self._may_resend = refusal(desk.actor.role, Permission.RESEND_EMAIL)
        self._confirming: InvitationRow | None = None
        #: What this page's own last action changed: shown in place already.
        self._own: Changes | None = None

    @property
    def confirming(self) -> InvitationRow | None:
        """The invitation whose cancellation is being confirmed."""
        return self._confirming

    def actions_for(self, row: InvitationRow | None) -> InvitationActions:
        """What Cancel and Resend allow for ``row`` (None: nothing selected), and why not."""
        pending = row is not None and row.state is InvitationState.PENDING
        idle = not self.writing
        if self._may_cancel is not None:
            cancel_tip = self._may_cancel
        elif row is not None and not pending:
            cancel_tip = ONLY_PENDING_CANCELLED
        else:
            cancel_tip = CANCEL_TIP
        return InvitationActions(
            cancel_enabled=pending and idle and self._may_cancel is None,
            cancel_tip=cancel_tip,
            resend_enabled=pending and idle and self._may_resend is None,
            resend_tip=self._may_resend
            or (RESEND_TIP if pending or row is None else ONLY_PENDING_RESENT),
        )

    def refresh(self) -> None:
        """Read the page for the chosen state and search again; an older read still on its
        way is dropped."""
        state, search = self._page.criteria()
        work = partial(self._desk.act, list_invitations, state=state, search=search)
        self._read("Loading the invitations", work, self._show_page, loading=LOADING_TEXT)

    def invitations_changed(self, changes: Changes) -> None:
        """After an action: read the page again when ``changes`` names an invitation (one
        shown changed, or a new one belongs at the top) — unless it is this page's own
        action, whose row is shown in place already (read again, a filter would drop it).
        Records changed by the thousand (``bulk``: an import renames charts) read it again
        too."""
        if changes.bulk or (changes.invitations and changes is not self._own):
            self.refresh()

    def selection_changed(self) -> None:
        """Another invitation (or none) is selected: say what it allows; a confirmation
        asked about another one is withdrawn."""
        row = self._page.selected()
        self._page.show_actions(self.actions_for(row))
        if self._confirming is not None and (
            row is None or row.invitation_id != self._confirming.invitation_id
        ):
            self.end_confirmation()

    def ask_to_cancel(self) -> None:
        """Ask to confirm the cancellation of the selected invitation."""
        row = self._page.selected()
        if row is None or row.state is not InvitationState.PENDING:
            return
        self._confirming = row
        self.say("")
        self._page.ask_to_confirm(confirm_text(row))

    def end_confirmation(self) -> None:
        """Withdraw the confirmation ("Keep it")."""
        self._confirming = None
        self._page.end_confirmation()

    def confirm_cancel(self) -> None:
        """The cancellation is confirmed: cancel it, with the version read."""
        row = self._confirming
        if row is None or self.writing:
            return
        self.end_confirmation()
        work = partial(
            self._desk.act,
            cancel_invitation,
            row.invitation_id,
            expected_version=row.version,
        )
        self._write(
            "Cancelling the invitation", work, partial(self._cancelled, row), self._not_done
        )
        self.selection_changed()

    def resend(self) -> None:
        """Queue the selected invitation's e-mail again (the PIN stays)."""
        row = self._page.selected()
        if row is None or row.state is not InvitationState.PENDING or self.writing:
            return
        work = partial(
            self._desk.act,
            resend_invitation,
            row.invitation_id,
            expected_version=row.version,
        )
        self._write("Resending the invitation", work, partial(self._resent, row), self._not_done)
        self.selection_changed()

    def clear(self) -> None:
        """Forget every answer on its way, the message and the confirmation."""
        super().clear()
        self.end_confirmation()

    # --- answers -------------------------------------------------------------------------

    def _show_page(self, page: InvitationPage) -> None:
        self._settled()
        self._page.show_rows(page.rows)
        self._page.show_figures(footer_text(len(page.rows), page.total))
        self.selection_changed()
        self._page.page_shown(len(page.rows))

    def _cancelled(self, row: InvitationRow, changes: Changes) -> None:
        self._settled()
        # Shown in place (even under the "Pending" filter) so that staff see it happen.
        self._page.show_row(
            dataclasses.replace(row, state=InvitationState.CANCELLED, version=row.version + 1)
        )
        self.say(f"Invitation to {row.patient_name} cancelled", done=True)
        self.selection_changed()
        self._own = changes
        self._page.changes_made(changes)

    def _resent(self, row: InvitationRow, changes: Changes) -> None:
        self._settled()
        self.say(
            f"Invitation e-mail to {row.target_email} queued again; its older link stops "
            "working once it is sent",
            done=True,
        )
        self.selection_changed()
        self._own = changes
        self._page.changes_made(changes)

    def _not_done(self, error: DomainError) -> None:
        self._settled()
        self.say(str(error))
        self.selection_changed()
        self.refresh()  # a stale row: show what is there now


__all__ = [
    "CANCEL_TEXT",
    "CONFIRM_CANCEL",
    "FILTERS",
    "KEEP_TEXT",
    "LOADING_TEXT",
    "RESEND_TEXT",
    "RESEND_TIP",
    "SEARCH_HINT",
    "InvitationActions",
    "InvitationsPresenter",
    "InvitationsScreen",
    "confirm_text",
    "footer_text",
]
