"""Cold start: from process start to a usable main window, its first page painted.

    python -m bench.cold_start ours|baseline DB_PATH

The child imports everything itself, so the figure the parent takes (from just before it
starts this process to the ``READY`` line) includes the interpreter, the imports, opening the
database (ours also checks its schema is up to date) and the first paint. The ``READY`` line
carries the child's own split of that time; the child then shuts down cleanly, unmeasured.
Ours opens an encrypted database with the key in ``bench.cipher.KEY_VAR``.
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import json  # noqa: E402 - the clock starts before any import of ours
import os  # noqa: E402
import sys  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

READY_PREFIX = "READY "


def _since_start(phases: dict[str, float], name: str) -> None:
    phases[name] = round((time.perf_counter() - STARTED) * 1000, 1)


def start_ours(path: Path, phases: dict[str, float]) -> Callable[[], None]:
    """Open the console's main window on ``path`` and wait for its first painted page."""
    from bench.cipher import key_from_environment
    from bench.measure import PaintWatch, visible_rows, wait_until_painted
    from console.app import build_main_window, create_application
    from console.models.database import open_database, resolve_database_url

    _since_start(phases, "imported_ms")
    create_application([sys.argv[0]])
    url = resolve_database_url(str(path), {})
    database = open_database(url, cipher_key=key_from_environment())
    _since_start(phases, "database_open_ms")
    started = time.perf_counter()
    window = build_main_window(database)
    window.show()
    model = window.model
    watch = PaintWatch(window.table, model)
    wait_until_painted(
        watch,
        lambda: (
            model.rowCount() > 0
            and all(model.account_row(r) is not None for r in visible_rows(window.table))
        ),
        started,
    )

    def shut_down() -> None:
        window.shutdown()
        window.close()
        database.dispose()

    return shut_down


def start_baseline(path: Path, phases: dict[str, float]) -> Callable[[], None]:
    """Open a QSqlQueryModel and QTableView window on ``path`` and wait for its first page."""
    from PySide6.QtSql import QSqlQueryModel
    from PySide6.QtWidgets import QApplication, QMainWindow, QTableView

    from bench.baseline import name_order, open_connection, page_query
    from bench.measure import PaintWatch, wait_until_painted
    from bench.ours import WINDOW_SIZE

    _since_start(phases, "imported_ms")
    app = QApplication([sys.argv[0]])
    database = open_connection(path, "bench-cold-start")
    _since_start(phases, "database_open_ms")
    started = time.perf_counter()
    model = QSqlQueryModel()
    model.setQuery(page_query(order=name_order(database)), database)
    window = QMainWindow()
    table = QTableView()
    table.setModel(model)
    window.setCentralWidget(table)
    window.resize(*WINDOW_SIZE)
    window.show()
    watch = PaintWatch(table, model)
    wait_until_painted(watch, lambda: model.rowCount() > 0, started)

    def shut_down() -> None:
        model.clear()
        window.close()
        database.close()
        app.processEvents()

    return shut_down


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    kind, path = sys.argv[1], Path(sys.argv[2])
    if not path.is_file():
        sys.exit(f"there is no database at {path}")
    phases: dict[str, float] = {}
    start = start_ours if kind == "ours" else start_baseline
    shut_down = start(path, phases)
    _since_start(phases, "painted_ms")
    print(READY_PREFIX + json.dumps(phases), flush=True)
    shut_down()
    return 0


if __name__ == "__main__":
    sys.exit(main())
