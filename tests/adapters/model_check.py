"""One way to check an item model (qutebrowser's habit): Qt's conformance rules, through
pytest-qt's ``qtmodeltester``, and the rows a person would read, compared with the test's.
Every test of an item model goes through the ``check_model`` fixture defined here (a plugin
of tests/conftest.py, so that pytest explains its assertions as it does a test's).

The conformance check passes once and keeps watching the model for the rest of the test: every
later reset, insertion, removal or ``dataChanged`` is checked again as it happens. pytest-qt's
Python port of Qt's tester is used (``force_py``) so that a broken rule fails as an assertion at
the step that broke it, rather than as a Qt warning noticed when the test ends.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

import pytest
from PySide6.QtCore import QAbstractItemModel, QModelIndex, QPersistentModelIndex, Qt

if TYPE_CHECKING:  # pytest-qt sets up its Qt binding only once pytest is configured
    from pytestqt.modeltest import ModelTester

#: What a row shows: one text (or None, for an empty cell) per column compared.
Row = tuple[str | None, ...]


def display_rows(
    model: QAbstractItemModel,
    parent: QModelIndex | QPersistentModelIndex | None = None,
    columns: Sequence[int] | None = None,
) -> list[Row]:
    """The texts ``model`` shows under ``parent`` (the top level by default), row by row, in
    ``columns`` (every column by default)."""
    under = QModelIndex() if parent is None else parent
    shown = range(model.columnCount(under)) if columns is None else columns
    return [
        tuple(model.index(row, column, under).data(Qt.ItemDataRole.DisplayRole) for column in shown)
        for row in range(model.rowCount(under))
    ]


class CheckModel(Protocol):
    """The ``check_model`` fixture: see ``ModelChecks.__call__``."""

    def __call__(
        self,
        model: QAbstractItemModel,
        expected_rows: Sequence[Sequence[str | None]],
        *,
        columns: Sequence[int] | None = None,
        parent: QModelIndex | QPersistentModelIndex | None = None,
    ) -> None: ...


class ModelChecks:
    """The models of one test, each handed to Qt's model tester once."""

    def __init__(self, tester: ModelTester) -> None:
        self._tester = tester
        self._watched: QAbstractItemModel | None = None

    def __call__(
        self,
        model: QAbstractItemModel,
        expected_rows: Sequence[Sequence[str | None]],
        *,
        columns: Sequence[int] | None = None,
        parent: QModelIndex | QPersistentModelIndex | None = None,
    ) -> None:
        """Check that ``model`` keeps Qt's rules (and go on watching it), and that it shows
        ``expected_rows`` under ``parent``: the display texts of every column, or of
        ``columns`` only."""
        if model is not self._watched:
            # One tester watches one model: a test that checks a second one stops watching
            # the first (no test needs two at once).
            self._tester.check(model, force_py=True)
            self._watched = model
        assert display_rows(model, parent, columns) == [tuple(row) for row in expected_rows]


@pytest.fixture
def check_model(qtmodeltester: ModelTester) -> CheckModel:
    """``check_model(model, expected_rows)``: ``model`` keeps Qt's rules (and is watched for
    the rest of the test) and shows those rows."""
    return ModelChecks(qtmodeltester)


__all__ = ["CheckModel", "ModelChecks", "Row", "check_model", "display_rows"]
