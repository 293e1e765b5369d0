"""Stand-ins for the list pages' widgets in presenter tests: plain objects that keep what
the presenter told them, and report the selection and filter a test sets. No Qt."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from console.services.workstation import Changes


class FakeListScreen:
    """What every list page is told: busy strip, figures, message line, pages shown."""

    def __init__(self) -> None:
        self.busy = False
        self.figures = ""
        self.problem = False
        self.message = ""
        self.done = False
        self.pages: list[int] = []

    def show_busy(self, busy: bool) -> None:
        self.busy = busy

    def show_figures(self, text: str, *, problem: bool = False) -> None:
        self.figures, self.problem = text, problem

    def show_message(self, text: str, *, done: bool) -> None:
        self.message, self.done = text, done

    def page_shown(self, count: int) -> None:
        self.pages.append(count)


class FakeTableScreen(FakeListScreen):
    """A page with a table of rows (``id_field`` names a row's id), a state filter, a
    selection and the actions on the selected row."""

    def __init__(self, id_field: str) -> None:
        super().__init__()
        self._id = id_field
        self.rows: list[Any] = []
        self.chosen: Any | None = None
        self.actions: Any = None
        self.state: Any = None
        self.changes: list[Changes] = []

    def select(self, index: int | None) -> None:
        """Select the row at ``index`` (None: no row), as staff clicking it."""
        self.chosen = None if index is None else self.rows[index]

    def selected(self) -> Any | None:
        return self.chosen

    def show_rows(self, rows: Sequence[Any]) -> None:
        kept = getattr(self.chosen, self._id, None)
        self.rows = list(rows)
        self.chosen = next((r for r in self.rows if getattr(r, self._id) == kept), None)

    def show_row(self, row: Any) -> None:
        key = getattr(row, self._id)
        self.rows = [row if getattr(r, self._id) == key else r for r in self.rows]
        if self.chosen is not None and getattr(self.chosen, self._id) == key:
            self.chosen = row

    def show_actions(self, actions: Any) -> None:
        self.actions = actions
