"""The account list as a Qt table model that reads the database one window at a time.

Like Anki's browser table, the model never holds the whole list: it knows the row count of the
current query and keeps a bounded cache of windows (``account_windows.AccountWindows``).
``data()`` only ever looks in that cache; a row whose window is missing answers ``None`` and
its window is fetched on a worker thread, after which exactly those rows are announced with
``dataChanged``. Filtering and sorting read the first window again in SQL (the account id
breaks ties), reset the model when it arrives, and count afterwards; which request is read
when, and which answers are dropped, is ``account_requests.RequestSequencer``'s. A plain
``refresh()`` keeps the cached windows, marked stale, so the table goes on showing them
while fresh copies are fetched.

An action that changed some accounts calls ``reread_accounts()``: of those accounts, the ones
whose rows are in memory are read again by id, and only the rows whose data differs are
announced with ``dataChanged``. Nothing is counted again and no row moves: a revoked account
under a "Legacy" filter, or one whose shared-e-mail flag was cleared under "Shared e-mail
only", stays in its place with its new data (its state, its flag) until the next search, sort
or refresh, as in Anki's browser. Staff see the effect of what they did where they did it,
and the rows under their eyes do not jump; the count in the status bar is that of the search
as it was made. An account that now matches but is not shown (a new one) appears with the
next search or refresh. A window whose read was under way when the accounts changed may hold
their old rows: it is kept, marked stale, and so read again when it is shown.

A view asks ``data()`` for every cell and several roles on every paint, so each row's cell
texts are worked out once, when first shown, and roles nobody answers are turned away first.

While the workstation is locked (``lock()``) the model is empty and reads nothing: no patient
data stays in memory behind the lock screen, and reads that were running are never shown.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import replace
from enum import IntEnum
from functools import partial
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)

from console.adapters.account_cells import COLUMNS, AccountColumn, cell_tooltip
from console.adapters.account_requests import AccountQuery, AccountSource, Answer, RequestSequencer
from console.adapters.account_windows import WINDOW_SIZE, AccountLine, AccountWindows, runs
from console.models.account_list import AccountFilter, AccountRow, AccountSort
from console.workers.job_runner import JobRunner

log = logging.getLogger(__name__)

_Index = QModelIndex | QPersistentModelIndex

_USER_ROLE = int(Qt.ItemDataRole.UserRole)
_DISPLAY_ROLE = int(Qt.ItemDataRole.DisplayRole)
_TOOLTIP_ROLE = int(Qt.ItemDataRole.ToolTipRole)


class AccountRoles(IntEnum):
    """Item data roles the account table answers besides Qt's own."""

    #: ``int`` — the portal account's id.
    ACCOUNT_ID = _USER_ROLE + 1
    #: ``bool`` — the account's login e-mail is also another active account's (SPEC §3).
    SHARED_EMAIL = _USER_ROLE + 2
    #: ``str`` — the ``AccountState`` value (Qt hands enums of str back as plain str).
    STATE = _USER_ROLE + 3
    #: ``AccountRow`` — the whole line, for panels that show an account's details.
    ACCOUNT_ROW = _USER_ROLE + 4


#: The roles ``data()`` answers; a paint asks for half a dozen more per cell.
_ANSWERED_ROLES = frozenset({_DISPLAY_ROLE, _TOOLTIP_ROLE, *AccountRoles})


class AccountTableModel(QAbstractTableModel):
    """The filtered, sorted account list, fetched from ``source`` in windows off the GUI
    thread. Call ``refresh()`` once to load; ``close()`` before the model goes away."""

    #: The number of rows after a count arrived.
    row_count_changed = Signal(int)
    #: True while a count or a window is being read.
    loading_changed = Signal(bool)
    #: A read failed; the message is written for the front desk.
    load_failed = Signal(str)

    def __init__(
        self,
        source: AccountSource,
        runner: JobRunner | None = None,
        *,
        window_size: int = WINDOW_SIZE,
        max_windows: int = 50,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._source = source
        self._owns_runner = runner is None
        self._runner = runner if runner is not None else JobRunner(parent=self)
        self._windows = AccountWindows(
            self._start_fetches, window_size=window_size, max_windows=max_windows
        )
        self._shown = AccountQuery(AccountFilter(), AccountSort())
        self._requests = RequestSequencer(
            source,
            self._runner,
            window_size,
            show=self._show_answer,
            failed=self._report,
            changed=self._update_loading,
            changes_seen=lambda: self._changes_seen,
            parent=self,
        )
        self._loaded = False
        self._row_count = 0
        self._loading = False
        self._closed = False
        self._locked = False
        #: Calls of ``reread_accounts``: a read started before the latest one may be outdated.
        self._changes_seen = 0
        self._rereads = 0

    # --- what the view and the tests may ask -------------------------------------------------

    @property
    def account_filter(self) -> AccountFilter:
        """The filter of the rows shown now."""
        return self._shown.account_filter

    @property
    def account_sort(self) -> AccountSort:
        """The order of the rows shown now."""
        return self._shown.sort

    @property
    def is_loading(self) -> bool:
        """Whether a count or a window is being read."""
        return self._loading

    @property
    def locked(self) -> bool:
        """Whether the model is locked: empty, and reading nothing until ``unlock()``."""
        return self._locked

    @property
    def cached_window_count(self) -> int:
        """Windows held in memory (never more than ``max_windows``)."""
        return len(self._windows)

    @property
    def max_windows(self) -> int:
        """The bound of the window cache."""
        return self._windows.max_windows

    def account_row(self, row: int) -> AccountRow | None:
        """Row ``row`` if its window is in memory; otherwise None, and the window is fetched.
        What ``ACCOUNT_ROW`` answers, without a trip through QVariant."""
        line = self.account_line(row)
        return None if line is None else line.row

    def account_line(self, row: int) -> AccountLine | None:
        """Row ``row`` with its cell texts, as ``account_row``: what a delegate asks for
        every cell on every paint."""
        if not 0 <= row < self._row_count:
            return None
        return self._windows.line(row)

    def set_filter(self, account_filter: AccountFilter) -> None:
        """Show the accounts matching ``account_filter`` (counted in the background; while
        locked, once unlocked)."""
        requested = self._requests.requested
        if account_filter != requested.account_filter:
            self._requests.ask(replace(requested, account_filter=account_filter))

    def refresh(self) -> None:
        """Count again and re-read the windows as they are shown, keeping the old ones on
        screen until then."""
        self._requests.ask()

    def reread_accounts(self, account_ids: Collection[int]) -> None:
        """Read again the rows of ``account_ids`` that are in memory (an action changed
        those accounts) and announce the rows whose data changed; see the module's
        docstring for what stays as it was."""
        if self._closed or self._locked:
            return
        self._changes_seen += 1
        held = self._windows.held(account_ids)
        if not held:
            return
        self._rereads += 1
        generation = self._windows.generation
        self._runner.submit(
            partial(self._source.rows_by_id, held),
            partial(self._rows_reread, generation),
            self._reread_failed,
        )
        self._update_loading()

    def lock(self) -> None:
        """Become empty and read nothing until ``unlock()``: every cached window is dropped,
        counting stops, and answers of reads still running are thrown away when they come."""
        if self._locked or self._closed:
            return
        self._locked = True
        self._requests.pause()  # the answer being read is not shown when it comes
        self.beginResetModel()
        self._windows.clear()
        self._row_count = 0
        self._loaded = False
        self.endResetModel()
        self._update_loading()

    def unlock(self) -> None:
        """Read the current filter and sort again (as ``refresh()``), so the rows come back."""
        if not self._locked or self._closed:
            return
        self._locked = False
        self._requests.resume()

    def close(self) -> None:
        """Stop reading: queued fetches are dropped and running ones waited for."""
        self._closed = True
        self._requests.pause()
        self._windows.close()
        if self._owns_runner:
            self._runner.close()
        self._update_loading()

    # --- QAbstractItemModel -----------------------------------------------------------------

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self._row_count

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(AccountColumn)

    # flags() is QAbstractTableModel's own (enabled, selectable, no children): the view asks
    # it for every cell it paints, and a Python override would cost a call each time.

    def headerData(
        self,
        section: int,
        orientation: Qt.Orientation,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(AccountColumn):
            return super().headerData(section, orientation, role)
        column = AccountColumn(section)
        if role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[column].title
        if role == Qt.ItemDataRole.ToolTipRole:
            return COLUMNS[column].tip
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role not in _ANSWERED_ROLES or not index.isValid() or self._locked:
            return None
        line = self._windows.line(index.row())
        if line is None:
            return None
        if role == _DISPLAY_ROLE:
            return line.texts[index.column()]
        row = line.row
        if role == _TOOLTIP_ROLE:
            return cell_tooltip(row, AccountColumn(index.column()))
        if role == AccountRoles.ACCOUNT_ID:
            return row.account_id
        if role == AccountRoles.SHARED_EMAIL:
            return row.shared_email
        if role == AccountRoles.STATE:
            return row.state
        if role == AccountRoles.ACCOUNT_ROW:
            return row
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Order by ``column`` in SQL (the account id breaks ties)."""
        if not 0 <= column < len(AccountColumn):
            return
        sort = AccountSort(
            key=COLUMNS[AccountColumn(column)].sort_key,
            descending=order == Qt.SortOrder.DescendingOrder,
        )
        requested = self._requests.requested
        if sort != requested.sort:
            self._requests.ask(replace(requested, sort=sort))

    # --- reading windows ---------------------------------------------------------------------

    def _start_fetches(self) -> None:
        windows = self._windows
        query, size = self._shown, windows.window_size
        for number in windows.fetches_to_start():
            self._runner.submit(
                partial(self._source.window, query.account_filter, query.sort, number * size, size),
                partial(self._window_arrived, windows.generation, number, self._changes_seen),
                partial(self._window_failed, windows.generation, number),
            )
        self._update_loading()

    def _window_arrived(
        self, generation: int, number: int, changes_seen: int, rows: list[AccountRow]
    ) -> None:
        if self._windows.fetch_ended(generation, number):
            self._windows.store(number, rows, stale=changes_seen != self._changes_seen)
            size = self._windows.window_size
            first = number * size
            last = min(first + size, self._row_count) - 1
            if last >= first:
                self.dataChanged.emit(
                    self.index(first, 0), self.index(last, len(AccountColumn) - 1)
                )
        self._start_fetches()

    def _rows_reread(self, generation: int, rows: list[AccountRow]) -> None:
        self._rereads -= 1
        self._update_loading()
        if self._closed or self._locked or generation != self._windows.generation:
            return  # the list was replaced meanwhile, and read after the change
        last_column = len(AccountColumn) - 1
        for first, last in runs(r for r in self._windows.replace_rows(rows) if r < self._row_count):
            self.dataChanged.emit(self.index(first, 0), self.index(last, last_column))

    def _reread_failed(self, error: Exception) -> None:
        self._rereads -= 1
        self._update_loading()
        if not (self._closed or self._locked):
            self._report(error)

    def _window_failed(self, generation: int, number: int, error: Exception) -> None:
        if self._windows.fetch_ended(generation, number):
            self._report(error)
        self._start_fetches()

    # --- what an answer changes on screen -----------------------------------------------

    def _show_answer(self, answer: Answer) -> None:
        rows, count = answer.first_rows, answer.count
        if answer.query != self._shown or not self._loaded:
            if rows is not None and not answer.shown:
                # Until the count is there, the table is as long as the first window.
                known = count if count is not None else len(rows)
                self._windows.forget_wishes()
                self._reset_to(answer.query, known, rows, self._outdated(answer))
                answer.shown = True
                self._loaded = True
            if answer.shown and count is not None and count != self._row_count:
                self._resize_to(count)
        elif rows is not None and count is not None:  # a refresh: swap in place
            self._windows.forget_wishes()
            self._refresh_to(count, rows, self._outdated(answer))
        if answer.shown_count is None and answer.complete and count is not None:
            answer.shown_count = count
            self.row_count_changed.emit(count)

    def _outdated(self, answer: Answer) -> bool:
        """Whether accounts changed after ``answer``'s first window was read."""
        return answer.changes_seen != self._changes_seen

    def _reset_to(
        self, query: AccountQuery, count: int, first_rows: list[AccountRow], stale: bool
    ) -> None:
        self.beginResetModel()
        self._shown = query
        self._windows.start_over(first_rows, stale=stale)
        self._row_count = count
        self.endResetModel()

    def _resize_to(self, count: int) -> None:
        old = self._row_count
        if count > old:
            self.beginInsertRows(QModelIndex(), old, count - 1)
            self._row_count = count
            self.endInsertRows()
        elif count < old:
            self.beginRemoveRows(QModelIndex(), count, old - 1)
            self._row_count = count
            self.endRemoveRows()
            self._windows.drop_from(count)

    def _refresh_to(self, count: int, first_rows: list[AccountRow], stale: bool) -> None:
        self._windows.mark_stale()
        self._resize_to(count)
        self._windows.store(0, first_rows, stale=stale)
        if count:
            # Repaint what is on screen; the stale windows behind it are re-read as shown.
            self.dataChanged.emit(self.index(0, 0), self.index(count - 1, len(AccountColumn) - 1))

    def _update_loading(self) -> None:
        busy = self._requests.busy or self._windows.fetching or self._rereads > 0
        loading = busy and not self._closed and not self._locked
        if loading != self._loading:
            self._loading = loading
            self.loading_changed.emit(loading)

    def _report(self, error: Exception) -> None:
        log.warning("Reading the account list failed: %s", type(error).__name__)
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()
        detail = f" ({reason[0]})" if reason else ""
        self.load_failed.emit(f"The account list could not be read from the database{detail}.")
