"""The front-desk work around the account list (issue 6): the details of the selected account
beside the table, and the actions on it. Each action opens its dialog for the account shown;
what the dialog changed comes back as ``Changes`` and the list and the panel read again.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QDialog

from console.adapters.background import Submitter
from console.services.permissions import Actor
from console.services.workstation import Changes, Workstation
from console.views.account_details_panel import AccountDetailsPanel
from console.views.main_window import MainWindow
from console.views.revoke_dialog import RevokeDialog


class FrontDesk(QObject):
    """Connects the window's account actions to the details panel and the dialogs."""

    def __init__(
        self, window: MainWindow, workstation: Workstation, actor: Actor, runner: Submitter
    ) -> None:
        super().__init__(window)
        self._window = window
        self._workstation = workstation
        self._actor = actor
        self._runner = runner
        self.panel = AccountDetailsPanel(workstation, actor, runner, window)
        window.set_details_panel(self.panel)
        window.account_selected.connect(self._selected)
        window.actions_by_id["revoke"].triggered.connect(self.revoke)

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

    def _open(self, dialog: QDialog) -> None:
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()


__all__ = ["FrontDesk"]
