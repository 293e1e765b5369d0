"""Asking for the database server's password (issue 5, secrets in the keyring): shown only
when the server wants one that the keyring does not hold. The password is never written to a
file; it is remembered only in a secure keyring, and only when the person ticks the box."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from console.services.settings.secrets_store import no_keyring_message
from console.views.theme import APP_NAME, app_icon


class DatabasePasswordDialog(QDialog):
    """The password of the database server at ``where`` (shown without any password)."""

    def __init__(
        self,
        where: str,
        *,
        can_remember: bool,
        keyring_help: str,
        problem: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Database password — {APP_NAME}")
        self.setWindowIcon(app_icon())
        self.setMinimumWidth(460)
        intro = QLabel(f"The database server at {where} needs its password.")
        intro.setWordWrap(True)
        self.problem = QLabel(problem)
        self.problem.setObjectName("signInProblem")
        self.problem.setWordWrap(True)
        self.problem.setVisible(bool(problem))
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setAccessibleName("Database password")
        self.password.setPlaceholderText("Database password")
        self.remember = QCheckBox("Remember it in this computer's keyring")
        self.remember.setEnabled(can_remember)
        self.remember.setChecked(can_remember)
        self.keyring_help = QLabel(keyring_help)
        self.keyring_help.setWordWrap(True)
        self.keyring_help.setVisible(not can_remember)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Connect")
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("Quit")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        for widget in (
            intro,
            self.problem,
            self.password,
            self.remember,
            self.keyring_help,
            buttons,
        ):
            layout.addWidget(widget)

    def done(self, result: int) -> None:
        if result != QDialog.DialogCode.Accepted:
            self.password.clear()
        super().done(result)


def ask_database_password(where: str, can_remember: bool, problem: str) -> tuple[str, bool] | None:
    """Ask for the password (modal, before any other window); None when the person quits."""
    dialog = DatabasePasswordDialog(
        where,
        can_remember=can_remember,
        keyring_help=no_keyring_message("the database password"),
        problem=problem,
    )
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    answer = dialog.password.text(), dialog.remember.isChecked()
    dialog.password.clear()
    return answer


__all__ = ["DatabasePasswordDialog", "ask_database_password"]
