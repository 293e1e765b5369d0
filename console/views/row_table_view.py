"""The read-only list table the Invitations and Outbox pages share: whole-row single
selection, no grid, left-aligned titles, the columns' starting widths."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QAbstractItemModel, Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView


def row_table_view(
    model: QAbstractItemModel, object_name: str, name: str, widths: Iterable[tuple[int, int]]
) -> QTableView:
    """A table over ``model`` named ``name`` for assistive technology; ``widths`` gives
    (column, pixels) for every column but the last, which takes the rest."""
    table = QTableView()
    table.setObjectName(object_name)
    table.setAccessibleName(name)
    table.setModel(model)
    table.setAlternatingRowColors(True)
    table.setShowGrid(False)
    table.setWordWrap(False)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.verticalHeader().hide()
    table.verticalHeader().setDefaultSectionSize(26)
    columns = table.horizontalHeader()
    columns.setHighlightSections(False)
    columns.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    for column, width in widths:
        columns.resizeSection(column, width)
    columns.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    columns.setStretchLastSection(True)
    return table


__all__ = ["row_table_view"]
