"""The outbox view (issue 7): the e-mails the console queued, sent, could not send or
cancelled, filtered by state, with whether e-mail is set up and what the relay did last.

A ``ListPage`` whose decisions are the ``OutboxPresenter``'s: this widget binds the mail
status strip, the table and the buttons, and forwards what staff do and what the relay
reports. Nothing here opens a modal dialog.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QModelIndex, Signal, Slot
from PySide6.QtWidgets import QFrame, QHBoxLayout, QPushButton, QWidget

from console.adapters.outbox_table import OutboxColumn, OutboxTableModel
from console.models.outbox_list import OutboxRow
from console.models.states import OutboxState
from console.services.desk import StaffDesk
from console.services.mail.relay import RelayReport
from console.services.settings.values import ConsoleSettings
from console.services.workstation import Changes
from console.views.list_page import ListPage, named_label, restyle, show_value, table_style
from console.views.outbox_presenter import (
    CANCEL_TEXT,
    FILTERS,
    LOADING_TEXT,
    RETRY_TEXT,
    SEND_NOW_TEXT,
    MailStatus,
    OutboxActions,
    OutboxPresenter,
)
from console.views.row_table_view import row_table_view
from console.workers.service_calls import Submitter

_STYLE = """
QFrame#mailStatus { background: #ffffff; border: 1px solid #d5dae1; border-radius: 4px; }
QFrame#mailStatus[level="warning"] { background: #fff4dc; border-color: #e3b254; }
QFrame#mailStatus[level="problem"] { background: #fdecea; border-color: #e5a29b; }
QLabel#mailStatusText { color: #3e4a59; }
QFrame#mailStatus[level="warning"] QLabel#mailStatusText { color: #4a3200; }
QFrame#mailStatus[level="problem"] QLabel#mailStatusText { color: #8a1c12; }
QPushButton:disabled { color: #9aa3ae; }
""" + table_style("outboxTable")


class OutboxView(ListPage):
    """The outbox with a state filter, the state of e-mail delivery, and the actions on the
    selected e-mail."""

    #: Staff asked for the queued e-mails to go now (or an action queued one): wake the relay.
    send_now = Signal()
    #: A page arrived: how many e-mails are shown.
    loaded = Signal(int)
    #: Retry or Cancel changed an e-mail (``Changes``): for the window's change feed.
    changed = Signal(object)

    def __init__(
        self,
        desk: StaffDesk,
        runner: Submitter,
        settings: ConsoleSettings,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(
            "outbox",
            "Outbox",
            refresh_name="Refresh the outbox",
            busy_name=LOADING_TEXT,
            figures_name="E-mails shown",
            style=_STYLE,
            parent=parent,
        )
        self.presenter = OutboxPresenter(self, desk, runner, settings)
        self.state_filter = self.add_state_filter(
            "Show e-mails in state", [text for text, _state in FILTERS]
        )

        self.status_strip = QFrame()
        self.status_strip.setObjectName("mailStatus")
        self._status = named_label("E-mail delivery", "mailStatusText", wrap=True)
        self.send_now_button = QPushButton(SEND_NOW_TEXT)
        self.send_now_button.setAccessibleName("Send the queued e-mails now")
        self.send_now_button.clicked.connect(self.presenter.send_now)
        strip = QHBoxLayout(self.status_strip)
        strip.setContentsMargins(10, 6, 10, 6)
        strip.addWidget(self._status, 1)
        strip.addWidget(self.send_now_button)

        self.model = OutboxTableModel(self)
        self.table = row_table_view(
            self.model,
            "outboxTable",
            "Outbox",
            (
                (OutboxColumn.CREATED, 135),
                (OutboxColumn.KIND, 115),
                (OutboxColumn.TO, 240),
                (OutboxColumn.STATE, 85),
                (OutboxColumn.ATTEMPTS, 76),
                (OutboxColumn.NEXT_OR_SENT, 135),
            ),
        )
        self.table.selectionModel().currentRowChanged.connect(self._selection_changed)

        self.retry_button = QPushButton(RETRY_TEXT)
        self.retry_button.setAccessibleName("Try the selected e-mail again")
        self.retry_button.clicked.connect(self.presenter.retry)
        self.cancel_button = QPushButton(CANCEL_TEXT)
        self.cancel_button.setAccessibleName("Cancel the selected e-mail")
        self.cancel_button.clicked.connect(self.presenter.cancel)

        self.lay_out(
            self.table,
            above=[self.status_strip],
            actions=[self.retry_button, self.cancel_button],
            message_name="Outbox message",
            message_wraps=True,
        )
        for first, second in (
            (self.state_filter, self._refresh_button),
            (self._refresh_button, self.send_now_button),
            (self.send_now_button, self.table),
            (self.table, self.retry_button),
            (self.retry_button, self.cancel_button),
        ):
            self.setTabOrder(first, second)
        self.presenter.show_status()
        self.presenter.selection_changed()

    @property
    def busy(self) -> bool:
        """Whether a read, a retry or a cancel is under way."""
        return self.presenter.busy

    @property
    def footer(self) -> str:
        """The footer's figures ("Showing 12 of 12 e-mails")."""
        return self.figures

    @property
    def status(self) -> str:
        """Whether e-mail is set up, and what the relay did last."""
        return self._status.text()

    def set_state_filter(self, state: OutboxState | None) -> None:
        """Show only e-mails in ``state`` (None: all); reads them again."""
        self.state_filter.setCurrentIndex([s for _, s in FILTERS].index(state))

    def set_settings(self, settings: ConsoleSettings) -> None:
        """The settings changed (an administrator saved them): say again whether e-mail is
        set up."""
        self.presenter.set_settings(settings)

    @Slot()
    def refresh(self) -> None:
        """Read the page for the current filter again, in the worker; an older read still on
        its way is dropped."""
        self.presenter.refresh()

    @Slot(object)
    def relay_ran(self, report: RelayReport) -> None:
        """The relay finished a run: say what it did (and read the page again when it took
        any e-mail)."""
        self.presenter.relay_ran(report)

    @Slot(str)
    def relay_problem(self, text: str) -> None:
        """The relay could not send: show why (``text`` is written for the clinic)."""
        self.presenter.relay_problem(text)

    def clear(self) -> None:
        """Forget every e-mail shown and answers on their way (the lock screen)."""
        self.presenter.clear()
        self.model.load([])
        self.presenter.selection_changed()

    # --- OutboxScreen --------------------------------------------------------------------

    def criteria(self) -> OutboxState | None:
        """The state chosen."""
        return FILTERS[max(self.state_filter.currentIndex(), 0)][1]

    def selected(self) -> OutboxRow | None:
        """The e-mail selected in the table."""
        return self.model.row_at(self.table.currentIndex())

    def show_rows(self, rows: Sequence[OutboxRow]) -> None:
        """Show ``rows``, the selected e-mail still selected when it is among them."""
        chosen = self.selected()
        self.model.load(rows)
        row = self.model.row_of(chosen.message_id) if chosen else None
        if row is not None:
            self.table.selectRow(row)

    def show_row(self, row: OutboxRow) -> None:
        """Show ``row`` in place."""
        self.model.replace(row)

    def show_actions(self, actions: OutboxActions) -> None:
        """Enable and explain Retry and Cancel."""
        self.retry_button.setEnabled(actions.retry_enabled)
        self.retry_button.setToolTip(actions.retry_tip)
        self.cancel_button.setEnabled(actions.cancel_enabled)
        self.cancel_button.setToolTip(actions.cancel_tip)

    def show_status(self, status: MailStatus) -> None:
        """Show the state of e-mail delivery and whether Send now can be pressed."""
        show_value(self._status, status.text)
        restyle(self.status_strip, "level", status.level)
        self.send_now_button.setEnabled(status.send_now_enabled)
        self.send_now_button.setToolTip(status.send_now_tip)

    def page_shown(self, count: int) -> None:
        """Say that a page arrived."""
        self.loaded.emit(count)

    def wake_relay(self) -> None:
        """Ask the relay to run."""
        self.send_now.emit()

    def publish(self, changes: Changes) -> None:
        """Hand ``changes`` to the window's feed."""
        self.changed.emit(changes)

    def outbox_changed(self, changes: Changes) -> None:
        """What an action changed: the presenter decides whether to read again."""
        self.presenter.outbox_changed(changes)

    def _selection_changed(self, *_args: QModelIndex) -> None:
        self.presenter.selection_changed()


__all__ = ["OutboxView"]
