"""The GUI entry point: ``run_gui`` asks who signs in, opens the window on the database and
returns when it is closed, leaving no worker behind; without an audit key it refuses to start."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication, QMessageBox
from sqlalchemy import select

from console.adapters.worker import open_runners
from console.app import create_application, run_gui
from console.models.database import Database
from console.models.schema import AuditEvent, StaffRole
from console.views.main_window import MainWindow
from console.views.sign_in import SignInDialog
from tests.adapters.clinic_accounts import add_clinic_accounts
from tests.services.conftest import STAFF_PASSWORD, add_staff


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


def test_run_gui_signs_in_shows_the_accounts_and_returns_when_the_window_closes(
    database: Database,
    restore_application: QApplication,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    staff_hash: str,
) -> None:
    add_clinic_accounts(database)
    add_staff(database, StaffRole.FRONT_DESK, staff_hash, name="pat")
    monkeypatch.setenv("PORTAL_CONSOLE_AUDIT_KEY", hashlib.sha256(b"app test").hexdigest())
    seen: dict[str, str] = {}
    poll = QTimer()
    poll.setInterval(20)

    def drive() -> None:
        for widget in QApplication.topLevelWidgets():
            if isinstance(widget, SignInDialog) and widget.isVisible() and "dialog" not in seen:
                seen["dialog"] = widget.windowTitle()
                widget.username.setText("PAT")
                widget.password.setText(STAFF_PASSWORD)
                widget.buttons.accepted.emit()
            if isinstance(widget, MainWindow) and widget.row_count_label.text():
                seen["count"] = widget.row_count_label.text()
                seen["staff"] = widget.staff_label.text()
                seen["settings"] = str(widget.settings_action.isEnabled())
                poll.stop()
                widget.close()

    poll.timeout.connect(drive)
    poll.start()
    give_up = QTimer()
    give_up.setSingleShot(True)
    give_up.timeout.connect(QApplication.quit)
    give_up.start(10_000)
    try:
        status = run_gui(database, config=tmp_path / "settings.toml")
    finally:
        poll.stop()
        give_up.stop()
    assert status == 0
    assert seen == {
        "dialog": "Sign in — Portal Account Console",
        "count": "16 accounts",
        "staff": "Signed in: pat (front desk)",
        "settings": "False",
    }
    assert not open_runners()
    with database.engine.connect() as connection:
        actions = connection.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == ["staff_sign_in", "signed_out"]


def test_run_gui_refuses_to_start_without_an_audit_key(
    database: Database, restore_application: QApplication, tmp_path: Path
) -> None:
    shown: list[str] = []

    def answer_the_message_box() -> None:
        for widget in QApplication.topLevelWidgets():
            if isinstance(widget, QMessageBox) and widget.isVisible():
                shown.append(widget.text())
                widget.accept()

    poll = QTimer()
    poll.setInterval(20)
    poll.timeout.connect(answer_the_message_box)
    poll.start()
    try:
        status = run_gui(database, config=tmp_path / "settings.toml")
    finally:
        poll.stop()
    assert status == 2
    assert shown and "No audit key is set up" in shown[0]
