"""The outbox view's table: one row per e-mail of the page ``list_outbox`` returned (at most a
few hundred rows, so the model holds them all).

``load`` shows a new page; ``replace`` puts one message in place after a retry or a cancel
with one ``dataChanged``, so the selection and scroll position stay where they are.
"""

from __future__ import annotations

import datetime as dt
from enum import IntEnum
from typing import Any

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, Qt

from console.adapters.local_time import when
from console.adapters.row_table import RowTableModel
from console.models.outbox_list import KIND_LABELS, OutboxRow
from console.models.states import OutboxState

_Index = QModelIndex | QPersistentModelIndex
_USER_ROLE = int(Qt.ItemDataRole.UserRole)


class OutboxColumn(IntEnum):
    """The table's columns, in order."""

    CREATED = 0
    KIND = 1
    TO = 2
    STATE = 3
    ATTEMPTS = 4
    NEXT_OR_SENT = 5
    REASON = 6


_HEADERS = {
    OutboxColumn.CREATED: "Created",
    OutboxColumn.KIND: "Kind",
    OutboxColumn.TO: "To",
    OutboxColumn.STATE: "State",
    OutboxColumn.ATTEMPTS: "Attempts",
    OutboxColumn.NEXT_OR_SENT: "Next try / Sent",
    OutboxColumn.REASON: "Reason",
}


class OutboxRoles(IntEnum):
    """Item data roles the table answers besides Qt's own (on every column)."""

    #: ``int`` — the message's id.
    MESSAGE_ID = _USER_ROLE + 1
    #: ``str`` — the state's value ("queued", "sent", "failed", "cancelled").
    STATE = _USER_ROLE + 2
    #: ``int`` — the row version read, for ``expected_version``.
    VERSION = _USER_ROLE + 3
    #: ``OutboxRow`` — the whole row.
    ROW = _USER_ROLE + 4


#: The states in the clinic's words (a word, never only a colour).
STATE_LABELS: dict[OutboxState, str] = {
    OutboxState.QUEUED: "Queued",
    OutboxState.SENT: "Sent",
    OutboxState.FAILED: "Failed",
    OutboxState.CANCELLED: "Cancelled",
}


def next_or_sent(row: OutboxRow) -> dt.datetime | None:
    """When a queued message is tried next, or when a sent one went; None otherwise."""
    if row.state is OutboxState.QUEUED:
        return row.next_attempt_at
    if row.state is OutboxState.SENT:
        return row.sent_at
    return None


def reason_shown(last_error: str | None) -> str:
    """The reason on one line; for a server's refusal ("smtp://mail.example.org:587
    (STARTTLS) answered 550 5.1.1 No such mailbox"), only its reply, which is what tells
    the message's problem apart (the whole reason is the cell's tooltip)."""
    text = " ".join((last_error or "").split())
    _server, answered, reply = text.partition(" answered ")
    return reply if answered and reply[:3].isdigit() else text


def _text(row: OutboxRow, column: OutboxColumn) -> str:
    if column is OutboxColumn.CREATED:
        return when(row.created_at)
    if column is OutboxColumn.KIND:
        return KIND_LABELS[row.kind]
    if column is OutboxColumn.TO:
        return row.to_email
    if column is OutboxColumn.STATE:
        return STATE_LABELS[row.state]
    if column is OutboxColumn.ATTEMPTS:
        return str(row.attempts)
    if column is OutboxColumn.NEXT_OR_SENT:
        moment = next_or_sent(row)
        return when(moment) if moment is not None else "—"
    return reason_shown(row.last_error)


def _tooltip(row: OutboxRow, column: OutboxColumn) -> str | None:
    if column is OutboxColumn.REASON and row.last_error:
        return row.last_error
    if column is OutboxColumn.NEXT_OR_SENT:
        if row.state is OutboxState.QUEUED:
            return "When the console tries to send it next"
        if row.state is OutboxState.SENT:
            return "When the mail server took it"
    return None


class OutboxTableModel(RowTableModel[OutboxRow]):
    """The e-mails of one page, newest first; read-only."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__([_HEADERS[c] for c in OutboxColumn], lambda row: row.message_id, parent)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        row = self.row_at(index)
        if row is None:
            return None
        column = OutboxColumn(index.column())
        if role == Qt.ItemDataRole.DisplayRole:
            return _text(row, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            return _tooltip(row, column)
        if role == OutboxRoles.MESSAGE_ID:
            return row.message_id
        if role == OutboxRoles.STATE:
            return row.state.value
        if role == OutboxRoles.VERSION:
            return row.version
        if role == OutboxRoles.ROW:
            return row
        return None


__all__ = [
    "STATE_LABELS",
    "OutboxColumn",
    "OutboxRoles",
    "OutboxTableModel",
    "next_or_sent",
    "reason_shown",
]
