"""The import report's table: texts as given, Qt's model rules kept through loads."""

from __future__ import annotations

from PySide6.QtCore import Qt

from console.adapters.text_table import TextTableModel
from tests.adapters.model_check import CheckModel

HEADERS = ("Row", "What", "MRN", "Username", "Detail")
REASON = "the date of birth '1990-02-30' is not a real date"


def test_rows_of_text_with_long_ones_as_tooltips(check_model: CheckModel) -> None:
    model = TextTableModel(HEADERS)
    check_model(model, [])
    rows = [("3", "Rejected", "", "", REASON), ("4", "Warning", "M3", "cy", "")]
    model.load(rows)
    check_model(model, rows)
    assert [model.headerData(c, Qt.Orientation.Horizontal) for c in range(5)] == list(HEADERS)
    reason = model.index(0, 4)
    assert reason.data(Qt.ItemDataRole.ToolTipRole) == REASON
    assert reason.data(Qt.ItemDataRole.AccessibleTextRole) == REASON
    assert model.index(1, 1).data(Qt.ItemDataRole.ToolTipRole) is None
    assert model.flags(reason) & Qt.ItemFlag.ItemIsEditable == Qt.ItemFlag.NoItemFlags
    model.load(rows[1:])
    check_model(model, rows[1:])
    model.load([])
    check_model(model, [])
