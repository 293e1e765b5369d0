"""The staff users dialog (administrators): the console's users in a table, with adding,
disabling and enabling, changing roles and resetting passwords.

``StaffDialog`` binds the table and buttons to a ``StaffPresenter``
(``console.views.staff_presenter``), which decides. Adding, changing a role and resetting a
password each open a small form (``console.views.staff_forms``) with ``open()``, whose button
the presenter answers: a refusal appears in the form (nothing typed is lost), success closes
it, and the table reloads after every change.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from console.adapters.staff_table import StaffColumn, StaffStatus, StaffTableModel
from console.models.staff_list import StaffMember
from console.services.desk import StaffDesk
from console.services.permissions import Permission
from console.services.workstation import Changes
from console.views.action_dialog import PRIMARY_BLUE, dialog_style, filled_button_style
from console.views.staff_forms import (
    AddStaffForm,
    ChangeRoleForm,
    ResetPasswordForm,
    StaffForm,
)
from console.views.staff_presenter import StaffPresenter
from console.views.theme import PROBLEM_COLOUR, state_dot
from console.workers.service_calls import Submitter

HEADING = "Staff users"
INTRO = (
    "Everyone who can sign in to this console. Each change is recorded in the audit log and "
    "applies at once, at every workstation."
)
#: The dot beside each status (its name is always written beside it).
STATUS_COLOURS: dict[StaffStatus, QColor] = {
    StaffStatus.ACTIVE: QColor("#2f9e44"),
    StaffStatus.MUST_CHANGE_PASSWORD: QColor("#d98e04"),
    StaffStatus.LOCKED: QColor("#c92a2a"),
    StaffStatus.DISABLED: QColor("#8a94a3"),
}
#: Room for this many rows before the table scrolls: a clinic has a handful of staff users.
_ROWS_SHOWN = 6
_ROW_HEIGHT = 26
# As the invitations table: no grid, left-aligned headers, a light selection.
_STYLE = (
    dialog_style("staff")
    + filled_button_style("staffAddButton", *PRIMARY_BLUE)
    + """
QTableView#staffTable { background: #ffffff; border: 1px solid #d5dae1; border-radius: 4px;
    outline: 0;
    selection-background-color: #dbe8f7; selection-color: #1f2933;
    alternate-background-color: #f9fafb; }
QTableView#staffTable::item { padding: 0 6px; }
QTableView#staffTable QHeaderView::section { background: #eef1f5; color: #3e4a59; border: none;
    border-right: 1px solid #dde2e8; border-bottom: 1px solid #d5dae1; padding: 5px 6px;
    font-weight: 600; }
"""
)


class StaffDialog(QDialog):
    """The staff users of the clinic and what an administrator may do to them.

    Raises ``NotAllowed`` (before any window exists) for a user who may not manage staff:
    the window disables the action, and this makes sure of it."""

    #: ``Changes`` — a staff user was added or changed.
    changed = Signal(object)

    def __init__(
        self,
        desk: StaffDesk,
        runner: Submitter,
        parent: QWidget | None = None,
    ) -> None:
        desk.actor.require(Permission.MANAGE_STAFF)
        super().__init__(parent)
        self.setWindowTitle("Staff users")
        self.setObjectName("staffDialog")
        self.setStyleSheet(_STYLE)
        self._min_length = desk.rules.staff_password_length
        self.model = StaffTableModel(
            self, status_marks={status: state_dot(c) for status, c in STATUS_COLOURS.items()}
        )
        self.table = QTableView()
        self.add_button = QPushButton("&Add…")
        self.toggle_button = QPushButton("&Disable")
        self.role_button = QPushButton("Change &role…")
        self.reset_button = QPushButton("Reset &password…")
        self.message = QLabel()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.open_form: StaffForm | None = None
        self._busy = False
        self._select_when_shown: int | None = None
        self._build()
        self.presenter = StaffPresenter(desk, runner, self)
        self._update_buttons()
        self.presenter.load()

    def selected_member(self) -> StaffMember | None:
        """The staff user selected in the table, if any."""
        rows = self.table.selectionModel().selectedRows()
        return self.model.row_number(rows[0].row()) if rows else None

    # --- StaffView --------------------------------------------------------------------------

    def show_staff(self, members: Sequence[StaffMember]) -> None:
        selected = self.selected_member()
        keep = self._select_when_shown or (selected.id if selected else None)
        self._select_when_shown = None
        self.model.update(members)
        if keep is not None:
            self.select_staff(keep)
        self._update_buttons()

    def show_message(self, text: str, *, problem: bool) -> None:
        self.message.setStyleSheet(f"color: {PROBLEM_COLOUR};" if problem else "")
        self.message.setText(text)

    def show_refusal(self, text: str) -> None:
        if self.open_form is not None:
            self.open_form.show_problem(text)
        else:
            self.show_message(text, problem=True)

    def change_made(self, text: str, changes: Changes) -> None:
        if self.open_form is not None:
            self.open_form.accept()
        self.show_message(text, problem=False)
        self.changed.emit(changes)

    def password_reset(self, text: str, changes: Changes) -> None:
        if isinstance(self.open_form, ResetPasswordForm):
            self.open_form.confirm(text)
        self.show_message("", problem=False)
        self.changed.emit(changes)

    def select_staff(self, staff_id: int) -> None:
        row = self.model.row_of(staff_id)
        if row is None:
            self._select_when_shown = staff_id  # added: the reload that follows shows them
            return
        self.table.selectRow(row)

    def set_busy(self, busy: bool) -> None:
        self._busy = busy
        if self.open_form is not None:
            self.open_form.set_busy(busy)
        self._update_buttons()

    # --- the buttons ------------------------------------------------------------------------

    def add_staff(self) -> None:
        """Open the add form (the Add… button)."""
        form = AddStaffForm(self._min_length, self)
        form.submitted.connect(
            lambda: self.presenter.add(
                form.username.text(),
                form.display_name.text(),
                form.chosen_role(),
                form.password.text(),
                form.repeated.text(),
            )
        )
        self._open(form)

    def toggle_disabled(self) -> None:
        """Disable or enable the selected user (the Disable/Enable button)."""
        member = self.selected_member()
        if member is not None:
            self.presenter.toggle_disabled(member)

    def change_role(self) -> None:
        """Open the change-role form for the selected user."""
        member = self.selected_member()
        if member is None:
            return
        form = ChangeRoleForm(member, self)
        form.submitted.connect(lambda: self.presenter.change_role(member, form.chosen_role()))
        self._open(form)

    def reset_password(self) -> None:
        """Open the reset form for the selected user, a temporary password filled in."""
        member = self.selected_member()
        if member is None:
            return
        form = ResetPasswordForm(member, self.presenter.temporary_password(member), self)
        form.submitted.connect(lambda: self.presenter.reset_password(member, form.password.text()))
        self._open(form)

    def reject(self) -> None:
        if not self._busy:
            super().reject()

    def done(self, result: int) -> None:
        self.presenter.close()
        if self.open_form is not None:
            self.open_form.done(QDialog.DialogCode.Rejected)
        super().done(result)

    # --- building ---------------------------------------------------------------------------

    def _open(self, form: StaffForm) -> None:
        self.open_form = form
        form.finished.connect(lambda _result: self._form_closed(form))
        form.open()

    def _form_closed(self, form: StaffForm) -> None:
        if self.open_form is form:
            self.open_form = None

    def _update_buttons(self) -> None:
        actions = self.presenter.actions(self.selected_member())
        self.add_button.setEnabled(not self._busy)
        self.toggle_button.setText(f"&{actions.toggle_label}")
        self.toggle_button.setAccessibleName(f"{actions.toggle_label} the selected staff user")
        for button, why in (
            (self.toggle_button, actions.toggle),
            (self.role_button, actions.change_role),
            (self.reset_button, actions.reset_password),
        ):
            button.setEnabled(why is None and not self._busy)
            button.setToolTip(why or "")

    def _build(self) -> None:
        heading = QLabel(HEADING)
        heading.setObjectName("staffHeading")
        heading.setAccessibleName("Heading")
        intro = QLabel(INTRO)
        intro.setObjectName("staffIntro")
        intro.setWordWrap(True)

        self.table.setObjectName("staffTable")
        self.table.setAccessibleName("Staff users")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.setTabKeyNavigation(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(_ROW_HEIGHT)
        header = self.table.horizontalHeader()
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(StaffColumn.NAME, QHeaderView.ResizeMode.Stretch)
        header.setHighlightSections(False)
        frame = 2 * self.table.frameWidth()
        self.table.setMinimumHeight(header.sizeHint().height() + _ROWS_SHOWN * _ROW_HEIGHT + frame)
        self.table.selectionModel().selectionChanged.connect(self._update_buttons)
        self.model.modelReset.connect(self._update_buttons)
        self.model.dataChanged.connect(self._update_buttons)

        for button, name, slot in (
            (self.add_button, "Add a staff user", self.add_staff),
            (self.toggle_button, "Disable the selected staff user", self.toggle_disabled),
            (self.role_button, "Change the selected staff user's role", self.change_role),
            (self.reset_button, "Reset the selected staff user's password", self.reset_password),
        ):
            button.setAccessibleName(name)
            button.setAutoDefault(False)
            button.clicked.connect(slot)
        self.add_button.setObjectName("staffAddButton")
        side = QVBoxLayout()
        for button in (self.add_button, self.toggle_button, self.role_button, self.reset_button):
            side.addWidget(button)
        side.addStretch(1)
        middle = QHBoxLayout()
        middle.addWidget(self.table, 1)
        middle.addLayout(side)

        self.message.setObjectName("staffMessage")
        self.message.setAccessibleName("Result of the last change")
        self.message.setWordWrap(True)
        close = self.buttons.button(QDialogButtonBox.StandardButton.Close)
        close.setAccessibleName("Close staff users")
        close.setAutoDefault(False)
        self.buttons.rejected.connect(self.reject)

        footer = QHBoxLayout()
        footer.addWidget(self.message, 1)
        footer.addWidget(self.buttons)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 16, 18, 14)
        layout.setSpacing(10)
        layout.addWidget(heading)
        layout.addWidget(intro)
        layout.addLayout(middle, 1)
        layout.addLayout(footer)
        self.resize(860, self.sizeHint().height())


__all__ = ["StaffDialog"]
