"""The outbox view (issue 7): the e-mails the console queued, sent, could not send or
cancelled, filtered by state, with whether e-mail is set up and what the relay did last.

The view only asks: each page is read off the GUI thread (``ServiceCalls``), a newer read
dropping the answer of an older one. **Send now** asks the window's relay to run
(``send_now``); **Retry** queues a failed e-mail again and **Cancel e-mail** stops a queued
or failed one, each in the worker with the version read, shown in place at once. A refusal
or a row changed meanwhile (the relay may have just sent it) is said beside the buttons and
the page is read again. Nothing here opens a modal dialog.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from functools import partial

from PySide6.QtCore import QModelIndex, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from console.adapters.background import ServiceCalls, Submitter
from console.adapters.outbox_table import OutboxColumn, OutboxTableModel
from console.models.outbox_list import OutboxPage, OutboxRow
from console.models.schema import OutboxState
from console.services.errors import DomainError, StaleRecord
from console.services.outbox_relay import RelayReport, cancel_message, retry_message
from console.services.permissions import Actor, Permission, refusal
from console.services.settings import ConsoleSettings
from console.services.staff_lists import list_outbox
from console.services.workstation import Changes, Workstation
from console.views.row_table_view import row_table_view

LOADING_TEXT = "Loading the outbox…"
NONE_MATCH = "No e-mails to show"
SEND_NOW_TEXT = "Send now"
RETRY_TEXT = "Retry"
CANCEL_TEXT = "Cancel e-mail"
SENDING_TEXT = "Sending the queued e-mails…"
NOT_SET_UP = (
    "E-mail is not set up: messages wait here until an administrator sets the mail server "
    "and the portal address in Settings."
)
CHANGED_MEANWHILE = (
    "This e-mail changed in the meantime (the console may have just sent it). The outbox "
    "was read again: check the e-mail and try again."
)

#: The state filter's choices, in order.
FILTERS: tuple[tuple[str, OutboxState | None], ...] = (
    ("All", None),
    ("Queued", OutboxState.QUEUED),
    ("Sent", OutboxState.SENT),
    ("Failed", OutboxState.FAILED),
    ("Cancelled", OutboxState.CANCELLED),
)

_STYLE = """
QWidget#outbox { background: #f6f7f9; }
QLabel#outboxTitle { font-size: 17px; font-weight: 600; color: #1f2933; }
QLabel#filterLabel { color: #3e4a59; }
QFrame#mailStatus { background: #ffffff; border: 1px solid #d5dae1; border-radius: 4px; }
QFrame#mailStatus[level="warning"] { background: #fff4dc; border-color: #e3b254; }
QFrame#mailStatus[level="problem"] { background: #fdecea; border-color: #e5a29b; }
QLabel#mailStatusText { color: #3e4a59; }
QFrame#mailStatus[level="warning"] QLabel#mailStatusText { color: #4a3200; }
QFrame#mailStatus[level="problem"] QLabel#mailStatusText { color: #8a1c12; }
QTableView#outboxTable { background: #ffffff; border: 1px solid #d5dae1;
    border-radius: 4px; gridline-color: #eef0f3; selection-background-color: #dbe8f7;
    selection-color: #1f2933; alternate-background-color: #f9fafb; }
QHeaderView::section { background: #eef1f5; color: #3e4a59; border: none;
    border-right: 1px solid #dde2e8; border-bottom: 1px solid #d5dae1; padding: 5px 6px;
    font-weight: 600; }
QLabel#outboxFooter { color: #5f6b7a; }
QLabel#outboxMessage { color: #b42318; }
QLabel#outboxMessage[done="true"] { color: #1f5c37; }
QPushButton:disabled { color: #9aa3ae; }
QProgressBar#outboxBusy { border: none; background: #e3e7ec; max-height: 3px; }
QProgressBar#outboxBusy::chunk { background: #2b6cb0; }
"""


def _label(name: str, object_name: str, text: str = "") -> QLabel:
    """A plain-text label with an accessible name."""
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setObjectName(object_name)
    label.setAccessibleName(name)
    return label


def _restyle(widget: QWidget, name: str, value: object) -> None:
    """Set a property the style sheet reads, and apply it at once."""
    widget.setProperty(name, value)
    widget.style().unpolish(widget)
    widget.style().polish(widget)
    for child in widget.findChildren(QWidget):
        child.style().unpolish(child)
        child.style().polish(child)


def footer_text(shown: int, total: int) -> str:
    """ "Showing 500 of 1,234 e-mails"; "No e-mails to show" when there are none."""
    if total == 0:
        return NONE_MATCH
    things = "e-mail" if total == 1 else "e-mails"
    return f"Showing {shown:,} of {total:,} {things}"


def is_set_up(settings: ConsoleSettings) -> bool:
    """Whether the settings name a mail server and the portal the links lead to."""
    return bool(settings.smtp_host.strip() and settings.portal_base_url.strip())


def report_text(report: RelayReport) -> str:
    """ "2 sent, 1 to be tried again, 1 failed"; "nothing was waiting to be sent"."""
    parts = [
        f"{count:,} {words}"
        for count, words in (
            (report.sent, "sent"),
            (report.retrying, "to be tried again"),
            (report.failed, "failed"),
            (report.dropped, "no longer needed"),
        )
        if count
    ]
    return ", ".join(parts) if parts else "nothing was waiting to be sent"


class OutboxView(QWidget):
    """The outbox with a state filter, the state of e-mail delivery, and the actions on the
    selected e-mail."""

    #: Staff asked for the queued e-mails to go now (or an action queued one): wake the relay.
    send_now = Signal()
    #: A page arrived: how many e-mails are shown.
    loaded = Signal(int)

    def __init__(
        self,
        workstation: Workstation,
        actor: Actor,
        runner: Submitter,
        settings: ConsoleSettings,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._workstation = workstation
        self._actor = actor
        self._settings = settings
        # Reads and writes apart: a new read drops the older one, never a retry or a cancel.
        self._reads = ServiceCalls(runner)
        self._writes = ServiceCalls(runner)
        self._may_act = refusal(actor.role, Permission.RESEND_EMAIL)
        self._relay_said = ""
        self._relay_failed = False
        self._asked = False
        self.setObjectName("outbox")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setStyleSheet(_STYLE)

        title = _label("Outbox", "outboxTitle", "Outbox")
        self.state_filter = QComboBox()
        self.state_filter.setAccessibleName("Show e-mails in state")
        for text, _state in FILTERS:
            self.state_filter.addItem(text)
        self.state_filter.currentIndexChanged.connect(self.refresh)
        show = _label("Show", "filterLabel", "Show")
        show.setBuddy(self.state_filter)
        self._refresh_button = QPushButton("Refresh")
        self._refresh_button.setAccessibleName("Refresh the outbox")
        self._refresh_button.clicked.connect(self.refresh)
        header = QHBoxLayout()
        header.setSpacing(10)
        header.addWidget(title)
        header.addSpacing(16)
        header.addWidget(show)
        header.addWidget(self.state_filter)
        header.addStretch(1)
        header.addWidget(self._refresh_button)

        self.status_strip = QFrame()
        self.status_strip.setObjectName("mailStatus")
        self._status = _label("E-mail delivery", "mailStatusText")
        self._status.setWordWrap(True)
        self.send_now_button = QPushButton(SEND_NOW_TEXT)
        self.send_now_button.setAccessibleName("Send the queued e-mails now")
        self.send_now_button.clicked.connect(self._send_now)
        strip = QHBoxLayout(self.status_strip)
        strip.setContentsMargins(10, 6, 10, 6)
        strip.addWidget(self._status, 1)
        strip.addWidget(self.send_now_button)

        self._busy = QProgressBar()
        self._busy.setObjectName("outboxBusy")
        self._busy.setAccessibleName(LOADING_TEXT)
        self._busy.setRange(0, 0)
        self._busy.setTextVisible(False)
        self._busy.setFixedHeight(3)
        self._busy.hide()

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
        self.retry_button.clicked.connect(self._retry)
        self.cancel_button = QPushButton(CANCEL_TEXT)
        self.cancel_button.setAccessibleName("Cancel the selected e-mail")
        self.cancel_button.clicked.connect(self._cancel)
        self._message = _label("Outbox message", "outboxMessage")
        self._message.setWordWrap(True)
        self._footer = _label("E-mails shown", "outboxFooter")
        actions = QHBoxLayout()
        actions.setSpacing(8)
        actions.addWidget(self.retry_button)
        actions.addWidget(self.cancel_button)
        actions.addSpacing(8)
        actions.addWidget(self._message, 1)
        actions.addWidget(self._footer)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 12, 14, 12)
        layout.setSpacing(8)
        layout.addLayout(header)
        layout.addWidget(self.status_strip)
        layout.addWidget(self._busy)
        layout.addWidget(self.table, 1)
        layout.addLayout(actions)
        for first, second in (
            (self.state_filter, self._refresh_button),
            (self._refresh_button, self.send_now_button),
            (self.send_now_button, self.table),
            (self.table, self.retry_button),
            (self.retry_button, self.cancel_button),
        ):
            self.setTabOrder(first, second)
        self._show_status()
        self._selection_changed()

    @property
    def busy(self) -> bool:
        """Whether a read, a retry or a cancel is under way."""
        return self._reads.busy or self._writes.busy

    @property
    def footer(self) -> str:
        """The footer's figures ("Showing 12 of 12 e-mails")."""
        return self._footer.text()

    @property
    def message(self) -> str:
        """The last refusal or confirmation shown beside the actions."""
        return self._message.text()

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
        self._settings = settings
        self._show_status()

    @Slot()
    def refresh(self) -> None:
        """Read the page for the current filter again, in the worker; an older read still on
        its way is dropped."""
        self._reads.cancel()
        self._footer.setText(LOADING_TEXT)
        self._busy.show()
        work = partial(
            list_outbox,
            self._workstation,
            self._actor,
            state=FILTERS[max(self.state_filter.currentIndex(), 0)][1],
        )
        self._reads.run("Loading the outbox", work, self._show_page, self._refused)

    @Slot(object)
    def relay_ran(self, report: RelayReport) -> None:
        """The relay finished a run: say what it did and read the page again when it took
        any e-mail. A run with nothing due changes the line only after a problem or when
        staff pressed Send now."""
        if report.handled == 0 and not (self._relay_failed or self._asked):
            return
        at = f"{self._workstation.clock.now().astimezone():%H:%M}"
        self._relay_said = f"At {at}: {report_text(report)}."
        self._relay_failed = self._asked = False
        self._show_status()
        if report.handled:
            self.refresh()

    @Slot(str)
    def relay_problem(self, text: str) -> None:
        """The relay could not send: show why (``text`` is written for the clinic)."""
        self._relay_said = text
        self._relay_failed = True
        self._asked = False
        self._show_status()

    def clear(self) -> None:
        """Forget every e-mail shown and answers on their way (the lock screen)."""
        self._reads.cancel()
        self._writes.cancel()
        self._busy.hide()
        self.model.load([])
        self._footer.setText("")
        self._show_message("")
        self._selection_changed()

    # --- internals -----------------------------------------------------------------------

    def _show_status(self) -> None:
        if not is_set_up(self._settings):
            level, text = "warning", NOT_SET_UP
            if self._relay_failed:
                text = f"{text} {self._relay_said}"
        elif self._relay_failed:
            level, text = "problem", self._relay_said
        else:
            where = f"E-mail is sent through {self._settings.smtp_host.strip()}."
            level, text = "ok", f"{where} {self._relay_said}".strip()
        self._status.setText(text)
        _restyle(self.status_strip, "level", level)
        ready = is_set_up(self._settings)
        self.send_now_button.setEnabled(ready)
        self.send_now_button.setToolTip(
            "Send the queued e-mails that are due now"
            if ready
            else "Set the mail server and the portal address in Settings first"
        )

    def _send_now(self) -> None:
        self._asked = True
        self._relay_failed = False
        self._relay_said = SENDING_TEXT
        self._show_status()
        self.send_now.emit()

    def _settled(self) -> None:
        if not self.busy:
            self._busy.hide()

    def _show_page(self, page: OutboxPage) -> None:
        self._settled()
        chosen = self._selected()
        self.model.load(page.rows)
        self._footer.setText(footer_text(len(page.rows), page.total))
        row = self.model.row_of(chosen.message_id) if chosen else None
        if row is not None:
            self.table.selectRow(row)
        self._selection_changed()
        self.loaded.emit(self.model.rowCount())

    def _refused(self, error: DomainError) -> None:
        self._settled()
        self._footer.setText("")
        self._show_message(str(error))

    def _show_message(self, text: str, *, done: bool = False) -> None:
        _restyle(self._message, "done", done)
        self._message.setText(text)

    def _selected(self) -> OutboxRow | None:
        return self.model.row_at(self.table.currentIndex())

    def _selection_changed(self, *_args: QModelIndex) -> None:
        row = self._selected()
        idle = not self._writes.busy
        failed = row is not None and row.state is OutboxState.FAILED
        waiting = row is not None and row.state in (OutboxState.QUEUED, OutboxState.FAILED)
        self.retry_button.setEnabled(failed and idle and self._may_act is None)
        self.cancel_button.setEnabled(waiting and idle and self._may_act is None)
        if self._may_act is not None:
            self.retry_button.setToolTip(self._may_act)
            self.cancel_button.setToolTip(self._may_act)
            return
        self.retry_button.setToolTip(
            "Queue the selected e-mail again, to be sent at once (after the mail server or "
            "the address was fixed)"
            if row is None or failed
            else "Only an e-mail that failed can be tried again"
        )
        self.cancel_button.setToolTip(
            "Stop the selected e-mail from being sent"
            if row is None or waiting
            else "Only a queued or failed e-mail can be cancelled"
        )

    def _retry(self) -> None:
        row = self._selected()
        if row is None or row.state is not OutboxState.FAILED:
            return
        after = dataclasses.replace(
            row,
            state=OutboxState.QUEUED,
            attempts=0,
            next_attempt_at=self._workstation.clock.now(),
            last_error=None,
            version=row.version + 1,
        )
        self._write(
            "Queuing the e-mail again",
            retry_message,
            row,
            after,
            f"The e-mail to {row.to_email} is queued again",
        )

    def _cancel(self) -> None:
        row = self._selected()
        if row is None or row.state not in (OutboxState.QUEUED, OutboxState.FAILED):
            return
        after = dataclasses.replace(
            row, state=OutboxState.CANCELLED, next_attempt_at=None, version=row.version + 1
        )
        self._write(
            "Cancelling the e-mail",
            cancel_message,
            row,
            after,
            f"The e-mail to {row.to_email} is cancelled",
        )

    def _write(
        self,
        what: str,
        action: Callable[..., Changes],
        row: OutboxRow,
        after: OutboxRow,
        done_text: str,
    ) -> None:
        """Run ``action`` on ``row`` in the worker; then show ``after`` in its place."""
        if self._writes.busy:
            return
        work = partial(
            action,
            self._workstation,
            self._actor,
            row.message_id,
            expected_version=row.version,
        )
        self._writes.run(what, work, partial(self._written, after, done_text), self._not_written)
        self._busy.show()
        self._show_message("")
        self._selection_changed()

    def _written(self, after: OutboxRow, done_text: str, _changes: Changes) -> None:
        self._settled()
        # Shown in place (even under another filter) so that staff see it happen.
        self.model.replace(after)
        self._show_message(done_text, done=True)
        self._selection_changed()
        if after.state is OutboxState.QUEUED:
            self.send_now.emit()

    def _not_written(self, error: DomainError) -> None:
        self._settled()
        self._show_message(CHANGED_MEANWHILE if isinstance(error, StaleRecord) else str(error))
        self._selection_changed()
        self.refresh()  # show what is there now


__all__ = [
    "CANCEL_TEXT",
    "FILTERS",
    "NOT_SET_UP",
    "RETRY_TEXT",
    "SEND_NOW_TEXT",
    "OutboxView",
    "footer_text",
    "is_set_up",
    "report_text",
]
