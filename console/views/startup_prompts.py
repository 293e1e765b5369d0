"""What the console asks before its window opens: whether to create a new database's audit
key, why it cannot start, and who signs in. ``run_gui`` takes them as an object, so that a
test answers them directly instead of finding and clicking windows."""

from __future__ import annotations

from typing import Protocol

from PySide6.QtWidgets import QDialog, QMessageBox

from console.services.desk import Desk
from console.services.staff.users import SignedIn
from console.views.sign_in import SignInDialog
from console.views.theme import APP_NAME

FIRST_KEY_QUESTION = (
    "This is a new database without an audit key. The key seals the audit log so that any "
    "change to it can be detected; it is kept in this computer's keyring (or in the key file "
    "named in the settings), never in the database.\n\nCreate the audit key now?"
)


class StartupPrompts(Protocol):
    """The questions asked before the main window opens."""

    def create_audit_key(self) -> bool:
        """Whether to create the audit key of a database never used before."""
        ...

    def cannot_start(self, message: str) -> None:
        """Tell the person why the console cannot start (in the clinic's words)."""
        ...

    def make_private(self, warning: str) -> bool:
        """Whether to make a database that others can read owner-only (``warning`` says
        which files and why it matters)."""
        ...

    def sign_in(self, desk: Desk, *, first_run: bool) -> SignedIn | None:
        """Who signs in (the first administrator, on a new database); None: they quit."""
        ...


class DialogPrompts:
    """The prompts as message boxes and the sign-in dialog. Modal, and rightly so: nothing
    else of the console is open yet."""

    def create_audit_key(self) -> bool:
        """Ask with a Yes/No message box."""
        answer = QMessageBox.question(None, APP_NAME, FIRST_KEY_QUESTION)
        return answer == QMessageBox.StandardButton.Yes

    def cannot_start(self, message: str) -> None:
        """Say it in a critical message box."""
        QMessageBox.critical(None, APP_NAME, message)

    def make_private(self, warning: str) -> bool:
        """Ask with a Yes/No message box."""
        question = f"{warning}\n\nMake the database readable by you only now?"
        answer = QMessageBox.warning(
            None,
            APP_NAME,
            question,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes

    def sign_in(self, desk: Desk, *, first_run: bool) -> SignedIn | None:
        """The sign-in dialog's answer."""
        dialog = SignInDialog(desk, first_run=first_run)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return None
        return dialog.signed_in


__all__ = ["FIRST_KEY_QUESTION", "DialogPrompts", "StartupPrompts"]
