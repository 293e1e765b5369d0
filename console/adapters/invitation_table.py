"""The invitations view's table: one row per invitation of the page ``list_invitations``
returned (at most a few hundred rows, so the model holds them all).

``load`` shows a new page; ``replace`` puts one re-read invitation in place (after a
cancel) with one ``dataChanged``, so the selection and scroll position stay where they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import IntEnum
from typing import Any

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, Qt

from console.adapters.local_time import when
from console.adapters.row_table import RowTableModel
from console.models.invitation_list import InvitationRow
from console.models.states import InvitationState

_Index = QModelIndex | QPersistentModelIndex
_USER_ROLE = int(Qt.ItemDataRole.UserRole)


class InvitationColumn(IntEnum):
    """The table's columns, in order."""

    PATIENT = 0
    MRN = 1
    EMAIL = 2
    STATE = 3
    CREATED = 4
    EXPIRES = 5
    BY = 6


_HEADERS = {
    InvitationColumn.PATIENT: "Patient",
    InvitationColumn.MRN: "MRN",
    InvitationColumn.EMAIL: "E-mail",
    InvitationColumn.STATE: "State",
    InvitationColumn.CREATED: "Created",
    InvitationColumn.EXPIRES: "Expires",
    InvitationColumn.BY: "By",
}


class InvitationRoles(IntEnum):
    """Item data roles the table answers besides Qt's own (on every column)."""

    #: ``int`` — the invitation's id.
    INVITATION_ID = _USER_ROLE + 1
    #: ``str`` — the state as shown ("pending", "expired", "accepted", "cancelled").
    STATE = _USER_ROLE + 2
    #: ``int`` — the row version read, for ``expected_version``.
    VERSION = _USER_ROLE + 3
    #: ``InvitationRow`` — the whole row.
    ROW = _USER_ROLE + 4


#: The states in the front desk's words (a word, never only a colour).
STATE_LABELS: dict[InvitationState, str] = {
    InvitationState.PENDING: "Pending",
    InvitationState.EXPIRED: "Expired",
    InvitationState.ACCEPTED: "Accepted",
    InvitationState.CANCELLED: "Cancelled",
}


def _text(row: InvitationRow, column: InvitationColumn) -> str:
    if column is InvitationColumn.PATIENT:
        return row.patient_name
    if column is InvitationColumn.MRN:
        return row.mrn
    if column is InvitationColumn.EMAIL:
        return row.target_email
    if column is InvitationColumn.STATE:
        return STATE_LABELS[row.state]
    if column is InvitationColumn.CREATED:
        return when(row.created_at)
    if column is InvitationColumn.EXPIRES:
        return when(row.expires_at)
    return row.created_by or "—"


class InvitationTableModel(RowTableModel[InvitationRow]):
    """The invitations of one page, newest first; read-only.

    ``state_marks`` (from a view: an adapter draws nothing) is what the state cells show
    beside their text, by state: a coloured dot, as the account list has."""

    def __init__(
        self,
        parent: QObject | None = None,
        *,
        state_marks: Mapping[InvitationState, Any] | None = None,
    ) -> None:
        super().__init__(
            [_HEADERS[c] for c in InvitationColumn], lambda row: row.invitation_id, parent
        )
        self._state_marks = dict(state_marks or {})

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        row = self.row_at(index)
        if row is None:
            return None
        column = InvitationColumn(index.column())
        if role == Qt.ItemDataRole.DisplayRole:
            return _text(row, column)
        if role == Qt.ItemDataRole.DecorationRole and column is InvitationColumn.STATE:
            return self._state_marks.get(row.state)
        if role == Qt.ItemDataRole.ToolTipRole and column is InvitationColumn.EXPIRES:
            if row.state is InvitationState.EXPIRED:
                return "Past its expiry: the patient can no longer use it"
            return None
        if role == InvitationRoles.INVITATION_ID:
            return row.invitation_id
        if role == InvitationRoles.STATE:
            return row.state.value
        if role == InvitationRoles.VERSION:
            return row.version
        if role == InvitationRoles.ROW:
            return row
        return None


__all__ = [
    "STATE_LABELS",
    "InvitationColumn",
    "InvitationRoles",
    "InvitationTableModel",
]
