"""Signing in before any patient data is shown (issue 5): the first administrator of a new
database, the sign-in itself, and the new password an administrator's reset demands.

``SignInPresenter`` holds the decisions and is driven directly by tests; ``SignInDialog`` only
binds fields and shows what the presenter says. bcrypt runs through ``run`` (a worker in the
console), so the dialog stays responsive while a password is checked.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from enum import Enum
from typing import Any, Protocol

from PySide6.QtCore import Qt
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from console.models.states import StaffRole
from console.services.desk import Desk
from console.services.errors import DomainError
from console.services.staff.users import SignedIn, add_staff_user, change_own_password, sign_in
from console.views.theme import APP_NAME, app_icon
from console.workers.job_runner import JobRunner

_log = logging.getLogger(__name__)

#: Runs work off the GUI thread, then one of the two callbacks on it (``JobRunner.submit``).
Run = Callable[[Callable[[], Any], Callable[[Any], None], Callable[[Exception], None]], None]

UNEXPECTED = (
    "The console could not finish this (the database may be out of reach). Try again; if it "
    "keeps happening, tell your administrator."
)


class Stage(Enum):
    """What the dialog is asking for."""

    FIRST_ADMIN = "first_admin"
    SIGN_IN = "sign_in"
    NEW_PASSWORD = "new_password"  # noqa: S105 - a stage of the dialog, not a secret


class SignInView(Protocol):
    """What the presenter needs from the dialog."""

    def show_stage(self, stage: Stage, message: str) -> None: ...
    def show_busy(self, busy: bool) -> None: ...
    def show_problem(self, message: str) -> None: ...
    def finish(self, signed_in: SignedIn) -> None: ...


class SignInPresenter:
    """The sign-in decisions: which form, what to check before asking the database, what
    each answer means. Passwords are held only until the step that needs them is done."""

    def __init__(self, desk: Desk, run: Run, view: SignInView, *, first_run: bool) -> None:
        self._desk = desk
        self._run = run
        self._view = view
        self._username = ""
        self._old_password = ""
        self.stage = Stage.FIRST_ADMIN if first_run else Stage.SIGN_IN

    def start(self) -> None:
        """Show the first form."""
        if self.stage is Stage.FIRST_ADMIN:
            self._view.show_stage(
                self.stage,
                "This database has no staff users yet. Create the first administrator: "
                "there is no default account.",
            )
        else:
            self._view.show_stage(self.stage, "Sign in to see patient portal accounts.")

    def create_first_admin(
        self, username: str, display_name: str, password: str, confirm: str
    ) -> None:
        """Add the first administrator, then sign them in."""
        if password != confirm:
            self._view.show_problem("The two passwords are not the same.")
            return
        desk = self._desk

        def work() -> SignedIn:
            desk.run(
                add_staff_user, None, username, StaffRole.ADMIN, password, display_name=display_name
            )
            return desk.run(sign_in, username, password)

        self._submit(work, self._signed_in)

    def sign_in(self, username: str, password: str) -> None:
        """Check a username and password."""
        if not username.strip() or not password:
            self._view.show_problem("Enter your username and password.")
            return
        self._username, self._old_password = username, password
        self._submit(lambda: self._desk.run(sign_in, username, password), self._signed_in)

    def choose_new_password(self, password: str, confirm: str) -> None:
        """Replace the password an administrator reset."""
        if password != confirm:
            self._view.show_problem("The two passwords are not the same.")
            return
        username, old = self._username, self._old_password
        self._submit(
            lambda: self._desk.run(change_own_password, username, old, password),
            self._signed_in,
        )

    def _submit(self, work: Callable[[], SignedIn], done: Callable[[SignedIn], None]) -> None:
        self._view.show_busy(True)
        self._run(work, done, self._failed)

    def _signed_in(self, signed_in: SignedIn) -> None:
        self._view.show_busy(False)
        if signed_in.must_change_password:
            self.stage = Stage.NEW_PASSWORD
            self._view.show_stage(
                self.stage,
                "An administrator reset your password. Choose a new one of your own to go on.",
            )
            return
        self._old_password = ""
        self._view.finish(signed_in)

    def _failed(self, error: Exception) -> None:
        self._view.show_busy(False)
        if isinstance(error, DomainError):
            self._view.show_problem(error.message)
        else:  # the type only: a database error's text may quote what was typed
            _log.error("sign-in step failed: %s", type(error).__name__)
            self._view.show_problem(UNEXPECTED)


class SignInDialog(QDialog):
    """The sign-in window, shown before the main window (and again after a sign-out)."""

    def __init__(
        self,
        desk: Desk,
        *,
        first_run: bool,
        runner: JobRunner | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.signed_in: SignedIn | None = None
        self._runner = runner or JobRunner(max_threads=1, parent=self)
        self.setWindowTitle(f"Sign in — {APP_NAME}")
        self.setWindowIcon(app_icon())
        self.setMinimumWidth(440)

        self.logo = QLabel()
        self.logo.setPixmap(app_icon().pixmap(40, 40))
        self.heading = QLabel(APP_NAME)
        self.heading.setObjectName("signInHeading")
        self.intro = QLabel()
        self.intro.setWordWrap(True)
        self.problem = QLabel()
        self.problem.setObjectName("signInProblem")
        self.problem.setWordWrap(True)
        self.problem.setAccessibleName("Problem")
        self.problem.hide()

        self.username = _field("Username")
        self.password = _field("Password", secret=True)
        self.admin_username = _field("Administrator username")
        self.admin_name = _field("Full name")
        self.admin_password = _field("Password (at least 12 characters)", secret=True)
        self.admin_confirm = _field("Password again", secret=True)
        self.new_password = _field("New password (at least 12 characters)", secret=True)
        self.new_confirm = _field("New password again", secret=True)

        self.pages = QStackedWidget()
        self._pages = {
            Stage.SIGN_IN: self._form(self.username, self.password),
            Stage.FIRST_ADMIN: self._form(
                self.admin_username, self.admin_name, self.admin_password, self.admin_confirm
            ),
            Stage.NEW_PASSWORD: self._form(self.new_password, self.new_confirm),
        }
        for page in self._pages.values():
            self.pages.addWidget(page)

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("Quit")
        self.buttons.accepted.connect(self._submit)
        self.buttons.rejected.connect(self.reject)

        title = QHBoxLayout()
        title.setSpacing(12)
        title.addWidget(self.logo)
        title.addWidget(self.heading, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 16)
        layout.setSpacing(10)
        layout.addLayout(title)
        for widget in (self.intro, self.pages, self.problem, self.buttons):
            layout.addWidget(widget)

        self.presenter = SignInPresenter(desk, self._runner.submit, self, first_run=first_run)
        self.presenter.start()

    # --- SignInView ----------------------------------------------------------------------------

    def show_stage(self, stage: Stage, message: str) -> None:
        """Show the form for ``stage`` with ``message`` above it."""
        self.pages.setCurrentWidget(self._pages[stage])
        for page in self._pages.values():  # the dialog fits the form on show, not the largest
            policy = (
                QSizePolicy.Policy.Preferred
                if page is self._pages[stage]
                else QSizePolicy.Policy.Ignored
            )
            page.setSizePolicy(policy, policy)
        self.adjustSize()
        self.intro.setText(message)
        self.problem.hide()
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText(_OK_TEXT[stage])
        first = {
            Stage.SIGN_IN: self.username,
            Stage.FIRST_ADMIN: self.admin_username,
            Stage.NEW_PASSWORD: self.new_password,
        }[stage]
        first.setFocus(Qt.FocusReason.OtherFocusReason)

    def show_busy(self, busy: bool) -> None:
        """Grey the form while a password is being checked."""
        self.pages.setEnabled(not busy)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(not busy)
        if busy:
            self.problem.hide()

    def show_problem(self, message: str) -> None:
        """Say what is wrong, under the form; the password fields are emptied."""
        self.problem.setText(message)
        self.problem.show()
        for field in (self.password, self.new_password, self.new_confirm):
            field.clear()
        self.password.setFocus(Qt.FocusReason.OtherFocusReason)

    def finish(self, signed_in: SignedIn) -> None:
        """Close the dialog, signed in."""
        self.signed_in = signed_in
        self._clear_secrets()
        self.accept()

    # --- Qt ---------------------------------------------------------------------------------------

    def done(self, result: int) -> None:
        self._clear_secrets()
        self._runner.close()
        super().done(result)

    def closeEvent(self, event: QCloseEvent) -> None:
        self._runner.close()
        super().closeEvent(event)

    def _submit(self) -> None:
        stage = self.presenter.stage
        if stage is Stage.SIGN_IN:
            self.presenter.sign_in(self.username.text(), self.password.text())
        elif stage is Stage.FIRST_ADMIN:
            self.presenter.create_first_admin(
                self.admin_username.text(),
                self.admin_name.text(),
                self.admin_password.text(),
                self.admin_confirm.text(),
            )
        else:
            self.presenter.choose_new_password(self.new_password.text(), self.new_confirm.text())

    def _form(self, *fields: QLineEdit) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        form.setContentsMargins(0, 4, 0, 4)
        for field in fields:
            label = QLabel(field.accessibleName() + ":")
            label.setBuddy(field)
            form.addRow(label, field)
        return page

    def _clear_secrets(self) -> None:
        for field in (
            self.password,
            self.admin_password,
            self.admin_confirm,
            self.new_password,
            self.new_confirm,
        ):
            field.clear()


_OK_TEXT = {
    Stage.SIGN_IN: "Sign in",
    Stage.FIRST_ADMIN: "Create administrator",
    Stage.NEW_PASSWORD: "Change password",
}


def _field(name: str, *, secret: bool = False) -> QLineEdit:
    field = QLineEdit()
    field.setAccessibleName(name)
    field.setMinimumWidth(240)
    if secret:
        field.setEchoMode(QLineEdit.EchoMode.Password)
    return field


__all__ = ["SignInDialog", "SignInPresenter", "SignInView", "Stage"]
