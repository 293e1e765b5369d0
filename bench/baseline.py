"""The baseline: Qt's own ``QSqlQueryModel`` and a ``QTableView`` over the equivalent query,
the way the Qt documentation shows it, in a window of the same size as ours.

``QSqlQueryModel`` reads SQLite rows in batches as the view asks for them and keeps every row
it has read; it cannot know the row count without reading to the end, so reaching a row means
reading every row before it. Sorting and searching re-run the query with another ORDER BY or
WHERE (a plain ``setQuery`` on every keystroke, as a search field wired to it does).

The baseline reads the same database with the best plain SQL it allows: it orders by the
indexed ``sort_name`` where there is one, and reads the shared-e-mail flag from its column.
It searches with LIKE, as a QSqlQueryModel application would; the trigram search index is
ours (``console.models.account_search``), so the baseline does not use it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtSql import QSqlDatabase, QSqlQuery, QSqlQueryModel
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLineEdit,
    QMainWindow,
    QTableView,
    QToolBar,
)

from bench.measure import (
    PaintWatch,
    application,
    ms,
    settle,
    visible_rows,
    wait_until_painted,
)
from bench.ours import WINDOW_SIZE

#: The states of an account that can log in (SPEC: legacy, reset pending, migrated).
ACTIVE_STATES = ("legacy", "reset_pending", "migrated")

_SELECT = """
SELECT a.id, p.first_name || ' ' || p.last_name AS name, p.mrn, p.birth_date, a.username,
       a.login_email, a.state, a.shared_email, a.last_login_at
FROM portal_accounts AS a JOIN patients AS p ON p.id = a.patient_id
"""
#: The name order by the account's own ``sort_name`` (lower-cased last name, then first name)
#: and its index, when the database has them: the same order as ours, read the same way.
ORDER_BY_SORT_NAME = "ORDER BY a.sort_name {0}, a.id {0}"
#: The name order from the chart, for a database without ``sort_name``.
ORDER_BY_CHART_NAME = "ORDER BY p.last_name {0}, p.first_name {0}, a.id {0}"
_SEARCHED = ("p.last_name", "p.first_name", "a.email_key", "a.username_key", "p.mrn")

#: Clusters from the trigger-kept flag, as ``console.models.shared_email`` reads them.
CLUSTERS_SQL = (
    "SELECT email_key, group_concat(username, char(31)) FROM portal_accounts "
    "WHERE shared_email = 1 GROUP BY email_key ORDER BY email_key"
)
_ACTIVE = ", ".join(f"'{state}'" for state in ACTIVE_STATES)
#: Clusters worked out from the addresses alone, for a database without the flag.
CLUSTERS_FROM_SCRATCH_SQL = f"""
SELECT a.email_key, group_concat(a.username, char(31))
FROM portal_accounts AS a
JOIN (SELECT email_key FROM portal_accounts
      WHERE state IN ({_ACTIVE}) AND email_key IS NOT NULL
      GROUP BY email_key HAVING count(*) > 1) AS shared ON shared.email_key = a.email_key
WHERE a.state IN ({_ACTIVE})
GROUP BY a.email_key ORDER BY a.email_key
"""

_Hint = QAbstractItemView.ScrollHint


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def search_condition(search: str) -> str:
    """Every word contained, ignoring case, in a name, the e-mail, the username or the MRN
    (the console's search, in SQL; LIKE wildcards in the words are escaped)."""
    conditions = []
    for word in search.split():
        escaped = word.casefold().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = _literal(f"%{escaped}%")
        alternatives = " OR ".join(f"{c} LIKE {pattern} ESCAPE '\\'" for c in _SEARCHED)
        conditions.append(f"({alternatives})")
    return " AND ".join(conditions)


def page_query(
    search: str = "",
    shared_only: bool = False,
    descending: bool = False,
    order: str = ORDER_BY_SORT_NAME,
) -> str:
    """The baseline's SELECT for a search, the shared-only filter and a name order."""
    conditions = [c for c in (search_condition(search),) if c]
    if shared_only:
        conditions.append("a.shared_email = 1")
    where = f"WHERE {' AND '.join(conditions)}\n" if conditions else ""
    return _SELECT + where + order.format("DESC" if descending else "ASC")


def name_order(database: QSqlDatabase) -> str:
    """``ORDER_BY_SORT_NAME`` where the accounts have a ``sort_name``, else
    ``ORDER_BY_CHART_NAME``: the baseline gets the best index the database offers."""
    query = QSqlQuery(database)
    query.exec("SELECT 1 FROM pragma_table_info('portal_accounts') WHERE name = 'sort_name'")
    found = query.next()
    del query
    return ORDER_BY_SORT_NAME if found else ORDER_BY_CHART_NAME


def search_order(order: str) -> str:
    """The name order for a search: with a LIKE search SQLite would walk the name index and
    test every account until 256 match (seconds for a rare word); ``+`` keeps it off the
    index, so it reads the matches and then sorts them."""
    return order.replace("a.sort_name", "+a.sort_name")


def open_connection(path: Path, name: str) -> QSqlDatabase:
    """A QSQLITE connection named ``name`` on the file."""
    application()
    database = QSqlDatabase.addDatabase("QSQLITE", name)
    database.setDatabaseName(str(path))
    if not database.open():
        raise RuntimeError(f"QSQLITE cannot open {path}: {database.lastError().text()}")
    return database


class QtSqlBaseline:
    """A main window with a search field and a ``QTableView`` over a ``QSqlQueryModel``."""

    name = "baseline"
    _CONNECTION = "bench-baseline"

    def __init__(self, path: Path) -> None:
        self.app = application()
        self.database = open_connection(path, self._CONNECTION)
        self.order = name_order(self.database)
        self._search = ""
        self._shared_only = False
        self._descending = False
        self._window: QMainWindow | None = None
        self._field: QLineEdit | None = None
        self._table: QTableView | None = None
        self._model: QSqlQueryModel | None = None
        self._watch: PaintWatch | None = None
        #: As ``OurConsole.data_ms``.
        self.data_ms = 0.0

    @property
    def table(self) -> QTableView:
        """The table view (after ``open``)."""
        assert self._table is not None, "open() first"
        return self._table

    @property
    def model(self) -> QSqlQueryModel:
        """The query model (after ``open``)."""
        assert self._model is not None, "open() first"
        return self._model

    def open(self) -> float:
        """Run the query and show the window; ms until the first page is painted."""
        started = time.perf_counter()
        model = QSqlQueryModel()
        self._model = model
        self._run_query()
        window = QMainWindow()
        bar = QToolBar("Filters")
        field = QLineEdit()
        field.setPlaceholderText("Search")
        field.textChanged.connect(self._search_changed)
        bar.addWidget(field)
        window.addToolBar(bar)
        table = QTableView()
        table.setModel(model)
        window.setCentralWidget(table)
        window.statusBar().showMessage("Accounts")
        window.resize(*WINDOW_SIZE)
        window.show()
        self._window, self._field, self._table = window, field, table
        self._watch = PaintWatch(table, model)
        done = self._wait(started, lambda: model.rowCount() > 0)
        return ms(started, done)

    def row_count(self) -> int:
        """Rows read so far (all of them only once the model was read to the end)."""
        return self.model.rowCount()

    def jump_to(self, row: int | None) -> float:
        """Select and show row ``row`` (None: the last one), reading every row before it
        first, as QSqlQueryModel must; ms until it is painted."""
        table, model = self.table, self.model
        started = time.perf_counter()
        if row is None:
            while model.canFetchMore():
                model.fetchMore()
            row = model.rowCount() - 1
            table.scrollToBottom()
            hint = _Hint.EnsureVisible
        else:
            self._read_past(row)
            hint = _Hint.PositionAtCenter
        table.scrollTo(model.index(row, 0), hint)
        table.selectRow(row)
        done = self._wait(started, lambda: row in visible_rows(table))
        return ms(started, done)

    def show_row_at_top(self, row: int) -> float:
        """Scroll so that ``row`` is the first one shown; ms until painted."""
        table, model = self.table, self.model
        started = time.perf_counter()
        self._read_past(row)
        table.scrollTo(model.index(row, 0), _Hint.PositionAtTop)
        done = self._wait(started, lambda: row in visible_rows(table))
        return ms(started, done)

    def sort_by_name(self, descending: bool) -> float:
        """From the top of the list, re-run the query ordered by name; ms until the first
        page is painted."""
        before = time.perf_counter()
        self.table.scrollToTop()
        self.table.viewport().update()  # a paint to wait for, even when already at the top
        self._wait(before, lambda: True)
        started = time.perf_counter()
        self._descending = descending
        self._run_query()
        return ms(started, self._wait(started, lambda: True))

    def show_shared_only(self, on: bool) -> float:
        """Re-run the query with or without ``shared_email = 1`` (the column the page reads
        anyway); ms until painted."""
        started = time.perf_counter()
        self._shared_only = on
        self._run_query()
        return ms(started, self._wait(started, lambda: True))

    def type_last_key(self, text: str) -> float:
        """As ``OurConsole.type_last_key``: type all but the last character (each keystroke
        re-runs the query), then ms from the last keystroke until its results are painted."""
        assert self._field is not None
        field = self._field
        field.setText(text[:-1])
        self.wait_idle()
        started = time.perf_counter()
        QTest.keyClicks(field, text[-1])
        return ms(started, self._wait(started, lambda: self._search == field.text(), 300))

    def wait_idle(self) -> None:
        """Nothing to wait for: every query ran on the GUI thread when it was asked for."""
        settle(0.05)

    def shown_rows(self) -> int:
        """Rows read of the current query (QSqlQueryModel cannot say how many match)."""
        return self.model.rowCount()

    def close(self) -> None:
        """Close the window and the connection."""
        if self._window is not None:
            if self._watch is not None:
                self._watch.detach()
            self.model.clear()
            self._window.close()
            self._window.deleteLater()
            self.app.processEvents()
        self.database.close()
        del self.database
        QSqlDatabase.removeDatabase(self._CONNECTION)

    def _search_changed(self, text: str) -> None:
        self._search = text
        self._run_query()

    def _run_query(self) -> None:
        search = self._search.strip()
        order = search_order(self.order) if search else self.order
        sql = page_query(search, self._shared_only, self._descending, order)
        self.model.setQuery(sql, self.database)
        error = self.model.lastError()
        if error.isValid():
            raise RuntimeError(f"the baseline query failed: {error.text()}")

    def _read_past(self, row: int) -> None:
        model = self.model
        while model.rowCount() <= row and model.canFetchMore():
            model.fetchMore()

    def _wait(self, started: float, ready: Callable[[], bool], timeout_s: float = 120) -> float:
        assert self._watch is not None
        called = time.perf_counter()
        done = wait_until_painted(self._watch, ready, started, timeout_s)
        self.data_ms = ms(started, max(called, self._watch.last_change))
        return done


def time_clusters(path: Path, sql: str = CLUSTERS_SQL) -> tuple[float, int]:
    """ms to list every shared-e-mail cluster through QSqlQuery with ``sql`` (usernames
    sorted within each, as ours), and how many there are."""
    name = "bench-clusters"
    database = open_connection(path, name)
    try:
        started = time.perf_counter()
        query = QSqlQuery(database)
        query.setForwardOnly(True)
        if not query.exec(sql):
            raise RuntimeError(f"the clusters query failed: {query.lastError().text()}")
        clusters: list[tuple[str, tuple[str, ...]]] = []
        while query.next():
            names = str(query.value(1)).split("\x1f")
            clusters.append((str(query.value(0) or ""), tuple(sorted(names))))
        elapsed = ms(started, time.perf_counter())
        query.finish()
        del query
    finally:
        database.close()
        del database
        QSqlDatabase.removeDatabase(name)
    return elapsed, len(clusters)


def sqlite_version(path: Path) -> str:
    """The SQLite library inside Qt's QSQLITE driver (not Python's)."""
    name = "bench-version"
    database = open_connection(path, name)
    try:
        query = QSqlQuery(database)
        query.exec("SELECT sqlite_version()")
        version = str(query.value(0)) if query.next() else "?"
        del query
    finally:
        database.close()
        del database
        QSqlDatabase.removeDatabase(name)
    return version


def describe(path: Path) -> dict[str, str]:
    """The baseline's queries on the file at ``path``, for the results."""
    name = "bench-describe"
    database = open_connection(path, name)
    try:
        order = name_order(database)
    finally:
        database.close()
        del database
        QSqlDatabase.removeDatabase(name)
    return {
        "page": " ".join(page_query(order=order).split()),
        "search": " ".join(page_query("word", order=search_order(order)).split()),
        "clusters": CLUSTERS_SQL,
    }
