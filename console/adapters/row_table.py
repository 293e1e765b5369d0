"""A read-only Qt table over a short list of rows held in memory (staff users, a page of
invitations): one row per item, fixed columns with headers. Long lists (the accounts) use
windows over SQL instead (``account_table``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt

_Index = QModelIndex | QPersistentModelIndex
RowT = TypeVar("RowT")


def horizontal_header(
    headers: Sequence[str], section: int, orientation: Qt.Orientation, role: int
) -> str | None:
    """``headerData``'s answer for a model whose column headers are ``headers``."""
    if (
        orientation == Qt.Orientation.Horizontal
        and role == Qt.ItemDataRole.DisplayRole
        and 0 <= section < len(headers)
    ):
        return headers[section]
    return None


class RowTableModel(QAbstractTableModel, Generic[RowT]):
    """Rows of one kind, each identified by ``key(row)``; subclasses answer ``data``."""

    def __init__(
        self,
        headers: Sequence[str],
        key: Callable[[RowT], object],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._headers = tuple(headers)
        self._key = key
        self._rows: list[RowT] = []

    @property
    def rows(self) -> tuple[RowT, ...]:
        """The rows shown, in order."""
        return tuple(self._rows)

    def row_at(self, index: _Index) -> RowT | None:
        """The row of ``index``, or None outside the table."""
        if not index.isValid() or not 0 <= index.column() < len(self._headers):
            return None
        return self.row_number(index.row())

    def row_number(self, number: int) -> RowT | None:
        """Row ``number``, or None outside the table."""
        return self._rows[number] if 0 <= number < len(self._rows) else None

    def row_of(self, key: object) -> int | None:
        """The number of the row whose key is ``key``, or None."""
        return next((n for n, row in enumerate(self._rows) if self._key(row) == key), None)

    def load(self, rows: Sequence[RowT]) -> None:
        """Show ``rows``, replacing all (a model reset)."""
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def update(self, rows: Sequence[RowT]) -> None:
        """Show ``rows``; when they are the same items in the same order, only the rows that
        changed are announced, so the selection stays where it was."""
        new = list(rows)
        if [self._key(r) for r in new] != [self._key(r) for r in self._rows]:
            self.load(new)
            return
        old, self._rows = self._rows, new
        for number, (before, after) in enumerate(zip(old, new, strict=True)):
            if before != after:
                self._changed(number)

    def replace(self, row: RowT) -> bool:
        """Show ``row`` in place of the row with its key; False when none is shown."""
        number = self.row_of(self._key(row))
        if number is None:
            return False
        self._rows[number] = row
        self._changed(number)
        return True

    def _changed(self, number: int) -> None:
        self.dataChanged.emit(self.index(number, 0), self.index(number, len(self._headers) - 1))

    # --- Qt's model interface (flags are QAbstractTableModel's own) ----------------------------

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's default
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's default
        return 0 if parent.isValid() else len(self._headers)

    def headerData(
        self,
        section: int,
        orientation: Qt.Orientation,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        return horizontal_header(self._headers, section, orientation, role)


__all__ = ["RowTableModel", "horizontal_header"]
