"""The invitations view (issue 6, point 5): pending, expired, accepted and cancelled
invitations, filtered by state and by a name, MRN or e-mail typed in the search field.

The view only asks: each page is read off the GUI thread (``ServiceCalls``), a newer read
dropping the answer of an older one, and typing waits for a pause before it searches.
**Cancel invitation…** asks for a confirmation in a strip under the table (no modal
dialog: nothing blocks, and a test answers it with a click), then cancels in the worker with
the version read, shows the row as cancelled in place and emits ``changed(changes)``.
**Resend e-mail** queues the invitation e-mail again, with the same PIN (the relay mints a
new link as it sends it).
"""

from __future__ import annotations

import dataclasses
from functools import partial

from PySide6.QtCore import QModelIndex, Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from console.adapters.background import ServiceCalls, Submitter
from console.adapters.invitation_table import (
    InvitationColumn,
    InvitationTableModel,
    when,
)
from console.models.invitation_list import InvitationPage, InvitationRow
from console.models.schema import InvitationState
from console.services.errors import DomainError
from console.services.invitations import cancel_invitation, resend_invitation
from console.services.permissions import Actor, Permission, refusal
from console.services.staff_lists import list_invitations
from console.services.workstation import Changes, Workstation
from console.views.row_table_view import row_table_view
from console.views.theme import invitation_state_dots

#: How long typing must pause before the search runs.
SEARCH_PAUSE_MS = 300
LOADING_TEXT = "Loading the invitations…"
NONE_MATCH = "No invitations match"
CANCEL_TEXT = "Cancel invitation…"
CONFIRM_CANCEL = "Cancel invitation"
KEEP_TEXT = "Keep it"
RESEND_TEXT = "Resend e-mail"
RESEND_TIP = "Send the invitation e-mail again: the PIN stays, the older link stops working"
SEARCH_HINT = "Search by name, MRN or e-mail"

#: The state filter's choices, in order.
FILTERS: tuple[tuple[str, InvitationState | None], ...] = (
    ("All", None),
    ("Pending", InvitationState.PENDING),
    ("Expired", InvitationState.EXPIRED),
    ("Accepted", InvitationState.ACCEPTED),
    ("Cancelled", InvitationState.CANCELLED),
)

_STYLE = """
QWidget#invitations { background: #f6f7f9; }
QLabel#invitationsTitle { font-size: 17px; font-weight: 600; color: #1f2933; }
QLabel#filterLabel { color: #3e4a59; }
QLineEdit#invitationSearch { padding: 4px 6px; border: 1px solid #c3cad3; border-radius: 4px;
    background: #ffffff; }
QLineEdit#invitationSearch:focus { border-color: #2b6cb0; }
QTableView#invitationTable { background: #ffffff; border: 1px solid #d5dae1;
    border-radius: 4px; gridline-color: #eef0f3; selection-background-color: #dbe8f7;
    selection-color: #1f2933; alternate-background-color: #f9fafb; }
QHeaderView::section { background: #eef1f5; color: #3e4a59; border: none;
    border-right: 1px solid #dde2e8; border-bottom: 1px solid #d5dae1; padding: 5px 6px;
    font-weight: 600; }
QLabel#invitationsFooter { color: #5f6b7a; }
QLabel#invitationsMessage { color: #b42318; }
QLabel#invitationsMessage[done="true"] { color: #1f5c37; }
QFrame#confirmStrip { background: #fff4dc; border: 1px solid #e3b254; border-radius: 4px; }
QLabel#confirmText { color: #4a3200; }
QProgressBar#invitationsBusy { border: none; background: #e3e7ec; max-height: 3px; }
QProgressBar#invitationsBusy::chunk { background: #2b6cb0; }
"""


def _label(name: str, object_name: str, text: str = "") -> QLabel:
    """A plain-text label with an accessible name."""
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setObjectName(object_name)
    label.setAccessibleName(name)
    return label


def footer_text(shown: int, total: int) -> str:
    """ "Showing 500 of 12,345 invitations"; "No invitations match" when there are none."""
    if total == 0:
        return NONE_MATCH
    things = "invitation" if total == 1 else "invitations"
    return f"Showing {shown:,} of {total:,} {things}"


class InvitationsView(QWidget):
    """Invitations with a state filter and a search, and the actions on the selected one."""

    #: An action changed something (``Changes``): other views refresh what it names.
    changed = Signal(object)
    #: A page arrived: how many invitations are shown.
    loaded = Signal(int)

    def __init__(
        self,
        workstation: Workstation,
        actor: Actor,
        runner: Submitter,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._workstation = workstation
        self._actor = actor
        # Reads and writes apart: a new search drops the older read, never a cancel.
        self._reads = ServiceCalls(runner)
        self._writes = ServiceCalls(runner)
        self._may_cancel = refusal(actor.role, Permission.CANCEL_INVITATION)
        self._may_resend = refusal(actor.role, Permission.RESEND_EMAIL)
        self._confirming: InvitationRow | None = None
        self.setObjectName("invitations")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setStyleSheet(_STYLE)

        title = _label("Invitations", "invitationsTitle", "Invitations")
        self.state_filter = QComboBox()
        self.state_filter.setAccessibleName("Show invitations in state")
        for text, _state in FILTERS:
            self.state_filter.addItem(text)
        self.state_filter.currentIndexChanged.connect(self.refresh)
        show = _label("Show", "filterLabel", "Show")
        show.setBuddy(self.state_filter)
        self.search = QLineEdit()
        self.search.setObjectName("invitationSearch")
        self.search.setAccessibleName(SEARCH_HINT)
        self.search.setPlaceholderText(SEARCH_HINT)
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(300)
        self.search.setMaximumWidth(460)
        self._pause = QTimer(self)
        self._pause.setSingleShot(True)
        self._pause.setInterval(SEARCH_PAUSE_MS)
        self._pause.timeout.connect(self.refresh)
        self.search.textChanged.connect(self._pause.start)
        self.search.returnPressed.connect(self.refresh)
        self._refresh_button = QPushButton("Refresh")
        self._refresh_button.setAccessibleName("Refresh the invitations")
        self._refresh_button.clicked.connect(self.refresh)
        header = QHBoxLayout()
        header.setSpacing(10)
        header.addWidget(title)
        header.addSpacing(16)
        header.addWidget(show)
        header.addWidget(self.state_filter)
        header.addWidget(self.search, 1)
        header.addStretch(1)
        header.addWidget(self._refresh_button)

        self._busy = QProgressBar()
        self._busy.setObjectName("invitationsBusy")
        self._busy.setAccessibleName(LOADING_TEXT)
        self._busy.setRange(0, 0)
        self._busy.setTextVisible(False)
        self._busy.setFixedHeight(3)
        self._busy.hide()

        self.model = InvitationTableModel(self, state_marks=invitation_state_dots())
        self.table = row_table_view(
            self.model,
            "invitationTable",
            "Invitations",
            (
                (InvitationColumn.PATIENT, 200),
                (InvitationColumn.MRN, 100),
                (InvitationColumn.EMAIL, 280),
                (InvitationColumn.STATE, 112),
                (InvitationColumn.CREATED, 140),
                (InvitationColumn.EXPIRES, 140),
            ),
        )
        self.table.selectionModel().currentRowChanged.connect(self._selection_changed)

        self.cancel_button = QPushButton(CANCEL_TEXT)
        self.cancel_button.setAccessibleName("Cancel the selected invitation")
        self.cancel_button.clicked.connect(self._ask_to_cancel)
        self.resend_button = QPushButton(RESEND_TEXT)
        self.resend_button.setAccessibleName("Resend the selected invitation's e-mail")
        self.resend_button.clicked.connect(self._resend)
        self._message = _label("Invitation message", "invitationsMessage")
        self._footer = _label("Invitations shown", "invitationsFooter")
        actions = QHBoxLayout()
        actions.setSpacing(8)
        actions.addWidget(self.cancel_button)
        actions.addWidget(self.resend_button)
        actions.addSpacing(8)
        actions.addWidget(self._message, 1)
        actions.addWidget(self._footer)

        self.confirm_strip = QFrame()
        self.confirm_strip.setObjectName("confirmStrip")
        self._confirm_text = _label("Confirm the cancellation", "confirmText")
        self._confirm_text.setWordWrap(True)
        self.confirm_button = QPushButton(CONFIRM_CANCEL)
        self.confirm_button.setAccessibleName("Yes, cancel the invitation")
        self.confirm_button.clicked.connect(self._cancel_confirmed)
        self.keep_button = QPushButton(KEEP_TEXT)
        self.keep_button.setAccessibleName("No, keep the invitation")
        self.keep_button.clicked.connect(self._end_confirmation)
        strip = QHBoxLayout(self.confirm_strip)
        strip.setContentsMargins(10, 6, 10, 6)
        strip.addWidget(self._confirm_text, 1)
        strip.addWidget(self.confirm_button)
        strip.addWidget(self.keep_button)
        self.confirm_strip.hide()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 12, 14, 12)
        layout.setSpacing(8)
        layout.addLayout(header)
        layout.addWidget(self._busy)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.confirm_strip)
        layout.addLayout(actions)
        self.setTabOrder(self.state_filter, self.search)
        self.setTabOrder(self.search, self.table)
        self.setTabOrder(self.table, self.cancel_button)
        self._selection_changed()

    @property
    def busy(self) -> bool:
        """Whether a read or a cancel is under way."""
        return self._reads.busy or self._writes.busy

    @property
    def footer(self) -> str:
        """The footer's figures ("Showing 500 of 12,345 invitations")."""
        return self._footer.text()

    @property
    def message(self) -> str:
        """The last refusal or confirmation shown beside the actions."""
        return self._message.text()

    def set_state_filter(self, state: InvitationState | None) -> None:
        """Show only invitations in ``state`` (None: all); reads them again."""
        self.state_filter.setCurrentIndex([s for _, s in FILTERS].index(state))

    @Slot()
    def refresh(self) -> None:
        """Read the page for the current filter and search again, in the worker; an older
        read still on its way is dropped."""
        self._pause.stop()
        self._reads.cancel()
        self._footer.setText(LOADING_TEXT)
        self._busy.show()
        work = partial(
            list_invitations,
            self._workstation,
            self._actor,
            state=FILTERS[max(self.state_filter.currentIndex(), 0)][1],
            search=self.search.text(),
        )
        self._reads.run("Loading the invitations", work, self._show_page, self._refused)

    @Slot(object)
    def invitations_changed(self, changes: Changes) -> None:
        """After an action elsewhere: read the page again when ``changes`` names an
        invitation (one shown changed, or a new one belongs at the top)."""
        if changes.invitations:
            self.refresh()

    def clear(self) -> None:
        """Forget every invitation and answers on their way (the lock screen)."""
        self._pause.stop()
        self._reads.cancel()
        self._writes.cancel()
        self._busy.hide()
        self._end_confirmation()
        self.search.clear()
        self._pause.stop()  # clearing the field started it
        self.model.load([])
        self._footer.setText("")
        self._show_message("")
        self._selection_changed()

    # --- internals -----------------------------------------------------------------------

    def _settled(self) -> None:
        if not self.busy:
            self._busy.hide()

    def _show_page(self, page: InvitationPage) -> None:
        self._settled()
        chosen = self._selected()
        self.model.load(page.rows)
        self._footer.setText(footer_text(len(page.rows), page.total))
        row = self.model.row_of(chosen.invitation_id) if chosen else None
        if row is not None:
            self.table.selectRow(row)
        self._selection_changed()
        self.loaded.emit(self.model.rowCount())

    def _refused(self, error: DomainError) -> None:
        self._settled()
        self._footer.setText("")
        self._show_message(str(error))

    def _show_message(self, text: str, *, done: bool = False) -> None:
        self._message.setProperty("done", done)
        self._message.style().polish(self._message)
        self._message.setText(text)

    def _selected(self) -> InvitationRow | None:
        return self.model.row_at(self.table.currentIndex())

    def _selection_changed(self, *_args: QModelIndex) -> None:
        row = self._selected()
        pending = row is not None and row.state is InvitationState.PENDING
        self.cancel_button.setEnabled(pending and self._may_cancel is None)
        if self._may_cancel is not None:
            self.cancel_button.setToolTip(self._may_cancel)
        elif row is not None and not pending:
            self.cancel_button.setToolTip("Only a pending invitation can be cancelled")
        else:
            self.cancel_button.setToolTip(
                "Cancel the selected invitation: its link and PIN stop working"
            )
        idle = not self._writes.busy
        self.resend_button.setEnabled(pending and idle and self._may_resend is None)
        self.resend_button.setToolTip(
            self._may_resend
            or (RESEND_TIP if pending or row is None else "Only a pending invitation is resent")
        )
        if self._confirming is not None and (
            row is None or row.invitation_id != self._confirming.invitation_id
        ):
            self._end_confirmation()

    def _ask_to_cancel(self) -> None:
        row = self._selected()
        if row is None or row.state is not InvitationState.PENDING:
            return
        self._confirming = row
        self._confirm_text.setText(
            f"Cancel the invitation to {row.patient_name} ({row.mrn}) at {row.target_email}, "
            f"valid until {when(row.expires_at)}? Its link and PIN stop working at once."
        )
        self._show_message("")
        self.confirm_strip.show()
        self.confirm_button.setFocus()

    @Slot()
    def _end_confirmation(self) -> None:
        self._confirming = None
        self.confirm_strip.hide()

    def _cancel_confirmed(self) -> None:
        row = self._confirming
        if row is None or self._writes.busy:
            return
        self._end_confirmation()
        self.cancel_button.setEnabled(False)
        self._busy.show()
        work = partial(
            cancel_invitation,
            self._workstation,
            self._actor,
            row.invitation_id,
            expected_version=row.version,
        )
        self._writes.run(
            "Cancelling the invitation", work, partial(self._cancelled, row), self._write_refused
        )

    def _cancelled(self, row: InvitationRow, changes: Changes) -> None:
        self._settled()
        # Shown in place (even under the "Pending" filter) so that staff see it happen.
        self.model.replace(
            dataclasses.replace(row, state=InvitationState.CANCELLED, version=row.version + 1)
        )
        self._show_message(f"Invitation to {row.patient_name} cancelled", done=True)
        self._selection_changed()
        self.changed.emit(changes)

    def _resend(self) -> None:
        row = self._selected()
        if row is None or row.state is not InvitationState.PENDING or self._writes.busy:
            return
        self._busy.show()
        work = partial(
            resend_invitation,
            self._workstation,
            self._actor,
            row.invitation_id,
            expected_version=row.version,
        )
        self._writes.run(
            "Resending the invitation", work, partial(self._resent, row), self._write_refused
        )
        self._selection_changed()

    def _resent(self, row: InvitationRow, changes: Changes) -> None:
        self._settled()
        self._show_message(
            f"Invitation e-mail to {row.target_email} queued again; its older link stops "
            "working once it is sent",
            done=True,
        )
        self._selection_changed()
        self.changed.emit(changes)

    def _write_refused(self, error: DomainError) -> None:
        self._settled()
        self._show_message(str(error))
        self._selection_changed()
        self.refresh()  # a stale row: show what is there now


__all__ = [
    "CANCEL_TEXT",
    "CONFIRM_CANCEL",
    "FILTERS",
    "RESEND_TIP",
    "SEARCH_PAUSE_MS",
    "InvitationsView",
    "footer_text",
]
