"""The "Revoke access…" dialog (SPEC §5): what stays behind and whom the revocation
unblocks, shown before anything can be confirmed; a reason, a note, an explicit
confirmation; then the revocation on a worker thread.

``RevokeDialog`` lays out the controls and forwards them to a ``RevokePresenter``
(``console.views.revoke_presenter``), which decides. The dialog is opened with ``open()`` and
answers through signals: ``revoked`` with the ``Changes`` (then it closes), and
``reload_requested`` when the account was changed elsewhere (it stays open, nothing typed lost).
"""

from __future__ import annotations

from functools import partial

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QLabel,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from console.services.accounts.actions import MAX_NOTE_LENGTH, RevokeReason
from console.services.desk import StaffDesk
from console.services.workstation import Changes
from console.views.action_dialog import ActionDialog, dialog_style, filled_button_style
from console.views.revoke_presenter import REASON_CHOICES, RevokeForm, RevokePresenter
from console.workers.service_calls import Submitter

CONFIRMATION = "I have checked this with the patient"
NOTIFY = "E-mail the login address that this access ended (no patient details)"

#: The revoke button's fill, hover and edge once it is enabled.
_RED = ("#b42318", "#9e1f15", "#8f1b13")

_STYLE = """
QLabel#noteCount { color: #5f6b7a; }
QFrame#revokeFacts {
    background: #fff8eb; border: 1px solid #f0d49a; border-radius: 6px;
}
QFrame#revokeFacts QLabel { background: transparent; color: #1f2933; }
QFrame#revokeFacts QLabel#factsCaption { font-weight: 600; color: #6b4600; }
"""


class RevokeDialog(ActionDialog):
    """Revoke one portal account's access, after showing what that leaves behind."""

    #: ``Changes`` — the account is revoked (``unblocked`` names who can sign in again).
    revoked = Signal(object)

    presenter: RevokePresenter

    def __init__(
        self,
        desk: StaffDesk,
        runner: Submitter,
        account_id: int,
        *,
        username: str,
        reason: RevokeReason | None = None,
        note: str = "",
        parent: QWidget | None = None,
    ) -> None:
        """``reason`` and ``note`` are filled in (the worklist's step); staff still confirm."""
        super().__init__(
            f"Revoke access — {username}",
            "&Revoke access",
            prefix="revoke",
            role=QDialogButtonBox.ButtonRole.DestructiveRole,
            parent=parent,
        )
        self.setObjectName("revokeDialog")
        self.setStyleSheet(
            dialog_style("revoke") + filled_button_style("revokeButton", *_RED) + _STYLE
        )
        self.username = username
        self._note_required = False
        self.left_behind = QLabel()
        self.sharing = QLabel()
        self.reason = QComboBox()
        self.note = QPlainTextEdit()
        self.note_label = QLabel("&Note:")
        self.note_count = QLabel()
        self.confirmation = QCheckBox(CONFIRMATION)
        self.notify = QCheckBox(NOTIFY)
        self.notify.setChecked(True)
        self.notify.setAccessibleName(NOTIFY)
        self.revoke_button = self.action_button
        self.first_field = self.reason
        self._build()
        self.presenter = RevokePresenter(desk, runner, account_id, self)
        self.reason.currentIndexChanged.connect(self._reason_changed)
        self.note.textChanged.connect(self._note_changed)
        self.confirmation.toggled.connect(self.presenter.confirm)
        self.notify.toggled.connect(partial(setattr, self.presenter, "notify_patient"))
        self.revoke_button.clicked.connect(self.presenter.revoke)
        if reason is not None:
            self.reason.setCurrentIndex(self.reason.findData(reason.value))
        self.note.setPlainText(note)
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
        for control in (self.reason, self.note, self.notify, self.confirmation):
            control.setEnabled(form.editable)
        if self.confirmation.isChecked() != form.confirmed:
            with QSignalBlocker(self.confirmation):
                self.confirmation.setChecked(form.confirmed)
        self._note_required = form.note_required
        self.note.setAccessibleName("Note (required)" if form.note_required else "Note")
        self._show_note_count()
        self.revoke_button.setEnabled(form.accept_enabled)
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

    def account_revoked(self, changes: Changes) -> None:
        self.revoked.emit(changes)
        self.accept()

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
        self.describe(
            f"Revoke portal access for {self.username}",
            "Revoke portal access",
            "The account can no longer sign in: its portal sessions end at once and the "
            "pending invitations of its chart are cancelled. A new invitation makes a new "
            "account; this one stays revoked.",
            "What revoking does",
        )
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
        form.addRow("", self.notify)
        form.addRow("", self.confirmation)

        layout = self.begin_layout(10)
        layout.addWidget(self.intro)
        layout.addWidget(facts)
        layout.addSpacing(4)
        layout.addLayout(form)
        self.end_layout(layout)
        QWidget.setTabOrder(self.reason, self.note)
        QWidget.setTabOrder(self.note, self.confirmation)
        QWidget.setTabOrder(self.confirmation, self.revoke_button)
        QWidget.setTabOrder(self.revoke_button, self.cancel_button)
        self.setMinimumWidth(580)
        self.resize(600, 0)


__all__ = ["CONFIRMATION", "RevokeDialog"]
