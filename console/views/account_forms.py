"""The small account dialogs (SPEC §5, Other actions): Resend reset e-mail, Deactivate…, and
Edit contact….

Each lays out its controls and forwards them to its presenter
(``console.views.account_forms_presenter``), which reads the record on a worker and decides.
They are opened with ``open()`` and answer through signals: ``changed`` with the ``Changes``
(then they close), and ``reload_requested`` when the record was changed elsewhere (they stay
open, nothing typed lost). Escape cancels, except while the action runs.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QWidget,
)

from console.services.accounts.lookup import ContactFacts
from console.services.desk import StaffDesk
from console.services.permissions import Permission
from console.services.workstation import Changes
from console.views.account_forms_presenter import (
    EMAIL_FIELD,
    PHONE_FIELD,
    AccountFacts,
    DeactivatePresenter,
    EditContactPresenter,
    FormState,
    ResendResetPresenter,
)
from console.views.action_dialog import ActionDialog, dialog_style
from console.workers.service_calls import Submitter

DEACTIVATION_CONFIRMATION = "The patient asked to close their portal account"

_STYLE = (
    dialog_style("form", problem_padding="4px 8px")
    + """
QPushButton#formButton { font-weight: 600; min-width: 96px; padding: 4px 16px; }
"""
)


class _SmallDialog(ActionDialog):
    """Heading, intro, the dialog's own rows, a problem line and the buttons."""

    #: ``Changes`` — the action is done (then the dialog closes).
    changed = Signal(object)

    presenter: ResendResetPresenter | DeactivatePresenter | EditContactPresenter

    def __init__(self, title: str, accept_text: str, parent: QWidget | None) -> None:
        super().__init__(title, accept_text, prefix="form", parent=parent)
        self.setStyleSheet(_STYLE)
        self.accept_button = self.action_button
        self.rows = QFormLayout()

    # --- FormView ---------------------------------------------------------------------------

    def show_facts(self, facts: AccountFacts | ContactFacts) -> None:
        """Subclasses show what was read."""

    def show_form(self, form: FormState) -> None:
        for control in self._editable():
            control.setEnabled(form.editable)
        self.accept_button.setEnabled(form.accept_enabled)
        self.accept_button.setToolTip(form.still_needed)
        self.cancel_button.setEnabled(form.cancel_enabled)
        self.hint.setText(
            "Working…" if form.busy else "Reading…" if form.loading else form.still_needed
        )

    def show_problem(self, text: str, field: str = "") -> None:
        """A form view may name a field; only Edit contact shows a problem next to one."""
        super().show_problem(text)

    def action_done(self, changes: Changes) -> None:
        self.changed.emit(changes)
        self.accept()

    # --- building ---------------------------------------------------------------------------

    def _editable(self) -> tuple[QWidget, ...]:
        return ()

    def _build(self, heading: str, intro: str, accessible: str) -> None:
        self.describe(heading, accessible, intro, "What this does")
        self.rows.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.rows.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        layout = self.begin_layout(10)
        layout.addWidget(self.intro)
        layout.addLayout(self.rows)
        self.end_layout(layout)
        self.setMinimumWidth(520)


class ResendResetDialog(_SmallDialog):
    """Send another password reset e-mail, after saying where it goes."""

    presenter: ResendResetPresenter

    def __init__(
        self,
        desk: StaffDesk,
        runner: Submitter,
        account_id: int,
        *,
        username: str,
        parent: QWidget | None = None,
    ) -> None:
        desk.actor.require(Permission.RESEND_EMAIL)
        super().__init__(f"Resend reset e-mail — {username}", "&Send reset e-mail", parent)
        self.setObjectName("resendResetDialog")
        self.address = QLabel("…")
        self.address.setObjectName("resetAddress")
        self.address.setAccessibleName("Sent to")
        self.address.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.rows.addRow("Sent to:", self.address)
        self._build(
            f"Send {username} a new password reset e-mail",
            "The e-mail carries a link to choose a new password. Older reset links stop "
            "working once the new one is sent, so ask the patient to use only the newest "
            "e-mail.",
            "Resend reset e-mail",
        )
        self.presenter = ResendResetPresenter(desk, runner, account_id, self)
        self.accept_button.clicked.connect(self.presenter.send)
        self.presenter.load()

    def show_facts(self, facts: AccountFacts | ContactFacts) -> None:
        if isinstance(facts, AccountFacts):
            self.address.setText(facts.login_email or "no login e-mail address")
            self.address.setAccessibleDescription(self.address.text())


class DeactivateDialog(_SmallDialog):
    """Close an account at the patient's request, with a note and an explicit confirmation."""

    presenter: DeactivatePresenter

    def __init__(
        self,
        desk: StaffDesk,
        runner: Submitter,
        account_id: int,
        *,
        username: str,
        parent: QWidget | None = None,
    ) -> None:
        desk.actor.require(Permission.DEACTIVATE_ACCOUNT)
        super().__init__(f"Deactivate — {username}", "&Deactivate account", parent)
        self.setObjectName("deactivateDialog")
        self.note = QPlainTextEdit()
        self.note.setObjectName("deactivateNote")
        self.note.setAccessibleName("Note")
        self.note.setPlaceholderText("How the patient asked, and when (kept in the audit log)")
        self.note.setTabChangesFocus(True)
        self.note.setFixedHeight(self.note.fontMetrics().lineSpacing() * 3 + 12)
        self.confirmation = QCheckBox(DEACTIVATION_CONFIRMATION)
        self.confirmation.setObjectName("deactivateConfirmation")
        self.confirmation.setAccessibleName(DEACTIVATION_CONFIRMATION)
        note_label = QLabel("&Note:")
        note_label.setBuddy(self.note)
        self.rows.addRow(note_label, self.note)
        self.rows.addRow("", self.confirmation)
        self.first_field = self.note
        self._build(
            f"Deactivate {username}'s portal account",
            "The account can no longer sign in and its portal sessions end at once. Its "
            "messages and intake forms stay with the clinic. Use this when the patient opts "
            "out of the portal; for a shared e-mail address, revoke instead.",
            "Deactivate the account",
        )
        self.presenter = DeactivatePresenter(desk, runner, account_id, self)
        self.note.textChanged.connect(self._note_changed)
        self.confirmation.toggled.connect(self.presenter.confirm)
        self.accept_button.clicked.connect(self.presenter.deactivate)
        self.presenter.load()

    def _note_changed(self) -> None:
        self.presenter.write_note(self.note.toPlainText())

    def _editable(self) -> tuple[QWidget, ...]:
        return (self.note, self.confirmation)


class EditContactDialog(_SmallDialog):
    """Change a chart's contact e-mail and mobile phone."""

    presenter: EditContactPresenter

    def __init__(
        self,
        desk: StaffDesk,
        runner: Submitter,
        patient_id: int,
        *,
        patient_name: str,
        parent: QWidget | None = None,
    ) -> None:
        desk.actor.require(Permission.EDIT_CONTACT)
        super().__init__(f"Edit contact — {patient_name}", "&Save", parent)
        self.setObjectName("editContactDialog")
        self._prefilled = False
        self.email = QLineEdit()
        self.email.setObjectName("contactEmail")
        self.email.setAccessibleName("Contact e-mail")
        self.email.setPlaceholderText("Where the clinic writes to (may be shared in a family)")
        self.phone = QLineEdit()
        self.phone.setObjectName("mobilePhone")
        self.phone.setAccessibleName("Mobile phone")
        self.phone.setPlaceholderText("e.g. +1 555 010 2040")
        self.field_problems = {EMAIL_FIELD: QLabel(), PHONE_FIELD: QLabel()}
        email_label = QLabel("Contact &e-mail:")
        email_label.setBuddy(self.email)
        phone_label = QLabel("&Mobile phone:")
        phone_label.setBuddy(self.phone)
        self.rows.addRow(email_label, self.email)
        self.rows.addRow("", self.field_problems[EMAIL_FIELD])
        self.rows.addRow(phone_label, self.phone)
        self.rows.addRow("", self.field_problems[PHONE_FIELD])
        self.first_field = self.email
        for field, label in self.field_problems.items():
            label.setObjectName("fieldProblem")
            label.setAccessibleName(
                "Problem with the contact e-mail"
                if field == EMAIL_FIELD
                else "Problem with the mobile phone"
            )
            label.setWordWrap(True)
            label.hide()
        self._build(
            f"Contact details of {patient_name}",
            "Where the clinic writes and texts to. This is not the portal login: changing it "
            "does not change where reset e-mails go. Leave a field empty to clear it.",
            "Edit contact details",
        )
        self.presenter = EditContactPresenter(desk, runner, patient_id, self)
        self.accept_button.clicked.connect(self._save)
        self.email.returnPressed.connect(self._save)
        self.phone.returnPressed.connect(self._save)
        self.presenter.load()

    def show_facts(self, facts: AccountFacts | ContactFacts) -> None:
        if isinstance(facts, ContactFacts) and not self._prefilled:
            self._prefilled = True  # read again after a change elsewhere: keep what was typed
            self.email.setText(facts.contact_email)
            self.phone.setText(facts.mobile_phone)

    def show_problem(self, text: str, field: str = "") -> None:
        for label in self.field_problems.values():
            label.hide()
        if field in self.field_problems:
            label = self.field_problems[field]
            label.setText(text)
            label.setVisible(bool(text))
            super().show_problem("")
            (self.email if field == EMAIL_FIELD else self.phone).setFocus()
        else:
            super().show_problem(text)

    def _save(self) -> None:
        self.presenter.save(self.email.text(), self.phone.text())

    def _editable(self) -> tuple[QWidget, ...]:
        return (self.email, self.phone)


__all__ = [
    "DEACTIVATION_CONFIRMATION",
    "DeactivateDialog",
    "EditContactDialog",
    "ResendResetDialog",
]
