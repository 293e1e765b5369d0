"""The console's staff users as a Qt table model, for the staff administration dialog.

A clinic has a handful of staff users, so the model holds every ``StaffMember`` the last
``list_staff`` returned. A reload that lists the same people in the same order (a user
disabled, given another role, their password reset) announces only the rows that changed,
so the selection stays where the administrator left it; only adding someone resets it.
"""

from __future__ import annotations

import datetime as dt
from enum import IntEnum
from typing import Any

from PySide6.QtCore import (
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
)

from console.adapters.row_table import RowTableModel
from console.models.schema import StaffRole
from console.services.staff_admin import StaffMember

_Index = QModelIndex | QPersistentModelIndex

#: How each role is named on screen.
ROLE_LABELS: dict[str, str] = {
    StaffRole.FRONT_DESK.value: "Front desk",
    StaffRole.MANAGER.value: "Manager",
    StaffRole.ADMIN.value: "Administrator",
}


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


def local_time(moment: dt.datetime) -> str:
    """A stored UTC time as the workstation's local date and time, to the minute."""
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")


def staff_status(member: StaffMember) -> str:
    """What the status column says: the one thing that most affects signing in."""
    if member.disabled:
        return "disabled"
    if member.locked and member.locked_until is not None:
        return f"locked until {local_time(member.locked_until)}"
    if member.must_change_password:
        return "must change password"
    return "active"


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
    return local_time(member.last_login_at) if member.last_login_at is not None else "never"


class StaffTableModel(RowTableModel[StaffMember]):
    """Every console user, one per row (read-only; changes go through the services)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__([_HEADERS[c] for c in StaffColumn], lambda member: member.id, parent)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        member = self.row_at(index)
        if member is None:
            return None
        column = StaffColumn(index.column())
        if role == Qt.ItemDataRole.DisplayRole:
            return _cell_text(member, column)
        if role == Qt.ItemDataRole.ToolTipRole and column is StaffColumn.STATUS:
            return _status_tooltip(member)
        if role == StaffRoles.STAFF_ID:
            return member.id
        if role == StaffRoles.STAFF_MEMBER:
            return member
        return None


__all__ = [
    "ROLE_LABELS",
    "StaffColumn",
    "StaffRoles",
    "StaffTableModel",
    "local_time",
    "staff_status",
]
