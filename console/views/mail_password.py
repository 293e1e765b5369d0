"""The form that has the mail server's password typed twice (``MailPasswordForm``). What
it decides is ``MailPasswordPresenter``'s (``console.views.mail_password_presenter``, no Qt).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from console.views.theme import PROBLEM_COLOUR


class MailPasswordForm(QDialog):
    """The mail server's password, typed twice and never shown; ``submitted`` hands it to
    the presenter. What was typed is cleared when the form closes, and after a problem."""

    submitted = Signal()

    def __init__(self, host: str, parent: QWidget) -> None:
        super().__init__(parent)
        self.host = host
        self.setWindowTitle("Mail server password")
        self.setObjectName("smtpPasswordForm")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setMinimumWidth(420)
        intro = QLabel(
            f"The password the console signs in to {host} with. It is kept in this "
            "computer's keyring, never in the settings file."
        )
        intro.setWordWrap(True)
        self.password = QLineEdit()
        self.repeated = QLineEdit()
        self.problem = QLabel()
        self.problem.setObjectName("settingProblem")
        self.problem.setAccessibleName("Problem with the password")
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet(f"color: {PROBLEM_COLOUR};")
        self.problem.hide()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.store_button = buttons.addButton(
            "Store in keyring", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.store_button.setAccessibleName("Store the password in the keyring")
        self.store_button.setDefault(True)
        self.cancel_button = buttons.button(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button.setAccessibleName("Cancel")
        buttons.accepted.connect(self.submitted)
        buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for field, label in ((self.password, "&Password"), (self.repeated, "Repeat pass&word")):
            field.setEchoMode(QLineEdit.EchoMode.Password)
            field.setAccessibleName(label.replace("&", ""))
            caption = QLabel(f"{label}:")
            caption.setBuddy(field)
            form.addRow(caption, field)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(buttons)

    def show_problem(self, problem: str) -> None:
        """Say why the password was not taken; what was typed is cleared to type again."""
        self._clear()
        self.problem.setText(problem)
        self.problem.setVisible(bool(problem))
        self.password.setFocus(Qt.FocusReason.OtherFocusReason)

    def done(self, result: int) -> None:
        self._clear()
        super().done(result)

    def _clear(self) -> None:
        self.password.clear()
        self.repeated.clear()


__all__ = ["MailPasswordForm"]
