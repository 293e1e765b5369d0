"""The small forms the staff users dialog opens: adding a staff user, changing a role and
resetting a password.

Each is a ``StaffForm``: its action button emits ``submitted`` and the form stays open until
the presenter answers, so that a refusal is shown in the form with nothing typed lost.
While the change runs the form can be neither sent again nor cancelled.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from console.models.staff_list import StaffMember
from console.models.states import StaffRole
from console.views.staff_presenter import role_label
from console.views.theme import PROBLEM_COLOUR


class StaffForm(QDialog):
    """A small form opened from the staff dialog; its action button emits ``submitted``
    and the form stays open until the presenter answers."""

    submitted = Signal()

    def __init__(self, title: str, action: str, parent: QWidget) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.busy = False
        self.form = QFormLayout()
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.problem = QLabel()
        self.problem.setObjectName("formProblem")
        self.problem.setAccessibleName("Problem")
        self.problem.setWordWrap(True)
        self.problem.hide()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.action_button = self.buttons.addButton(action, QDialogButtonBox.ButtonRole.AcceptRole)
        self.action_button.setAccessibleName(action)
        self.action_button.setDefault(True)
        self.cancel_button = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button.setAccessibleName("Cancel")
        self.buttons.accepted.connect(self._submit)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(self.form)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(440)

    def show_problem(self, text: str, *, problem: bool = True) -> None:
        """Show ``text`` above the buttons (in red for a problem)."""
        self.problem.setStyleSheet(f"color: {PROBLEM_COLOUR};" if problem else "")
        self.problem.setText(text)
        self.problem.setVisible(bool(text))

    def set_busy(self, busy: bool) -> None:
        """While the presenter works, the form cannot be sent again or cancelled."""
        self.busy = busy
        self.action_button.setEnabled(not busy)
        self.cancel_button.setEnabled(not busy)

    def reject(self) -> None:
        if not self.busy:
            super().reject()

    def _submit(self) -> None:
        if not self.busy:
            self.show_problem("")
            self.submitted.emit()

    def _add_field(self, label: str, editor: QWidget) -> None:
        editor.setAccessibleName(label.replace("&", ""))
        caption = QLabel(f"{label}:")
        caption.setBuddy(editor)
        self.form.addRow(caption, editor)


def _role_box(current: str | None = None) -> QComboBox:
    box = QComboBox()
    for role in StaffRole:
        box.addItem(role_label(role.value), role.value)
    if current is not None:
        box.setCurrentIndex(max(0, box.findData(current)))
    return box


class AddStaffForm(StaffForm):
    """Username, name, role and a password typed twice."""

    def __init__(self, min_length: int, parent: QWidget) -> None:
        super().__init__("Add staff user", "Add", parent)
        self.username = QLineEdit()
        self.display_name = QLineEdit()
        self.display_name.setPlaceholderText("Defaults to the username")
        self.role = _role_box(StaffRole.FRONT_DESK.value)
        self.password = QLineEdit()
        self.repeated = QLineEdit()
        for field in (self.password, self.repeated):
            field.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText(f"At least {min_length} characters")
        self._add_field("&Username", self.username)
        self._add_field("&Name", self.display_name)
        self._add_field("&Role", self.role)
        self._add_field("&Password", self.password)
        self._add_field("Repeat pass&word", self.repeated)

    def chosen_role(self) -> StaffRole:
        """The role picked."""
        return StaffRole(self.role.currentData())


class ChangeRoleForm(StaffForm):
    """A role for one staff user."""

    def __init__(self, member: StaffMember, parent: QWidget) -> None:
        super().__init__(f"Change role of {member.username}", "Change role", parent)
        self.member = member
        self.role = _role_box(member.role)
        self._add_field("&Role", self.role)

    def chosen_role(self) -> StaffRole:
        """The role picked."""
        return StaffRole(self.role.currentData())


class ResetPasswordForm(StaffForm):
    """A temporary password for one staff user, shown once so it can be read out."""

    def __init__(self, member: StaffMember, temporary: str, parent: QWidget) -> None:
        super().__init__(f"Reset password of {member.username}", "Reset password", parent)
        self.member = member
        intro = QLabel(
            f"{member.display_name} will have to choose a new password at their next "
            "sign-in. Give them this temporary password (or type another):"
        )
        intro.setWordWrap(True)
        self.form.addRow(intro)
        self.password = QLineEdit(temporary)
        self.password.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self._add_field("&Temporary password", self.password)

    def confirm(self, text: str) -> None:
        """The reset is done: the password stays on screen, read-only, until closed."""
        self.password.setReadOnly(True)
        self.password.selectAll()
        self.action_button.hide()
        self.cancel_button.setText("Done")
        self.cancel_button.setAccessibleName("Done")
        self.show_problem(text, problem=False)

    def done(self, result: int) -> None:
        self.password.clear()  # shown once: gone when the form closes
        super().done(result)


__all__ = [
    "AddStaffForm",
    "ChangeRoleForm",
    "ResetPasswordForm",
    "StaffForm",
]
