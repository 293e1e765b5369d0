"""The ``check_model`` fixture itself: it fails a model that shows other rows than the test
expects, and one that breaks Qt's rules."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt

from tests.adapters.model_check import CheckModel
from tests.adapters.test_row_table import DOSES, DoseTable


class ShowsIdsAsNumbers(DoseTable):
    """Shows each dose's id, a number, where Qt expects text: a rule Qt's tester checks."""

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        dose = self.row_at(index)
        if dose is not None and role == Qt.ItemDataRole.DisplayRole and index.column() == 0:
            return dose.dose_id
        return super().data(index, role)


def test_rows_other_than_expected_fail(check_model: CheckModel) -> None:
    model = DoseTable()
    model.load(DOSES)
    with pytest.raises(AssertionError, match="Measles"):
        check_model(model, [("Tetanus", "2019"), ("Influenza", "2025")])
    with pytest.raises(AssertionError):
        check_model(model, [("Tetanus",), ("Measles",), ("Influenza",)])  # two columns shown
    check_model(model, [("Tetanus",), ("Measles",), ("Influenza",)], columns=[0])


def test_a_model_breaking_qts_rules_fails_before_its_rows_are_compared(
    check_model: CheckModel,
) -> None:
    model = ShowsIdsAsNumbers()
    model.load(DOSES)
    with pytest.raises(AssertionError, match="DisplayRole"):
        check_model(model, [])
