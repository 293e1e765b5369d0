"""The editors of the settings dialog: one per kind of setting, and the line that says
what is wrong with a setting next to it."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QLabel,
    QLineEdit,
    QSizePolicy,
    QSpinBox,
    QWidget,
)

from console.services.settings.values import ConsoleSettings, SmtpSecurity
from console.views.settings_presenter import SettingField
from console.views.theme import PROBLEM_COLOUR

SECURITY_LABELS = {
    SmtpSecurity.STARTTLS: "STARTTLS (usually port 587)",
    SmtpSecurity.TLS: "TLS from the start (usually port 465)",
    SmtpSecurity.NONE: "None: not encrypted",
}


def setting_editor(spec: SettingField) -> QWidget:
    """The editor for one setting: a check box, a choice, a number or a line of text."""
    if spec.name in ("smtp_verify_certificate", "password_require_symbol"):
        return QCheckBox(spec.label)
    if spec.name == "smtp_security":
        combo = QComboBox()
        for security, label in SECURITY_LABELS.items():
            combo.addItem(label, security.value)
        return combo
    default = ConsoleSettings.__dataclass_fields__[spec.name].default
    if isinstance(default, int) and not isinstance(default, bool):
        spin = QSpinBox()
        # Wide on purpose: the settings' own checks say what is allowed, next to the field.
        spin.setRange(0, 99_999)
        spin.setSuffix(spec.suffix)
        spin.setMinimumWidth(140)
        spin.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        return spin
    line = QLineEdit()
    line.setPlaceholderText(spec.hint)
    return line


def problem_label(accessible_name: str) -> QLabel:
    """A hidden red line for the problem with one setting, named for screen readers."""
    label = QLabel()
    label.setObjectName("settingProblem")
    label.setAccessibleName(accessible_name)
    label.setWordWrap(True)
    label.setStyleSheet(f"color: {PROBLEM_COLOUR};")
    label.hide()
    return label


def show_text(label: QLabel, text: str) -> None:
    """Show ``text`` in ``label``, hidden while there is none."""
    label.setText(text)
    label.setVisible(bool(text))


__all__ = ["SECURITY_LABELS", "problem_label", "setting_editor", "show_text"]
