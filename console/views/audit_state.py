"""What the window says of the audit log, in its status bar: sealed with the clinic's own
key, or, in a demo clinic, "demo — not tamper-proof" — a demo keeps its key inside its own
database, so its log proves nothing, and nobody should take it for one that does."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtWidgets import QLabel

from console.views.list_page import show_value


@dataclass(frozen=True)
class AuditState:
    """The audit log as this workstation keeps it: ``key_label`` says where its key came from
    (``AuditKey.label``; for a demo, "demo — not tamper-proof"), ``tamper_proof`` whether the
    key is kept outside the database."""

    key_label: str
    tamper_proof: bool


def audit_state_label(state: AuditState) -> QLabel:
    """A status-bar label showing ``state``: "Audit log: sealed", or "Audit log: demo — not
    tamper-proof" marked as a warning (property ``demo``, for the style sheet)."""
    label = QLabel()
    label.setObjectName("auditLabel")
    label.setAccessibleName("Audit log")
    label.setProperty("demo", not state.tamper_proof)
    if state.tamper_proof:
        show_value(label, "Audit log: sealed")
        label.setToolTip(
            f"Every action is kept in the audit log, sealed with the clinic's own key "
            f"({state.key_label}), so that any change to it is detected."
        )
    else:
        show_value(label, f"Audit log: {state.key_label}")
        label.setToolTip(
            "This is a demo clinic: its audit key is kept inside the database, so anyone who "
            "can write to the database could rewrite its log. A clinic's own database keeps "
            "its key outside it (the keyring or a key file)."
        )
    return label


__all__ = ["AuditState", "audit_state_label"]
