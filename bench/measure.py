"""Knowing when the table has *painted* what was asked for, and how much memory it took.

A step (a jump, a sort, a keystroke) is done at the end of the first event-loop pass in which
the table's viewport painted after the last change of its model, once every row in the
viewport has its data. Both tables are measured by the same clock, so neither is credited
with a paint of rows it had not read yet.
"""

from __future__ import annotations

import resource
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QAbstractItemModel, QEvent, QModelIndex, QObject
from PySide6.QtWidgets import QApplication, QTableView

#: How long the polling loop sleeps between event-loop passes (s): at most this is added
#: to a figure, and the GUI thread is idle meanwhile, as it would be waiting for input.
POLL_S = 0.0005
DEFAULT_TIMEOUT_S = 120.0


class PaintWatch(QObject):
    """Records when the view's viewport last began to paint, and when its model last changed
    what the viewport shows: a reset or a layout change, rows inserted or removed at or
    above the last row shown, data changed in the rows shown. (A change beyond the viewport
    need not be repainted, so it must not make a step wait for a paint.)"""

    def __init__(self, view: QTableView, model: QAbstractItemModel) -> None:
        super().__init__(view)
        self.last_paint = 0.0
        self.last_change = 0.0
        self.paints = 0
        self._view = view
        self._viewport = view.viewport()
        self._viewport.installEventFilter(self)
        model.modelReset.connect(self._changed)
        model.layoutChanged.connect(self._changed)
        model.rowsInserted.connect(self._rows_changed)
        model.rowsRemoved.connect(self._rows_changed)
        model.dataChanged.connect(self._data_changed)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._viewport and event.type() == QEvent.Type.Paint:
            self.last_paint = time.perf_counter()
            self.paints += 1
        return False

    def _changed(self, *_args: Any) -> None:
        self.last_change = time.perf_counter()

    def _rows_changed(self, _parent: QModelIndex, first: int, _last: int) -> None:
        shown = visible_rows(self._view)
        if not shown or first <= shown.stop:
            self._changed()

    def _data_changed(self, top_left: QModelIndex, bottom_right: QModelIndex, *_: Any) -> None:
        shown = visible_rows(self._view)
        if top_left.row() < shown.stop and bottom_right.row() >= shown.start:
            self._changed()

    def detach(self) -> None:
        """Stop watching (before the view goes away)."""
        self._viewport.removeEventFilter(self)


def application() -> QApplication:
    """The process's QApplication, made if there is none yet (QtSql needs one too)."""
    existing = QApplication.instance()
    return existing if isinstance(existing, QApplication) else QApplication(["bench"])


def wait_until_painted(
    watch: PaintWatch,
    ready: Callable[[], bool],
    since: float,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> float:
    """Run the event loop until the viewport painted after ``since`` and after the model's
    last change, with ``ready()`` true; the ``time.perf_counter()`` at the end of that pass.
    Raises ``TimeoutError`` after ``timeout_s``."""
    app = QApplication.instance()
    assert app is not None
    deadline = time.perf_counter() + timeout_s
    while True:
        app.processEvents()
        now = time.perf_counter()
        if watch.last_paint > max(since, watch.last_change) and ready():
            return now
        if now > deadline:
            raise TimeoutError(f"nothing usable was painted within {timeout_s:.0f} s")
        time.sleep(POLL_S)


def visible_rows(view: QTableView) -> range:
    """The rows the view's viewport shows now (empty when the model has none)."""
    model = view.model()
    count = model.rowCount() if model is not None else 0
    first = view.rowAt(0)
    if count == 0 or first < 0:
        return range(0)
    last = view.rowAt(view.viewport().height() - 1)
    return range(first, (count - 1 if last < 0 else last) + 1)


def settle(seconds: float = 0.2) -> None:
    """Let queued work (deferred deletes, late paints) run for a moment."""
    app = QApplication.instance()
    assert app is not None
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        app.processEvents()
        time.sleep(POLL_S * 10)


def ms(start: float, end: float) -> float:
    """Milliseconds between two ``perf_counter`` readings, rounded to 0.01."""
    return round((end - start) * 1000, 2)


def peak_rss_mb() -> float:
    """This process's peak resident memory so far (MB).

    Read from ``VmHWM`` in /proc: ``getrusage``'s ``ru_maxrss`` survives ``exec`` on Linux,
    so a child started by a big parent would report the parent's peak."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def current_rss_mb() -> float:
    """This process's resident memory now (MB, from /proc; 0 where there is none)."""
    try:
        with open("/proc/self/statm") as statm:
            pages = int(statm.read().split()[1])
    except OSError:
        return 0.0
    return round(pages * resource.getpagesize() / 2**20, 1)
