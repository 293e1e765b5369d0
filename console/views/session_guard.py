"""Automatic logoff (issue 5, HIPAA §164.312): the console locks after a spell without input
and ends a sign-in after its time limit, whatever happens.

``SessionGuard`` watches keyboard and mouse input across the application and asks the
``StaffSession`` on a timer what is due; the window reacts to its signals (clear every
patient-data model and show ``LockScreen``; close and ask for a fresh sign-in). The
decisions are the session's (plain Python on the workstation's clock); audit writes and
password checks run in a worker.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from console.services.desk import StaffDesk
from console.services.errors import DomainError
from console.services.staff.session import SessionDue, SessionEnded, StaffSession
from console.services.staff.users import SignedIn
from console.views.theme import load_icon
from console.workers.job_runner import JobRunner

_log = logging.getLogger(__name__)

#: How often (ms) the guard asks whether the session is due to lock or end.
POLL_MS = 5_000
_INPUT = frozenset(
    {
        QEvent.Type.KeyPress,
        QEvent.Type.MouseButtonPress,
        QEvent.Type.MouseMove,
        QEvent.Type.Wheel,
        QEvent.Type.TouchBegin,
    }
)
EXPIRED = "You have been signed in for {hours} hours: sign in again to go on."
CHANGED = "Your role or password was changed by an administrator: sign in again to go on."


class SessionGuard(QObject):
    """Locks and ends one staff session on time; see the module's docstring."""

    #: Clear patient data and show the lock screen now.
    locked = Signal()
    #: The right password was given: show the data again.
    unlocked = Signal()
    #: The session is over (time limit or sign-out); the text says why (may be empty).
    ended = Signal(str)
    #: The lock screen's password was refused; the text says why.
    refused = Signal(str)

    def __init__(
        self,
        desk: StaffDesk,
        session: StaffSession,
        *,
        idle_minutes: int,
        session_hours: int,
        runner: JobRunner | None = None,
        poll_ms: int = POLL_MS,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._desk = desk
        self.session = session
        self._idle_minutes = idle_minutes
        self._session_hours = session_hours
        self._runner = runner or JobRunner(max_threads=1, parent=self)
        self._timer = QTimer(self)
        self._timer.setInterval(poll_ms)
        self._timer.timeout.connect(self.check)
        self._showing_lock = self._ended = False
        #: Whether the last lock was asked for (Ctrl+L) rather than the idle time's.
        self.locked_by_hand = False
        self._role = session.actor.role
        app = QCoreApplication.instance()
        if app is not None:
            app.installEventFilter(self)
        self._timer.start()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in _INPUT:
            self.session.touch(self._desk.clock.now())
        return False

    def check(self) -> None:
        """Lock or end the session if it is due (the timer calls this)."""
        due = self.session.due(
            self._desk.clock.now(),
            idle_minutes=self._idle_minutes,
            session_hours=self._session_hours,
        )
        if due is SessionDue.LOCK:
            self.lock(by_hand=False)
        elif due is SessionDue.SIGN_OUT and not self._ended:
            self._end(self.session.expire, EXPIRED.format(hours=self._session_hours))

    def lock(self, *, by_hand: bool = True) -> None:
        """Lock now: on the user's request, or (``by_hand=False``) after the idle time. The
        window clears first, before anything can fail, then the lock is audited in the
        background."""
        if self._showing_lock or self.session.locked:
            return
        self._showing_lock = True
        self.locked_by_hand = by_hand
        self.locked.emit()
        self._runner.submit(lambda: self._desk.run(self.session.lock), _ignore, _logged)

    def unlock(self, password: str) -> None:
        """Check the signed-in user's password in the background."""
        hours = self._session_hours

        def work() -> SignedIn:
            return self._desk.run(self.session.unlock, password, session_hours=hours)

        self._runner.submit(work, self._unlocked, self._unlock_failed)

    def sign_out(self) -> None:
        """End the session at the user's request."""
        self._end(self.session.sign_out, "")

    @property
    def ended_session(self) -> bool:
        """Whether the guard ended the session (time limit or sign-out): the next person
        must sign in afresh."""
        return self._ended

    def close(self) -> None:
        """Stop watching (the window is going away); the audit writes already asked for
        (a lock, an end) are finished first."""
        self._timer.stop()
        app = QCoreApplication.instance()
        if app is not None:
            app.removeEventFilter(self)
        self._runner.close(finish_queued=True)

    def _end(self, how: Callable[..., None] | None, message: str) -> None:
        self._timer.stop()
        self._showing_lock = self._ended = True
        self.ended.emit(message)
        if how is not None:
            self._runner.submit(lambda: self._desk.run(how), _ignore, _logged)

    def _unlocked(self, signed_in: SignedIn) -> None:
        # The window was built for the role at sign-in: a new role, or a password an
        # administrator reset meanwhile, needs a fresh sign-in rather than this window.
        if signed_in.must_change_password or signed_in.actor.role != self._role:
            self._end(self.session.sign_out, CHANGED)
            return
        self._showing_lock = False
        self.unlocked.emit()

    def _unlock_failed(self, error: Exception) -> None:
        if isinstance(error, SessionEnded):
            self._end(None, error.message)
        elif isinstance(error, DomainError):
            self.refused.emit(error.message)
        else:
            _logged(error)
            self.refused.emit("The password could not be checked (is the database reachable?).")


def lock_text(display_name: str, idle_minutes: int, *, by_hand: bool) -> str:
    """What the lock screen says about why it is locked and whose password opens it."""
    if by_hand:
        return f"{display_name} locked this console. Enter your password to go on."
    minutes = "1 minute" if idle_minutes == 1 else f"{idle_minutes} minutes"
    return f"Locked after {minutes} without use. {display_name}, enter your password to go on."


class LockScreen(QWidget):
    """What a locked console shows: whose session it is, a password field, and a way out
    for someone else to sign in. No patient data."""

    unlock_requested = Signal(str)
    sign_out_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lockScreen")
        self.icon = QLabel()
        self.icon.setPixmap(load_icon("app-icon.svg").pixmap(72, 72))
        self.icon.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.title = QLabel("This console is locked")
        self.title.setObjectName("lockTitle")
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.who = QLabel()
        self.who.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.who.setWordWrap(True)
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setAccessibleName("Password")
        self.password.setPlaceholderText("Password")
        self.password.setFixedWidth(320)
        self.problem = QLabel()
        self.problem.setObjectName("lockProblem")
        self.problem.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.problem.setWordWrap(True)
        self.problem.hide()
        self.unlock_button = QPushButton("Unlock")
        self.unlock_button.setDefault(True)
        self.sign_out_button = QPushButton("Sign out so someone else can sign in")

        buttons = QHBoxLayout()
        buttons.addStretch()
        buttons.addWidget(self.unlock_button)
        buttons.addWidget(self.sign_out_button)
        buttons.addStretch()
        column = QVBoxLayout(self)
        column.addStretch()
        for widget in (self.icon, self.title, self.who):
            column.addWidget(widget)
        column.addSpacing(12)
        column.addWidget(self.password, 0, Qt.AlignmentFlag.AlignHCenter)
        column.addWidget(self.problem)
        column.addLayout(buttons)
        column.addStretch()

        self.password.returnPressed.connect(self._unlock)
        self.unlock_button.clicked.connect(self._unlock)
        self.sign_out_button.clicked.connect(self.sign_out_requested)

    def show_for(self, display_name: str, idle_minutes: int, *, by_hand: bool = False) -> None:
        """Ready the screen for ``display_name``'s locked session: locked by its user
        (``by_hand``), or after ``idle_minutes`` without use."""
        self.who.setText(lock_text(display_name, idle_minutes, by_hand=by_hand))
        self.password.clear()
        self.problem.hide()
        self.setEnabled(True)
        self.password.setFocus(Qt.FocusReason.OtherFocusReason)

    def show_problem(self, message: str) -> None:
        """Say why the password did not unlock it."""
        self.problem.setText(message)
        self.problem.show()
        self.setEnabled(True)
        self.password.clear()
        self.password.setFocus(Qt.FocusReason.OtherFocusReason)

    def _unlock(self) -> None:
        password = self.password.text()
        self.password.clear()
        if password:
            self.setEnabled(False)  # until the answer comes
            self.unlock_requested.emit(password)


def _ignore(_result: object) -> None:
    return None


def _logged(error: Exception) -> None:
    _log.error("session audit failed: %s", type(error).__name__)


__all__ = ["CHANGED", "EXPIRED", "POLL_MS", "LockScreen", "SessionGuard", "lock_text"]
