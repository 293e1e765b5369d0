"""The invitations view (issue 6, point 5): pending, expired, accepted and cancelled
invitations, filtered by state and by a name, MRN or e-mail typed in the search field.

A ``ListPage`` whose decisions are the ``InvitationsPresenter``'s: this widget binds the
table, the buttons and the confirmation strip and forwards what staff do. Each page is read
off the GUI thread, a newer read dropping the answer of an older one, and typing waits for a
pause before it searches. **Cancel invitation…** asks for a confirmation in a strip under
the table (no modal dialog: nothing blocks, and a test answers it with a click).
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QModelIndex, Signal, Slot
from PySide6.QtWidgets import QFrame, QHBoxLayout, QPushButton, QWidget

from console.adapters.invitation_table import InvitationColumn, InvitationTableModel
from console.models.invitation_list import InvitationRow
from console.models.states import InvitationState
from console.services.desk import StaffDesk
from console.services.workstation import Changes
from console.views.invitations_presenter import (
    CANCEL_TEXT,
    CONFIRM_CANCEL,
    FILTERS,
    KEEP_TEXT,
    LOADING_TEXT,
    RESEND_TEXT,
    SEARCH_HINT,
    InvitationActions,
    InvitationsPresenter,
)
from console.views.list_page import ListPage, named_label, show_value, table_style
from console.views.row_table_view import row_table_view
from console.views.theme import invitation_state_dots
from console.workers.service_calls import Submitter

_STYLE = """
QLineEdit#invitationSearch { padding: 4px 6px; border: 1px solid #c3cad3; border-radius: 4px;
    background: #ffffff; }
QLineEdit#invitationSearch:focus { border-color: #2b6cb0; }
QFrame#confirmStrip { background: #fff4dc; border: 1px solid #e3b254; border-radius: 4px; }
QLabel#confirmText { color: #4a3200; }
""" + table_style("invitationTable")


class InvitationsView(ListPage):
    """Invitations with a state filter and a search, and the actions on the selected one."""

    #: An action changed something (``Changes``): other views refresh what it names.
    changed = Signal(object)
    #: A page arrived: how many invitations are shown.
    loaded = Signal(int)

    def __init__(
        self,
        desk: StaffDesk,
        runner: Submitter,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(
            "invitations",
            "Invitations",
            refresh_name="Refresh the invitations",
            busy_name=LOADING_TEXT,
            figures_name="Invitations shown",
            style=_STYLE,
            parent=parent,
        )
        self.presenter = InvitationsPresenter(self, desk, runner)
        self.state_filter = self.add_state_filter(
            "Show invitations in state", [text for text, _state in FILTERS]
        )
        self.search = self.add_search("invitationSearch", SEARCH_HINT)

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
        self.cancel_button.clicked.connect(self.presenter.ask_to_cancel)
        self.resend_button = QPushButton(RESEND_TEXT)
        self.resend_button.setAccessibleName("Resend the selected invitation's e-mail")
        self.resend_button.clicked.connect(self.presenter.resend)

        self.confirm_strip = QFrame()
        self.confirm_strip.setObjectName("confirmStrip")
        self._confirm_text = named_label("Confirm the cancellation", "confirmText", wrap=True)
        self.confirm_button = QPushButton(CONFIRM_CANCEL)
        self.confirm_button.setAccessibleName("Yes, cancel the invitation")
        self.confirm_button.clicked.connect(self.presenter.confirm_cancel)
        self.keep_button = QPushButton(KEEP_TEXT)
        self.keep_button.setAccessibleName("No, keep the invitation")
        self.keep_button.clicked.connect(self.presenter.end_confirmation)
        strip = QHBoxLayout(self.confirm_strip)
        strip.setContentsMargins(10, 6, 10, 6)
        strip.addWidget(self._confirm_text, 1)
        strip.addWidget(self.confirm_button)
        strip.addWidget(self.keep_button)
        self.confirm_strip.hide()

        self.lay_out(
            self.table,
            below=[self.confirm_strip],
            actions=[self.cancel_button, self.resend_button],
            message_name="Invitation message",
        )
        self.setTabOrder(self.state_filter, self.search)
        self.setTabOrder(self.search, self.table)
        self.setTabOrder(self.table, self.cancel_button)
        self.presenter.selection_changed()

    @property
    def busy(self) -> bool:
        """Whether a read or a cancel is under way."""
        return self.presenter.busy

    @property
    def footer(self) -> str:
        """The footer's figures ("Showing 500 of 12,345 invitations")."""
        return self.figures

    def set_state_filter(self, state: InvitationState | None) -> None:
        """Show only invitations in ``state`` (None: all); reads them again."""
        self.state_filter.setCurrentIndex([s for _, s in FILTERS].index(state))

    @Slot()
    def refresh(self) -> None:
        """Read the page for the current filter and search again, in the worker; an older
        read still on its way is dropped."""
        self.presenter.refresh()

    @Slot(object)
    def invitations_changed(self, changes: Changes) -> None:
        """After an action elsewhere: read the page again when ``changes`` names an
        invitation."""
        self.presenter.invitations_changed(changes)

    def clear(self) -> None:
        """Forget every invitation and answers on their way (the lock screen)."""
        self.presenter.clear()
        self.clear_search()
        self.model.load([])
        self.presenter.selection_changed()

    # --- InvitationsScreen ---------------------------------------------------------------

    def criteria(self) -> tuple[InvitationState | None, str]:
        """The state chosen and the search typed (read now: the typing pause is over)."""
        self.stop_search_pause()
        return FILTERS[max(self.state_filter.currentIndex(), 0)][1], self.search.text()

    def selected(self) -> InvitationRow | None:
        """The invitation selected in the table."""
        return self.model.row_at(self.table.currentIndex())

    def show_rows(self, rows: Sequence[InvitationRow]) -> None:
        """Show ``rows``, the selected invitation still selected when it is among them."""
        chosen = self.selected()
        self.model.load(rows)
        row = self.model.row_of(chosen.invitation_id) if chosen else None
        if row is not None:
            self.table.selectRow(row)

    def show_row(self, row: InvitationRow) -> None:
        """Show ``row`` in place."""
        self.model.replace(row)

    def show_actions(self, actions: InvitationActions) -> None:
        """Enable and explain Cancel and Resend."""
        self.cancel_button.setEnabled(actions.cancel_enabled)
        self.cancel_button.setToolTip(actions.cancel_tip)
        self.resend_button.setEnabled(actions.resend_enabled)
        self.resend_button.setToolTip(actions.resend_tip)

    def ask_to_confirm(self, text: str) -> None:
        """Ask ``text`` in the strip under the table."""
        show_value(self._confirm_text, text)
        self.confirm_strip.show()
        self.confirm_button.setFocus()

    def end_confirmation(self) -> None:
        """Hide the strip."""
        self.confirm_strip.hide()

    def page_shown(self, count: int) -> None:
        """Say that a page arrived."""
        self.loaded.emit(count)

    def changes_made(self, changes: Changes) -> None:
        """Hand an action's ``changes`` on."""
        self.changed.emit(changes)

    def _selection_changed(self, *_args: QModelIndex) -> None:
        self.presenter.selection_changed()


__all__ = ["InvitationsView"]
