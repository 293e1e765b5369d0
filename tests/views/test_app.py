"""The GUI entry point: ``run_gui`` opens the window on the database and returns when it is
closed, leaving no worker behind."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication

from console.adapters.worker import open_runners
from console.app import create_application, run_gui
from console.models.database import Database
from console.views.main_window import MainWindow
from tests.adapters.clinic_accounts import add_clinic_accounts


@pytest.fixture
def restore_application(qapp: QApplication) -> Iterator[QApplication]:
    """Undo what ``create_application`` does to the test run's shared QApplication."""
    name, organisation = qapp.applicationName(), qapp.organizationName()
    sheet, palette, icon = qapp.styleSheet(), QPalette(qapp.palette()), qapp.windowIcon()
    yield qapp
    qapp.setStyleSheet(sheet)
    qapp.setPalette(palette)
    qapp.setWindowIcon(icon)
    qapp.setApplicationName(name)
    qapp.setOrganizationName(organisation)


def test_create_application_names_and_themes_the_existing_application(
    restore_application: QApplication,
) -> None:
    app = create_application([])
    assert app is restore_application
    assert app.applicationName() == "Portal Account Console"
    assert app.organizationName() == "Portal Account Console"
    assert not app.windowIcon().isNull()
    assert "accountTable" in app.styleSheet()


def test_run_gui_shows_the_accounts_and_returns_when_the_window_closes(
    database: Database, restore_application: QApplication
) -> None:
    add_clinic_accounts(database)
    seen: dict[str, str] = {}
    poll = QTimer()
    poll.setInterval(20)

    def close_once_counted() -> None:
        for widget in QApplication.topLevelWidgets():
            if isinstance(widget, MainWindow) and widget.row_count_label.text():
                seen["count"] = widget.row_count_label.text()
                seen["title"] = widget.windowTitle()
                poll.stop()
                widget.close()

    poll.timeout.connect(close_once_counted)
    poll.start()
    give_up = QTimer()
    give_up.setSingleShot(True)
    give_up.timeout.connect(QApplication.quit)
    give_up.start(10_000)
    try:
        status = run_gui(database)
    finally:
        poll.stop()
        give_up.stop()
    assert status == 0
    assert seen == {"count": "16 accounts", "title": "Portal Account Console"}
    assert not open_runners()
