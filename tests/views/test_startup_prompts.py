"""The start-up prompts as a person meets them: the audit-key question as a Yes/No box and
who signs in as the sign-in dialog (``run_gui``'s own tests answer them directly)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot

from console.models.database import Database
from console.services.clock import ManualClock
from console.services.desk import Desk
from console.views.sign_in import SignInDialog
from console.views.startup_prompts import FIRST_KEY_QUESTION, DialogPrompts
from tests.services.conftest import NOW, make_workstation


def when_shown(act: Callable[[QApplication], None]) -> None:
    """Run ``act`` once the modal prompt is on screen (its own event loop is running)."""
    QTimer.singleShot(0, lambda: act(QApplication.instance()))  # type: ignore[arg-type]


@pytest.mark.parametrize(("button", "expected"), [("Yes", True), ("No", False)])
def test_the_audit_key_question(qtbot: QtBot, button: str, expected: bool) -> None:
    seen: list[str] = []

    def answer(_app: QApplication) -> None:
        box = QApplication.activeModalWidget()
        assert isinstance(box, QMessageBox)
        seen.append(box.text())
        box.button(getattr(QMessageBox.StandardButton, button)).click()

    when_shown(answer)
    assert DialogPrompts().create_audit_key() is expected
    assert seen == [FIRST_KEY_QUESTION]


def test_quitting_the_sign_in_dialog_signs_nobody_in(qtbot: QtBot, database: Database) -> None:
    seen: list[str] = []

    def quit_dialog(_app: QApplication) -> None:
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, SignInDialog)
        seen.append(dialog.intro.text())
        dialog.reject()

    when_shown(quit_dialog)
    reception = Desk(make_workstation(database, ManualClock(NOW)))
    assert DialogPrompts().sign_in(reception, first_run=True) is None
    assert "Create the first administrator" in seen[0]
