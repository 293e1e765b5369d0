"""The composition root of the desktop console: builds the application, the account table
over the chosen database, and the main window, and runs them."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from PySide6.QtWidgets import QApplication

from console.adapters.account_table import AccountTableModel
from console.models.account_list import AccountList
from console.models.database import Database
from console.views.main_window import MainWindow
from console.views.theme import APP_NAME, apply_theme


def create_application(argv: Sequence[str] | None = None) -> QApplication:
    """The QApplication (made once), named and themed as the Portal Account Console."""
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else None
    if app is None:
        app = QApplication(list(argv if argv is not None else sys.argv))
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(APP_NAME)
    apply_theme(app)
    return app


def build_main_window(database: Database) -> MainWindow:
    """The main window over ``database``, its first read started. The caller shows it and,
    when done, calls ``window.shutdown()`` (closing the window does so too)."""
    model = AccountTableModel(AccountList(database.engine))
    window = MainWindow(model, database.display_name)
    model.refresh()
    return window


def run_gui(database: Database) -> int:
    """Open the main window on ``database`` and run until it is closed; the exit status.
    The database stays open: whoever opened it disposes of it."""
    app = create_application()
    window = build_main_window(database)
    window.show()
    try:
        return app.exec()
    finally:
        window.shutdown()
