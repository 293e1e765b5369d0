"""A read-only Qt table of plain texts (an import report's first lines): the presenter has
already put every value in words, so each cell shows its text, and a long one (a reason a
row was rejected) gives it whole as its tooltip too."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, Qt

from console.adapters.row_table import RowTableModel

_Index = QModelIndex | QPersistentModelIndex

#: A text longer than this is also its cell's tooltip (a narrow column elides it).
TOOLTIP_FROM = 24


class TextTableModel(RowTableModel[tuple[str, ...]]):
    """Rows of texts under ``headers``, one text per column; read-only."""

    def __init__(self, headers: Sequence[str], parent: QObject | None = None) -> None:
        super().__init__(headers, lambda row: row, parent)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        row = self.row_at(index)
        if row is None or index.column() >= len(row):
            return None
        text = row[index.column()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return text
        if role == Qt.ItemDataRole.ToolTipRole and len(text) > TOOLTIP_FROM:
            return text
        return None


__all__ = ["TOOLTIP_FROM", "TextTableModel"]
