"""The front-desk work around the account list (issue 6): the details of the selected account
beside the table, and the actions on it. Each action opens its dialog for the account shown;
what the dialog changed comes back as ``Changes`` and the list and the panel read again.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QDialog

from console.adapters.background import Submitter
from console.services.permissions import Actor
from console.services.settings import ConsoleSettings
from console.services.workstation import Changes, Workstation
from console.views.account_details_panel import AccountDetailsPanel
from console.views.main_window import MainWindow
from console.views.reissue_dialog import ReissueDialog
from console.views.revoke_dialog import RevokeDialog


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

    def revoke(self) -> None:
        """Revoke the shown account's access (the dialog shows what stays behind first)."""
        details = self.panel.details
        if details is None:
            return
        dialog = RevokeDialog(
            self._workstation,
            self._actor,
            self._runner,
            details.account_id,
            username=details.account.username,
            parent=self._window,
        )
        dialog.revoked.connect(self.refresh)
        dialog.reload_requested.connect(self.panel.reload)
        self._open(dialog)

    def clear(self) -> None:
        """Forget the account shown (the console is locking)."""
        self.panel.clear()

    def refresh(self, _changes: Changes | None = None) -> None:
        """Read the list and the account shown again, after an action changed them."""
        self._window.model.refresh()
        self.panel.reload()

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

    def _open(self, dialog: QDialog) -> None:
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()


__all__ = ["FrontDesk"]
