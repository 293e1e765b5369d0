"""The front-desk work (issue 6): the details of the selected account beside the table, the
actions on it, and the shared-e-mail worklist whose proposed steps open the same dialogs. What
a dialog changed comes back as ``Changes``: the list, the panel and the worklist read again
(a resolved cluster leaves the worklist at once).
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QDialog

from console.adapters.background import Submitter
from console.services.permissions import Actor
from console.services.settings import ConsoleSettings
from console.services.worklist import KEEP
from console.services.workstation import Changes, Workstation
from console.views.account_details_panel import AccountDetailsPanel
from console.views.account_forms import DeactivateDialog, EditContactDialog, ResendResetDialog
from console.views.invitations_view import InvitationsView
from console.views.link_dialog import LinkDialog
from console.views.main_window import MainWindow
from console.views.reissue_dialog import ReissueDialog
from console.views.revoke_dialog import RevokeDialog
from console.views.worklist_view import WorklistView

_AccountDialog = LinkDialog | ResendResetDialog | DeactivateDialog | EditContactDialog


class FrontDesk(QObject):
    """Connects the window's account actions to the details panel and the dialogs."""

    def __init__(
        self,
        window: MainWindow,
        workstation: Workstation,
        actor: Actor,
        runner: Submitter,
        settings: ConsoleSettings | None = None,
    ) -> None:
        super().__init__(window)
        self._settings = settings or ConsoleSettings()
        self._window = window
        self._workstation = workstation
        self._actor = actor
        self._runner = runner
        self.panel = AccountDetailsPanel(workstation, actor, runner, window)
        window.set_details_panel(self.panel)
        window.account_selected.connect(self._selected)
        window.actions_by_id["revoke"].triggered.connect(self.revoke)
        window.actions_by_id["reissue"].triggered.connect(self.reissue)
        window.actions_by_id["link"].triggered.connect(self.link)
        window.actions_by_id["resend_reset"].triggered.connect(self.resend_reset)
        window.actions_by_id["edit_contact"].triggered.connect(self.edit_contact)
        window.actions_by_id["deactivate"].triggered.connect(self.deactivate)
        self.worklist = WorklistView(workstation, actor, runner, window)
        window.add_work_area("Shared e-mails", "shared-email.svg", self.worklist)
        self.worklist.account_chosen.connect(self._step_chosen)
        self.invitations = InvitationsView(workstation, actor, runner, window)
        window.add_work_area("Invitations", "invite.svg", self.invitations)
        self.invitations.changed.connect(self.refresh)
        self.worklist.refresh()
        self.invitations.refresh()

    def revoke(self) -> None:
        """Revoke the shown account's access (the dialog shows what stays behind first)."""
        details = self.panel.details
        if details is not None:
            self.revoke_account(details.account_id, details.account.username)

    def revoke_account(self, account_id: int, username: str) -> None:
        """Open the revoke dialog for ``account_id``."""
        dialog = RevokeDialog(
            self._workstation,
            self._actor,
            self._runner,
            account_id,
            username=username,
            parent=self._window,
        )
        dialog.revoked.connect(self.refresh)
        dialog.reload_requested.connect(self.panel.reload)
        self._open(dialog)

    def clear(self) -> None:
        """Forget every patient shown (the console is locking)."""
        self.panel.clear()
        self.worklist.clear()
        self.invitations.clear()

    def reopen(self) -> None:
        """Read the worklist and the invitations again (the console was unlocked)."""
        self.worklist.refresh()
        self.invitations.refresh()

    def refresh(self, changes: Changes | None = None) -> None:
        """Read the list, the account shown and the changed clusters again."""
        self._window.model.refresh()
        self.panel.reload()
        if changes is not None:
            self.worklist.resolved(changes)
            self.invitations.invitations_changed(changes)

    def _step_chosen(self, account_id: int, _patient_id: int, kind: str) -> None:
        """A worklist step: re-inviting and linking both begin by revoking the extra account
        (re-invite its chart next; link the chart from the guardian's account details)."""
        if kind == KEEP:
            return
        case = next(
            (c for c in self.worklist.model.cases if c.step_for(account_id) is not None), None
        )
        account = (
            next((a for a in case.accounts if a.account_id == account_id), None) if case else None
        )
        self.revoke_account(account_id, account.username if account else f"account {account_id}")

    def _selected(self, account_id: int) -> None:
        if account_id:
            self.panel.show_account(account_id)
        else:
            self.panel.clear()

    def reissue(self) -> None:
        """Invite the shown account's chart to a new account (PIN shown once, handout)."""
        details = self.panel.details
        if details is None:
            return
        settings = self._settings
        dialog = ReissueDialog(
            self._workstation,
            self._actor,
            self._runner,
            details.chart.patient_id,
            patient_name=details.chart.full_name,
            mrn=details.chart.mrn,
            clinic_name=settings.clinic_name,
            portal_url=settings.portal_base_url,
            clinic_phone=settings.clinic_phone,
            expected_version=details.chart.version,
            parent=self._window,
        )
        dialog.issued.connect(self.refresh)
        self._open(dialog)

    def link(self) -> None:
        """Link the shown account's chart to a guardian's or proxy's account."""
        details = self.panel.details
        if details is None:
            return
        chart = details.chart
        dialog = LinkDialog(
            self._workstation,
            self._actor,
            self._runner,
            chart.patient_id,
            patient_name=chart.full_name,
            mrn=chart.mrn,
            birth_date=chart.birth_date,
            parent=self._window,
        )
        self._connect(dialog)

    def resend_reset(self) -> None:
        """Queue another reset e-mail for the shown account."""
        self._for_account(ResendResetDialog)

    def deactivate(self) -> None:
        """Close the shown account at the patient's request."""
        self._for_account(DeactivateDialog)

    def _for_account(self, dialog: type[ResendResetDialog | DeactivateDialog]) -> None:
        details = self.panel.details
        if details is not None:
            self._connect(
                dialog(
                    self._workstation,
                    self._actor,
                    self._runner,
                    details.account_id,
                    username=details.account.username,
                    parent=self._window,
                )
            )

    def edit_contact(self) -> None:
        """Edit the shown chart's contact e-mail and phone."""
        details = self.panel.details
        if details is not None:
            self._connect(
                EditContactDialog(
                    self._workstation,
                    self._actor,
                    self._runner,
                    details.chart.patient_id,
                    patient_name=details.chart.full_name,
                    parent=self._window,
                )
            )

    def _connect(
        self, dialog: LinkDialog | ResendResetDialog | DeactivateDialog | EditContactDialog
    ) -> None:
        dialog.changed.connect(self.refresh)
        dialog.reload_requested.connect(self.panel.reload)
        self._open(dialog)

    def _open(self, dialog: QDialog) -> None:
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()


__all__ = ["FrontDesk"]
