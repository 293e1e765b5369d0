"""What the account and chart action dialogs share: a heading and intro, a red problem line,
a footer with "what is still needed" beside the action and Cancel buttons, and no closing
while the action runs.

A subclass builds its own controls between ``begin_layout()`` and ``end_layout()``, sets
``presenter`` (anything with ``busy`` and ``close()``) and, when it has one, ``first_field``.
Object names start with the dialog's ``prefix`` (``revokeHeading``, ``revokeProblem``…) so
that ``dialog_style(prefix)`` can style them.
"""

from __future__ import annotations

from typing import Protocol

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)


def dialog_style(prefix: str, *, problem_padding: str = "6px 8px") -> str:
    """The style of the shared parts of a dialog whose object names start with ``prefix``;
    a ``fieldProblem`` label (a problem shown next to its field) looks like the problem line."""
    return f"""
QLabel#{prefix}Heading {{ font-size: 16px; font-weight: 600; color: #1f2933; }}
QLabel#{prefix}Intro, QLabel#{prefix}Hint {{ color: #5f6b7a; }}
QLabel#{prefix}Problem, QLabel#fieldProblem {{
    color: #b42318; background: #fef3f2; border: 1px solid #f5c2bd;
    border-radius: 4px; padding: {problem_padding};
}}
"""


#: The fill, hover and edge colours of a dialog's main button (blue: a safe action).
PRIMARY_BLUE = ("#1d5fbf", "#174c99", "#174c99")


def filled_button_style(name: str, fill: str, hover: str, edge: str) -> str:
    """An action button that is grey while disabled and filled with ``fill`` once enabled."""
    return f"""
QPushButton#{name} {{
    color: #8a94a3; background: #eef1f5; border: 1px solid #c9d0d9;
    border-radius: 4px; padding: 4px 16px; min-width: 96px; font-weight: 600;
}}
QPushButton#{name}:enabled {{ color: #ffffff; background: {fill}; border-color: {edge}; }}
QPushButton#{name}:enabled:hover {{ background: {hover}; }}
QPushButton#{name}:enabled:focus {{ border: 2px solid #1f2933; }}
"""


class ActionPresenter(Protocol):
    """What the dialog asks of its presenter when it closes."""

    @property
    def busy(self) -> bool: ...

    def close(self) -> None: ...


class ActionDialog(QDialog):
    """A dialog that runs one action: heading, intro, the subclass's controls, a problem line,
    then the hint and the action and Cancel buttons. Escape and Cancel do nothing while the
    action runs (it cannot be stopped); closing in any way closes the presenter."""

    #: The record was changed elsewhere: whatever shows it should read it again.
    reload_requested = Signal()

    presenter: ActionPresenter
    #: Where the focus goes when the dialog opens.
    first_field: QWidget | None = None

    def __init__(
        self,
        title: str,
        action_text: str,
        *,
        prefix: str,
        role: QDialogButtonBox.ButtonRole = QDialogButtonBox.ButtonRole.AcceptRole,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.heading = QLabel()
        self.heading.setObjectName(f"{prefix}Heading")
        self.intro = QLabel()
        self.intro.setObjectName(f"{prefix}Intro")
        self.intro.setWordWrap(True)
        self.problem = QLabel()
        self.problem.setObjectName(f"{prefix}Problem")
        self.problem.setAccessibleName("Problem")
        self.problem.setWordWrap(True)
        self.problem.hide()
        self.hint = QLabel()
        self.hint.setObjectName(f"{prefix}Hint")
        self.hint.setAccessibleName("What is still needed")
        self.hint.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.action_button: QPushButton = self.buttons.addButton(action_text, role)
        self.action_button.setObjectName(f"{prefix}Button")
        self.action_button.setAccessibleName(action_text.replace("&", ""))
        self.action_button.setDefault(True)
        cancel = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        assert cancel is not None
        self.cancel_button = cancel
        self.cancel_button.setAccessibleName("Cancel")
        self.buttons.rejected.connect(self.reject)

    def describe(self, heading: str, heading_name: str, intro: str, intro_name: str) -> None:
        """Set the heading and the intro, with their accessible names."""
        self.heading.setText(heading)
        self.heading.setAccessibleName(heading_name)
        self.heading.setAccessibleDescription(heading)
        self.intro.setText(intro)
        self.intro.setAccessibleName(intro_name)

    def begin_layout(self, spacing: int) -> QVBoxLayout:
        """The dialog's layout, the heading in it: the subclass adds its controls."""
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 16, 18, 14)
        layout.setSpacing(spacing)
        layout.addWidget(self.heading)
        return layout

    def end_layout(self, layout: QVBoxLayout, *, stretch: bool = True) -> None:
        """The problem line and the footer, below the subclass's controls."""
        layout.addWidget(self.problem)
        if stretch:
            layout.addStretch(1)
        footer = QHBoxLayout()
        footer.addWidget(self.hint, 1)
        footer.addWidget(self.buttons)
        layout.addLayout(footer)

    # --- the view ---------------------------------------------------------------------------

    def show_problem(self, text: str) -> None:
        self.problem.setText(text)
        self.problem.setVisible(bool(text))

    def record_changed(self) -> None:
        self.reload_requested.emit()

    # --- opening and closing ----------------------------------------------------------------

    def reject(self) -> None:
        """Cancel and Escape: not while the action runs (it cannot be stopped)."""
        if not self.presenter.busy:
            super().reject()

    def done(self, result: int) -> None:
        self.presenter.close()
        super().done(result)

    def event(self, event: QEvent) -> bool:
        handled = super().event(event)
        if event.type() == QEvent.Type.LayoutRequest:
            self._grow_to_fit()
        return handled

    def _grow_to_fit(self) -> None:
        """Grow (never shrink) to the height the wrapped text needs at the present width:
        facts and results arrive from the worker after the dialog opened."""
        layout = self.layout()
        if layout is None:
            return
        width = self.width()
        needed = (
            layout.totalHeightForWidth(width)
            if layout.hasHeightForWidth()
            else layout.totalSizeHint().height()
        )
        if needed > self.height():
            self.resize(width, needed)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self.first_field is not None:
            self.first_field.setFocus(Qt.FocusReason.OtherFocusReason)


__all__ = [
    "PRIMARY_BLUE",
    "ActionDialog",
    "ActionPresenter",
    "dialog_style",
    "filled_button_style",
]
