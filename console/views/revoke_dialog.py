"""The "Revoke access…" dialog (SPEC §5): what stays behind and whom the revocation
unblocks, shown before anything can be confirmed; a reason, a note, an explicit
confirmation; then the revocation on a worker thread.

``RevokeDialog`` lays out the controls and forwards them to a ``RevokePresenter``
(``console.views.revoke_presenter``), which decides. The dialog is opened with ``open()`` and
answers through signals: ``revoked`` with the ``Changes`` (then it closes), and
``reload_requested`` when the account was changed elsewhere (it stays open, nothing typed lost).
"""

from __future__ import annotations

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from console.adapters.background import Submitter
from console.services.account_actions import MAX_NOTE_LENGTH, RevokeReason
from console.services.permissions import Actor
from console.services.workstation import Changes, Workstation
from console.views.revoke_presenter import REASON_CHOICES, RevokeForm, RevokePresenter

CONFIRMATION = "I have checked this with the patient"

_STYLE = """
QLabel#revokeHeading { font-size: 16px; font-weight: 600; color: #1f2933; }
QLabel#revokeIntro, QLabel#revokeHint, QLabel#noteCount { color: #5f6b7a; }
QFrame#revokeFacts {
    background: #fff8eb; border: 1px solid #f0d49a; border-radius: 6px;
}
QFrame#revokeFacts QLabel { background: transparent; color: #1f2933; }
QFrame#revokeFacts QLabel#factsCaption { font-weight: 600; color: #6b4600; }
QLabel#revokeProblem {
    color: #b42318; background: #fef3f2; border: 1px solid #f5c2bd;
    border-radius: 4px; padding: 6px 8px;
}
QPushButton#revokeButton {
    color: #8a94a3; background: #eef1f5; border: 1px solid #c9d0d9;
    border-radius: 4px; padding: 4px 16px; min-width: 96px; font-weight: 600;
}
QPushButton#revokeButton:enabled { color: #ffffff; background: #b42318; border-color: #8f1b13; }
QPushButton#revokeButton:enabled:hover { background: #9e1f15; }
QPushButton#revokeButton:enabled:focus { border: 2px solid #1f2933; }
"""


class RevokeDialog(QDialog):
    """Revoke one portal account's access, after showing what that leaves behind."""

    #: ``Changes`` — the account is revoked (``unblocked`` names who can sign in again).
    revoked = Signal(object)
    #: The account was changed elsewhere: the panel showing it should read it again.
    reload_requested = Signal()

    def __init__(
        self,
        workstation: Workstation,
        actor: Actor,
        runner: Submitter,
        account_id: int,
        *,
        username: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Revoke access — {username}")
        self.setObjectName("revokeDialog")
        self.setStyleSheet(_STYLE)
        self.username = username
        self._note_required = False
        self.left_behind = QLabel()
        self.sharing = QLabel()
        self.reason = QComboBox()
        self.note = QPlainTextEdit()
        self.note_label = QLabel("&Note:")
        self.note_count = QLabel()
        self.confirmation = QCheckBox(CONFIRMATION)
        self.problem = QLabel()
        self.hint = QLabel()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.revoke_button = self.buttons.addButton(
            "&Revoke access", QDialogButtonBox.ButtonRole.DestructiveRole
        )
        cancel = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        assert cancel is not None
        self.cancel_button = cancel
        self._build()
        self.presenter = RevokePresenter(workstation, actor, runner, account_id, self)
        self.reason.currentIndexChanged.connect(self._reason_changed)
        self.note.textChanged.connect(self._note_changed)
        self.confirmation.toggled.connect(self.presenter.confirm)
        self.revoke_button.clicked.connect(self.presenter.revoke)
        self.buttons.rejected.connect(self.reject)
        self._note_changed()
        self.presenter.load()

    def chosen_reason(self) -> RevokeReason | None:
        """The reason chosen in the list; None while none is."""
        value = self.reason.currentData()
        return RevokeReason(value) if value is not None else None

    # --- RevokeView -------------------------------------------------------------------------

    def show_facts(self, left_behind: str, sharing: str) -> None:
        self.left_behind.setText(left_behind)
        self.sharing.setText(sharing)
        self.left_behind.setAccessibleDescription(left_behind)
        self.sharing.setAccessibleDescription(sharing)

    def show_form(self, form: RevokeForm) -> None:
        for control in (self.reason, self.note, self.confirmation):
            control.setEnabled(form.editable)
        if self.confirmation.isChecked() != form.confirmed:
            with QSignalBlocker(self.confirmation):
                self.confirmation.setChecked(form.confirmed)
        self._note_required = form.note_required
        self.note.setAccessibleName("Note (required)" if form.note_required else "Note")
        self._show_note_count()
        self.revoke_button.setEnabled(form.revoke_enabled)
        self.revoke_button.setText("Revoking…" if form.busy else "&Revoke access")
        self.revoke_button.setToolTip(form.still_needed)
        self.cancel_button.setEnabled(form.cancel_enabled)
        if form.busy:
            hint = "Revoking the account…"
        elif form.loading:
            hint = "Reading the account…"
        else:
            hint = form.still_needed
        self.hint.setText(hint)

    def show_problem(self, text: str) -> None:
        self.problem.setText(text)
        self.problem.setVisible(bool(text))

    def account_revoked(self, changes: Changes) -> None:
        self.revoked.emit(changes)
        self.accept()

    def record_changed(self) -> None:
        self.reload_requested.emit()

    # --- closing ----------------------------------------------------------------------------

    def reject(self) -> None:
        """Cancel and Escape: not while the revocation runs (it cannot be stopped)."""
        if not self.presenter.busy:
            super().reject()

    def done(self, result: int) -> None:
        self.presenter.close()
        super().done(result)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.reason.setFocus(Qt.FocusReason.OtherFocusReason)

    # --- building ---------------------------------------------------------------------------

    def _reason_changed(self) -> None:
        self.presenter.choose_reason(self.chosen_reason())

    def _note_changed(self) -> None:
        self._show_note_count()
        self.presenter.write_note(self.note.toPlainText())

    def _show_note_count(self) -> None:
        count = f"{len(self.note.toPlainText().strip())} / {MAX_NOTE_LENGTH} characters"
        self.note_count.setText(f"{count} — required for 'Other'" if self._note_required else count)

    def _build(self) -> None:
        heading = QLabel(f"Revoke portal access for {self.username}")
        heading.setObjectName("revokeHeading")
        heading.setAccessibleName("Revoke portal access")
        heading.setAccessibleDescription(heading.text())
        intro = QLabel(
            "The account can no longer sign in: its portal sessions end at once and the "
            "pending invitations of its chart are cancelled. A new invitation makes a new "
            "account; this one stays revoked."
        )
        intro.setObjectName("revokeIntro")
        intro.setAccessibleName("What revoking does")
        intro.setWordWrap(True)

        facts = QFrame()
        facts.setObjectName("revokeFacts")
        facts_layout = QVBoxLayout(facts)
        facts_layout.setContentsMargins(12, 10, 12, 10)
        facts_layout.setSpacing(4)
        for caption, label, name in (
            ("What stays behind", self.left_behind, "What stays behind"),
            ("Other accounts with this e-mail address", self.sharing, "Whom this unblocks"),
        ):
            title = QLabel(caption)
            title.setObjectName("factsCaption")
            title.setAccessibleName(caption)
            label.setObjectName("leftBehind" if label is self.left_behind else "unblocks")
            label.setAccessibleName(name)
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            if label is self.sharing:
                facts_layout.addSpacing(6)
            facts_layout.addWidget(title)
            facts_layout.addWidget(label)

        self.reason.setObjectName("revokeReason")
        self.reason.setAccessibleName("Reason for revoking")
        self.reason.setPlaceholderText("Choose a reason…")
        for reason in REASON_CHOICES:
            self.reason.addItem(reason.label, reason.value)
        self.reason.setCurrentIndex(-1)
        self.note.setObjectName("revokeNote")
        self.note.setAccessibleName("Note")
        self.note.setPlaceholderText("What was checked, and with whom (kept in the audit log)")
        self.note.setTabChangesFocus(True)
        self.note.setFixedHeight(self.note.fontMetrics().lineSpacing() * 4 + 12)
        self.note_count.setObjectName("noteCount")
        self.note_count.setAccessibleName("Note length")
        self.confirmation.setObjectName("revokeConfirmation")
        self.confirmation.setAccessibleName(CONFIRMATION)

        reason_label = QLabel("Rea&son:")
        reason_label.setBuddy(self.reason)
        self.note_label.setBuddy(self.note)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        form.addRow(reason_label, self.reason)
        form.addRow(self.note_label, self.note)
        form.addRow("", self.note_count)
        form.addRow("", self.confirmation)

        self.problem.setObjectName("revokeProblem")
        self.problem.setAccessibleName("Problem")
        self.problem.setWordWrap(True)
        self.problem.hide()
        self.hint.setObjectName("revokeHint")
        self.hint.setAccessibleName("What is still needed")
        self.hint.setWordWrap(True)
        self.revoke_button.setObjectName("revokeButton")
        self.revoke_button.setAccessibleName("Revoke access")
        self.revoke_button.setDefault(True)
        self.cancel_button.setAccessibleName("Cancel")
        footer = QHBoxLayout()
        footer.addWidget(self.hint, 1)
        footer.addWidget(self.buttons)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 16, 18, 14)
        layout.setSpacing(10)
        layout.addWidget(heading)
        layout.addWidget(intro)
        layout.addWidget(facts)
        layout.addSpacing(4)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addStretch(1)
        layout.addLayout(footer)
        QWidget.setTabOrder(self.reason, self.note)
        QWidget.setTabOrder(self.note, self.confirmation)
        QWidget.setTabOrder(self.confirmation, self.revoke_button)
        QWidget.setTabOrder(self.revoke_button, self.cancel_button)
        self.setMinimumWidth(580)
        self.resize(600, 0)


__all__ = ["CONFIRMATION", "RevokeDialog"]
