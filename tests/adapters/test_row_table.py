"""The read-only table over rows held in memory that the staff, invitation and outbox tables
share: Qt's conformance checker over a table of its own, loads that reset, updates and
replacements that announce only the rows that changed."""

from __future__ import annotations

from typing import Any, NamedTuple

import pytest
from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from pytestqt.qtbot import QtBot

from console.adapters.row_table import RowTableModel
from tests.adapters.model_check import CheckModel


class Dose(NamedTuple):
    dose_id: int
    vaccine: str
    given: str


class DoseTable(RowTableModel[Dose]):
    """The smallest subclass: a row's fields are its cells."""

    def __init__(self) -> None:
        super().__init__(["Vaccine", "Given"], key=lambda dose: dose.dose_id)

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        dose = self.row_at(index)
        if dose is None or role != Qt.ItemDataRole.DisplayRole:
            return None
        return dose[index.column() + 1]


DOSES = [Dose(1, "Tetanus", "2019"), Dose(2, "Measles", "1990"), Dose(3, "Influenza", "2025")]


@pytest.fixture
def table(check_model: CheckModel) -> DoseTable:
    """A table over ``DOSES`` that passed Qt's model tester (which keeps watching it)."""
    model = DoseTable()
    check_model(model, [])
    model.load(DOSES)
    check_model(model, [("Tetanus", "2019"), ("Measles", "1990"), ("Influenza", "2025")])
    return model


def test_headers_and_lookups(table: DoseTable) -> None:
    headers = [table.headerData(c, Qt.Orientation.Horizontal) for c in range(2)]
    assert headers == ["Vaccine", "Given"]
    assert table.headerData(2, Qt.Orientation.Horizontal) is None
    assert table.headerData(0, Qt.Orientation.Vertical) is None
    assert table.rows == tuple(DOSES)
    assert table.row_of(3) == 2 and table.row_of(99) is None
    assert table.row_number(1) == DOSES[1] and table.row_number(3) is None
    assert table.row_at(table.index(0, 1)) == DOSES[0]
    assert table.row_at(QModelIndex()) is None
    assert table.rowCount(table.index(0, 0)) == 0 and table.columnCount(table.index(0, 0)) == 0


def test_update_of_the_same_rows_announces_only_those_that_changed(
    qtbot: QtBot, check_model: CheckModel, table: DoseTable
) -> None:
    changed: list[tuple[int, int, int, int]] = []
    table.dataChanged.connect(
        lambda first, last, _roles=(): changed.append(
            (first.row(), first.column(), last.row(), last.column())
        )
    )
    with qtbot.assertNotEmitted(table.modelReset):
        table.update([DOSES[0], Dose(2, "Measles", "1991"), DOSES[2]])
    assert changed == [(1, 0, 1, 1)]
    check_model(table, [("Tetanus", "2019"), ("Measles", "1991"), ("Influenza", "2025")])


def test_update_with_other_rows_resets(
    qtbot: QtBot, check_model: CheckModel, table: DoseTable
) -> None:
    with qtbot.waitSignal(table.modelReset):
        table.update([DOSES[2], DOSES[0]])
    check_model(table, [("Influenza", "2025"), ("Tetanus", "2019")])


def test_replace_changes_one_row_in_place(
    qtbot: QtBot, check_model: CheckModel, table: DoseTable
) -> None:
    with qtbot.assertNotEmitted(table.modelReset), qtbot.waitSignal(table.dataChanged) as changed:
        assert table.replace(Dose(3, "Influenza", "2026"))
    assert [changed.args[0].row(), changed.args[1].row()] == [2, 2]
    assert not table.replace(Dose(99, "Rabies", "2020"))
    check_model(table, [("Tetanus", "2019"), ("Measles", "1990"), ("Influenza", "2026")])
