"""The console's staff users as a Qt table model, for the staff administration dialog.

A clinic has a handful of staff users, so the model holds every ``StaffMember`` the last
``list_staff`` returned. A reload that lists the same people in the same order (a user
disabled, given another role, their password reset) announces only the rows that changed,
so the selection stays where the administrator left it; only adding someone resets it.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import IntEnum, StrEnum
from typing import Any

from PySide6.QtCore import (
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
)

from console.adapters.local_time import when
from console.adapters.role_labels import ROLE_LABELS
from console.adapters.row_table import RowTableModel
from console.models.staff_list import StaffMember

_Index = QModelIndex | QPersistentModelIndex


class StaffColumn(IntEnum):
    """The table's columns, in order."""

    USERNAME = 0
    NAME = 1
    ROLE = 2
    STATUS = 3
    LAST_SIGN_IN = 4


_HEADERS = {
    StaffColumn.USERNAME: "Username",
    StaffColumn.NAME: "Name",
    StaffColumn.ROLE: "Role",
    StaffColumn.STATUS: "Status",
    StaffColumn.LAST_SIGN_IN: "Last sign-in",
}


class StaffRoles(IntEnum):
    """Item data roles the staff table answers besides Qt's own."""

    #: ``int`` — the staff user's id.
    STAFF_ID = int(Qt.ItemDataRole.UserRole) + 1
    #: ``StaffMember`` — the whole row, for the actions on the selected user.
    STAFF_MEMBER = int(Qt.ItemDataRole.UserRole) + 2


NEVER_SIGNED_IN = "Never"


class StaffStatus(StrEnum):
    """The one thing that most affects a staff user's signing in."""

    ACTIVE = "active"
    DISABLED = "disabled"
    LOCKED = "locked"
    MUST_CHANGE_PASSWORD = "must_change_password"  # noqa: S105 - a status, not a secret


_STATUS_WORDS = {
    StaffStatus.ACTIVE: "Active",
    StaffStatus.DISABLED: "Disabled",
    StaffStatus.LOCKED: "Locked",
    StaffStatus.MUST_CHANGE_PASSWORD: "Must change password",
}


def status_of(member: StaffMember) -> StaffStatus:
    """``member``'s status: disabled outranks a lock-out, which outranks a password to
    change."""
    if member.disabled:
        return StaffStatus.DISABLED
    if member.locked and member.locked_until is not None:
        return StaffStatus.LOCKED
    if member.must_change_password:
        return StaffStatus.MUST_CHANGE_PASSWORD
    return StaffStatus.ACTIVE


def staff_status(member: StaffMember) -> str:
    """What the status column says (in words: a view may add a colour, never only that)."""
    status = status_of(member)
    if status is StaffStatus.LOCKED and member.locked_until is not None:
        return f"Locked until {when(member.locked_until)}"
    return _STATUS_WORDS[status]


def _status_tooltip(member: StaffMember) -> str:
    if member.disabled:
        return "Cannot sign in until an administrator enables the account again."
    if member.locked:
        return (
            "Locked out after too many failed sign-ins; it lifts by itself at that time, "
            "or at once when an administrator resets the password."
        )
    if member.must_change_password:
        return "Must choose a new password at the next sign-in (the password was reset)."
    return "Can sign in."


def _cell_text(member: StaffMember, column: StaffColumn) -> str:
    if column is StaffColumn.USERNAME:
        return member.username
    if column is StaffColumn.NAME:
        return member.display_name
    if column is StaffColumn.ROLE:
        return ROLE_LABELS.get(member.role, member.role)
    if column is StaffColumn.STATUS:
        return staff_status(member)
    return when(member.last_login_at) if member.last_login_at is not None else NEVER_SIGNED_IN


class StaffTableModel(RowTableModel[StaffMember]):
    """Every console user, one per row (read-only; changes go through the services).

    ``status_marks`` (from a view: an adapter draws nothing) is what the status cells show
    beside their text, by status: a coloured dot, say."""

    def __init__(
        self,
        parent: QObject | None = None,
        *,
        status_marks: Mapping[StaffStatus, Any] | None = None,
    ) -> None:
        super().__init__([_HEADERS[c] for c in StaffColumn], lambda member: member.id, parent)
        self._status_marks = dict(status_marks or {})

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        member = self.row_at(index)
        if member is None:
            return None
        column = StaffColumn(index.column())
        if role == Qt.ItemDataRole.DisplayRole:
            return _cell_text(member, column)
        if column is StaffColumn.STATUS:
            if role == Qt.ItemDataRole.DecorationRole:
                return self._status_marks.get(status_of(member))
            if role == Qt.ItemDataRole.ToolTipRole:
                return _status_tooltip(member)
        if role == StaffRoles.STAFF_ID:
            return member.id
        if role == StaffRoles.STAFF_MEMBER:
            return member
        return None


__all__ = [
    "NEVER_SIGNED_IN",
    "StaffColumn",
    "StaffRoles",
    "StaffStatus",
    "StaffTableModel",
    "staff_status",
    "status_of",
]
