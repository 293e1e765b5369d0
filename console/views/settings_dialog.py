"""The settings dialog (administrators): the console's settings in groups, saved through
``change_settings`` on a worker thread, each refused setting explained next to its field.

``SettingsPresenter`` (``console.views.settings_presenter``) decides what to load, what a
save sends and which message goes where; ``SettingsDialog`` only lays out the form it
describes, binds the fields to the presenter's values and forwards the buttons. The mail
server's password, kept in the keyring rather than the settings, is typed into a
``MailPasswordForm`` (``console.views.mail_password``) opened from the E-mail group.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from console.services.desk import StaffDesk
from console.services.permissions import Permission
from console.services.settings.file import settings_path
from console.services.settings.secrets_store import SecretsStore
from console.services.settings.values import ConsoleSettings, SmtpSecurity
from console.views.action_dialog import PRIMARY_BLUE, dialog_style, filled_button_style
from console.views.mail_password import MailPasswordForm
from console.views.setting_editors import problem_label, setting_editor, show_text
from console.views.settings_presenter import (
    FORM_GROUPS,
    SHOWN_FIELDS,
    SettingField,
    SettingsPresenter,
)
from console.workers.service_calls import Submitter

NOTE_COLOUR = "#5f6b7a"
#: Secrets are never settings (``console.services.settings.values``): say where this one is.
KEYRING_NOTE = (
    "The mail server's password is not one of these settings: it is kept in the system "
    "keyring, never in the settings file."
)
_LEFT_GROUPS = 3  # Portal, Clinic and E-mail on the left; the rest on the right.

HEADING = "Console settings"
INTRO = (
    "Saved in this workstation's settings file. Sign-in, lock and e-mail settings apply from "
    "the next sign-in."
)
_STYLE = (
    dialog_style("settings")
    + filled_button_style("settingsSaveButton", *PRIMARY_BLUE)
    + """
QGroupBox#settingsGroup {
    font-weight: 600; color: #1f2933; background: #ffffff;
    border: 1px solid #d5dae1; border-radius: 6px; margin-top: 22px; padding: 0 6px 2px 6px;
}
QGroupBox#settingsGroup::title { subcontrol-origin: margin; left: 1px; top: 2px; }
QGroupBox#settingsGroup QWidget { font-weight: 400; }
"""
)


class SettingsDialog(QDialog):
    """The settings form; answers a save in place and stays open until closed.

    Raises ``NotAllowed`` (before any window exists) for a user who may not change
    settings: the window disables the action, and this makes sure of it."""

    #: ``ConsoleSettings`` — saved; they apply from the next sign-in.
    saved = Signal(object)

    def __init__(
        self,
        desk: StaffDesk,
        runner: Submitter,
        parent: QWidget | None = None,
        *,
        path: Path | None = None,
        secrets: SecretsStore | None = None,
    ) -> None:
        desk.actor.require(Permission.CHANGE_SETTINGS)
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setObjectName("settingsDialog")
        self.editors: dict[str, QWidget] = {}
        self.problem_labels: dict[str, QLabel] = {}
        self.general_problem = problem_label("Problem with the settings")
        self.status_label = QLabel()
        self.smtp_password_button = QPushButton("Mail server password…")
        self.smtp_password_state = QLabel()
        self.password_form: MailPasswordForm | None = None
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Close
        )
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.close_button = self.buttons.button(QDialogButtonBox.StandardButton.Close)
        self._form_area = QWidget()
        self._focus_before_busy: QWidget | None = None
        #: The field labels of the left and of the right column of groups.
        self._labels: tuple[list[QLabel], list[QLabel]] = ([], [])
        self._build()
        self.presenter = SettingsPresenter(
            desk,
            runner,
            self,
            path if path is not None else settings_path(),
            secrets if secrets is not None else SecretsStore(),
        )
        self.presenter.load()

    # --- SettingsView ---------------------------------------------------------------------

    def show_settings(self, settings: ConsoleSettings) -> None:
        for name, editor in self.editors.items():
            value = getattr(settings, name)
            if isinstance(editor, QCheckBox):
                editor.setChecked(bool(value))
            elif isinstance(editor, QSpinBox):
                editor.setValue(int(value))
            elif isinstance(editor, QComboBox):
                editor.setCurrentIndex(max(0, editor.findData(str(value))))
            elif isinstance(editor, QLineEdit):
                editor.setText("" if value is None else str(value))

    def show_problems(self, problems: Mapping[str, str], general: str) -> None:
        for name, label in self.problem_labels.items():
            show_text(label, problems.get(name, ""))
        show_text(self.general_problem, general)
        self._fit_height()
        first = next((n for n in SHOWN_FIELDS if n in problems), None)
        if first is not None:
            self.editors[first].setFocus(Qt.FocusReason.OtherFocusReason)

    def show_status(self, text: str) -> None:
        self.status_label.setText(text)
        self._fit_height()

    def set_busy(self, busy: bool) -> None:
        if busy:
            self._focus_before_busy = self.focusWidget()
        self._form_area.setEnabled(not busy)
        self.save_button.setEnabled(not busy)
        if not busy:
            self._give_focus_back()

    def settings_saved(self, settings: ConsoleSettings) -> None:
        self.saved.emit(settings)

    def show_field_problem(self, name: str, problem: str) -> None:
        show_text(self.problem_labels[name], problem)
        self._fit_height()
        if problem:
            self.editors[name].setFocus(Qt.FocusReason.OtherFocusReason)

    def ask_smtp_password(self, host: str) -> None:
        form = MailPasswordForm(host, self)
        form.submitted.connect(lambda: self._send_smtp_password(form))
        form.finished.connect(lambda _result: self._password_form_closed(form))
        self.password_form = form
        form.open()

    def show_smtp_password_state(self, text: str) -> None:
        self.smtp_password_state.setText(text)

    # --- reading the form -------------------------------------------------------------------

    def form_values(self) -> dict[str, object]:
        """What the fields hold, by setting."""
        values: dict[str, object] = {}
        for name, editor in self.editors.items():
            if isinstance(editor, QCheckBox):
                values[name] = editor.isChecked()
            elif isinstance(editor, QSpinBox):
                values[name] = editor.value()
            elif isinstance(editor, QComboBox):
                values[name] = SmtpSecurity(editor.currentData())
            elif isinstance(editor, QLineEdit):
                values[name] = editor.text()
        return values

    def save(self) -> None:
        """Save what the form holds (the Save button)."""
        self.presenter.save(self.form_values())

    def _send_smtp_password(self, form: MailPasswordForm) -> None:
        problem = self.presenter.mail_password.store(
            form.host, form.password.text(), form.repeated.text()
        )
        if problem:
            form.show_problem(problem)
        else:
            form.accept()

    def _password_form_closed(self, form: MailPasswordForm) -> None:
        if self.password_form is form:
            self.password_form = None

    def reject(self) -> None:
        if not self.presenter.busy:  # a save (or a password being stored) finishes first
            super().reject()

    def done(self, result: int) -> None:
        self.presenter.close()
        super().done(result)

    def showEvent(self, event: QShowEvent) -> None:
        self._line_up()
        super().showEvent(event)

    def _line_up(self) -> None:
        # Even rows and straight columns, once the style sheet has reached the fields (on
        # showing): spin boxes, the security choice and the labels as tall as a text field
        # (each label level with its field, problem or not); the spin boxes as wide as the
        # widest; and the labels of a column of groups one width, so that every field of
        # the column starts at the same x, whichever group it is in.
        row_height = self.editors["portal_name"].sizeHint().height()
        spin_boxes = [e for e in self.editors.values() if isinstance(e, QSpinBox)]
        spin_width = max(max(spin.sizeHint().width(), spin.minimumWidth()) for spin in spin_boxes)
        for editor in self.editors.values():
            if isinstance(editor, QSpinBox | QComboBox):
                editor.setMinimumHeight(row_height)
        for spin in spin_boxes:
            spin.setMinimumWidth(spin_width)
        for column in self._labels:
            width = max(label.sizeHint().width() for label in column)
            for label in column:
                label.setMinimumSize(width, row_height)

    def _give_focus_back(self) -> None:
        # Disabling the form moves the focus on, to Close at the last, and a focused button
        # becomes the default: Enter would close the dialog. Put the focus back where it
        # was (nowhere, while loading: the first field) and Save back as the default.
        before, self._focus_before_busy = self._focus_before_busy, None
        if before is None or not before.isEnabled() or before is self.close_button:
            before = self.editors[SHOWN_FIELDS[0]]
        before.setFocus(Qt.FocusReason.OtherFocusReason)
        self.save_button.setDefault(True)

    def _fit_height(self) -> None:
        # Wrapped problem texts make the height depend on the width, which a dialog's
        # minimum size does not follow: grow by hand so that no field is squeezed.
        self._layout.activate()
        needed = self._layout.totalHeightForWidth(self.width())
        if needed > self.height():
            self.resize(self.width(), needed)

    # --- building ---------------------------------------------------------------------------

    def _build(self) -> None:
        self.setStyleSheet(_STYLE)
        heading = QLabel(HEADING)
        heading.setObjectName("settingsHeading")
        heading.setAccessibleName("Heading")
        intro = QLabel(INTRO)
        intro.setObjectName("settingsIntro")
        intro.setWordWrap(True)
        columns = QGridLayout(self._form_area)
        columns.setContentsMargins(0, 0, 0, 0)
        columns.setHorizontalSpacing(16)
        left, right = QVBoxLayout(), QVBoxLayout()
        left.setSpacing(10)
        right.setSpacing(10)
        for number, (title, fields) in enumerate(FORM_GROUPS):
            column = 0 if number < _LEFT_GROUPS else 1
            (left, right)[column].addWidget(self._group(title, fields, self._labels[column]))
        left.addStretch(1)
        right.addStretch(1)
        columns.addLayout(left, 0, 0)
        columns.addLayout(right, 0, 1)
        # The right column's labels are longer: a little more room keeps its key file
        # field as wide as the text fields on the left.
        columns.setColumnStretch(0, 3)
        columns.setColumnStretch(1, 4)

        self.status_label.setObjectName("settingsStatus")
        self.status_label.setAccessibleName("Save result")
        self.status_label.setWordWrap(True)  # a keyring's explanation runs long
        self.save_button.setObjectName("settingsSaveButton")
        self.save_button.setAccessibleName("Save settings")
        self.save_button.setDefault(True)
        self.close_button.setAccessibleName("Close settings")
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        footer = QHBoxLayout()
        footer.addWidget(self.status_label, 1)
        footer.addWidget(self.buttons)

        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(18, 16, 18, 14)
        self._layout.setSpacing(10)
        self._layout.addWidget(heading)
        self._layout.addWidget(intro)
        self._layout.addWidget(self.general_problem)
        self._layout.addWidget(self._form_area)
        self._layout.addLayout(footer)
        self.setMinimumWidth(940)

    def _group(
        self, title: str, fields: tuple[SettingField, ...], labels: list[QLabel]
    ) -> QGroupBox:
        box = QGroupBox(title)
        box.setObjectName("settingsGroup")
        form = QFormLayout(box)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        for spec in fields:
            editor = setting_editor(spec)
            editor.setObjectName(spec.name)
            editor.setAccessibleName(spec.label)
            if spec.hint:
                editor.setAccessibleDescription(spec.hint)
            self.editors[spec.name] = editor
            problem = problem_label(f"Problem with {spec.label.lower()}")
            self.problem_labels[spec.name] = problem
            cell = QWidget()
            stack = QVBoxLayout(cell)
            stack.setContentsMargins(0, 0, 0, 0)
            stack.setSpacing(2)
            stack.addWidget(self._with_browse(editor) if spec.name == "audit_key_file" else editor)
            stack.addWidget(problem)
            if isinstance(editor, QCheckBox):
                form.addRow("", cell)
            else:
                label = QLabel(f"{spec.label}:")
                label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
                label.setBuddy(editor)
                labels.append(label)
                form.addRow(label, cell)
        if title.startswith("E-mail"):
            note = QLabel(KEYRING_NOTE)
            note.setObjectName("smtpPasswordNote")
            note.setWordWrap(True)
            note.setAccessibleName("Where the SMTP password is kept")
            note.setStyleSheet(f"color: {NOTE_COLOUR};")
            form.addRow(note)
            form.addRow(self.smtp_password_state)
            form.addRow(self._smtp_password_row())
        return box

    def _smtp_password_row(self) -> QWidget:
        row = QWidget()
        line = QHBoxLayout(row)
        line.setContentsMargins(0, 0, 0, 0)
        self.smtp_password_button.setObjectName("smtpPasswordButton")
        self.smtp_password_button.setAccessibleName("Store the mail server's password")
        self.smtp_password_button.setAutoDefault(False)
        host = self.editors["smtp_host"]
        assert isinstance(host, QLineEdit)
        self.smtp_password_button.clicked.connect(
            lambda: self.presenter.mail_password.ask(host.text())
        )
        # Looked up once an edit is finished, not at each key: every lookup asks the keyring.
        host.editingFinished.connect(lambda: self.presenter.mail_password.look_up(host.text()))
        self.smtp_password_state.setObjectName("smtpPasswordState")
        self.smtp_password_state.setAccessibleName("Whether the mail server's password is stored")
        self.smtp_password_state.setWordWrap(True)
        line.addWidget(self.smtp_password_button)
        line.addStretch(1)
        return row

    def _with_browse(self, editor: QWidget) -> QWidget:
        row = QWidget()
        line = QHBoxLayout(row)
        line.setContentsMargins(0, 0, 0, 0)
        line.addWidget(editor, 1)
        self.browse_button = QPushButton("Browse…")
        self.browse_button.setAccessibleName("Choose the audit key file")
        self.browse_button.setAutoDefault(False)
        self.browse_button.clicked.connect(self._browse_key_file)
        line.addWidget(self.browse_button)
        return row

    def _browse_key_file(self) -> None:
        chooser = QFileDialog(self, "Audit key file")
        chooser.setFileMode(QFileDialog.FileMode.ExistingFile)
        chooser.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        key_file = self.editors["audit_key_file"]
        assert isinstance(key_file, QLineEdit)
        chooser.fileSelected.connect(key_file.setText)
        chooser.open()


__all__ = ["KEYRING_NOTE", "SettingsDialog"]
