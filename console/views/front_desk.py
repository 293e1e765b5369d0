"""The front-desk work (issue 6): the details of the selected account beside the table, the
actions on it, and the shared-e-mail worklist whose proposed steps open the same dialogs.

What an action changed comes back as ``Changes`` and is published on one ``ChangeFeed``
(issue 12, point 5); every page takes from it what concerns it: the table reads again the
changed accounts it holds, the details panel its account when named, the worklist the changed
addresses (a resolved cluster leaves at once), the Invitations page when an invitation
changed, the Outbox page when an e-mail was queued or cancelled, and the mail relay wakes
(``mail_queued``) when one was queued. Records changed by the thousand (``Changes.bulk``: the
Import wizard's) make every list and count read everything again. Changes made elsewhere
will come through the same feed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QDialog

from console.models.worklist import KEEP, LINK_TO_GUARDIAN
from console.services.accounts.actions import RevokeReason
from console.services.accounts.details import AccountDetails
from console.services.desk import StaffDesk
from console.services.permissions import Permission, refusal
from console.services.settings.values import ConsoleSettings
from console.services.workstation import Changes
from console.views.account_details_panel import AccountDetailsPanel
from console.views.account_forms import DeactivateDialog, EditContactDialog, ResendResetDialog
from console.views.change_feed import ChangeFeed
from console.views.import_wizard import ImportWizard
from console.views.invitations_view import InvitationsView
from console.views.link_dialog import LinkDialog
from console.views.main_window import MainWindow
from console.views.outbox_view import OutboxView
from console.views.reissue_dialog import ReissueDialog
from console.views.revoke_dialog import RevokeDialog
from console.views.worklist_view import WorklistView
from console.workers.service_calls import Submitter

_AccountDialog = LinkDialog | ResendResetDialog | DeactivateDialog | EditContactDialog


class FrontDesk(QObject):
    """Connects the window's account actions to the details panel and the dialogs, and
    every page to the feed of changes (``changes``, made here unless one is given)."""

    #: An action queued an e-mail (the relay sends it now, not in 30 s).
    mail_queued = Signal()

    def __init__(
        self,
        window: MainWindow,
        desk: StaffDesk,
        runner: Submitter,
        settings: ConsoleSettings | None = None,
        changes: ChangeFeed | None = None,
        import_runner: Submitter | None = None,
    ) -> None:
        """``import_runner`` runs the Import wizard's work (the console gives it a thread of
        its own, so that a long import never makes the pages' reads wait behind it);
        ``runner`` when none is given."""
        super().__init__(window)
        self.changes = changes if changes is not None else ChangeFeed(self)
        self._settings = settings or ConsoleSettings()
        self._window = window
        self._desk = desk
        self._runner = runner
        self._import_runner = import_runner or runner
        self.panel = AccountDetailsPanel(desk, runner, window)
        window.set_details_panel(self.panel)
        self.panel.details_changed.connect(self._details_changed)
        window.account_selected.connect(self._selected)
        window.actions_by_id["revoke"].triggered.connect(self.revoke)
        window.actions_by_id["reissue"].triggered.connect(self.reissue)
        window.actions_by_id["link"].triggered.connect(self.link)
        window.actions_by_id["resend_reset"].triggered.connect(self.resend_reset)
        window.actions_by_id["edit_contact"].triggered.connect(self.edit_contact)
        window.actions_by_id["deactivate"].triggered.connect(self.deactivate)
        window.actions_by_id["import"].triggered.connect(self.import_records)
        self.worklist = WorklistView(desk, runner, window)
        window.add_work_area("Shared e-mails", "shared-email.svg", self.worklist)
        self.worklist.account_chosen.connect(self._step_chosen)
        self.invitations = InvitationsView(desk, runner, window)
        window.add_work_area("Invitations", "invite.svg", self.invitations)
        self.invitations.changed.connect(self.changes.publish)
        self.outbox = OutboxView(desk, runner, self._settings, window)
        window.add_work_area("Outbox", "outbox.svg", self.outbox)
        self.outbox.changed.connect(self.changes.publish)
        #: Each page's own decision from a ``Changes``, in the order they are told.
        self._pages: tuple[Callable[[Changes], None], ...] = (
            window.apply_changes,
            self.panel.apply_changes,
            self.worklist.resolved,
            self.invitations.invitations_changed,
            self.outbox.outbox_changed,
            self._wake_relay,
        )
        self.changes.published.connect(self._deliver)
        self.outbox.refresh()
        self.worklist.refresh()
        self.invitations.refresh()

    def revoke(self) -> None:
        """Revoke the shown account's access (the dialog shows what stays behind first)."""
        details = self.panel.details
        if details is not None:
            self.revoke_account(details.account_id, details.account.username)

    def revoke_account(
        self, account_id: int, username: str, reason: RevokeReason | None = None, note: str = ""
    ) -> RevokeDialog:
        """Open the revoke dialog for ``account_id`` (``reason`` and ``note`` filled in)."""
        dialog = RevokeDialog(
            self._desk,
            self._runner,
            account_id,
            username=username,
            reason=reason,
            note=note,
            parent=self._window,
        )
        dialog.revoked.connect(self.changes.publish)
        dialog.reload_requested.connect(self.panel.reload)
        self._open(dialog)
        return dialog

    def import_records(self) -> ImportWizard | None:
        """Open the Import wizard beside the window (one at a time: an open one comes to the
        front). None for a role that may not import (the action is disabled for it; the
        service refuses)."""
        if refusal(self._desk.actor.role, Permission.IMPORT_RECORDS) is not None:
            return None
        for open_one in self._window.findChildren(ImportWizard):
            if open_one.isVisible():
                open_one.raise_()
                open_one.activateWindow()
                return open_one
        wizard = ImportWizard(
            self._desk, self._import_runner, publish=self.changes.publish, parent=self._window
        )
        # Not modal: a long import must not keep staff from the rest of the console.
        wizard.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        wizard.setWindowModality(Qt.WindowModality.NonModal)
        wizard.show()
        return wizard

    def stop_import(self) -> None:
        """Close the Import wizard, stopping an import under way after its batch (the
        console is quitting)."""
        for wizard in self._window.findChildren(ImportWizard):
            wizard.done(QDialog.DialogCode.Rejected)

    def clear(self) -> None:
        """Forget every patient shown (the console is locking)."""
        self.panel.clear()
        self.worklist.clear()
        self.invitations.clear()
        self.outbox.clear()

    def reopen(self) -> None:
        """Read the worklist and the invitations again (the console was unlocked)."""
        self.worklist.refresh()
        self.invitations.refresh()
        self.outbox.refresh()

    def _deliver(self, changes: Changes) -> None:
        """Hand ``changes`` to every page; none while locked, when the pages hold no patient
        data and must read none (unlocking reads every page again)."""
        if self._window.locked:
            return
        for page in self._pages:
            page(changes)

    def _wake_relay(self, changes: Changes) -> None:
        if changes.mail_queued:
            self.mail_queued.emit()

    def _details_changed(self, details: AccountDetails | None) -> None:
        """The account actions act on the account whose details are on screen."""
        self._window.set_subject(details.account_id if details is not None else None)

    def _step_chosen(self, account_id: int, _patient_id: int, kind: str) -> None:
        """A worklist step, as a chain of the usual dialogs, each confirmed by staff: a child
        is linked to the guardian's account (found and chosen already), then the child's own
        login is revoked; another adult's login is revoked, then the chart re-invited."""
        case = next((c for c in self.worklist.model.cases if c.step_for(account_id)), None)
        step = case.step_for(account_id) if case is not None else None
        if case is None or step is None or kind == KEEP:
            return
        accounts = {a.account_id: a for a in case.accounts}
        account = accounts[account_id]
        self.panel.show_account(account_id)
        guardian = accounts.get(step.guardian_account_id or 0)
        if kind == LINK_TO_GUARDIAN and guardian is not None:
            note = f"Chart linked to {guardian.username}'s account."
            link = self.link_chart(
                account.patient_id,
                account.full_name,
                account.mrn,
                account.birth_date,
                guardian=(guardian.username, guardian.account_id),
            )
            link.changed.connect(
                lambda _changes: self.revoke_account(
                    account_id, account.username, RevokeReason.SHARED_EMAIL, note
                )
            )
            return
        revoke = self.revoke_account(account_id, account.username, RevokeReason.SHARED_EMAIL)
        revoke.revoked.connect(
            lambda _changes: self.reissue_chart(account.patient_id, account.full_name, account.mrn)
        )

    def _selected(self, account_id: int) -> None:
        if account_id:
            self.panel.show_account(account_id)
        else:
            self.panel.clear()

    def reissue(self) -> None:
        """Invite the shown account's chart to a new account (PIN shown once, handout)."""
        details = self.panel.details
        if details is not None:
            chart = details.chart
            self.reissue_chart(chart.patient_id, chart.full_name, chart.mrn, chart.version)

    def reissue_chart(
        self, patient_id: int, name: str, mrn: str, version: int | None = None
    ) -> ReissueDialog:
        """Open the re-issue dialog for the chart ``patient_id``."""
        settings = self._settings
        dialog = ReissueDialog(
            self._desk,
            self._runner,
            patient_id,
            patient_name=name,
            mrn=mrn,
            clinic_name=settings.clinic_name,
            portal_url=settings.portal_base_url,
            clinic_phone=settings.clinic_phone,
            expected_version=version,
            parent=self._window,
        )
        dialog.issued.connect(self.changes.publish)
        self._open(dialog)
        return dialog

    def link(self) -> None:
        """Link the shown account's chart to a guardian's or proxy's account."""
        details = self.panel.details
        if details is not None:
            chart = details.chart
            self.link_chart(chart.patient_id, chart.full_name, chart.mrn, chart.birth_date)

    def link_chart(
        self,
        patient_id: int,
        name: str,
        mrn: str,
        birth_date: dt.date,
        guardian: tuple[str, int] | None = None,
    ) -> LinkDialog:
        """Open the link dialog for the chart ``patient_id`` (``guardian`` found and chosen)."""
        dialog = LinkDialog(
            self._desk,
            self._runner,
            patient_id,
            patient_name=name,
            mrn=mrn,
            birth_date=birth_date,
            guardian=guardian,
            parent=self._window,
        )
        self._connect(dialog)
        return dialog

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
                    self._desk,
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
                    self._desk,
                    self._runner,
                    details.chart.patient_id,
                    patient_name=details.chart.full_name,
                    parent=self._window,
                )
            )

    def _connect(
        self, dialog: LinkDialog | ResendResetDialog | DeactivateDialog | EditContactDialog
    ) -> None:
        dialog.changed.connect(self.changes.publish)
        dialog.reload_requested.connect(self.panel.reload)
        self._open(dialog)

    def _open(self, dialog: QDialog) -> None:
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()


__all__ = ["FrontDesk"]
