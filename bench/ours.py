"""Our account table, driven only through the application's public surface: the window from
``console.app.build_main_window``, its widgets, and the model's properties and signals."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial

from PySide6.QtCore import QAbstractItemModel, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractItemView, QTableView

from bench.measure import POLL_S, PaintWatch, ms, settle, visible_rows, wait_until_painted
from console.app import build_main_window, create_application
from console.models.database import open_database
from console.models.shared_email import shared_email_clusters
from console.views.main_window import MainWindow

#: The window size every figure is taken at (the baseline's window is the same size).
WINDOW_SIZE = (1280, 800)

_Hint = QAbstractItemView.ScrollHint


class OurConsole:
    """The console's main window over a benchmark database."""

    name = "ours"

    def __init__(self, url: str, cipher_key: bytes | None = None) -> None:
        self.app = create_application(["bench"])
        self.database = open_database(url, cipher_key=cipher_key)
        self._window: MainWindow | None = None
        self._watch: PaintWatch | None = None
        #: Of the last step: ms until its own call returned or the model last changed the
        #: rows shown, whichever came later (the rest of the figure is painting them).
        self.data_ms = 0.0

    @property
    def window(self) -> MainWindow:
        """The main window (after ``open``)."""
        assert self._window is not None, "open() first"
        return self._window

    def open(self) -> float:
        """Build and show the main window; ms until its first page is painted."""
        started = time.perf_counter()
        window = build_main_window(self.database)
        window.resize(*WINDOW_SIZE)
        window.show()
        self._window = window
        model = window.model
        self._watch = PaintWatch(window.table, model)
        done = self._wait(started, lambda: model.rowCount() > 0)
        return ms(started, done)

    def row_count(self) -> int:
        """Rows in the list now."""
        return self.window.model.rowCount()

    def jump_to(self, row: int | None) -> float:
        """Select and show row ``row`` (None: the last one); ms until it is painted."""
        table, model = self.window.table, self.window.model
        started = time.perf_counter()
        if row is None:
            row = model.rowCount() - 1
            table.scrollToBottom()
            hint = _Hint.EnsureVisible
        else:
            hint = _Hint.PositionAtCenter
        table.scrollTo(model.index(row, 0), hint)
        table.selectRow(row)
        done = self._wait(started, lambda: row in visible_rows(table))
        return ms(started, done)

    def show_row_at_top(self, row: int) -> float:
        """Scroll so that ``row`` is the first one shown; ms until painted (no selection)."""
        table, model = self.window.table, self.window.model
        started = time.perf_counter()
        table.scrollTo(model.index(row, 0), _Hint.PositionAtTop)
        done = self._wait(started, lambda: row in visible_rows(table))
        return ms(started, done)

    def sort_by_name(self, descending: bool) -> float:
        """From the top of the list, order by the Name column as a header click does; ms
        until the new first page is painted."""
        table, model = self.window.table, self.window.model
        column = _column_titled(model, "Name")
        order = Qt.SortOrder.DescendingOrder if descending else Qt.SortOrder.AscendingOrder
        self._wait(time.perf_counter(), lambda: True, before=partial(_scroll_to_top, table))
        started = time.perf_counter()
        table.sortByColumn(column, order)
        done = self._wait(started, lambda: model.account_sort.descending == descending)
        return ms(started, done)

    def show_shared_only(self, on: bool) -> float:
        """Tick (or clear) "Shared e-mail only"; ms until the page is painted."""
        window = self.window
        started = time.perf_counter()
        window.shared_only.setChecked(on)
        done = self._wait(started, lambda: window.model.account_filter.shared_only == on)
        return ms(started, done)

    def type_last_key(self, text: str) -> float:
        """Type all but the last character of ``text`` into the search field and let those
        searches finish, then press the last key; ms from that keystroke until the matching
        accounts are painted."""
        window, model = self.window, self.window.model
        field = window.search_field
        field.setText(text[:-1])
        self.wait_idle()
        started = time.perf_counter()
        QTest.keyClicks(field, text[-1])
        done = self._wait(
            started, lambda: model.account_filter == window.current_filter(), timeout_s=300
        )
        return ms(started, done)

    def wait_idle(self, timeout_s: float = 300) -> None:
        """Run the event loop until every read asked for so far (the count too) is done."""
        window, model = self.window, self.window.model
        deadline = time.perf_counter() + timeout_s
        while model.is_loading or model.account_filter != window.current_filter():
            if time.perf_counter() > deadline:
                raise TimeoutError(f"the account table was still reading after {timeout_s} s")
            self.app.processEvents()
            time.sleep(POLL_S)
        settle(0.05)

    def shown_rows(self) -> int:
        """Rows matching the current search and filters."""
        return self.window.model.rowCount()

    def close(self) -> None:
        """Shut the window and the database down."""
        if self._window is not None:
            if self._watch is not None:
                self._watch.detach()
            self._window.shutdown()
            self._window.close()
            self._window.deleteLater()
            self.app.processEvents()
        self.database.dispose()

    def _wait(
        self,
        started: float,
        ready: Callable[[], bool],
        timeout_s: float = 120,
        before: Callable[[], None] | None = None,
    ) -> float:
        assert self._watch is not None
        called = time.perf_counter()
        if before is not None:
            before()
        table, model = self.window.table, self.window.model

        def painted_rows_loaded() -> bool:
            if not ready():
                return False
            return all(model.account_row(r) is not None for r in visible_rows(table))

        done = wait_until_painted(self._watch, painted_rows_loaded, started, timeout_s)
        self.data_ms = ms(started, max(called, self._watch.last_change))
        return done


def time_clusters(url: str, cipher_key: bytes | None = None) -> tuple[float, int]:
    """ms to list every shared-e-mail cluster on a new connection, and how many there are."""
    database = open_database(url, cipher_key=cipher_key)
    try:
        started = time.perf_counter()
        with database.engine.connect() as connection:
            clusters = shared_email_clusters(connection)
        return ms(started, time.perf_counter()), len(clusters)
    finally:
        database.dispose()


def _column_titled(model: QAbstractItemModel, title: str) -> int:
    for column in range(model.columnCount()):
        if model.headerData(column, Qt.Orientation.Horizontal) == title:
            return column
    raise LookupError(f"the account table has no column titled {title!r}")


def _scroll_to_top(table: QTableView) -> None:
    # Repaint even when already at the top, so that waiting for the paint ends.
    table.scrollToTop()
    table.viewport().update()
